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
  /** after.blobBytes is measured (false in a dry run: estimated from the input's compression ratio). */
  written: boolean;
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

export function optimizeSummary(model: ImageModel, waste: WasteAnalysis, plan: Plan, baseFrom: BaseSource, blobSizes?: number[]): OptimizeSummary {
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
  const upperFiles = sum(L.slice(B).map((l) => l.records.fileBytes));
  const upperBlob = sum(L.slice(B).map((l) => l.blobSize));
  const planned = sum(plan.layers.map((l) => l.bytes));
  // a dry run estimates the new blobs with the ratio the input's upper layers had
  const ratio = upperFiles > 0 ? upperBlob / upperFiles : 1;
  const after: ImageFigures = {
    layers: B + plan.layers.length,
    blobBytes: blobSizes ? sum(blobSizes) : Math.round(baseBlob + planned * ratio),
    fileBytes: sum(L.slice(0, B).map((l) => l.records.fileBytes)) + planned,
    wastedBytes: sum(waste.items.filter((w) => w.layer < B).map((w) => w.bytes)),
  };
  return {
    baseLayers: B,
    baseFrom,
    before,
    after,
    written: !!blobSizes,
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
