/**
 * Wasted bytes: file content stored in some layer that is not visible in the final image.
 *
 * Every stored copy of a regular file is one version of the union whose inode is itself. It is
 * kept when the inode is still visible at the top, through its own path or through a hardlink;
 * otherwise all its bytes are wasted, once, and blamed on the layer that stored them and on the
 * layer that hid the last path to them. Deleting a directory closes every version beneath it, so
 * its whole subtree is counted. A row stored twice in one layer (the later entry wins) wastes the
 * earlier one. By construction kept + wasted = every file byte in every layer. See docs/bloat.md.
 */
import { Change, End, LIVE, type Union } from '../model/union.js';
import { Kind, type KindCode } from '../scan/records.js';
import { imageSizes, type Sizes } from '../model/views.js';
import type { ImageModel } from '../model/read-image.js';
import { diveEfficiency } from './dive-score.js';
import { WASTE_CATEGORIES } from './bloat/rules.js';

/** How the bytes became invisible. */
export type WasteReason =
  | 'whiteout' // deleted by a whiteout (file or an ancestor directory)
  | 'opaque' // hidden by an opaque whiteout on an ancestor directory
  | 'type-change' // replaced by another kind of entry (file -> dir/symlink, or a parent became a non-dir)
  | 'replaced' // overwritten with different content
  | 'metadata' // stored again with the same content, only mode/owner/xattrs changed (chmod -R, chown -R)
  | 'unchanged' // stored again exactly as it was (touch, hardlink copy-up)
  | 'superseded'; // the same path stored twice in one layer

export type WasteCategory = (typeof WASTE_CATEGORIES)[number];

export const wasteCategoryOf: Record<WasteReason, WasteCategory> = {
  whiteout: 'deleted',
  opaque: 'deleted',
  'type-change': 'overwritten',
  replaced: 'overwritten',
  superseded: 'overwritten',
  metadata: 'metadata-copy',
  unchanged: 'metadata-copy',
};

export interface WastedItem {
  /** Root-relative path the bytes were stored at. */
  path: string;
  bytes: number;
  /** The layer that stored the bytes. */
  layer: number;
  /** The layer that made them invisible. */
  removedBy: number;
  reason: WasteReason;
  /** Deleted items: the path the whiteout or opaque marker named (an ancestor for a deleted directory). */
  deletedRoot?: string;
  /** Replaced by a hardlink: the whole file was copied up to link to it. */
  viaHardlink?: true;
}

export interface WasteAnalysis {
  items: WastedItem[];
  wastedBytes: number;
  byCategory: Record<WasteCategory, number>;
  /** Regular-file bytes in all layers (the uncompressed size). */
  storedBytes: number;
  /** Regular-file bytes visible in the final view, each inode once. */
  finalBytes: number;
  /** finalBytes / storedBytes (1 for an image without file content). */
  efficiency: number;
  /** dive's "image efficiency" score, computed the way dive does (src/analyze/dive-score.ts). */
  diveEfficiency: number;
}

/** `sizes`: the image's, when the caller has them already (a walk over the final view). */
export function analyzeWaste(model: ImageModel, sizes: Sizes = imageSizes(model)): WasteAnalysis {
  const u = model.union;
  const items: WastedItem[] = [];
  const markers = new Markers(u);
  // For each inode: the last layer at which any path to it is visible, and that path's version.
  const n = u.versionCount;
  const lastTo = new Int32Array(n).fill(-2);
  const lastV = new Int32Array(n).fill(-1);
  for (let v = 0; v < n; v++) {
    const ino = u.inodeOf(v);
    if (ino < 0) continue;
    const to = u.visibleUntil(v);
    if (to > lastTo[ino]) {
      lastTo[ino] = to;
      lastV[ino] = v;
    }
  }
  for (let v = 0; v < n; v++) {
    if (u.inodeOf(v) !== v || lastTo[v] === LIVE) continue;
    const bytes = u.sizeOf(v);
    if (bytes === 0) continue;
    const removedBy = lastTo[v] + 1;
    const item: WastedItem = { path: u.nodePath[u.nodeOfVersion(v)], bytes, layer: u.layerOf(v), removedBy, reason: 'replaced' };
    explainEnd(u, lastV[v], removedBy, item, markers);
    items.push(item);
  }
  for (const [L, r] of u.layers.entries()) {
    const change = u.rowChange[L];
    for (let i = 0; i < r.count; i++) {
      if (change[i] === Change.superseded && r.kind[i] === Kind.file && r.size[i] > 0 && !u.linkedCopies[L].has(i)) {
        items.push({ path: u.nodePath[u.rowNode[L][i]], bytes: r.size[i], layer: L, removedBy: L, reason: 'superseded' });
      }
    }
  }
  items.sort((a, b) => a.layer - b.layer || a.removedBy - b.removedBy || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const byCategory = Object.fromEntries(WASTE_CATEGORIES.map((c) => [c, 0])) as Record<WasteCategory, number>;
  let wastedBytes = 0;
  for (const it of items) {
    wastedBytes += it.bytes;
    byCategory[wasteCategoryOf[it.reason]] += it.bytes;
  }
  return {
    items,
    wastedBytes,
    byCategory,
    storedBytes: sizes.uncompressed,
    finalBytes: sizes.final,
    efficiency: sizes.uncompressed === 0 ? 1 : sizes.final / sizes.uncompressed,
    diveEfficiency: diveEfficiency(u),
  };
}

/** Why version `w` (the last visible path to the inode) stopped being visible at layer `E`. */
function explainEnd(u: Union, w: number, E: number, item: WastedItem, markers: Markers): void {
  const end = u.endReason(w);
  const node = u.nodeOfVersion(w);
  if (end === End.whiteout || end === End.opaque) {
    item.reason = end === End.whiteout ? 'whiteout' : 'opaque';
    item.deletedRoot = markers.rootOf(node, E, end === End.whiteout ? Kind.whiteout : Kind.opaque);
    return;
  }
  if (end === End.parentReplaced) {
    item.reason = 'type-change';
    return;
  }
  const next = u.versionAt(node, E);
  if (next < 0 || fileLike(u.kindOf(next)) !== fileLike(u.kindOf(w))) {
    item.reason = 'type-change';
    return;
  }
  const change = u.rowChange[E][u.rowOf(next)];
  item.reason = change === Change.metadata ? 'metadata' : change === Change.unchanged ? 'unchanged' : 'replaced';
  if (u.kindOf(next) === Kind.hardlink) item.viaHardlink = true;
}

function fileLike(k: KindCode): boolean {
  return k === Kind.file || k === Kind.hardlink;
}

/** Whiteout and opaque markers per layer, to name the path a deletion was aimed at. */
class Markers {
  private readonly byLayer = new Map<string, Set<string>>();
  constructor(private readonly u: Union) {}

  /** The nearest path at or above `node` that layer E has a marker of the given kind for. */
  rootOf(node: number, E: number, kind: KindCode): string {
    const key = `${E}:${kind}`;
    let marked = this.byLayer.get(key);
    if (!marked) {
      const r = this.u.layers[E];
      marked = new Set();
      for (let i = 0; i < r.count; i++) if (r.kind[i] === kind) marked.add(r.path[i]);
      this.byLayer.set(key, marked);
    }
    for (let n = node; n > 0; n = this.u.parentOf(n)) if (marked.has(this.u.nodePath[n])) return this.u.nodePath[n];
    return this.u.nodePath[node];
  }
}
