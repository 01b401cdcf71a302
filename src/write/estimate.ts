/**
 * `optimize --dry-run`: the blob size of each new layer, estimated by writing a sample of its files
 * through the real layer writer (same tar headers, compression and level) into /dev/null and
 * scaling the sample's compressed/tar ratio to the whole layer. The input's own compression ratio
 * says nothing when its layers are stored uncompressed (`docker save`). Error measured in
 * docs/optimize.md.
 */
import type { Image } from '../image/image.js';
import type { PlannedEntry, PlannedLayer } from '../analyze/optimize/plan.js';
import { writeLayer, type OutputCompression } from './layer-writer.js';

/** File bytes compressed for the estimate, over all new layers (shared by their sizes). */
export const SAMPLE_BYTES = 32 << 20;
/** Runs of consecutive files per layer, spread over it: a layer's files differ from start to end. */
const RUNS = 16;

const BLOCK = 512;
const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

/** Headers alone (directories, links, whiteouts): gzip and zstd take ~95% off. */
const HEADER_RATIO = 1 / 20;

/** The tar a planned layer becomes, in two parts: its files (header and padded content), the rest. */
function tarBytes(l: PlannedLayer): { files: number; rest: number } {
  return {
    files: l.files.reduce((n, f) => n + BLOCK + padded(f.size), 0),
    rest: (l.markers.length + l.entries.length + l.links.length + 2) * BLOCK,
  };
}

/**
 * About `budget` bytes of files, in RUNS runs of consecutive files (the writer reads them in order).
 * A run starts with its first file whatever its size (up to SAMPLE_BYTES): a layer's bytes are often
 * in a few big files, which a sample of small ones would miss.
 */
function sampleFiles(files: PlannedEntry[], budget: number): PlannedEntry[] {
  const perRun = budget / RUNS;
  const picked: PlannedEntry[] = [];
  for (let r = 0; r < RUNS; r++) {
    let taken = 0;
    for (let i = Math.floor((r * files.length) / RUNS); i < Math.floor(((r + 1) * files.length) / RUNS) && taken < perRun; i++) {
      if (files[i].size > SAMPLE_BYTES || (taken > 0 && files[i].size > perRun - taken)) continue;
      picked.push(files[i]);
      taken += files[i].size;
    }
  }
  // a layer of only big files: its smallest one
  if (picked.length === 0 && files.length > 0) picked.push(files.reduce((a, b) => (b.size < a.size ? b : a)));
  return picked;
}

export interface BlobEstimate {
  /** Estimated blob bytes of each new layer. */
  blobBytes: number[];
  /** File bytes compressed for the estimate. */
  sampledBytes: number;
}

export async function estimateBlobs(image: Image, layers: PlannedLayer[], compression: OutputCompression): Promise<BlobEstimate> {
  const total = layers.reduce((n, l) => n + l.bytes, 0);
  const blobBytes: number[] = [];
  let sampledBytes = 0;
  for (const l of layers) {
    const tar = tarBytes(l);
    if (compression === 'none') {
      blobBytes.push(tar.files + tar.rest);
      continue;
    }
    if (l.files.length === 0) {
      blobBytes.push(Math.round(tar.rest * HEADER_RATIO));
      continue;
    }
    const files = sampleFiles(l.files, total > 0 ? (SAMPLE_BYTES * l.bytes) / total : 0);
    const sample: PlannedLayer = { from: l.from, markers: [], entries: [], links: [], files, bytes: 0 };
    const written = await writeLayer(image, sample, { path: '/dev/null', output: 'the dry run' }, compression);
    sampledBytes += files.reduce((n, f) => n + f.size, 0);
    // the sample's tar holds its files and the end-of-archive blocks: scale the files, not the rest
    blobBytes.push(Math.round((tar.files * written.size) / written.tarSize + tar.rest * HEADER_RATIO));
  }
  return { blobBytes, sampledBytes };
}
