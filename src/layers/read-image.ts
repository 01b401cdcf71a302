/** Image -> layer records (verified) -> union: the model every analysis and renderer reads. */
import { StrataError, within } from './errors.js';
import type { HistoryEntry, Image } from './image.js';
import { scanLayer, type LayerScan } from './scan-layer.js';
import { Union } from './union.js';
import type { LayerRecords } from './records.js';
import type { Compression } from './compression.js';

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

export interface ImageModel {
  image: Image;
  layers: LayerInfo[];
  union: Union;
}

export interface ReadOptions {
  /** Called as layers finish: done of total. */
  onProgress?: (done: number, total: number) => void;
  /** Layers read at once (I/O overlap; CPU work is per layer). */
  concurrency?: number;
}

export async function readImage(image: Image, opts: ReadOptions = {}): Promise<ImageModel> {
  const total = image.layers.length;
  const scans: LayerScan[] = new Array(total);
  let next = 0;
  let done = 0;
  // Identical blobs at several positions are read once and applied at each.
  const byBlob = new Map<string, Promise<LayerScan>>();
  const worker = async () => {
    while (next < total) {
      const layer = image.layers[next++];
      const key = layer.digest ?? layer.diffId;
      let p = byBlob.get(key);
      if (!p) {
        p = layer.scanned ? Promise.resolve(layer.scanned) : scanLayer(layer.open());
        byBlob.set(key, p);
      }
      let scan: LayerScan;
      try {
        scan = await p;
      } catch (e) {
        throw e instanceof StrataError || (e as NodeJS.ErrnoException).code ? within(layer.where, e) : e;
      }
      verify(layer.where, layer.digest, scan.blobDigest, 'blob digest');
      verify(layer.where, layer.diffId, scan.diffId, 'diff_id (sha256 of the uncompressed layer)');
      if (layer.blobSize !== undefined && layer.blobSize !== scan.blobSize) {
        throw new StrataError(`${layer.where}: size mismatch: manifest says ${layer.blobSize} bytes, blob has ${scan.blobSize}`);
      }
      scans[layer.index] = scan;
      opts.onProgress?.(++done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 2, Math.max(total, 1)) }, worker));

  const history = layerHistory(image.config.history, total);
  const union = new Union();
  const layers: LayerInfo[] = image.layers.map((l, i) => {
    const s = scans[i];
    try {
      union.addLayer(s.records);
    } catch (e) {
      throw e instanceof StrataError ? within(l.where, e) : e;
    }
    return {
      index: i,
      diffId: l.diffId,
      digest: l.digest ?? s.blobDigest,
      mediaType: l.mediaType,
      compression: s.compression,
      blobSize: s.blobSize,
      compressedSize: s.compression === 'none' ? null : s.blobSize,
      tarSize: s.records.tarSize,
      size: s.records.fileBytes,
      history: history[i],
      records: s.records,
    };
  });
  return { image, layers, union };
}

function verify(where: string, expected: string | undefined, actual: string, what: string): void {
  if (!expected || !expected.startsWith('sha256:')) return; // other algorithms: not verified (none seen in practice)
  if (expected !== actual) throw new StrataError(`${where}: ${what} mismatch: expected ${expected}, got ${actual}`);
}

/** History entries that made a layer, in order; tolerant of missing or short history. */
export function layerHistory(history: HistoryEntry[] | undefined, layers: number): (HistoryEntry | undefined)[] {
  const real = (history ?? []).filter((h) => !h.empty_layer);
  return Array.from({ length: layers }, (_, i) => real[i]);
}
