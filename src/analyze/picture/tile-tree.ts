/**
 * The treemap's data: a directory tree of weighted leaves, cut down to a budget of tiles so that the
 * HTML page stays small and paints fast on images of a million files. The biggest nodes are kept
 * (a directory weighs at least as much as anything in it, so the kept set contains its ancestors);
 * everything else in a kept directory is folded into one "small files" tile, coloured by what
 * holds most of its bytes. Sizes are exact at every level: a directory's tiles add up to it.
 */

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

export class TileTreeBuilder {
  private readonly parent: number[] = [-1];
  private readonly name: string[] = [''];
  private readonly isDir: boolean[] = [true];
  private readonly virtual: boolean[] = [false];
  private readonly area: number[] = [0];
  private readonly before: number[] = [0];
  private readonly after: number[] = [0];
  /** Per node, `dims` classes (leaves only; -1 elsewhere). */
  private readonly classes: number[] = [];
  private readonly dirs = new Map<string, number>();

  constructor(private readonly dims: number) {
    for (let d = 0; d < dims; d++) this.classes.push(-1);
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
    const id = this.node(up, path.slice(cut + 1), true, virtual);
    this.dirs.set(key, id);
    return id;
  }

  /** A leaf at `path` below `base`. */
  leaf(path: string, leaf: LeafInput, base = TileTreeBuilder.ROOT): void {
    const cut = path.lastIndexOf('/');
    const up = cut < 0 ? base : this.dir(path.slice(0, cut), base);
    const id = this.node(up, path.slice(cut + 1), false, false);
    this.area[id] = leaf.size;
    this.before[id] = leaf.before ?? 0;
    this.after[id] = leaf.after ?? 0;
    for (let d = 0; d < this.dims; d++) this.classes[id * this.dims + d] = leaf.classes[d] ?? -1;
  }

  private node(parent: number, name: string, isDir: boolean, virtual: boolean): number {
    const id = this.parent.length;
    this.parent.push(parent);
    this.name.push(name);
    this.isDir.push(isDir);
    this.virtual.push(virtual);
    this.area.push(0);
    this.before.push(0);
    this.after.push(0);
    for (let d = 0; d < this.dims; d++) this.classes.push(-1);
    return id;
  }

  /** The tree cut down to about `budget` tiles (ancestors of kept tiles and folded tiles come on top). */
  build(budget = DEFAULT_TILE_BUDGET): Tile {
    const n = this.parent.length;
    const { parent, area, before, after, isDir } = this;
    const files = new Float64Array(n);
    // children come after their parents (dir() creates parents first), so one backward pass sums up
    for (let i = n - 1; i > 0; i--) {
      if (!isDir[i]) files[i] = 1;
      area[parent[i]] += area[i];
      before[parent[i]] += before[i];
      after[parent[i]] += after[i];
      files[parent[i]] += files[i];
    }
    const kept = this.keep(budget);
    // every leaf not kept lands in the folded tile of its nearest kept ancestor
    const target = new Int32Array(n);
    const folded = new Map<number, Folded>();
    for (let i = 1; i < n; i++) {
      target[i] = kept[parent[i]] ? parent[i] : target[parent[i]];
      if (kept[i] || isDir[i]) continue;
      let f = folded.get(target[i]);
      if (!f) folded.set(target[i], (f = { area: 0, before: 0, after: 0, files: 0, bytes: Array.from({ length: this.dims }, () => new Map()) }));
      f.area += area[i];
      f.before += before[i];
      f.after += after[i];
      f.files++;
      for (let d = 0; d < this.dims; d++) {
        const c = this.classes[i * this.dims + d];
        f.bytes[d].set(c, (f.bytes[d].get(c) ?? 0) + area[i]);
      }
    }
    const children: number[][] = Array.from({ length: n }, () => []);
    for (let i = 1; i < n; i++) if (kept[i]) children[parent[i]].push(i);
    const diff = after[0] > 0 || before[0] > 0;
    const emit = (i: number): Tile => {
      const t: Tile = { n: this.name[i], s: area[i] };
      if (diff) {
        t.a = before[i];
        t.b = after[i];
      }
      if (this.virtual[i]) t.v = 1;
      if (!isDir[i]) {
        t.c = this.classes.slice(i * this.dims, (i + 1) * this.dims);
        return t;
      }
      t.f = files[i];
      const kids = children[i].sort((x, y) => area[y] - area[x] || (this.name[x] < this.name[y] ? -1 : 1)).map(emit);
      const f = folded.get(i);
      if (f && f.files > 0) {
        const small: Tile = { n: '', s: f.area, f: f.files, x: 1, c: f.bytes.map(dominant) };
        if (diff) {
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
  private keep(budget: number): Uint8Array {
    const n = this.parent.length;
    const kept = new Uint8Array(n);
    kept[0] = 1;
    const sizes = Float64Array.from(this.area.slice(1)).sort();
    let cut = 0; // keep area > cut, then area == cut in id order until the budget is spent
    let atCut = 0;
    if (sizes.length > budget) {
      cut = sizes[sizes.length - budget];
      atCut = budget - (sizes.length - upperBound(sizes, cut));
    }
    for (let i = 1; i < n; i++) {
      const a = this.area[i];
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
