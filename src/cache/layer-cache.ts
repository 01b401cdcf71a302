/**
 * On-disk cache of LayerRecords keyed by diffID. Records are a pure function of the layer's
 * uncompressed bytes, so a layer shared by many images (a base image) is read once. A hit stands
 * for a layer only when a digest of its bytes is known to give its diffID (`diffIdOf`, kept beside
 * the records from the verified read that made them: read-image.ts `vouched`), as containerd maps
 * blob digests to diffIDs; `--no-cache` reads and verifies every blob again. The directory name carries CACHE_SCHEMA: a change to the
 * record format bumps it and old entries are simply not found (and age out under the size cap).
 */
import { readdir, stat, unlink, utimes } from 'node:fs/promises';
import { openRegular } from '../util/open-regular.js';
import { writeFileAtomic } from '../util/safe-write.js';
import { makeDir } from '../util/make-dir.js';
import { PRIVATE_DIR, PRIVATE_FILE } from './cache.js';
import { join } from 'node:path';
import { HASH_BYTES, Kind, type LayerRecords } from '../scan/records.js';
import { normalizeEntryPath } from '../util/paths.js';
import type { LayerScan } from '../scan/scan-layer.js';
import { defaultContentScan, type ContentScanSettings, type SecretHit } from '../scan/secret-scan.js';
import { createHash } from 'node:crypto';

/**
 * 2: records carry the secrets found in small files (secret-scan.ts).
 * 3: a sparse file's bytes count at its apparent size; blob digests are mapped to diffIDs (`vouch`).
 * 4: records carry the bytes of package database files (scan/package-files.ts).
 * 5: and pip's direct_url.json (where a Python package was installed from: `strata dockerfile`).
 * 6: AUFS bookkeeping is flagged at the layer root only; `.wh..wh.x` below it is a whiteout.
 */
export const CACHE_SCHEMA = 6;
const MAGIC = 'strata-layer-records';

export interface CacheOptions {
  dir: string;
  /** Evict least recently used entries above this many bytes. */
  maxBytes: number;
}

export interface LayerCacheOptions extends CacheOptions {
  /** What the records' scan read small files for: records made for other settings are another entry. */
  secrets?: ContentScanSettings;
}

interface Header {
  magic: string;
  schema: number;
  diffId: string;
  count: number;
  fileBytes: number;
  tarSize: number;
  blobSize: number;
  blobDigest: string;
  compression: LayerScan['compression'];
  link: Record<number, string>;
  xattrs: LayerRecords['xattrs'];
  dev: LayerRecords['dev'];
  secrets: LayerRecords['secrets'];
  /** row -> length of its kept package file; the bytes follow the hashes, in this order. */
  packageFiles: Record<number, number>;
}

/**
 * Files by key in one directory, with a size cap and least-recently-used eviction. Writes are atomic
 * (temp file, rename); any failure is a miss or a skipped write: the cache only ever saves time.
 */
export class KeyedFiles {
  constructor(private readonly dir: string, private readonly maxBytes: number) {}

  private file(key: string): string {
    return join(this.dir, key);
  }

  async get(key: string): Promise<Buffer | undefined> {
    // a link, a FIFO or a device in the store is a miss (a cache restored from elsewhere), as is an entry over the cap
    const found = await openRegular(this.file(key), this.maxBytes);
    if (!found) return undefined;
    try {
      const buf = await found.handle.readFile();
      const now = new Date();
      await utimes(this.file(key), now, now).catch(() => undefined);
      return buf;
    } catch {
      return undefined;
    } finally {
      await found.handle.close();
    }
  }

  async put(key: string, data: Buffer): Promise<void> {
    try {
      await makeDir(this.dir, PRIVATE_DIR);
      await writeFileAtomic(this.file(key), data, { mode: PRIVATE_FILE });
      await this.evict();
    } catch {
      // a read-only or full disk must not fail the analysis
    }
  }

  private async evict(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => !n.endsWith('.tmp'));
    const files = await Promise.all(names.map(async (n) => ({ n, s: await stat(join(this.dir, n)) })));
    let total = files.reduce((sum, f) => sum + f.s.size, 0);
    files.sort((a, b) => a.s.mtimeMs - b.s.mtimeMs);
    for (const f of files) {
      if (total <= this.maxBytes) break;
      await unlink(join(this.dir, f.n)).catch(() => undefined);
      total -= f.s.size;
    }
  }
}

/**
 * Scans running in this process, by cache directory and key. The scan memo of readImage is by blob,
 * so two blobs of one layer (the same diffID stored gzip in one image and plain in another) read at
 * the same time would both be scanned; the second waits for the first here instead.
 */
const running = new Map<string, Promise<LayerScan>>();

export class LayerCache {
  private readonly files: KeyedFiles;
  private readonly variant: string;
  private readonly dir: string;
  constructor(opts: LayerCacheOptions) {
    this.dir = join(opts.dir, `v${CACHE_SCHEMA}`);
    this.files = new KeyedFiles(this.dir, opts.maxBytes);
    this.variant = LayerCache.variantOf(opts.secrets);
  }

  private key(diffId: string): string {
    return `${diffId.replace(':', '-')}${this.variant}.bin`;
  }

  /** The part of a key that names the scan settings ('' for the defaults), for stores that share entries (fleet/redis-records.ts). */
  static variantOf(secrets: ContentScanSettings | undefined): string {
    const plain = !secrets || JSON.stringify(secrets) === JSON.stringify(defaultContentScan());
    return plain ? '' : `.${createHash('sha256').update(JSON.stringify(secrets)).digest('hex').slice(0, 16)}`;
  }

  async get(diffId: string): Promise<LayerScan | undefined> {
    const buf = await this.files.get(this.key(diffId));
    if (!buf) return undefined;
    return decodeScan(buf, diffId);
  }

  async put(diffId: string, scan: LayerScan): Promise<void> {
    await this.files.put(this.key(diffId), encodeScan(scan, diffId));
    if (scan.blobDigest) await this.vouch(scan.blobDigest, diffId);
  }

  async vouch(blobDigest: string, diffId: string): Promise<void> {
    await this.files.put(blobKey(blobDigest), Buffer.from(diffId));
  }

  /** Local files' digests by file version: a cached run of an unchanged archive hashes nothing. */
  readonly fileDigests = {
    get: async (version: string) => (await this.files.get(fileKey(version)))?.toString('utf8'),
    put: (version: string, digest: string) => this.files.put(fileKey(version), Buffer.from(digest)),
  };

  async diffIdOf(blobDigest: string): Promise<string | undefined> {
    return (await this.files.get(blobKey(blobDigest)))?.toString('utf8');
  }

  /** The stored scan, or the one another blob of this layer is being scanned into, or `scan()` stored. */
  async once(diffId: string, scan: () => Promise<LayerScan>): Promise<{ scan: LayerScan; stored: boolean }> {
    const hit = await this.get(diffId);
    if (hit) return { scan: hit, stored: true };
    const key = join(this.dir, this.key(diffId));
    const other = running.get(key);
    // a failed scan of the other blob says nothing of this one: it is then scanned here
    const done = other && (await other.catch(() => undefined));
    if (done) return { scan: done, stored: true };
    const p = scan();
    running.set(key, p);
    try {
      const made = await p;
      await this.put(diffId, made);
      return { scan: made, stored: false };
    } finally {
      if (running.get(key) === p) running.delete(key);
    }
  }
}

/** Where the diffID that a verified read of a blob gave is kept (whatever the scan settings). */
const blobKey = (blobDigest: string) => `${blobDigest.replace(':', '-')}.diffid`;
const fileKey = (version: string) => `${createHash('sha256').update(version).digest('hex')}.digest`;

/** A layer's scan as the bytes of a cache entry: a JSON header, then the record columns as they are. */
export function encodeScan(scan: LayerScan, diffId: string): Buffer {
  const r = scan.records;
  const link: Record<number, string> = {};
  r.link.forEach((l, i) => {
    if (l !== undefined) link[i] = l;
  });
  const kept = Object.entries(r.packageFiles);
  const header: Header = {
    magic: MAGIC, schema: CACHE_SCHEMA, diffId, count: r.count, fileBytes: r.fileBytes, tarSize: r.tarSize,
    blobSize: scan.blobSize, blobDigest: scan.blobDigest, compression: scan.compression, link, xattrs: r.xattrs, dev: r.dev, secrets: r.secrets,
    packageFiles: Object.fromEntries(kept.map(([row, b]) => [row, b.length])),
  };
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(h.length);
  const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return Buffer.concat([len, h, bytes(r.size), bytes(r.mtime), bytes(r.mode), bytes(r.uid), bytes(r.gid), bytes(r.kind), bytes(r.flags), bytes(r.hash), ...kept.map(([, b]) => bytes(b)), Buffer.from(r.path.join('\0'))]);
}

/**
 * An entry is read as strictly as the scan that wrote it: a cache directory can be restored from
 * elsewhere (a CI cache of another branch), and a record that decodes is not yet one a scan could
 * have made. Anything else is damage, so a miss (threat model: docs/security.md).
 */
function checkHeader(h: Header): void {
  const n = h.count;
  if (!Number.isSafeInteger(n) || n < 0) throw new Error('count');
  for (const v of [h.fileBytes, h.tarSize, h.blobSize]) if (!Number.isSafeInteger(v) || v < 0) throw new Error('sizes');
  if (typeof h.blobDigest !== 'string' || !['gzip', 'zstd', 'none'].includes(h.compression)) throw new Error('blob');
  const rows = (o: unknown, value: (v: unknown) => boolean) => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('map');
    for (const [k, v] of Object.entries(o)) if (!ROW.test(k) || Number(k) >= n || !value(v)) throw new Error('row');
  };
  const isString = (v: unknown): v is string => typeof v === 'string';
  const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  rows(h.link, isString);
  rows(h.xattrs, (x) => typeof x === 'object' && x !== null && !Array.isArray(x) && Object.values(x).every(isString));
  rows(h.dev, (d) => Array.isArray(d) && d.length === 2 && d.every(isCount));
  rows(h.secrets, (hits) => Array.isArray(hits) && hits.every((x: SecretHit) => isString(x?.rule) && isCount(x.line) && isString(x.fingerprint) && FINGERPRINT.test(x.fingerprint)));
  rows(h.packageFiles, isCount);
}

/** Every row as the scan makes it: a known kind, a size and time that are numbers, a normalised path. */
function checkRows(r: Pick<LayerRecords, 'count' | 'path' | 'kind' | 'size' | 'mtime' | 'link'>): void {
  for (let i = 0; i < r.count; i++) {
    const k = r.kind[i];
    if (k < Kind.file || k > Kind.opaque || !(r.size[i] >= 0 && r.size[i] <= Number.MAX_SAFE_INTEGER) || !Number.isFinite(r.mtime[i])) throw new Error('row');
    if (normalizeEntryPath(r.path[i]) !== r.path[i]) throw new Error('path');
    const l = r.link[i];
    if (k === Kind.hardlink && (l === undefined || normalizeEntryPath(l) !== l)) throw new Error('link');
  }
}

const ROW = /^(0|[1-9][0-9]*)$/;
const FINGERPRINT = /^sha256:[0-9a-f]{12}$/;

/** An entry's scan, or undefined when it is damaged or of another schema or layer (a miss: it will be rewritten). */
export function decodeScan(buf: Buffer, diffId: string): LayerScan | undefined {
  try {
    return decode(buf, diffId);
  } catch {
    return undefined;
  }
}

function decode(buf: Buffer, diffId: string): LayerScan {
  const hl = buf.readUInt32LE(0);
  const h = JSON.parse(buf.toString('utf8', 4, 4 + hl)) as Header;
  if (h.magic !== MAGIC || h.schema !== CACHE_SCHEMA || h.diffId !== diffId) throw new Error('stale');
  checkHeader(h);
  const n = h.count;
  let off = 4 + hl;
  const take = (bytes: number) => {
    const b = buf.subarray(off, off + bytes);
    off += bytes;
    if (b.length !== bytes) throw new Error('short');
    return new Uint8Array(b).buffer; // copy: aligned, and independent of the file buffer
  };
  const size = new Float64Array(take(n * 8));
  const mtime = new Float64Array(take(n * 8));
  const mode = new Uint32Array(take(n * 4));
  const uid = new Uint32Array(take(n * 4));
  const gid = new Uint32Array(take(n * 4));
  const kind = new Uint8Array(take(n));
  const flags = new Uint8Array(take(n));
  const hash = new Uint8Array(take(n * HASH_BYTES));
  const packageFiles: LayerRecords['packageFiles'] = {};
  for (const [row, length] of Object.entries(h.packageFiles)) packageFiles[Number(row)] = new Uint8Array(take(length));
  const path = n === 0 ? [] : buf.toString('utf8', off).split('\0');
  if (path.length !== n) throw new Error('paths');
  const link: (string | undefined)[] = new Array(n).fill(undefined);
  for (const [i, l] of Object.entries(h.link)) link[Number(i)] = l;
  checkRows({ count: n, path, kind, size, mtime, link });
  return {
    records: { count: n, path, kind, flags, size, mode, uid, gid, mtime, hash, link, xattrs: h.xattrs, dev: h.dev, secrets: h.secrets ?? {}, packageFiles, fileBytes: h.fileBytes, tarSize: h.tarSize },
    blobDigest: h.blobDigest,
    blobSize: h.blobSize,
    diffId,
    compression: h.compression,
  };
}
