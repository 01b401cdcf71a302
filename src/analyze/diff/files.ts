/**
 * The file diff: each view's entries are looked up by path in the other's path table, so the cost is
 * linear in their entries; only the changed ones are sorted (in the order of a walk: comparePaths).
 * Entries are compared on what an extracted filesystem holds: type, content (size + the records'
 * XXH3-128 content hash), link target, device numbers, mode, owner, xattrs, hardlink count. mtime is never
 * compared (every rebuild changes it). Which path of a hardlinked set is the tar "file" and which the
 * "link" is an accident of tar order, so both are regular files here; their link count is compared,
 * and so is where the group counts its bytes (model/counted-bytes.ts): size deltas add up to the total.
 */
import { hashHex, Kind, sameHash, sameXattrs, type KindCode } from '../../scan/records.js';
import { IMPLICIT, type Union } from '../../model/union.js';
import { entryOf, type FileEntry } from '../../model/views.js';
import { comparePaths } from '../../model/counted-bytes.js';
import type { View } from './side.js';

export { comparePaths } from '../../model/counted-bytes.js';

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
  /**
   * What the path adds to B's total minus what it adds to A's: b.size - a.size, except that a
   * hardlink group counts once, at its first path (model/counted-bytes.ts), and 0 at the others.
   * The deltas of all paths add up to the diff's size delta.
   */
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

/**
 * A's entries looked up in B's path table, then B's entries A has not. A sorted walk of both views
 * merged in path order did the same at about four times the cost: it sorts every directory of both.
 */
export function diffFiles(a: View, b: View, ignored: (path: string) => boolean): FileDiff[] {
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
  const bytes = view.counted.of(v);
  return change === 'added' ? { path, change, a: null, b: state, sizeDelta: bytes } : { path, change, a: state, b: null, sizeDelta: -bytes };
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
  }
  const sizeDelta = b.counted.of(vb) - a.counted.of(va);
  // the group's other paths changed when its count did, or when its bytes moved to or from this path
  if (change !== 'type' && ka === Kind.file && (a.links[ua.inodeOf(va)] !== b.links[ub.inodeOf(vb)] || (change === null && sizeDelta !== 0))) metadata.push('links');
  if (change === null && metadata.length === 0) return null;
  const { path, state: sa } = stateOf(a, va);
  const sb = stateOf(b, vb).state;
  const d: FileDiff = { path, change: change ?? 'metadata', a: sa, b: sb, sizeDelta };
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
export function rollUp(files: FileDiff[]): DirDelta[] {
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
