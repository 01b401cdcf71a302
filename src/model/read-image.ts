/** Image -> layer records (verified) -> union: the model every analysis and renderer reads. */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { StrataError, within } from '../util/errors.js';
import type { FileRange, HistoryEntry, Image, Layer } from '../image/image.js';
import { digestLayer, scanLayer, type Algorithms, type LayerDigests, type LayerScan } from '../scan/scan-layer.js';
import { algorithmOf, checkDigest } from '../util/digest.js';
import { ScanPool } from '../scan/scan-pool.js';
import { Union } from './union.js';
import { UnionPrefixes } from './union-prefixes.js';
import type { LayerRecords } from '../scan/records.js';
import { sniffCompression, type Compression } from '../scan/compression.js';
import type { ContentScanSettings } from '../scan/secret-scan.js';

export interface LayerInfo {
  index: number;
  diffId: string;
  digest: string;
  mediaType?: string;
  compression: Compression;
  /** Bytes of the blob as stored. */
  blobSize: number;
  /** The blob size when the blob is compressed; null for layers stored as plain tar. */
  compressedSize: number | null;
  /** Uncompressed tar stream length. */
  tarSize: number;
  /** Regular-file bytes stored in the layer (what `docker history` calls its size). */
  size: number;
  history?: HistoryEntry;
  records: LayerRecords;
}

/**
 * How an image stores a layer: the blob and its history entry. Everything else strata reports of a
 * layer follows from its content and its instruction, whatever image holds it.
 */
export type StoredLayer = Pick<LayerInfo, 'digest' | 'mediaType' | 'compression' | 'compressedSize' | 'blobSize' | 'history'>;

export interface ImageModel {
  image: Image;
  layers: LayerInfo[];
  union: Union;
}

/**
 * Where layer records are kept between runs, by diffID (src/cache/layer-cache.ts is one). A stored
 * scan stands for a layer only when a digest of the layer's very bytes is known to give its diffID
 * (`diffIdOf`, recorded by `put` from a verified read): a diffID the config merely claims is not
 * enough, or an archive claiming a cached layer's diffID would hide its real content (docs/security.md).
 */
export interface RecordStore {
  get(diffId: string): Promise<LayerScan | undefined>;
  /** Stores the scan, and that its blob (`scan.blobDigest`, computed from the bytes) gives `diffId`. */
  put(diffId: string, scan: LayerScan): Promise<void>;
  /** The diffID a verified read of the blob `blobDigest` gave, if one was stored. */
  diffIdOf(blobDigest: string): Promise<string | undefined>;
  /** Record that a verified read of the blob `blobDigest` gave `diffId`. */
  vouch(blobDigest: string, diffId: string): Promise<void>;
  /** Digests of local files by file version (read-image.ts `fileVersion`), where the store is on this machine. */
  fileDigests?: { get(version: string): Promise<string | undefined>; put(version: string, digest: string): Promise<void> };
  /**
   * A store shared by several processes (fleet/redis-records.ts) gets a layer to scan once among
   * them: the stored scan, or `scan()` run by the one process holding the layer's lock and stored.
   */
  once?(diffId: string, scan: () => Promise<LayerScan>): Promise<{ scan: LayerScan; stored: boolean }>;
}

export interface ReadOptions {
  /** Called as layers finish: done of total. */
  onProgress?: (done: number, total: number) => void;
  /** Worker threads that scan layers; created (and closed) per call when not given. */
  pool?: ScanPool;
  /** Per-layer records cache; none when not given. */
  cache?: RecordStore;
  /** Blobs read at once (default: one more than the pool's workers; pulls use more for the network). */
  concurrency?: number;
  /** Scans by blob, shared by the images of one command so that a common layer is read once. */
  memo?: Map<string, Promise<LayerScan>>;
  /** Unions by leading layers, shared by the images of one command so that a common base is merged once. */
  prefixes?: UnionPrefixes;
  /** What small files are read for (secret-scan.ts); default the built-in rules. The cache must be made for the same. */
  secrets?: ContentScanSettings;
  /** Called for each layer this call scanned (not found in the cache): a fleet audit counts them. */
  onScanned?: (layer: Layer) => void;
  /** Smallest blob worth a split scan (layersToSplit); default SPLIT_MIN_BYTES. */
  splitMinBytes?: number;
}

/** Blobs smaller than this are scanned in-process: a worker round trip costs more than it saves. */
const IN_PROCESS_BYTES = 4 * 1024 * 1024;

/**
 * Blobs smaller than this are scanned in-process while a split scan holds every worker (ScanPool
 * splitHoldsAll), rather than after it: this thread has room then, and a bigger blob would keep
 * it busy after the split, with the workers idle.
 */
const BESIDE_SPLIT_BYTES = 16 * 1024 * 1024;

/** Below this a split scan saves less than starting a second worker costs. */
export const SPLIT_MIN_BYTES = 32 * 1024 * 1024;

/**
 * Which layers to scan split (ScanPool.scan): a gzip layer inflated on one worker and parsed on
 * another, the main thread hashing the blob; another layer parsed on one worker while another takes
 * its digests. It pays for a layer that outweighs all the others together: without a split, its
 * worker inflates, parses and hashes it alone while the others have finished. A split takes two
 * workers, so the others wait: they must stay under half of it. Blob sizes stand in for the work.
 */
export function layersToSplit(sizes: (number | undefined)[], workers: number, minBytes = SPLIT_MIN_BYTES): boolean[] {
  const total = sizes.reduce<number>((s, n) => s + (n ?? 0), 0);
  return sizes.map((n) => workers >= 2 && n !== undefined && n >= minBytes && total - n <= n / 2);
}

export async function readImage(image: Image, opts: ReadOptions = {}): Promise<ImageModel> {
  const pool = opts.pool ?? new ScanPool();
  try {
    return await read(image, pool, opts);
  } finally {
    if (!opts.pool) await pool.close();
  }
}

async function read(image: Image, pool: ScanPool, opts: ReadOptions): Promise<ImageModel> {
  const total = image.layers.length;
  let done = 0;
  // Identical blobs at several positions (or in several images sharing a memo) are read once.
  const byBlob = opts.memo ?? new Map<string, Promise<LayerScan>>();
  const slots = new Semaphore(opts.concurrency ?? pool.size + 1);
  const split = layersToSplit(image.layers.map((l) => (l.file ? l.blobSize : undefined)), pool.size, opts.splitMinBytes);
  const scans = image.layers.map((layer) => {
    const key = layer.digest ?? layer.diffId;
    let p = byBlob.get(key);
    if (!p) {
      p = slots.run(() => scanOne(layer, pool, opts, split[layer.index])).then((s) => {
        opts.onProgress?.(++done, total);
        return s;
      });
      byBlob.set(key, p);
    } else {
      void p.then(() => opts.onProgress?.(++done, total), () => undefined);
    }
    return p;
  });
  for (const p of scans) p.catch(() => undefined); // rejections are handled in order below
  void Promise.allSettled(scans).then(() => pool.retireIdle());

  const history = layerHistory(image.config.history, total);
  const builder = (opts.prefixes ?? new UnionPrefixes()).begin(image.layers.map((l) => l.diffId));
  let ok = false;
  try {
    // Layers another image of the command has merged already come as a copy of its union.
    const start = await builder.start;
    const union = start?.union ?? new Union();
    const from = start?.layers ?? 0;
    const layers: LayerInfo[] = [];
    // The union is built in layer order while later layers are still being scanned.
    for (const l of image.layers) {
      const s = await verifiedScan(l, scans[l.index]);
      if (l.index >= from) addLayer(union, l, s.records);
      if (l.index + 1 >= from) builder.reached(l.index + 1, union);
      layers.push(layerInfo(l, s, history[l.index]));
    }
    ok = true;
    return { image, layers, union };
  } finally {
    builder.end(ok);
  }
}

/** A layer's scan, checked against this image's descriptor: it may have been made for another position or image. */
async function verifiedScan(l: Layer, scan: Promise<LayerScan>): Promise<LayerScan> {
  try {
    return verified(l, await scan);
  } catch (e) {
    throw e instanceof StrataError || (e as NodeJS.ErrnoException).code ? within(l.where, e) : e;
  }
}

function addLayer(union: Union, l: Layer, records: LayerRecords): void {
  try {
    union.addLayer(records);
  } catch (e) {
    throw e instanceof StrataError ? within(l.where, e) : e;
  }
}

function layerInfo(l: Layer, s: LayerScan, history: HistoryEntry | undefined): LayerInfo {
  return {
    index: l.index,
    diffId: l.diffId,
    digest: l.digest ?? s.blobDigest,
    mediaType: l.mediaType,
    compression: s.compression,
    blobSize: s.blobSize,
    compressedSize: s.compression === 'none' ? null : s.blobSize,
    tarSize: s.records.tarSize,
    size: s.records.fileBytes,
    history,
    records: s.records,
  };
}

/**
 * How `image` stores its layers, told without reading them, as a scan would tell it; `known`: the
 * layers of a report made from the same layers elsewhere. A blob the report describes already (the
 * same digest) is taken as it says; another one is sniffed (its first bytes). Undefined when only
 * reading a blob would tell: a compressed blob whose digest or size the source does not declare.
 */
export async function storedLayers(image: Image, known: { digest: string; compression: string; tarSize: number }[]): Promise<StoredLayer[] | undefined> {
  const history = layerHistory(image.config.history, image.layers.length);
  const compressions = await Promise.all(
    image.layers.map((l) => (l.digest !== undefined && l.digest === known[l.index].digest ? (known[l.index].compression as Compression) : sniffBlob(l))),
  );
  const out: StoredLayer[] = [];
  for (const l of image.layers) {
    const compression = compressions[l.index];
    const plain = compression === 'none';
    if (!plain && (l.digest === undefined || l.blobSize === undefined)) return undefined;
    const blobSize = l.blobSize ?? known[l.index].tarSize;
    out.push({ digest: l.digest ?? l.diffId, mediaType: l.mediaType, compression, compressedSize: plain ? null : blobSize, blobSize, history: history[l.index] });
  }
  return out;
}

async function scanOne(layer: Layer, pool: ScanPool, opts: ReadOptions, split: boolean): Promise<LayerScan> {
  if (layer.scanned) {
    // scanned as a stream passed (stdin, an engine's export): verified here, then kept like any scan
    const scan = verified(layer, layer.scanned);
    await opts.cache?.put(layer.diffId, scan);
    return scan;
  }
  const { cache, secrets } = opts;
  // the very blob the records were made from has their compression: only another one is opened to be sniffed
  const fromStore = async (hit: LayerScan) => asStored(layer, hit, layer.digest !== undefined && layer.digest === hit.blobDigest ? hit.compression : await sniffBlob(layer));
  const algorithms = digestAlgorithms(layer);
  const scan = async () => {
    const before = await localVersion(layer, cache);
    const size = layer.blobSize ?? Infinity;
    const here = size < IN_PROCESS_BYTES || (size < BESIDE_SPLIT_BYTES && pool.splitHoldsAll);
    const made = verified(layer, here ? await scanLayer(layer.open(), { secrets, algorithms }) : await pool.scan(layer.file ?? layer.open(), { split, secrets, algorithms }));
    await rememberDigest(layer, cache, before, made.blobDigest); // a cached run of this file then hashes nothing
    return made;
  };
  if (cache?.once) {
    const got = await cache.once(layer.diffId, scan);
    if (!got.stored) {
      opts.onScanned?.(layer);
      return got.scan;
    }
    await prove(layer, cache);
    return fromStore(got.scan);
  }
  const hit = await cache?.get(layer.diffId);
  if (hit) {
    await prove(layer, cache!);
    return fromStore(hit);
  }
  const made = await scan();
  opts.onScanned?.(layer);
  await cache?.put(layer.diffId, made);
  return made;
}

/**
 * Makes sure a stored scan may stand for `layer`: a digest of its very bytes is known to give its
 * diffID. Bytes a registry serves by digest are named by it; local bytes are hashed here (sha256 of
 * the blob as stored, no inflating). A blob no verified read has mapped yet (another encoding of a
 * stored layer, gzip here and zstd there) is inflated and hashed, not parsed, and then recorded.
 * Throws a mismatch as a read would (docs/security.md gives the costs).
 */
async function prove(layer: Layer, store: RecordStore): Promise<void> {
  if (layer.contentAddressed) {
    if (layer.digest !== undefined && (await store.diffIdOf(layer.digest)) === layer.diffId) return;
  } else {
    const digest = await blobDigest(layer, store);
    check(layer.digest, digest, 'blob digest');
    // a plain tar is its own diffID
    if (digest === layer.diffId || (await store.diffIdOf(digest)) === layer.diffId) return;
  }
  const d = verified(layer, await digestLayer(layer.open(), digestAlgorithms(layer)));
  await store.vouch(d.blobDigest, d.diffId);
}

/**
 * The digest of a layer's bytes as stored, with the algorithm its descriptor names (sha256 without
 * one). A local file's digest is remembered by the file's version (fileVersion): hashed once, not on
 * every cached run.
 */
async function blobDigest(layer: Layer, store: RecordStore): Promise<string> {
  const algorithm = digestAlgorithms(layer).blob;
  const version = await localVersion(layer, store);
  const known = version && (await store.fileDigests!.get(version));
  if (known) return known;
  const h = createHash(algorithm);
  for await (const chunk of layer.open()) h.update(chunk);
  const digest = `${algorithm}:${h.digest('hex')}`;
  await rememberDigest(layer, store, version, digest);
  return digest;
}

/** The version of a local layer's file, where the store keeps file digests. */
function localVersion(layer: Layer, store: RecordStore | undefined): Promise<string | undefined> | undefined {
  return layer.file && store?.fileDigests ? fileVersion(layer.file, digestAlgorithms(layer).blob) : undefined;
}

/** Keep the digest read from a file under the version it had before the read, unless it changed meanwhile. */
async function rememberDigest(layer: Layer, store: RecordStore | undefined, before: string | undefined, digest: string): Promise<void> {
  if (before !== undefined && digest && (await localVersion(layer, store)) === before) await store!.fileDigests!.put(before, digest);
}

/**
 * What names one version of a byte range of a local file: device, inode, size, modification and
 * change times in nanoseconds, and the range. The change time is the kernel's own (no archive or
 * user can set it), so a file written anew, or changed in place, is another version; undefined when
 * the file cannot be looked at (it is then hashed).
 */
async function fileVersion(range: FileRange, algorithm: string): Promise<string | undefined> {
  try {
    const st = await stat(range.file, { bigint: true });
    return [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs, range.offset, range.size, algorithm].join(':');
  } catch {
    return undefined;
  }
}

/** Whether every layer of `image` may be served from `store` (a whole cached report stands for them all). */
export async function storeMayServe(image: Image, store: RecordStore): Promise<boolean> {
  if (image.layers.some((l) => l.scanned)) return false;
  // a mismatch makes it a miss: the read that follows names it
  const proven = await Promise.all(image.layers.map((l) => prove(l, store).then(() => true, () => false)));
  return proven.every(Boolean);
}

/**
 * A cached scan describes the uncompressed layer; the same layer can be stored gzip here and zstd
 * there, so the blob's own facts (compression, size, digest) come from this image's blob.
 */
function asStored(layer: Layer, hit: LayerScan, compression: Compression): LayerScan {
  if (compression === hit.compression && (layer.blobSize === undefined || layer.blobSize === hit.blobSize)) return hit;
  return {
    ...hit,
    compression,
    blobSize: layer.blobSize ?? (compression === 'none' ? hit.records.tarSize : hit.blobSize),
    blobDigest: layer.digest ?? (compression === 'none' ? layer.diffId : hit.blobDigest),
  };
}

async function sniffBlob(layer: Layer): Promise<Compression> {
  const it = layer.open()[Symbol.asyncIterator]();
  try {
    const first = await it.next();
    return first.done ? 'none' : sniffCompression(first.value);
  } finally {
    await it.return?.();
  }
}

/** A scan hashes with the algorithms the layer's digests name, so that every one of them is verified. */
function digestAlgorithms(layer: Layer): Algorithms {
  return { blob: layer.digest === undefined ? 'sha256' : checkDigest(layer.digest, 'blob digest'), diff: checkDigest(layer.diffId, 'diff_id') };
}

/** Throws without naming the layer: read() prefixes every scan failure with layer.where. */
function verified<T extends LayerDigests>(layer: Layer, scan: T): T {
  check(layer.digest, scan.blobDigest, 'blob digest');
  check(layer.diffId, scan.diffId, `diff_id (${algorithmOf(layer.diffId)} of the uncompressed layer)`);
  if (layer.blobSize !== undefined && layer.blobSize !== scan.blobSize) {
    throw new StrataError(`size mismatch: manifest says ${layer.blobSize} bytes, blob has ${scan.blobSize}`);
  }
  return scan;
}

function check(expected: string | undefined, actual: string, what: string): void {
  if (expected !== undefined && expected !== actual) throw new StrataError(`${what} mismatch: expected ${expected}, got ${actual}`);
}

class Semaphore {
  private free: number;
  private waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.free === 0) await new Promise<void>((r) => this.waiting.push(r));
    else this.free--;
    try {
      return await f();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/** History entries that made a layer, in order; tolerant of missing or short history. */
export function layerHistory(history: HistoryEntry[] | undefined, layers: number): (HistoryEntry | undefined)[] {
  const real = (history ?? []).filter((h) => !h.empty_layer);
  return Array.from({ length: layers }, (_, i) => real[i]);
}
