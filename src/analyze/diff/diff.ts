/**
 * The difference between two union views (two images, or two layers of one), as plain data.
 *
 * Files: each view's entries are looked up by path in the other's path table, so the cost is linear
 * in their entries; only the changed ones are sorted (in the order of a walk: comparePaths).
 * Entries are compared on what an extracted filesystem holds: type, content (size + the records'
 * XXH3-128 content hash), link target, device numbers, mode, owner, xattrs, hardlink count. mtime is never
 * compared (every rebuild changes it). Which path of a hardlinked set is the tar "file" and which the
 * "link" is an accident of tar order, so both are regular files here; their link count is compared.
 */
import { diffArrays } from 'diff';
import { instructionKey } from '../../image/history.js';
import { formatPlatform } from '../../image/platform.js';
import { hashHex, Kind, sameHash, sameXattrs, type KindCode } from '../../scan/records.js';
import { IMPLICIT, type Union } from '../../model/union.js';
import { entryOf, type FileEntry } from '../../model/views.js';
import { ignoreMatcher } from '../../util/glob.js';
import { layerHistory, type ImageModel } from '../../model/read-image.js';
import type { HistoryEntry } from '../../image/image.js';
import type { InspectReport } from '../report.js';
import type { ContentDiff } from './content.js';
import { bloatDelta, type BloatDelta } from './bloat.js';
import { defaultBloatConfig, type BloatConfig } from '../bloat/section.js';

export const DIFF_SCHEMA_VERSION = 1;

/** One side of a diff: the union view of `model` after layer `layer`. */
export interface DiffSide {
  model: ImageModel;
  layer: number;
  /** The image's inspect report (made with the diff's bloat rules), when the side is the image's top: its totals are the side's. */
  report?: InspectReport;
}

export interface DiffOptions {
  /** Globs of paths to leave out of the file diff (see glob.ts). */
  ignore?: readonly string[];
  /** Rules for the per-category delta (the config file's `bloat` section); the built-in ones when absent. */
  bloat?: BloatConfig;
}

export type FileChange = 'added' | 'removed' | 'modified' | 'metadata' | 'type' | 'retarget';
export type MetadataField = 'mode' | 'uid' | 'gid' | 'xattrs' | 'links';

/** One side of a changed path: the view's entry (as `ls --json` prints it) plus what diffing needs. */
export interface FileState extends Omit<FileEntry, 'path' | 'sparse'> {
  /** Regular files: XXH3-128 of the content (from the layer records), hex. */
  contentHash?: string;
  /** Regular files: how many paths of the view share its content as hardlinks (1: none). */
  links?: number;
}

export interface FileDiff {
  path: string;
  change: FileChange;
  a: FileState | null;
  b: FileState | null;
  /** b.size - a.size (apparent sizes: a hardlink counts its file's size). */
  sizeDelta: number;
  /** Mode, owner or xattr fields that differ, whatever the main change is. */
  metadata?: MetadataField[];
}

export interface DirDelta {
  path: string;
  /** Sum of the size deltas of everything changed below it. */
  sizeDelta: number;
  changed: number;
}

export interface LayerRef {
  index: number;
  diffId: string;
  size: number;
  compressedSize: number | null;
  createdBy: string | null;
}

export interface LayerPair {
  a: LayerRef | null;
  b: LayerRef | null;
  /** identical: same diffID; instruction: same normalised created_by; unmatched: neither. */
  match: 'identical' | 'instruction' | 'unmatched';
}

export type ConfigField = 'platform' | 'user' | 'workdir' | 'entrypoint' | 'cmd' | 'env' | 'label' | 'exposedPort' | 'volume';

export interface ConfigChange {
  field: ConfigField;
  /** Variable, label or port/volume name for the keyed fields. */
  key?: string;
  a: string | null;
  b: string | null;
}

export interface HistoryLine {
  op: 'same' | 'removed' | 'added';
  instruction: string;
  emptyLayer: boolean;
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

export interface DiffReport {
  schemaVersion: number;
  summary: {
    identical: boolean;
    a: SideSummary;
    b: SideSummary;
    sizeDelta: number;
    compressedSizeDelta: number | null;
    files: Record<FileChange, number> & { total: number };
    ignored: string[];
  };
  layers: { sharedBase: number; pairs: LayerPair[] };
  config: ConfigChange[];
  history: HistoryLine[];
  files: FileDiff[];
  directories: DirDelta[];
  /** Bloat and waste bytes per category (inspect's analyses, each side on its own view), and efficiency. */
  bloat: BloatDelta;
  /** Content diffs, when asked for (`--content`): see diff-content.ts. */
  contents?: ContentDiff[];
}

export function diffImages(a: DiffSide, b: DiffSide, opts: DiffOptions = {}): DiffReport {
  const ignore = opts.ignore ?? [];
  const va = viewOf(a), vb = viewOf(b);
  const files = diffFiles(va, vb, ignoreMatcher(ignore));
  const counts = { added: 0, removed: 0, modified: 0, metadata: 0, type: 0, retarget: 0, total: files.length };
  for (const f of files) counts[f.change]++;
  const config = diffConfig(a.model, b.model);
  const history = diffHistory(viewHistory(a), viewHistory(b));
  const sa = sideSummary(va), sb = sideSummary(vb);
  return {
    schemaVersion: DIFF_SCHEMA_VERSION,
    summary: {
      identical: files.length === 0 && config.length === 0 && history.every((h) => h.op === 'same'),
      a: sa,
      b: sb,
      sizeDelta: sb.size - sa.size,
      compressedSizeDelta: sa.compressedSize === null || sb.compressedSize === null ? null : sb.compressedSize - sa.compressedSize,
      files: counts,
      ignored: [...ignore],
    },
    layers: alignLayers(a, b),
    config,
    history,
    files,
    directories: rollUp(files),
    bloat: bloatDelta(a, b, opts.bloat ?? defaultBloatConfig()),
  };
}

// ---- files -------------------------------------------------------------------------------------

/** Order of `walk`: depth-first, siblings by name; i.e. paths compared component by component. */
export function comparePaths(x: string, y: string): number {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const cx = x.charCodeAt(i), cy = y.charCodeAt(i);
    if (cx === cy) continue;
    if (cx === 47) return -1; // x's component ended first: it is a prefix of y's
    if (cy === 47) return 1;
    return cx - cy;
  }
  return x.length - y.length;
}

/** A side with its hardlink counts (per inode version: paths of the view that share it), entries and size. */
interface View extends DiffSide {
  links: Int32Array;
  entries: number;
  /** Regular-file bytes, each inode once. */
  size: number;
}

function viewOf(side: DiffSide): View {
  const u = side.model.union;
  const links = new Int32Array(u.versionCount);
  let entries = 0;
  let size = 0;
  for (const version of u.visibleAt(side.layer)) {
    entries++;
    const ino = u.inodeOf(version);
    if (ino >= 0 && links[ino]++ === 0) size += u.sizeOf(ino);
  }
  return { ...side, links, entries, size };
}

/**
 * A's entries looked up in B's path table, then B's entries A has not. A sorted walk of both views
 * merged in path order did the same at about four times the cost: it sorts every directory of both.
 */
function diffFiles(a: View, b: View, ignored: (path: string) => boolean): FileDiff[] {
  const ua = a.model.union, ub = b.model.union;
  const inA = new Uint8Array(ub.nodeCount); // B's nodes also in A's view
  const out: FileDiff[] = [];
  for (const va of ua.visibleAt(a.layer)) {
    const path = ua.nodePath[ua.nodeOfVersion(va)];
    const nb = ub.nodeOf(path);
    const vb = nb === undefined ? -1 : ub.versionAt(nb, b.layer);
    if (vb >= 0) inA[nb!] = 1;
    if (ignored(`/${path}`)) continue;
    const d = vb >= 0 ? compare(a, va, b, vb) : oneSided('removed', a, va);
    if (d) out.push(d);
  }
  for (const vb of ub.visibleAt(b.layer)) {
    const nb = ub.nodeOfVersion(vb);
    if (!inA[nb] && !ignored(`/${ub.nodePath[nb]}`)) out.push(oneSided('added', b, vb));
  }
  return out.sort((x, y) => comparePaths(x.path, y.path));
}

function oneSided(change: 'added' | 'removed', view: View, v: number): FileDiff {
  const { path, state } = stateOf(view, v);
  return change === 'added' ? { path, change, a: null, b: state, sizeDelta: state.size } : { path, change, a: state, b: null, sizeDelta: -state.size };
}

function stateOf(view: View, v: number): { path: string; state: FileState } {
  const u = view.model.union;
  const { path, type, size, mode, uid, gid, layer, linkTarget } = entryOf(u, v);
  const state: FileState = { type, size, mode, uid, gid, layer };
  if (linkTarget !== undefined) state.linkTarget = linkTarget;
  const ino = u.inodeOf(v);
  if (ino >= 0) {
    state.contentHash = hashHex(u.layers[u.layerOf(ino)], u.rowOf(ino));
    state.links = view.links[ino] || 1;
  }
  return { path, state };
}

/** A hardlink compares as a file when it has content (one to a symlink, fifo or device has none). */
function effective(u: Union, v: number): KindCode {
  const k = u.kindOf(v);
  return k === Kind.hardlink && u.inodeOf(v) >= 0 ? Kind.file : k;
}

function compare(a: View, va: number, b: View, vb: number): FileDiff | null {
  const ua = a.model.union, ub = b.model.union;
  const ka = effective(ua, va), kb = effective(ub, vb);
  let change: FileChange | null = null;
  if (ka !== kb) change = 'type';
  else if (ka === Kind.file) {
    const ia = ua.inodeOf(va), ib = ub.inodeOf(vb);
    if (ua.sizeOf(va) !== ub.sizeOf(vb) || !sameHash(ua.layers[ua.layerOf(ia)], ua.rowOf(ia), ub.layers[ub.layerOf(ib)], ub.rowOf(ib))) change = 'modified';
  } else if (ka === Kind.symlink || ka === Kind.hardlink) {
    if (ua.linkOf(va) !== ub.linkOf(vb)) change = 'retarget';
  } else if (ka === Kind.char || ka === Kind.block) {
    const da = ua.devOf(va), db = ub.devOf(vb);
    if (da[0] !== db[0] || da[1] !== db[1]) change = 'modified';
  }
  const metadata: MetadataField[] = [];
  if (change !== 'type') {
    // a file's mode next to a directory's says nothing: metadata is compared between like kinds
    if (ua.modeOf(va) !== ub.modeOf(vb)) metadata.push('mode');
    if (ua.uidOf(va) !== ub.uidOf(vb)) metadata.push('uid');
    if (ua.gidOf(va) !== ub.gidOf(vb)) metadata.push('gid');
    if (!sameXattrsAcross(ua, va, ub, vb)) metadata.push('xattrs');
    if (ka === Kind.file && a.links[ua.inodeOf(va)] !== b.links[ub.inodeOf(vb)]) metadata.push('links');
  }
  if (change === null && metadata.length === 0) return null;
  const { path, state: sa } = stateOf(a, va);
  const sb = stateOf(b, vb).state;
  const d: FileDiff = { path, change: change ?? 'metadata', a: sa, b: sb, sizeDelta: sb.size - sa.size };
  if (metadata.length) d.metadata = metadata;
  return d;
}

function sameXattrsAcross(ua: Union, v: number, ub: Union, w: number): boolean {
  const va = ua.metaOf(v), vb = ub.metaOf(w); // a hardlink's xattrs are its inode's
  const ra = ua.rowOf(va), rb = ub.rowOf(vb);
  const la = ua.layers[ua.layerOf(va)], lb = ub.layers[ub.layerOf(vb)];
  const xa = ra === IMPLICIT ? undefined : la.xattrs[ra];
  const xb = rb === IMPLICIT ? undefined : lb.xattrs[rb];
  if (!xa || !xb) return !xa && !xb;
  return sameXattrs(la, ra, lb, rb);
}

/** Per directory: the changes below it, rolled up; biggest absolute size delta first. */
function rollUp(files: FileDiff[]): DirDelta[] {
  const dirs = new Map<string, DirDelta>();
  for (const f of files) {
    for (let i = f.path.lastIndexOf('/'); i > 0; i = f.path.lastIndexOf('/', i - 1)) {
      const path = f.path.slice(0, i);
      let d = dirs.get(path);
      if (!d) dirs.set(path, (d = { path, sizeDelta: 0, changed: 0 }));
      d.sizeDelta += f.sizeDelta;
      d.changed++;
    }
  }
  return [...dirs.values()].sort((x, y) => Math.abs(y.sizeDelta) - Math.abs(x.sizeDelta) || y.changed - x.changed || comparePaths(x.path, y.path));
}

// ---- layers ------------------------------------------------------------------------------------

function layerRef(m: ImageModel, i: number): LayerRef {
  const l = m.layers[i];
  return { index: i, diffId: l.diffId, size: l.size, compressedSize: l.compressedSize, createdBy: l.history?.created_by ?? null };
}

/**
 * The common base (equal diffIDs from the bottom) once, then the remaining layers side by side:
 * aligned by the longest common subsequence of "same diffID or same instruction", with the runs in
 * between paired up in order.
 */
function alignLayers(a: DiffSide, b: DiffSide): { sharedBase: number; pairs: LayerPair[] } {
  const la = a.model.layers.slice(0, a.layer + 1), lb = b.model.layers.slice(0, b.layer + 1);
  let shared = 0;
  while (shared < la.length && shared < lb.length && la[shared].diffId === lb[shared].diffId) shared++;
  const key = (l: (typeof la)[number]) => ({ diffId: l.diffId, instr: instructionKey(l.history?.created_by), index: l.index });
  const ka = la.slice(shared).map(key), kb = lb.slice(shared).map(key);
  const same = (x: (typeof ka)[number], y: (typeof ka)[number]) => x.diffId === y.diffId || (x.instr !== '' && x.instr === y.instr);
  const parts = diffArrays(ka, kb, { comparator: same });
  const pairs: LayerPair[] = [];
  let i = 0, j = 0;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p];
    if (!part.added && !part.removed) {
      for (let n = 0; n < part.value.length; n++, i++, j++) {
        pairs.push({ a: layerRef(a.model, ka[i].index), b: layerRef(b.model, kb[j].index), match: ka[i].diffId === kb[j].diffId ? 'identical' : 'instruction' });
      }
      continue;
    }
    // a removed run, possibly followed by an added run: show them next to each other
    const removed = part.removed ? part.value.length : 0;
    const next = part.removed && parts[p + 1]?.added ? parts[++p] : part.added ? part : null;
    const added = next ? next.value.length : 0;
    for (let n = 0; n < Math.max(removed, added); n++) {
      pairs.push({ a: n < removed ? layerRef(a.model, ka[i++].index) : null, b: n < added ? layerRef(b.model, kb[j++].index) : null, match: 'unmatched' });
    }
  }
  return { sharedBase: shared, pairs };
}

// ---- config and history ------------------------------------------------------------------------

function diffConfig(a: ImageModel, b: ImageModel): ConfigChange[] {
  const ca = a.image.config.config ?? {}, cb = b.image.config.config ?? {};
  const out: ConfigChange[] = [];
  const scalar = (field: ConfigField, x: string | null, y: string | null) => {
    if (x !== y) out.push({ field, a: x, b: y });
  };
  const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
  scalar('platform', formatPlatform(a.image.platform), formatPlatform(b.image.platform));
  scalar('user', ca.User || null, cb.User || null);
  scalar('workdir', ca.WorkingDir || null, cb.WorkingDir || null);
  scalar('entrypoint', json(ca.Entrypoint), json(cb.Entrypoint));
  scalar('cmd', json(ca.Cmd), json(cb.Cmd));
  const envMap = (env: string[] | null | undefined) => new Map((env ?? []).map((e) => [e.split('=', 1)[0], e.slice(e.indexOf('=') + 1)]));
  keyed(out, 'env', envMap(ca.Env), envMap(cb.Env));
  keyed(out, 'label', new Map(Object.entries(ca.Labels ?? {})), new Map(Object.entries(cb.Labels ?? {})));
  const set = (o: Record<string, object> | null | undefined) => new Map(Object.keys(o ?? {}).map((k) => [k, k]));
  keyed(out, 'exposedPort', set(ca.ExposedPorts), set(cb.ExposedPorts));
  keyed(out, 'volume', set(ca.Volumes), set(cb.Volumes));
  return out;
}

function keyed(out: ConfigChange[], field: ConfigField, a: Map<string, string>, b: Map<string, string>): void {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const key of keys) {
    const x = a.get(key) ?? null, y = b.get(key) ?? null;
    if (x !== y) out.push({ field, key, a: x, b: y });
  }
}

/** History entries up to the one that made the view's top layer (all of them for the top). */
function viewHistory(side: DiffSide): HistoryEntry[] {
  const all = side.model.image.config.history ?? [];
  if (side.layer === side.model.layers.length - 1) return all;
  const last = layerHistory(all, side.model.layers.length)[side.layer];
  const end = last ? all.indexOf(last) + 1 : all.length;
  return all.slice(0, end);
}

function diffHistory(a: HistoryEntry[], b: HistoryEntry[]): HistoryLine[] {
  const line = (h: HistoryEntry) => ({ instruction: instructionKey(h.created_by) || (h.comment ? `(${h.comment})` : ''), emptyLayer: !!h.empty_layer });
  const la = a.map(line), lb = b.map(line);
  const out: HistoryLine[] = [];
  for (const part of diffArrays(la, lb, { comparator: (x, y) => x.instruction === y.instruction && x.emptyLayer === y.emptyLayer })) {
    const op = part.added ? 'added' : part.removed ? 'removed' : 'same';
    for (const h of part.value) out.push({ op, ...h });
  }
  return out;
}

// ---- sizes -------------------------------------------------------------------------------------

function sideSummary(view: View): SideSummary {
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
