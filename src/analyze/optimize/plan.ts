/**
 * The plan of `strata optimize`: which entries the layers above the kept base hold so that the
 * image's final view stays exactly what it is, with no byte stored that a later layer deletes,
 * overwrites or re-modes. Everything comes from the union: the final version of every path above
 * the base (its metadata from the version itself, its content from the record row that stored it),
 * hardlink groups, and the whiteouts the base needs. docs/optimize.md gives the rules.
 *
 * Layers above the base are planned in "keep" positions first (one per original layer, each path in
 * the layer that made its final version), then merged (`1`) or left out where empty (`auto`).
 */
import { StrataError } from '../../util/errors.js';
import { joinPath } from '../../util/paths.js';
import { Flag, Kind, kindName } from '../../scan/records.js';
import type { TarHeader, TarType } from '../../scan/tar-parser.js';
import type { ImageModel } from '../../model/read-image.js';
import { IMPLICIT, type Union } from '../../model/union.js';
import { RuleMatcher } from '../bloat/matching.js';
import type { BloatConfig } from '../bloat/section.js';
import { pushAll } from '../../util/arrays.js';

export type LayersMode = 'auto' | '1' | 'keep';

/** One tar entry of an output layer; files name the original layer and record row holding their content. */
export interface PlannedEntry extends Pick<TarHeader, 'type' | 'size' | 'mode' | 'uid' | 'gid' | 'mtime'> {
  /** Root-relative path, no leading or trailing slash. */
  path: string;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** xattr name -> base64 value. */
  xattrs?: Record<string, string>;
  source?: { layer: number; row: number };
}

export interface PlannedLayer {
  /** Original layers whose final versions this layer holds. */
  from: number[];
  /** Whiteouts and opaque markers: written first (they act on lower layers only, Docker applies them in tar order). */
  markers: PlannedEntry[];
  /** Directories (parents first), symlinks, devices and fifos: no content. */
  entries: PlannedEntry[];
  /** Regular files, in (original layer, row) order: the order their content is read in. */
  files: PlannedEntry[];
  /** Hardlinks, last: what they link to is written before them, here or in a lower layer. */
  links: PlannedEntry[];
  /** Content bytes. */
  bytes: number;
}

export interface DroppedPath {
  path: string;
  bytes: number;
  layer: number;
  category: string;
}

export interface Plan {
  /** Leading layers kept as they are. */
  base: number;
  layers: PlannedLayer[];
  dropped: DroppedPath[];
}

export interface PlanOptions {
  base: number;
  layers: LayersMode;
  /** Bloat categories whose visible files above the base are left out (changes the view). */
  drop?: { categories: string[]; config: BloatConfig };
}

const emptyLayer = (from: number[]): PlannedLayer => ({ from, markers: [], entries: [], files: [], links: [], bytes: 0 });

export function planOptimize(model: ImageModel, opts: PlanOptions): Plan {
  const u = model.union;
  const n = model.layers.length;
  const B = opts.base;
  if (!Number.isInteger(B) || B < 0 || B > n) throw new StrataError(`base layers ${B}: the image has ${n} layers`);
  const last = n - 1;
  const keep = Array.from({ length: n - B }, (_, i) => emptyLayer([B + i]));
  if (n === 0 || B === n) return { base: B, layers: [], dropped: [] };
  const at = (L: number) => keep[L - B];

  const dropped = new Map<number, DroppedPath>(); // node -> what was left out
  if (opts.drop && opts.drop.categories.length) markDropped(u, B, last, opts.drop, dropped);
  const finalOf = (node: number) => (dropped.has(node) ? -1 : u.versionAt(node, last));

  // Versions of the final view, grouped by the inode (or linked symlink, fifo, device) they are.
  const groups = new Map<number, number[]>();
  for (const v of u.visibleAt(last)) {
    const node = u.nodeOfVersion(v);
    if (dropped.has(node)) continue;
    if (u.kindOf(v) === Kind.dir) {
      if (u.layerOf(v) >= B) at(u.layerOf(v)).entries.push(entry(u, v, 'dir'));
      continue;
    }
    const key = u.metaOf(v);
    const g = groups.get(key);
    if (g) g.push(v);
    else groups.set(key, [v]);
  }
  for (const [key, members] of groups) placeGroup(u, B, key, members, at);
  markWhiteouts(u, B, finalOf, at);

  const layers = opts.layers === 'keep' ? keep : opts.layers === '1' ? [merge(keep)] : keep.filter((l) => !isEmpty(l));
  for (const l of layers) order(l);
  return { base: B, layers, dropped: [...dropped.values()].sort((a, b) => (a.path < b.path ? -1 : 1)) };
}

/** Leave out the visible files above the base that a dropped category's rules claim. */
function markDropped(u: Union, B: number, last: number, drop: NonNullable<PlanOptions['drop']>, out: Map<number, DroppedPath>): void {
  const matcher = new RuleMatcher(u, drop.config);
  const wanted = new Set(drop.categories);
  for (const v of u.visibleAt(last)) {
    if (u.layerOf(v) < B || u.kindOf(v) === Kind.dir) continue;
    const node = u.nodeOfVersion(v);
    const rule = matcher.rules[matcher.ruleIndexOf(node)];
    if (rule && wanted.has(rule.category)) out.set(node, { path: `/${u.nodePath[node]}`, bytes: u.sizeOf(v), layer: u.layerOf(v), category: rule.category });
  }
}

/**
 * One inode group: the member in the lowest layer is written as what it is (a file with content, a
 * symlink…), the others as hardlinks to it. A member the base still holds is already on disk: every
 * member above links to it.
 */
function placeGroup(u: Union, B: number, key: number, members: number[], at: (L: number) => PlannedLayer): void {
  const inBase = members.filter((v) => u.layerOf(v) < B);
  const upper = members.filter((v) => u.layerOf(v) >= B);
  if (upper.length === 0) return;
  upper.sort((a, b) => u.layerOf(a) - u.layerOf(b) || (a === key ? -1 : b === key ? 1 : pathOrder(u, a, b)));
  let target: string;
  let rest = upper;
  if (inBase.length) {
    inBase.sort((a, b) => pathOrder(u, a, b));
    target = u.nodePath[u.nodeOfVersion(inBase[0])];
  } else {
    const lead = upper[0];
    rest = upper.slice(1);
    const layer = at(u.layerOf(lead));
    const kind = u.kindOf(key);
    const e = entry(u, lead, kindName[kind] as TarType);
    if (kind === Kind.file) {
      if (u.flagsOf(key) & Flag.sparse) throw new StrataError(`/${u.nodePath[u.nodeOfVersion(lead)]} (layer ${u.layerOf(key)}) is a sparse file: strata cannot write sparse files yet`);
      e.size = u.sizeOf(key);
      e.source = { layer: u.layerOf(key), row: u.rowOf(key) };
      layer.files.push(e);
      layer.bytes += e.size;
    } else {
      if (kind === Kind.symlink) e.linkname = u.linkOf(key);
      if (kind === Kind.char || kind === Kind.block) [e.devmajor, e.devminor] = u.devOf(key);
      layer.entries.push(e);
    }
    target = e.path;
  }
  for (const v of rest) {
    const e = entry(u, v, 'hardlink');
    e.linkname = target;
    at(u.layerOf(v)).links.push(e);
  }
}

/**
 * Whiteouts for what the base holds and the final view does not, placed in the layer that removed it:
 * one per topmost removed path, and one before a path that changes between directory and
 * non-directory; an opaque marker instead where a base directory lost every entry it had (two or more).
 */
function markWhiteouts(u: Union, B: number, finalOf: (node: number) => number, at: (L: number) => PlannedLayer): void {
  const top = B - 1;
  const marks: { layer: number; entry: PlannedEntry }[] = [];
  const isDir = (v: number) => u.kindOf(v) === Kind.dir;
  const visit = (dir: number): void => {
    const before = marks.length;
    let children = 0;
    let gone = 0;
    let firstEnd = Infinity;
    for (let c = u.firstChildOf(dir); c >= 0; c = u.nextSiblingOf(c)) {
      if (u.isHidden(c)) continue;
      const vb = u.versionAt(c, top);
      if (vb < 0) continue;
      children++;
      const vf = finalOf(c);
      if (vf < 0 || isDir(vb) !== isDir(vf)) {
        // a dropped path too: its base version ended where the dropped one was made
        const layer = u.visibleUntil(vb) + 1;
        marks.push({ layer, entry: marker(whiteoutName(u.nodePath[c])) });
        firstEnd = Math.min(firstEnd, layer);
        gone++;
      } else if (isDir(vb)) visit(c);
    }
    if (dir === 0 || children < 2 || gone < children) return;
    // the directory stays but nothing of its base content does: one opaque marker, before anything now in it
    marks.length = before;
    let layer = firstEnd;
    for (const { version } of u.walk(u.layerCount - 1, dir)) if (u.layerOf(version) >= B) layer = Math.min(layer, u.layerOf(version));
    marks.push({ layer, entry: marker(joinPath(u.nodePath[dir], '.wh..wh..opq')) });
  };
  visit(0);
  for (const m of marks) at(m.layer).markers.push(m.entry);
}

function whiteoutName(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut < 0 ? `.wh.${path}` : `${path.slice(0, cut)}/.wh.${path.slice(cut + 1)}`;
}

function marker(path: string): PlannedEntry {
  return { path, type: 'file', size: 0, mode: 0, uid: 0, gid: 0, mtime: 0 };
}

/** A version's header: its own path, its inode's metadata (a hardlink has its target's), no content. */
function entry(u: Union, v: number, type: TarType): PlannedEntry {
  const m = u.metaOf(v);
  const row = u.rowOf(m);
  const r = u.layers[u.layerOf(m)];
  const e: PlannedEntry = {
    path: u.nodePath[u.nodeOfVersion(v)],
    type,
    size: 0,
    mode: u.modeOf(v),
    uid: u.uidOf(v),
    gid: u.gidOf(v),
    mtime: row === IMPLICIT ? 0 : r.mtime[row],
  };
  const x = row === IMPLICIT ? undefined : r.xattrs[row];
  if (x && type !== 'hardlink') e.xattrs = x;
  return e;
}

function pathOrder(u: Union, a: number, b: number): number {
  const pa = u.nodePath[u.nodeOfVersion(a)], pb = u.nodePath[u.nodeOfVersion(b)];
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

function isEmpty(l: PlannedLayer): boolean {
  return !l.markers.length && !l.entries.length && !l.files.length && !l.links.length;
}

function merge(layers: PlannedLayer[]): PlannedLayer {
  const m = emptyLayer(layers.flatMap((l) => l.from));
  for (const l of layers) {
    pushAll(m.markers, l.markers);
    pushAll(m.entries, l.entries);
    pushAll(m.files, l.files);
    pushAll(m.links, l.links);
    m.bytes += l.bytes;
  }
  return m;
}

const byPath = (a: PlannedEntry, b: PlannedEntry) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** Write order: markers, then directories before what they hold, files in the order their content is read. */
function order(l: PlannedLayer): void {
  l.markers.sort(byPath);
  l.entries.sort((a, b) => (a.type === 'dir') !== (b.type === 'dir') ? (a.type === 'dir' ? -1 : 1) : byPath(a, b));
  l.files.sort((a, b) => a.source!.layer - b.source!.layer || a.source!.row - b.source!.row);
  l.links.sort(byPath);
}
