/**
 * The treemap's data: a directory tree of weighted leaves, cut down to a budget of tiles so that the
 * HTML page stays small and paints fast on images of a million files. The biggest nodes are kept
 * (a directory weighs at least as much as anything in it, so the kept set contains its ancestors);
 * everything else in a kept directory is folded into one "small files" tile, coloured by what
 * holds most of its bytes. Sizes are exact at every level: a directory's tiles add up to it.
 */
import { grown } from '../../util/typed-arrays.js';

/** One tile of the page's tree (short keys: the page embeds tens of thousands of them). */
export interface Tile {
  /** Name (a path component; a folded tile has none). */
  n: string;
  /** Area: bytes. */
  s: number;
  /** Children, biggest first (directories). */
  k?: Tile[];
  /** Files beneath (directories and folded tiles). */
  f?: number;
  /** Leaves and folded tiles: the colour class per dimension (see the picture's `dims`). */
  c?: number[];
  /** A folded tile: the `f` files too small to draw one by one. */
  x?: 1;
  /** Not a path of the image: a grouping strata made (the "hidden in layers" tiles). */
  v?: 1;
  /** Diff pictures: bytes before (A) and after (B); `s` is the larger. */
  a?: number;
  b?: number;
}

export interface LeafInput {
  /** Area. */
  size: number;
  /** Colour class per dimension. */
  classes: readonly number[];
  /** Diff pictures: bytes on each side. */
  before?: number;
  after?: number;
}

/** Tiles drawn by default: ~50 bytes of JSON each, so ~1.5 MB for the largest images. */
export const DEFAULT_TILE_BUDGET = 30_000;

const DIR = 1;
const VIRTUAL = 2;

export class TileTreeBuilder {
  /** Nodes so far; the columns below are typed arrays grown by doubling (a million files: ~40 MB). */
  private n = 1;
  private cap = 1024;
  private parent = new Int32Array(this.cap).fill(-1, 0, 1);
  /** A node's name is `paths[i].slice(cuts[i])`: the caller's path string, shared, not a copy per file. */
  private readonly paths: string[] = [''];
  private cuts = new Int32Array(this.cap);
  private flags = new Uint8Array(this.cap).fill(DIR, 0, 1);
  private area = new Float64Array(this.cap);
  /** Diff pictures only: the bytes of each side. */
  private before = new Float64Array(0);
  private after = new Float64Array(0);
  /** Per node, `dims` classes (leaves only; -1 elsewhere). */
  private classes: Int32Array;
  private readonly dirs = new Map<string, number>();

  /** `sides`: leaves carry the bytes of two sides (a diff). */
  constructor(
    private readonly dims: number,
    private readonly sides = false,
  ) {
    this.classes = new Int32Array(this.cap * dims).fill(-1);
    if (sides) {
      this.before = new Float64Array(this.cap);
      this.after = new Float64Array(this.cap);
    }
  }

  /** The root's id. */
  static readonly ROOT = 0;

  /**
   * The directory at a '/'-separated path below `base` (created with its parents). `virtual`: the
   * last component is a grouping of strata's, not a directory of the image.
   */
  dir(path: string, base = TileTreeBuilder.ROOT, virtual = false): number {
    if (path === '') return base;
    const key = `${virtual ? 'v' : ''}${base}:${path}`; // a grouping never meets a directory of that name
    const known = this.dirs.get(key);
    if (known !== undefined) return known;
    const cut = path.lastIndexOf('/');
    const up = cut < 0 ? base : this.dir(path.slice(0, cut), base);
    const id = this.node(up, path, cut + 1, true, virtual);
    this.dirs.set(key, id);
    return id;
  }

  /** A leaf at `path` below `base`. */
  leaf(path: string, leaf: LeafInput, base = TileTreeBuilder.ROOT): void {
    const cut = path.lastIndexOf('/');
    const last = this.lastDir;
    // files come directory by directory: the last one's id saves a substring and a lookup per file
    const up = cut < 0 ? base : last.base === base && last.path.length === cut && path.startsWith(last.path) ? last.id : this.lastDirOf(path.slice(0, cut), base);
    const id = this.node(up, path, cut + 1, false, false);
    this.area[id] = leaf.size;
    if (this.sides) {
      this.before[id] = leaf.before ?? 0;
      this.after[id] = leaf.after ?? 0;
    }
    for (let d = 0; d < this.dims; d++) this.classes[id * this.dims + d] = leaf.classes[d] ?? -1;
  }

  private lastDir = { base: -1, path: '', id: -1 };

  private lastDirOf(path: string, base: number): number {
    const id = this.dir(path, base);
    this.lastDir = { base, path, id };
    return id;
  }

  private node(parent: number, path: string, cut: number, isDir: boolean, virtual: boolean): number {
    if (this.n === this.cap) this.grow();
    const id = this.n++;
    this.parent[id] = parent;
    this.paths.push(path);
    this.cuts[id] = cut;
    this.flags[id] = (isDir ? DIR : 0) | (virtual ? VIRTUAL : 0);
    return id;
  }

  private grow(): void {
    const cap = (this.cap *= 2);
    this.parent = grown(this.parent, cap);
    this.cuts = grown(this.cuts, cap);
    this.flags = grown(this.flags, cap);
    this.area = grown(this.area, cap);
    const classes = grown(this.classes, cap * this.dims);
    this.classes = classes.fill(-1, this.classes.length);
    if (this.sides) {
      this.before = grown(this.before, cap);
      this.after = grown(this.after, cap);
    }
  }

  /** The tree cut down to about `budget` tiles (ancestors of kept tiles and folded tiles come on top). */
  build(budget = DEFAULT_TILE_BUDGET): Tile {
    const { n, parent, flags } = this;
    // sums go into copies: the leaves' own sizes stay as added, so build() can run again (another budget)
    const area = this.area.slice(0, n);
    const before = this.sides ? this.before.slice(0, n) : this.before;
    const after = this.sides ? this.after.slice(0, n) : this.after;
    const isDir = (i: number) => (flags[i] & DIR) !== 0;
    const files = new Float64Array(n);
    // children come after their parents (dir() creates parents first), so one backward pass sums up
    for (let i = n - 1; i > 0; i--) {
      if (!isDir(i)) files[i] = 1;
      area[parent[i]] += area[i];
      if (this.sides) {
        before[parent[i]] += before[i];
        after[parent[i]] += after[i];
      }
      files[parent[i]] += files[i];
    }
    const kept = this.keep(budget, area);
    // every leaf not kept lands in the folded tile of its nearest kept ancestor
    const target = new Int32Array(n);
    const folded = new Map<number, Folded>();
    for (let i = 1; i < n; i++) {
      target[i] = kept[parent[i]] ? parent[i] : target[parent[i]];
      if (kept[i] || isDir(i)) continue;
      let f = folded.get(target[i]);
      if (!f) folded.set(target[i], (f = { area: 0, before: 0, after: 0, files: 0, bytes: Array.from({ length: this.dims }, () => new Map()) }));
      f.area += area[i];
      if (this.sides) {
        f.before += before[i];
        f.after += after[i];
      }
      f.files++;
      for (let d = 0; d < this.dims; d++) {
        const c = this.classes[i * this.dims + d];
        f.bytes[d].set(c, (f.bytes[d].get(c) ?? 0) + area[i]);
      }
    }
    const children = new Map<number, number[]>(); // of kept directories only
    for (let i = 1; i < n; i++) {
      if (!kept[i]) continue;
      const c = children.get(parent[i]);
      if (c) c.push(i);
      else children.set(parent[i], [i]);
    }
    const name = (i: number) => this.paths[i].slice(this.cuts[i]);
    const emit = (i: number): Tile => {
      const t: Tile = { n: name(i), s: area[i] };
      if (this.sides) {
        t.a = before[i];
        t.b = after[i];
      }
      if (flags[i] & VIRTUAL) t.v = 1;
      if (!isDir(i)) {
        t.c = Array.from(this.classes.subarray(i * this.dims, (i + 1) * this.dims));
        return t;
      }
      t.f = files[i];
      const kids = (children.get(i) ?? []).map(emit).sort(biggestFirst);
      const f = folded.get(i);
      if (f && f.files > 0) {
        const small: Tile = { n: '', s: f.area, f: f.files, x: 1, c: f.bytes.map(dominant) };
        if (this.sides) {
          small.a = f.before;
          small.b = f.after;
        }
        kids.push(small);
      }
      if (kids.length) t.k = kids;
      return t;
    };
    return emit(TileTreeBuilder.ROOT);
  }

  /**
   * The `budget` biggest nodes with bytes (at equal size the lower id, i.e. the ancestor, first), and
   * the root. A node's parent weighs at least as much and has a lower id, so it is kept too.
   */
  private keep(budget: number, area: Float64Array): Uint8Array {
    const n = this.n;
    const kept = new Uint8Array(n);
    kept[0] = 1;
    const sizes = area.slice(1, n).sort();
    let cut = 0; // keep area > cut, then area == cut in id order until the budget is spent
    let atCut = 0;
    if (sizes.length > budget) {
      cut = sizes[sizes.length - budget];
      atCut = budget - (sizes.length - upperBound(sizes, cut));
    }
    for (let i = 1; i < n; i++) {
      const a = area[i];
      if (a <= 0 || a < cut) continue;
      if (a > cut || sizes.length <= budget) kept[i] = 1;
      else if (atCut > 0) {
        kept[i] = 1;
        atCut--;
      }
    }
    return kept;
  }
}

/** Biggest first; at equal size by name, so that the picture is the same on every run. */
function biggestFirst(x: Tile, y: Tile): number {
  return y.s - x.s || (x.n < y.n ? -1 : x.n > y.n ? 1 : 0);
}

interface Folded {
  area: number;
  before: number;
  after: number;
  files: number;
  bytes: Map<number, number>[];
}

/** The class holding most bytes (-1 wins nothing over a real class at equal bytes). */
function dominant(bytes: Map<number, number>): number {
  let best = -1;
  let most = -1;
  for (const [c, b] of bytes) {
    if (b > most || (b === most && best === -1)) {
      best = c;
      most = b;
    }
  }
  return best;
}

/** First index with sizes[i] > x (sizes ascending). */
function upperBound(sizes: Float64Array, x: number): number {
  let lo = 0, hi = sizes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sizes[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
