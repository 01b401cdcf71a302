/** Before and after of `strata optimize`, as data for the text and JSON renderers. */
import type { ImageModel } from '../../model/read-image.js';
import type { WasteAnalysis } from '../waste.js';
import type { DroppedPath, Plan } from './plan.js';

export interface ImageFigures {
  layers: number;
  /** Blob bytes as stored (compressed where the layer is); an estimate in a dry run. */
  blobBytes: number;
  /** Regular-file bytes in all layers. */
  fileBytes: number;
  /** File bytes stored but not visible in the final view. */
  wastedBytes: number;
}

/** What named the kept base. */
export type BaseSource = '--base-layers' | '--base' | 'annotation' | 'history';

export interface OptimizeSummary {
  baseLayers: number;
  baseFrom: BaseSource;
  before: ImageFigures;
  after: ImageFigures;
  /** after.blobBytes is measured (false in a dry run: estimated from a compressed sample of the new layers). */
  written: boolean;
  /** In a dry run: the file bytes compressed for the estimate. */
  sampledBytes?: number;
  saved: { blobBytes: number; fileBytes: number };
  layers: { from: number[]; entries: number; files: number; whiteouts: number; bytes: number; blobBytes?: number }[];
  dropped: DroppedPath[];
  droppedBytes: number;
}

/** File bytes the plan takes out: what the rewritten layers stored, less what their replacements store. */
export function fileBytesSaved(model: ImageModel, plan: Plan): number {
  const upper = model.layers.slice(plan.base).reduce((n, l) => n + l.records.fileBytes, 0);
  return upper - plan.layers.reduce((n, l) => n + l.bytes, 0);
}

/** The new layers' blob sizes: written (every layer's, base included), or estimated (the new layers'). */
export type NewBlobs = { written: number[] } | { estimated: number[]; sampledBytes: number };

export function optimizeSummary(model: ImageModel, waste: WasteAnalysis, plan: Plan, baseFrom: BaseSource, blobs: NewBlobs): OptimizeSummary {
  const blobSizes = 'written' in blobs ? blobs.written : undefined;
  const L = model.layers;
  const B = plan.base;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const before: ImageFigures = {
    layers: L.length,
    blobBytes: sum(L.map((l) => l.blobSize)),
    fileBytes: sum(L.map((l) => l.records.fileBytes)),
    wastedBytes: waste.wastedBytes,
  };
  const baseBlob = sum(L.slice(0, B).map((l) => l.blobSize));
  const planned = sum(plan.layers.map((l) => l.bytes));
  const after: ImageFigures = {
    layers: B + plan.layers.length,
    blobBytes: 'written' in blobs ? sum(blobs.written) : baseBlob + sum(blobs.estimated),
    fileBytes: sum(L.slice(0, B).map((l) => l.records.fileBytes)) + planned,
    wastedBytes: sum(waste.items.filter((w) => w.layer < B).map((w) => w.bytes)),
  };
  return {
    baseLayers: B,
    baseFrom,
    before,
    after,
    written: !!blobSizes,
    ...('sampledBytes' in blobs ? { sampledBytes: blobs.sampledBytes } : {}),
    saved: { blobBytes: before.blobBytes - after.blobBytes, fileBytes: fileBytesSaved(model, plan) },
    layers: plan.layers.map((l, j) => ({
      from: l.from,
      entries: l.markers.length + l.entries.length + l.files.length + l.links.length,
      files: l.files.length,
      whiteouts: l.markers.length,
      bytes: l.bytes,
      ...(blobSizes ? { blobBytes: blobSizes[B + j] } : {}),
    })),
    dropped: plan.dropped,
    droppedBytes: sum(plan.dropped.map((d) => d.bytes)),
  };
}
