/**
 * Directory sizes (the sum of the visible children, recursively) per layer, computed lazily and
 * incrementally: a directory that layer k did not touch (nothing at or below it changed) has the
 * size it had after layer k-1, so moving through layers costs only the changed subtrees. A file
 * counts what it adds to the view's total (a hardlink group once: model/counted-bytes.ts).
 */
import { Kind } from '../scan/records.js';
import type { Union } from '../model/union.js';
import { countedBytes, type CountedBytes } from '../model/counted-bytes.js';

export class DirSizes {
  private readonly sizes = new Map<number, Map<number, number>>();
  private readonly touchedBy = new Map<number, Set<number>>();
  private readonly counted = new Map<number, CountedBytes>();

  constructor(private readonly u: Union) {}

  /** Bytes version `v`, visible after layer k, adds to that view's total. */
  fileSize(v: number, k: number): number {
    return this.countedAt(k).of(v);
  }

  private countedAt(k: number): CountedBytes {
    let c = this.counted.get(k);
    if (!c) this.counted.set(k, (c = countedBytes(this.u, k)));
    return c;
  }

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
        s += u.kindOf(v) === Kind.dir ? this.dirSize(c, k) : this.fileSize(v, k);
      }
    }
    cache.set(node, s);
    return s;
  }

  /** Nodes at or above anything layer k set or deleted, or whose count it moved within a hardlink group. */
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
    if (k > 0) {
      const now = this.countedAt(k).elsewhere, before = this.countedAt(k - 1).elsewhere;
      for (const v of now) if (!before.has(v)) mark(u.nodeOfVersion(v));
      for (const v of before) if (!now.has(v)) mark(u.nodeOfVersion(v));
    }
    this.touchedBy.set(k, set);
    return set;
  }
}
