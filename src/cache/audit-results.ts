/**
 * A fleet audit's results on disk, one file per image key (its manifest digest, else its config
 * digest) under a directory named by what the analysis depends on: a run stopped half-way goes on
 * where it was, and an image audited before (under any tag) is not read again.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ANALYSIS_REVISION } from './report-cache.js';
import { CACHE_SCHEMA, KeyedFiles, type CacheOptions } from './layer-cache.js';
import type { AuditEntry } from '../analyze/fleet/entry.js';
import { z } from 'zod';
import { parseJson } from '../util/json-doc.js';

const size = z.number().nonnegative();
const nullableSize = size.nullable();
/** What a kept result must hold to be used (a damaged or foreign one is a miss, never a crash). */
const KeptEntry = z.looseObject({
  ref: z.string(), key: z.string(), manifestDigest: z.string().nullable(), configDigest: z.string(), platform: z.string(), created: z.string().nullable(),
  compressedSize: nullableSize, blobSize: size, uncompressedSize: size, finalSize: size, wastedBytes: size, bloatBytes: size,
  verdict: z.looseObject({}), secrets: size, hiddenSecrets: size, optimizeSaves: size,
  waste: z.array(z.looseObject({ pattern: z.string(), bytes: size })),
  layers: z.array(z.looseObject({ diffId: z.string(), size, blobSize: size, instruction: z.string().nullable() })),
});

/** A kept result read back (disk or Redis), or undefined when it is not one. */
export function keptEntry(bytes: Buffer | string): AuditEntry | undefined {
  try {
    return parseJson(bytes, KeptEntry, 'kept audit result') as unknown as AuditEntry;
  } catch {
    return undefined;
  }
}

/** Where results are kept: by image key, for one analysis (settingsKey). */
export interface AuditResults {
  get(key: string): Promise<AuditEntry | undefined>;
  put(key: string, entry: AuditEntry): Promise<void>;
}

/** Names the analysis settings (bloat and secrets sections) and strata's own revision of it. */
export function auditSettingsKey(settings: object): string {
  return createHash('sha256').update(JSON.stringify({ CACHE_SCHEMA, ANALYSIS_REVISION, settings })).digest('hex').slice(0, 16);
}

export class DiskAuditResults implements AuditResults {
  private readonly files: KeyedFiles;
  constructor(opts: CacheOptions, settingsKey: string) {
    this.files = new KeyedFiles(join(opts.dir, settingsKey), opts.maxBytes);
  }

  private file(key: string): string {
    return `${key.replace(':', '-')}.json`;
  }

  async get(key: string): Promise<AuditEntry | undefined> {
    const buf = await this.files.get(this.file(key));
    if (!buf) return undefined;
    return keptEntry(buf);
  }

  async put(key: string, entry: AuditEntry): Promise<void> {
    await this.files.put(this.file(key), Buffer.from(JSON.stringify(entry)));
  }
}
