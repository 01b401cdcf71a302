/**
 * The diff view's tree: every path of either side's view (A and B are two unions, so there is no
 * shared node table to read through as the explorer does), built once in one merged walk of both
 * views, with its A→B status from the report and its size on each side. A DiffTreeView is the part
 * shown for a state (hide toggles, filter, sort, expansion) and steps over it as PreorderTree.
 */
import { type FileChange } from '../analyze/diff/files.js';
import { comparePaths, countedBytes } from '../model/counted-bytes.js';
import { type DiffReport } from '../analyze/diff/diff.js';
import { type DiffSide } from '../analyze/diff/side.js';
import { Kind } from '../scan/records.js';
import { PreorderTree } from './preorder-tree.js';

export type DiffStatus = FileChange | 'unchanged';
const statuses: readonly DiffStatus[] = ['unchanged', 'added', 'removed', 'modified', 'metadata', 'type', 'retarget'];

/** A node's absent side: no size, no kind. */
const ABSENT = -1;

export class DiffTree {
  /** Paths without the leading `/`; node 0 is the root (''). */
  readonly paths: string[] = [''];
  readonly parent: number[] = [0];
  private readonly statusCode: number[] = [0];
  /** Per side: kind code, or ABSENT. */
  readonly kindA: number[] = [Kind.dir];
  readonly kindB: number[] = [Kind.dir];
  /** Per side: what the path adds to the side's total (directories: everything below), or ABSENT. */
  readonly sizeA: number[] = [0];
  readonly sizeB: number[] = [0];
  /** Size delta: a changed file's from the report, a directory's rolled up over the changes below it. */
  readonly delta: number[] = [0];
  readonly linkA: (string | undefined)[] = [undefined];
  readonly linkB: (string | undefined)[] = [undefined];
  /** Children of each directory, by name (undefined for other nodes). */
  readonly kids: (number[] | undefined)[] = [[]];

  constructor(a: DiffSide, b: DiffSide, report: DiffReport) {
    // the report lists changed files in this walk's order: a cursor finds each, no lookup by path
    const files = report.files;
    let fi = 0;
    const dirDelta = new Map(report.directories.map((d) => [d.path, d.sizeDelta]));
    const ua = a.model.union, ub = b.model.union;
    const ca = countedBytes(ua, a.layer), cb = countedBytes(ub, b.layer); // a hardlink group once, as the report's totals
    const ia = ua.walk(a.layer), ib = ub.walk(b.layer);
    let na = ia.next(), nb = ib.next();
    // open directories from the root down: a path's parent is the deepest one it lies in
    const open: number[] = [0];
    while (!na.done || !nb.done) {
      const pa = na.done ? null : ua.nodePath[na.value.node];
      const pb = nb.done ? null : ub.nodePath[nb.value.node];
      const c = pa === null ? 1 : pb === null ? -1 : comparePaths(pa, pb);
      const va = c <= 0 ? na.value!.version : ABSENT;
      const vb = c >= 0 ? nb.value!.version : ABSENT;
      const path = (c <= 0 ? pa : pb)!;
      if (c <= 0) na = ia.next();
      if (c >= 0) nb = ib.next();

      const n = this.paths.length;
      while (open.length > 1 && !lies(path, this.paths[open[open.length - 1]])) open.pop();
      const p = open[open.length - 1];
      const next = files[fi];
      const f = next && next.path.length === path.length + 1 && next.path.endsWith(path) ? files[fi++] : undefined;
      const ka = va === ABSENT ? ABSENT : ua.kindOf(va);
      const kb = vb === ABSENT ? ABSENT : ub.kindOf(vb);
      this.paths.push(path);
      this.parent.push(p);
      this.kids[p]!.push(n);
      this.statusCode.push(f ? statuses.indexOf(f.change) : 0);
      this.kindA.push(ka);
      this.kindB.push(kb);
      this.sizeA.push(ka === ABSENT ? ABSENT : ka === Kind.dir ? 0 : ca.of(va));
      this.sizeB.push(kb === ABSENT ? ABSENT : kb === Kind.dir ? 0 : cb.of(vb));
      this.linkA.push(ka === Kind.symlink || ka === Kind.hardlink ? ua.linkOf(va) : undefined);
      this.linkB.push(kb === Kind.symlink || kb === Kind.hardlink ? ub.linkOf(vb) : undefined);
      const dir = ka === Kind.dir || kb === Kind.dir;
      this.delta.push((f ? f.sizeDelta : 0) + (dir ? (dirDelta.get(`/${path}`) ?? 0) : 0));
      this.kids.push(dir ? [] : undefined);
      if (dir) open.push(n);
    }
    // directory sizes: children come after their parent, so a backward pass sums them bottom-up
    for (let n = this.paths.length - 1; n > 0; n--) {
      const p = this.parent[n];
      if (this.sizeA[n] > 0 && this.sizeA[p] !== ABSENT) this.sizeA[p] += this.sizeA[n];
      if (this.sizeB[n] > 0 && this.sizeB[p] !== ABSENT) this.sizeB[p] += this.sizeB[n];
    }
  }

  get count(): number {
    return this.paths.length;
  }

  status(n: number): DiffStatus {
    return statuses[this.statusCode[n]];
  }

  /** The kind shown: B's, or A's for a removed entry. */
  kind(n: number): number {
    return this.kindB[n] === ABSENT ? this.kindA[n] : this.kindB[n];
  }

  /** Either side a directory: its children are listed (a type change from a directory keeps its removed entries). */
  isDir(n: number): boolean {
    return this.kindA[n] === Kind.dir || this.kindB[n] === Kind.dir;
  }

  name(n: number): string {
    const p = this.paths[n];
    return p.slice(p.lastIndexOf('/') + 1);
  }

  /** The size on one side, or null where the side has no entry. */
  size(n: number, side: 'a' | 'b'): number | null {
    const s = side === 'a' ? this.sizeA[n] : this.sizeB[n];
    return s === ABSENT ? null : s;
  }
}

export interface DiffViewSpec {
  /** Statuses to hide (directories holding shown entries stay). */
  hide: ReadonlySet<DiffStatus>;
  /** Per node: 1 when its path passes the filter; null for no filter. */
  matches: Uint8Array | null;
  sort: 'name' | 'delta';
  collapsedByDefault: boolean;
  toggled: ReadonlySet<number>;
}

export class DiffTreeView extends PreorderTree {
  private readonly kept: Uint8Array | null;
  private readonly lists: Map<number, Int32Array>;
  /** Each listed node's position in its parent's list (a node has one parent: one array serves all lists). */
  private readonly position: Int32Array;

  /** `same`: a view with the same hide toggles, filter and sort (only expansion differs): its lists are reused. */
  constructor(
    readonly tree: DiffTree,
    readonly spec: DiffViewSpec,
    same?: DiffTreeView,
  ) {
    super();
    this.kept = same ? same.kept : spec.hide.size || spec.matches ? this.computeKept() : null;
    this.lists = same ? same.lists : new Map();
    this.position = same ? same.position : new Int32Array(tree.count);
  }

  parentOf(node: number): number {
    return this.tree.parent[node];
  }

  isDir(node: number): boolean {
    return this.tree.isDir(node);
  }

  expanded(node: number): boolean {
    return this.tree.isDir(node) && this.spec.collapsedByDefault === this.spec.toggled.has(node);
  }

  shown(node: number): boolean {
    return node < this.tree.count && (this.kept === null || this.kept[node] === 1);
  }

  children(node: number): Int32Array {
    let list = this.lists.get(node);
    if (list) return list;
    const t = this.tree;
    list = Int32Array.from((t.kids[node] ?? []).filter((c) => this.shown(c)));
    if (this.spec.sort === 'delta') list.sort((x, y) => Math.abs(t.delta[y]) - Math.abs(t.delta[x]) || x - y);
    list.forEach((c, i) => (this.position[c] = i));
    this.lists.set(node, list);
    return list;
  }

  protected indexIn(parent: number, node: number): number {
    this.children(parent);
    return this.position[node];
  }

  /** Nodes that pass the hide toggles and the filter, plus their ancestors. */
  private computeKept(): Uint8Array {
    const t = this.tree;
    const { hide, matches } = this.spec;
    const kept = new Uint8Array(t.count);
    for (let n = 1; n < t.count; n++) {
      if (kept[n] || hide.has(t.status(n)) || (matches && !matches[n])) continue;
      for (let a = n; a > 0 && !kept[a]; a = t.parent[a]) kept[a] = 1;
    }
    return kept;
  }
}

/** `path` lies below directory `dir` (both without the leading `/`). */
function lies(path: string, dir: string): boolean {
  return path.length > dir.length && path.charCodeAt(dir.length) === 47 && path.startsWith(dir);
}
