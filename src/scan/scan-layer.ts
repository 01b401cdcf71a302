import { createHash, type Hash } from 'node:crypto';
import type { DigestAlgorithm } from '../util/digest.js';
import { uncompressed, type Compression } from './compression.js';
import { TarParser } from './tar-parser.js';
import { LayerRecordsSink } from './layer-records-sink.js';
import type { LayerRecords } from './records.js';
import { defaultContentScan, SecretScanner, type ContentScanSettings } from './secret-scan.js';

export interface LayerScan {
  records: LayerRecords;
  /** sha256 of the blob as stored. */
  blobDigest: string;
  blobSize: number;
  /** sha256 of the uncompressed stream, to EOF: compare with config.rootfs.diff_ids. */
  diffId: string;
  compression: Compression;
}

/**
 * Read one layer blob: sniff, decompress, hash both streams, parse the tar into records.
 * Streams the blob; holds at most one chunk of content at a time. Each chunk of `blob` is used up
 * before the next is asked for, so a source may read every chunk into the same buffer.
 */
/** What the blob's and the tar's digests are taken with: the algorithms the image names them by. */
export interface Algorithms {
  blob: DigestAlgorithm;
  diff: DigestAlgorithm;
}
const SHA256: Algorithms = { blob: 'sha256', diff: 'sha256' };

export interface ScanOptions {
  hashBlob?: boolean;
  /** The input is a layer's tar, inflated elsewhere (a split scan): taken as it is, never sniffed. */
  tar?: boolean;
  algorithms?: Algorithms;
  digests?: boolean;
  /** What small files are read for (secret-scan.ts); default the built-in rules. */
  secrets?: ContentScanSettings;
}

export async function scanLayer(blob: AsyncIterable<Buffer>, opts: ScanOptions = {}): Promise<LayerScan> {
  // loaded on the first scan: an image read from the layer cache needs no hashing
  const { createXXHash128 } = await import('hash-wasm');
  const sink = new LayerRecordsSink(await createXXHash128(), new SecretScanner(opts.secrets ?? defaultContentScan()));
  const parser = new TarParser(sink);
  const stream = await hashedStream(blob, opts);
  for await (const chunk of stream.chunks) {
    stream.tally(chunk);
    parser.push(chunk);
  }
  parser.end();
  const { tarSize, ...digests } = stream.finish();
  return { records: sink.finish(tarSize), ...digests };
}

/** What a layer's digests are: scanLayer's `blobDigest` and `diffId`, with no parsing. */
export type LayerDigests = Pick<LayerScan, 'blobDigest' | 'diffId' | 'blobSize'>;

/**
 * A blob's digests alone: sha256 of the blob as stored and of its uncompressed stream. Run on a
 * second thread beside a scan with `digests: false`, it shortens an image's one big layer.
 */
export async function digestLayer(blob: AsyncIterable<Buffer>, algorithms?: Algorithms): Promise<LayerDigests> {
  const stream = await hashedStream(blob, { algorithms });
  for await (const chunk of stream.chunks) stream.tally(chunk);
  const { blobDigest, diffId, blobSize } = stream.finish();
  return { blobDigest, diffId, blobSize };
}

/**
 * A blob's uncompressed chunks, with its digests taken as they pass (each chunk given to `tally`):
 * of the blob as stored and of the tar, with `algorithms` (default sha256). `hashBlob: false`: blobs posted to a worker in chunks
 * are hashed by the pool on the main thread as they pass; `digests: false`: another thread computes
 * both (digestLayer), and they are left empty.
 */
async function hashedStream(blob: AsyncIterable<Buffer>, opts: { hashBlob?: boolean; tar?: boolean; digests?: boolean; algorithms?: Algorithms }) {
  const alg = opts.algorithms ?? SHA256;
  let blobHash: Hash | null = opts.hashBlob === false || opts.digests === false ? null : createHash(alg.blob);
  const diffHash = opts.digests === false ? null : createHash(alg.diff);
  // a plain blob is the tar: its digest is the diffID, when both are taken with one algorithm
  const blobIsDiff = (c: Compression) => c === 'none' && alg.blob === alg.diff;
  let blobSize = 0;
  let tarSize = 0;
  const { compression, chunks } = await uncompressed(blob, (c) => {
    blobHash?.update(c);
    blobSize += c.length;
  }, { tar: opts.tar });
  if (blobIsDiff(compression)) blobHash = null;
  return {
    chunks,
    tally(chunk: Buffer): void {
      diffHash?.update(chunk);
      tarSize += chunk.length;
    },
    finish(): Omit<LayerScan, 'records'> & { tarSize: number } {
      const diffId = diffHash ? `${alg.diff}:${diffHash.digest('hex')}` : '';
      const blobDigest = blobIsDiff(compression) ? diffId : blobHash ? `${alg.blob}:${blobHash.digest('hex')}` : '';
      return { blobDigest, blobSize, diffId, compression, tarSize };
    },
  };
}
