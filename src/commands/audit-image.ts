/**
 * One image of a fleet audit, as `strata audit` and `strata worker` both do it: open it, take its
 * kept result when its key (manifest digest) was audited with these settings, else read it (layer
 * records from the shared store), report and keep the result.
 */
import { auditEntry, type AuditEntry } from '../analyze/fleet/entry.js';
import type { AuditResults } from '../cache/audit-results.js';
import type { ReportOptions } from '../analyze/report.js';
import type { Layer } from '../image/image.js';
import { storeMayServe, type RecordStore } from '../model/read-image.js';
import type { SecretsConfig } from '../analyze/risks/section.js';
import type { BloatConfig } from '../analyze/bloat/section.js';
import { openForArgs, wholeReport, type ImageArgs, type Loading } from './common.js';

/** The analysis settings a fleet's images are audited with (and its results kept by). */
export interface AuditSettings {
  bloat: BloatConfig;
  secrets: SecretsConfig;
}

export interface AuditDeps {
  loading: Loading;
  settings: AuditSettings;
  results?: AuditResults;
  /** Layer records shared by the fleet's workers; default the local layer cache. */
  records?: RecordStore;
  onScanned?: (layer: Layer) => void;
}

export async function auditImage(args: ImageArgs, deps: AuditDeps): Promise<AuditEntry> {
  const settings: ReportOptions = deps.settings;
  // onProgress: the audit draws its own progress; per-image lines would interleave
  const opened = await openForArgs(args, { loading: deps.loading, secrets: deps.settings.secrets.scan, records: deps.records, onScanned: deps.onScanned, onProgress: () => undefined });
  const key = opened.image.manifestDigest ?? opened.image.configDigest;
  const kept = await deps.results?.get(key);
  // a kept result stands for the image's bytes as a cached report does (a local archive may claim a digest)
  if (kept && opened.records && (await storeMayServe(opened.image, opened.records))) return { ...kept, ref: opened.image.ref };
  const model = await opened.read();
  const entry = auditEntry(model, await wholeReport(opened, model, settings));
  await deps.results?.put(key, entry);
  return entry;
}
