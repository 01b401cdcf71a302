/**
 * The one rule for hardlinked bytes in every size a view adds up (its total, directory sizes, diff
 * deltas, the HTML treemaps): the paths of a view that share one inode (a hardlink group) count its
 * bytes once, at the group's first path in walk order, and 0 at every other path. Each directory
 * total is then the sum of its children and the root the view's total, as `du` counts.
 *
 * Walk order (depth-first, by name), not tar order: two images that hold the same group count it at
 * the same path, so a diff of them has no delta there.
 */
import type { Union } from './union.js';

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

/** What one view (the union after a layer) counts for each of its versions. */
export class CountedBytes {
  constructor(
    private readonly u: Union,
    /** Versions of the view that count 0: their group counts at its first path. */
    readonly elsewhere: ReadonlySet<number>,
  ) {}

  /** Bytes version `v` (visible in the view) adds to the view's total: its size, or 0 as above. */
  of(v: number): number {
    return this.elsewhere.size !== 0 && this.elsewhere.has(v) ? 0 : this.u.sizeOf(v);
  }
}

/** The counting of the view after layer k: only hardlinked versions are looked at, not every path. */
export function countedBytes(u: Union, k: number): CountedBytes {
  const first = new Map<number, number>(); // inode -> the version at the group's first path so far
  const elsewhere = new Set<number>();
  for (const v of linkedVersions(u)) {
    const node = u.nodeOfVersion(v);
    if (u.isHidden(node) || u.versionAt(node, k) !== v) continue;
    const ino = u.inodeOf(v);
    const at = first.get(ino);
    if (at === undefined) first.set(ino, v);
    else if (comparePaths(u.nodePath[node], u.nodePath[u.nodeOfVersion(at)]) < 0) {
      first.set(ino, v);
      elsewhere.add(at);
    } else elsewhere.add(v);
  }
  return new CountedBytes(u, elsewhere);
}

/** Per union (and its version count, as a union grows by layers): the versions whose inode another version shares. */
const linked = new WeakMap<Union, { versions: number; list: Int32Array }>();

function linkedVersions(u: Union): Int32Array {
  const n = u.versionCount;
  const known = linked.get(u);
  if (known?.versions === n) return known.list;
  const refs = new Uint8Array(n); // per inode: 0, 1, or 2 for "shared"
  for (let v = 0; v < n; v++) {
    const ino = u.inodeOf(v);
    if (ino >= 0 && refs[ino] < 2) refs[ino]++;
  }
  const out: number[] = [];
  for (let v = 0; v < n; v++) {
    const ino = u.inodeOf(v);
    if (ino >= 0 && refs[ino] === 2) out.push(v);
  }
  const list = Int32Array.from(out);
  linked.set(u, { versions: n, list });
  return list;
}
