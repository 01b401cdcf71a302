/**
 * The explorer's file tree, read straight from the Union without copying it: which nodes a view shows
 * (the union after the selected layer plus what the range removed), each one's change status and
 * its children in display order; the preorder stepping over the rows is PreorderTree's. Children
 * lists are built per directory on first use and cached by the view; a view is cheap to create, so
 * every change of layer, range, sort, filter or toggles makes a new one.
 */
import { Kind } from '../scan/records.js';
import { changeName, type ChangeName, type Union } from '../model/union.js';
import type { DirSizes } from './dir-sizes.js';
import { PreorderTree } from './preorder-tree.js';
import type { FilterTest } from './filter.js';

export type Status = ChangeName;

export interface ViewSpec {
  /** The selected layer: the tree is the union after it. */
  layer: number;
  /** First layer of the range whose changes are shown (=== layer: that layer's own changes). */
  from: number;
  sort: 'name' | 'size';
  /** Statuses to hide (directories holding shown entries stay). */
  hide: ReadonlySet<Status>;
  /** Nodes whose path matches the filter, or null for no filter. */
  matches: Int32Array | null;
  /** Every directory is collapsed unless toggled, or expanded unless toggled. */
  collapsedByDefault: boolean;
  toggled: ReadonlySet<number>;
}

interface Kids {
  list: Int32Array;
  /** Position of each child in `list`; by name order a binary search finds it without a map. */
  index: Map<number, number> | null;
}

export class TreeView extends PreorderTree {
  private readonly before: number;
  private readonly kids: Map<number, Kids>;
  private readonly kept: Uint8Array | null;

  /**
   * `same` is a view of the same layers, sort, hide toggles and filter (only expansion differs):
   * its children lists are reused, as they do not depend on what is expanded.
   */
  constructor(
    readonly u: Union,
    readonly spec: ViewSpec,
    private readonly sizes: DirSizes,
    private readonly byName: NameOrder = new NameOrder(u),
    same?: TreeView,
  ) {
    super();
    this.before = spec.from - 1;
    this.kids = same ? same.kids : new Map();
    this.kept = same ? same.kept : spec.matches || spec.hide.size ? this.computeKept() : null;
  }

  /** The version shown for a node: visible after the layer, else the one the range removed; -1 if absent. */
  versionOf(node: number): number {
    const v = this.u.versionAt(node, this.spec.layer);
    if (v >= 0) return v;
    return this.before >= 0 ? this.u.versionAt(node, this.before) : -1;
  }

  status(node: number): Status {
    const v = this.u.versionAt(node, this.spec.layer);
    const pv = this.before >= 0 ? this.u.versionAt(node, this.before) : -1;
    if (v < 0) return 'removed';
    if (pv < 0) return 'added';
    if (pv === v) return 'unchanged';
    return changeName[this.u.classify(v, pv) as 0 | 1 | 2 | 3];
  }

  isDir(node: number): boolean {
    const v = this.versionOf(node);
    return v >= 0 && this.u.kindOf(v) === Kind.dir;
  }

  /**
   * Files: what they add to the view's total (a hardlink group's bytes at its first path, 0 at its
   * other paths); directories: the sum of their visible children.
   */
  size(node: number): number {
    const v = this.u.versionAt(node, this.spec.layer);
    if (v >= 0) return this.u.kindOf(v) === Kind.dir ? this.sizes.dirSize(node, this.spec.layer) : this.sizes.fileSize(v, this.spec.layer);
    const pv = this.versionOf(node);
    if (pv < 0) return 0;
    return this.u.kindOf(pv) === Kind.dir ? this.sizes.dirSize(node, this.before) : this.sizes.fileSize(pv, this.before);
  }

  expanded(node: number): boolean {
    return this.isDir(node) && this.spec.collapsedByDefault === this.spec.toggled.has(node);
  }

  shown(node: number): boolean {
    return this.versionOf(node) >= 0 && (this.kept === null || this.kept[node] === 1);
  }

  /** Shown children of a node in display order. */
  children(node: number): Int32Array {
    return this.kidsOf(node).list;
  }

  parentOf(node: number): number {
    return this.u.parentOf(node);
  }

  protected indexIn(parent: number, node: number): number {
    const k = this.kidsOf(parent);
    if (k.index) return k.index.get(node)!;
    const p = this.u.nodePath;
    const key = p[node];
    let lo = 0;
    let hi = k.list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = p[k.list[mid]];
      if (at === key) return mid;
      if (at < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private kidsOf(node: number): Kids {
    let k = this.kids.get(node);
    if (k) return k;
    const u = this.u;
    const byName = this.byName.children(node);
    let list = new Int32Array(byName.length);
    let n = 0;
    for (const c of byName) if (this.shown(c) && !(node === 0 && u.nodePath[c].startsWith('.wh..wh.'))) list[n++] = c;
    list = list.slice(0, n);
    if (this.spec.sort === 'size') {
      const size = new Map(Array.from(list, (c) => [c, this.size(c)]));
      list.sort((a, b) => size.get(b)! - size.get(a)! || cmp(u.nodePath[a], u.nodePath[b]));
    }
    k = { list, index: this.spec.sort === 'size' ? new Map(Array.from(list, (c, i) => [c, i])) : null };
    this.kids.set(node, k);
    return k;
  }

  /**
   * With a filter or hide toggles: nodes that pass both, plus their ancestors. Without a filter,
   * hiding unchanged entries means only nodes the range's layers set or deleted can pass, so only
   * those are tested, not the whole tree.
   */
  private computeKept(): Uint8Array {
    const u = this.u;
    const { hide, matches } = this.spec;
    const kept = new Uint8Array(u.nodeCount);
    const consider = (n: number) => {
      if (kept[n] || this.versionOf(n) < 0 || hide.has(this.status(n))) return;
      for (let a = n; a > 0 && !kept[a]; a = u.parentOf(a)) kept[a] = 1;
    };
    if (matches) {
      for (const n of matches) consider(n);
    } else if (hide.has('unchanged')) {
      const [start, end] = u.versionsOfLayers(this.spec.from, this.spec.layer);
      for (let v = start; v < end; v++) consider(u.nodeOfVersion(v));
      for (let L = this.spec.from; L <= this.spec.layer; L++) for (const v of u.removed[L]) consider(u.nodeOfVersion(v));
    } else {
      for (let n = 1; n < u.nodeCount; n++) consider(n);
    }
    return kept;
  }
}

/** Every child of a node ever seen, sorted by name once: name order does not depend on the layer. */
export class NameOrder {
  private readonly sorted = new Map<number, Int32Array>();
  constructor(private readonly u: Union) {}

  children(node: number): Int32Array {
    let c = this.sorted.get(node);
    if (!c) {
      const p = this.u.nodePath;
      c = Int32Array.from(this.u.children(node).sort((a, b) => cmp(p[a], p[b])));
      this.sorted.set(node, c);
    }
    return c;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Nodes whose absolute path passes a test (computed once per filter, whatever the layer). */
export function matchingNodes(u: Union, test: FilterTest): Int32Array {
  const out: number[] = [];
  const rel = test.relative;
  if (rel) {
    for (let n = 1; n < u.nodeCount; n++) if (rel(u.nodePath[n])) out.push(n);
  } else {
    for (let n = 1; n < u.nodeCount; n++) if (test(`/${u.nodePath[n]}`)) out.push(n);
  }
  return Int32Array.from(out);
}
