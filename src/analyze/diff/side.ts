/** One side of a diff: a union view, with what every part of the diff reads of it. */
import { formatPlatform } from '../../image/platform.js';
import type { ImageModel } from '../../model/read-image.js';
import { countedBytes, type CountedBytes } from '../../model/counted-bytes.js';
import type { InspectReport } from '../report.js';

/** One side of a diff: the union view of `model` after layer `layer`. */
export interface DiffSide {
  model: ImageModel;
  layer: number;
  /** The image's inspect report (made with the diff's bloat rules), when the side is the image's top: its totals are the side's. */
  report?: InspectReport;
}

export interface SideSummary {
  ref: string;
  platform: string;
  /** The view compared: after this layer. */
  layer: number;
  layerCount: number;
  /** Regular-file bytes visible in the view, each inode once. */
  size: number;
  entries: number;
  /** Sum of compressed blobs of layers 0..layer; null when one of them is stored uncompressed. */
  compressedSize: number | null;
  blobSize: number;
}

/** A side with its hardlink counts (per inode version: paths of the view that share it), entries and size. */
export interface View extends DiffSide {
  links: Int32Array;
  /** What each path adds to the view's total (a hardlink group once, at its first path). */
  counted: CountedBytes;
  entries: number;
  /** Regular-file bytes, each inode once. */
  size: number;
}

export function viewOf(side: DiffSide): View {
  const u = side.model.union;
  const links = new Int32Array(u.versionCount);
  const counted = countedBytes(u, side.layer);
  let entries = 0;
  let size = 0;
  for (const version of u.visibleAt(side.layer)) {
    entries++;
    const ino = u.inodeOf(version);
    if (ino >= 0) links[ino]++;
    size += counted.of(version);
  }
  return { ...side, links, counted, entries, size };
}

export function sideSummary(view: View): SideSummary {
  const { model, layer, entries, size } = view;
  const layers = model.layers.slice(0, layer + 1);
  return {
    ref: model.image.ref,
    platform: formatPlatform(model.image.platform),
    layer,
    layerCount: model.layers.length,
    size,
    entries,
    compressedSize: layers.some((l) => l.compressedSize === null) ? null : layers.reduce((s, l) => s + l.compressedSize!, 0),
    blobSize: layers.reduce((s, l) => s + l.blobSize, 0),
  };
}
