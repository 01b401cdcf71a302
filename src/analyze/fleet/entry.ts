/**
 * One image of a fleet audit (`strata audit`), as plain data small enough to keep for thousands of
 * images and to send back from a worker: its sizes, waste, bloat, verdict and risks from the inspect
 * report, its layers by diffID, the waste per instruction pattern, what `optimize` would take out,
 * and the large files of each layer by content hash (for duplicates across images).
 */
import { instructionKey, instructionText } from '../../image/history.js';
import { Kind, hashHex } from '../../scan/records.js';
import type { ImageModel } from '../../model/read-image.js';
import type { InspectReport } from '../report.js';
import type { Verdict } from '../bloat/findings.js';
import { planOptimize } from '../optimize/plan.js';
import { fileBytesSaved } from '../optimize/summary.js';
import { historyBaseLayers } from '../optimize/base.js';

/** Files at least this big take part in the cross-image duplicate count: smaller ones cost more to list than they waste. */
export const DUPLICATE_MIN_BYTES = 100_000;

export interface AuditLayer {
  diffId: string;
  /** Regular-file bytes the layer stores. */
  size: number;
  /** The blob as stored (compressed or not). */
  blobSize: number;
  instruction: string | null;
  /** Files of at least DUPLICATE_MIN_BYTES: [content hash, bytes, path]. */
  big: [string, number, string][];
}

export interface AuditEntry {
  ref: string;
  /** What results are kept by: the manifest digest, else (an archive without one) the config digest. */
  key: string;
  manifestDigest: string | null;
  configDigest: string;
  platform: string;
  created: string | null;
  compressedSize: number | null;
  blobSize: number;
  uncompressedSize: number;
  finalSize: number;
  wastedBytes: number;
  bloatBytes: number;
  verdict: Verdict;
  secrets: number;
  hiddenSecrets: number;
  /** Wasted bytes per instruction pattern (history/instructionKey) of the storing layer, largest first. */
  waste: { pattern: string; bytes: number }[];
  /** File bytes `strata optimize` (default settings) would take out. */
  optimizeSaves: number;
  layers: AuditLayer[];
}

export function auditEntry(model: ImageModel, report: InspectReport): AuditEntry {
  const image = model.image;
  const s = report.summary;
  const byPattern = new Map<string, number>();
  for (const f of report.findings) {
    if (f.kind !== 'waste') continue;
    const h = model.layers[f.layer]?.history;
    // the same words as the layer rows: a layer without created_by is named by its comment (`(Imported from -)`)
    const pattern = instructionKey(h?.created_by) || instructionText(undefined, h?.comment) || '(no history)';
    byPattern.set(pattern, (byPattern.get(pattern) ?? 0) + f.bytes);
  }
  // the saving alone: the summary's other figures need a waste analysis the report has made already
  const base = historyBaseLayers(image.config.history, model.layers.length);
  const saves = fileBytesSaved(model, planOptimize(model, { base, layers: 'auto' }));
  return {
    ref: image.ref,
    key: image.manifestDigest ?? image.configDigest,
    manifestDigest: image.manifestDigest ?? null,
    configDigest: image.configDigest,
    platform: report.image.platform,
    created: report.image.created,
    compressedSize: s.compressedSize,
    blobSize: s.blobSize,
    uncompressedSize: s.uncompressedSize,
    finalSize: s.finalSize,
    wastedBytes: s.wastedBytes,
    bloatBytes: s.bloatBytes,
    verdict: s.verdict,
    secrets: report.risks.counts.secrets + report.risks.config.length,
    hiddenSecrets: report.risks.counts.hiddenSecrets,
    waste: [...byPattern].map(([pattern, bytes]) => ({ pattern, bytes })).sort((a, b) => b.bytes - a.bytes || (a.pattern < b.pattern ? -1 : 1)),
    optimizeSaves: Math.max(0, saves),
    layers: model.layers.map((l) => {
      const r = l.records;
      const big: [string, number, string][] = [];
      for (let i = 0; i < r.count; i++) if (r.kind[i] === Kind.file && r.size[i] >= DUPLICATE_MIN_BYTES) big.push([hashHex(r, i), r.size[i], `/${r.path[i]}`]);
      return { diffId: l.diffId, size: l.size, blobSize: l.blobSize, instruction: instructionText(l.history?.created_by, l.history?.comment) || null, big };
    }),
  };
}
