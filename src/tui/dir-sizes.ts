/**
 * Directory sizes (the sum of the visible children, recursively) per layer, computed lazily and
 * incrementally: a directory that layer k did not touch (nothing at or below it changed) has the
 * size it had after layer k-1, so moving through layers costs only the changed subtrees.
 */
import { Kind } from '../scan/records.js';
import type { Union } from '../model/union.js';

export class DirSizes {
  private readonly sizes = new Map<number, Map<number, number>>();
  private readonly touchedBy = new Map<number, Set<number>>();

  constructor(private readonly u: Union) {}

  /** Size of directory `node` as visible after layer k. */
  dirSize(node: number, k: number): number {
    let cache = this.sizes.get(k);
    if (!cache) this.sizes.set(k, (cache = new Map()));
    const hit = cache.get(node);
    if (hit !== undefined) return hit;
    const u = this.u;
    let s = 0;
    const prev = k > 0 ? u.versionAt(node, k - 1) : -1;
    if (prev >= 0 && u.kindOf(prev) === Kind.dir && !this.touched(k).has(node)) {
      s = this.dirSize(node, k - 1);
    } else {
      for (const c of u.children(node)) {
        const v = u.versionAt(c, k);
        if (v < 0) continue;
        s += u.kindOf(v) === Kind.dir ? this.dirSize(c, k) : u.sizeOf(v);
      }
    }
    cache.set(node, s);
    return s;
  }

  /** Nodes at or above anything layer k set or deleted. */
  private touched(k: number): Set<number> {
    let set = this.touchedBy.get(k);
    if (set) return set;
    set = new Set<number>([0]);
    const u = this.u;
    const mark = (n: number) => {
      for (; n > 0 && !set!.has(n); n = u.parentOf(n)) set!.add(n);
    };
    const [start, end] = u.versionsOfLayers(k, k);
    for (let v = start; v < end; v++) mark(u.nodeOfVersion(v));
    for (const v of u.removed[k]) mark(u.nodeOfVersion(v));
    this.touchedBy.set(k, set);
    return set;
  }
}
