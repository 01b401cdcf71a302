/**
 * The union view of all layers as one path table with versions, built in a single pass.
 *
 * Every path is interned once as a node. Each time a layer sets a node, a version opens; it
 * closes when a later layer replaces or deletes it. "What is visible after layer k" is then the
 * version of each node whose [from, to] range contains k: nothing is copied per layer, and the
 * whole build is linear in the number of tar entries (a deleted directory's subtree is walked once
 * per deletion of live nodes). See docs/union.md for the rules and their sources.
 */
import { StrataError } from '../util/errors.js';
import { checkPathLength } from '../util/paths.js';
import { Bytes, Ints } from '../util/growable.js';
import { hashPath, PathTable } from './path-table.js';
import { Kind, type KindCode, type LayerRecords, sameHash, sameXattrs } from '../scan/records.js';
import { pushAll } from '../util/arrays.js';

/**
 * A row's code: one of the five change names, or `superseded` (the path is stored again later in the
 * layer, the later entry wins), `marker` (a whiteout or opaque marker), `dropped` (an entry the layer
 * itself then deleted or replaced by an implicit parent directory: its version keeps its bytes, so
 * the waste analysis counts them there, not again as a superseded row).
 */
export const Change = { unchanged: 0, added: 1, modified: 2, metadata: 3, removed: 4, superseded: 5, marker: 6, dropped: 7 } as const;
export type ChangeCode = (typeof Change)[keyof typeof Change];
export const changeName = ['unchanged', 'added', 'modified', 'metadata', 'removed'] as const;
export type ChangeName = (typeof changeName)[number];

/** Why a version stopped being visible. */
export const End = { live: 0, replaced: 1, whiteout: 2, opaque: 3, parentReplaced: 4 } as const;

const LIVE = 0x7fffffff;
const IMPLICIT = -1;
/** Symlinks followed for one path before giving up, as Linux's MAXSYMLINKS. */
const MAX_SYMLINKS = 40;

/** A symlink's target, seen from directory `dir`, as a root-relative path kept inside the root. */
function resolveLink(dir: string, target: string): string {
  const out = target.startsWith('/') || dir === '' ? [] : dir.split('/');
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

export class Union {
  readonly layers: LayerRecords[] = [];
  /** Per layer, per record row: a Change code. */
  readonly rowChange: Uint8Array[] = [];
  /** Per layer: versions visible before the layer and deleted by it (not set again in it). */
  readonly removed: Int32Array[] = [];
  /**
   * Per layer: rows written again later in the same layer whose first copy a hardlink keeps. They
   * are marked superseded, yet their content is a live inode, not waste.
   */
  readonly linkedCopies: Set<number>[] = [];
  /** Per layer, per record row: the node the row was applied to (-1: a marker of a missing path). */
  readonly rowNode: Int32Array[] = [];
  /**
   * Per layer: rows whose path goes through a symlink to a directory (`lib/x` with `lib -> usr/lib`),
   * applied where the link points, as extraction does; their node's path is not their own.
   */
  readonly redirected: Set<number>[] = [];

  // nodes
  private readonly byPath = new PathTable();
  /** Node id -> root-relative path ('' for the root). */
  readonly nodePath: string[] = this.byPath.paths;
  private readonly parent = new Ints();
  private readonly firstChild = new Ints();
  private readonly nextSibling = new Ints();
  private readonly lastChild = new Ints();
  private readonly lastVersion = new Ints();
  private readonly live = new Ints();
  /** AUFS bookkeeping at the root (`.wh..wh.plnk` …) and everything below it: kept, never shown. */
  private readonly hidden = new Bytes();
  private lastParent = '';
  private lastParentId = 0;

  // versions
  private readonly vNode = new Ints();
  private readonly vLayer = new Ints();
  private readonly vRow = new Ints();
  private readonly vTo = new Ints();
  private readonly vPrev = new Ints();
  /** Version that owns the content (itself for files, the link target's owner for hardlinks), or -1. */
  private readonly vInode = new Ints();
  /**
   * Hardlinks: the version linked to, never itself a hardlink (-1 for other versions). Docker links
   * any non-directory with nlink > 1: a link to a symlink, fifo or device has no content (vInode
   * -1) but is that symlink, fifo or device on disk.
   */
  private readonly vLinkTo = new Ints();
  private readonly vEnd = new Bytes();

  /**
   * `from`: an independent copy of that union, for another image that begins with the same layers
   * (union-prefixes.ts). What a layer added (its records, changes, removals) is shared: it never
   * changes once the layer is added; what later layers change (nodes, versions) is copied.
   */
  constructor(from?: Union) {
    if (from) {
      this.layers = from.layers.slice();
      this.rowChange = from.rowChange.slice();
      this.removed = from.removed.slice();
      this.linkedCopies = from.linkedCopies.slice();
      this.rowNode = from.rowNode.slice();
      this.redirected = from.redirected.slice();
      this.byPath = new PathTable(from.byPath);
      this.nodePath = this.byPath.paths;
      this.parent = from.parent.copy();
      this.firstChild = from.firstChild.copy();
      this.nextSibling = from.nextSibling.copy();
      this.lastChild = from.lastChild.copy();
      this.lastVersion = from.lastVersion.copy();
      this.live = from.live.copy();
      this.hidden = from.hidden.copy();
      this.lastParent = from.lastParent;
      this.lastParentId = from.lastParentId;
      this.vNode = from.vNode.copy();
      this.vLayer = from.vLayer.copy();
      this.vRow = from.vRow.copy();
      this.vTo = from.vTo.copy();
      this.vPrev = from.vPrev.copy();
      this.vInode = from.vInode.copy();
      this.vLinkTo = from.vLinkTo.copy();
      this.vEnd = from.vEnd.copy();
      return;
    }
    this.byPath.insert('');
    this.parent.push(-1);
    this.firstChild.push(-1);
    this.nextSibling.push(-1);
    this.lastChild.push(-1);
    this.lastVersion.push(-1);
    this.live.push(-1);
    this.hidden.push(0);
  }

  get nodeCount(): number {
    return this.nodePath.length;
  }
  get versionCount(): number {
    return this.vNode.n;
  }

  /** Apply the next layer. Layers must be added in order, each once per position. */
  addLayer(r: LayerRecords): void {
    const L = this.layers.length;
    this.layers.push(r);
    const change = new Uint8Array(r.count);
    this.rowChange.push(change);
    const before = new Map<number, number>(); // node -> version visible after L-1, for nodes this layer touched
    const deleted: number[] = [];
    const linked = new Set<number>(); // versions of this layer that a hardlink of this layer shares
    this.linkedCopies.push(new Set());
    this.redirected.push(new Set());
    const rowNode = new Int32Array(r.count).fill(-1);
    this.rowNode.push(rowNode);
    const onClose = (v: number) => {
      const node = this.vNode.a[v];
      if (this.vLayer.a[v] < L && !before.has(node)) before.set(node, v);
    };
    // Phase 1: whiteouts and opaque markers act on lower layers only, whatever their tar order.
    for (let i = 0; i < r.count; i++) {
      const k = r.kind[i];
      if (k !== Kind.whiteout && k !== Kind.opaque) continue;
      change[i] = Change.marker;
      const node = this.byPath.find(this.applied(r, i, L));
      rowNode[i] = node;
      if (node < 0) continue; // whiting out what does not exist (e.g. /.dockerenv) is harmless
      if (k === Kind.whiteout) {
        if (this.live.a[node] >= 0) this.closeSubtree(node, L, End.whiteout, true, onClose, deleted);
      } else if (node === 0 || this.live.a[node] >= 0) {
        // the root has no version of its own but can be made opaque
        this.closeSubtree(node, L, End.opaque, false, onClose, deleted);
      }
    }
    // Phase 2: entries in tar order.
    for (let i = 0; i < r.count; i++) {
      const k = r.kind[i] as KindCode;
      if (k === Kind.whiteout || k === Kind.opaque) continue;
      const parent = this.liveDirParent(r.path[i]);
      const node = this.ensureNode(parent >= 0 ? r.path[i] : this.redirect(r, i, L), parent);
      rowNode[i] = node;
      this.ensureParents(node, L, onClose, change);
      const old = this.live.a[node];
      let v: number;
      if (old >= 0 && this.vLayer.a[old] === L) {
        // the same path twice in one layer: the later entry wins, like extraction
        if (this.vRow.a[old] >= 0) change[this.vRow.a[old]] = Change.superseded;
        if (k !== Kind.dir && this.kindOf(old) === Kind.dir) this.closeChildren(node, L, onClose, deleted);
        if (linked.has(old)) {
          // Extraction unlinks the path and writes a new file: a hardlink made to the first copy keeps
          // it (its content, or that symlink, fifo or device), so that copy stays a version (visible
          // after no layer) the link refers to.
          this.close(old, L, End.replaced);
          this.linkedCopies[L].add(this.vRow.a[old]);
          v = this.openVersion(node, L, i);
        } else {
          this.vRow.a[old] = i;
          this.vLinkTo.a[old] = -1; // set below for a hardlink; anything else must not keep the first entry's target (metaOf)
          v = old;
        }
      } else {
        if (old >= 0) {
          if (k !== Kind.dir && this.kindOf(old) === Kind.dir) this.closeChildren(node, L, onClose, deleted);
          onClose(old);
          this.close(old, L, End.replaced);
        }
        v = this.openVersion(node, L, i);
      }
      if (k === Kind.file) this.vInode.a[v] = v;
      else if (k === Kind.hardlink) {
        const to = this.linkTarget(r, i, before);
        const ino = this.vInode.a[to];
        this.vInode.a[v] = ino;
        // a link to a link is a link to the same inode: keep the one that is not a link
        this.vLinkTo.a[v] = this.kindOf(to) === Kind.hardlink ? this.vLinkTo.a[to] : to;
        // what the link shares, a file or a symlink, fifo or device: the path's first copy if stored again
        const shared = this.vLinkTo.a[v];
        if (shared >= 0 && this.vLayer.a[shared] === L) linked.add(shared);
      } else this.vInode.a[v] = -1;
      const prev = before.get(node) ?? (old >= 0 && this.vLayer.a[old] < L ? old : -1);
      change[i] = this.classify(v, prev);
    }
    // removed: a path visible before the layer and not after it, as it was before (also when the layer
    // stored it again and then deleted it; a child the layer made and deleted was never visible)
    const removed = new Set<number>();
    for (const v of deleted) {
      const node = this.vNode.a[v];
      // an entry of this layer that it deleted again is none of its changes (listed or counted)
      if (this.vLayer.a[v] === L && this.vRow.a[v] >= 0) change[this.vRow.a[v]] = Change.dropped;
      const was = before.get(node);
      if (was !== undefined && this.live.a[node] < 0) removed.add(was);
    }
    this.removed.push(Int32Array.from(removed));
  }

  // ---- queries -------------------------------------------------------------------------------

  get layerCount(): number {
    return this.layers.length;
  }

  /** The version of `node` visible after layer k, or -1. */
  versionAt(node: number, k: number): number {
    for (let v = this.lastVersion.a[node]; v >= 0; v = this.vPrev.a[v]) {
      if (this.vLayer.a[v] <= k) return this.vTo.a[v] >= k ? v : -1;
    }
    return -1;
  }

  /**
   * The versions layers from..to created, as a range [start, end): versions are numbered in layer
   * order, so they are one run, found by binary search without touching paths.
   */
  versionsOfLayers(from: number, to: number): [number, number] {
    return [this.firstVersionOf(from), this.firstVersionOf(to + 1)];
  }

  private firstVersionOf(k: number): number {
    let lo = 0;
    let hi = this.vNode.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.vLayer.a[mid] < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** AUFS bookkeeping (`.wh..wh.plnk` …) and everything below it: kept, never shown. */
  isHidden(node: number): boolean {
    return this.hidden.a[node] === 1;
  }

  nodeOf(path: string): number | undefined {
    const id = this.byPath.find(path);
    return id < 0 ? undefined : id;
  }

  children(node: number): number[] {
    const out: number[] = [];
    for (let c = this.firstChild.a[node]; c >= 0; c = this.nextSibling.a[c]) out.push(c);
    return out;
  }

  /** Children without allocating: `for (let c = firstChildOf(n); c >= 0; c = nextSiblingOf(c))`. */
  firstChildOf(node: number): number {
    return this.firstChild.a[node];
  }
  nextSiblingOf(node: number): number {
    return this.nextSibling.a[node];
  }

  parentOf(node: number): number {
    return this.parent.a[node];
  }

  /** Every version visible after layer k, in no particular order (cheaper than walk). */
  *visibleAt(k: number): Generator<number> {
    for (let n = 1; n < this.nodePath.length; n++) {
      if (this.hidden.a[n]) continue;
      const v = this.versionAt(n, k);
      if (v >= 0) yield v;
    }
  }

  /** Depth-first walk of the view after layer k, children sorted by name; hides AUFS bookkeeping. */
  *walk(k: number, from = 0): Generator<{ node: number; version: number }> {
    const stack: number[] = [];
    const push = (n: number) => {
      const kids = this.children(n).filter((c) => !this.hidden.a[c] && this.versionAt(c, k) >= 0);
      kids.sort((a, b) => (this.nodePath[a] < this.nodePath[b] ? 1 : this.nodePath[a] > this.nodePath[b] ? -1 : 0));
      pushAll(stack, kids);
    };
    push(from);
    while (stack.length) {
      const node = stack.pop()!;
      const version = this.versionAt(node, k);
      yield { node, version };
      if (this.kindOf(version) === Kind.dir) push(node);
    }
  }

  // ---- version accessors ---------------------------------------------------------------------

  layerOf(v: number): number {
    return this.vLayer.a[v];
  }
  rowOf(v: number): number {
    return this.vRow.a[v];
  }
  nodeOfVersion(v: number): number {
    return this.vNode.a[v];
  }
  /** Last layer at which the version is visible (LIVE when it survives to the top). */
  visibleUntil(v: number): number {
    return this.vTo.a[v];
  }
  endReason(v: number): number {
    return this.vEnd.a[v];
  }
  inodeOf(v: number): number {
    return this.vInode.a[v];
  }
  kindOf(v: number): KindCode {
    const row = this.vRow.a[v];
    return row === IMPLICIT ? Kind.dir : (this.layers[this.vLayer.a[v]].kind[row] as KindCode);
  }
  /** Content size (hardlinks: their inode's). */
  sizeOf(v: number): number {
    const ino = this.vInode.a[v];
    if (ino < 0) return 0;
    return this.layers[this.vLayer.a[ino]].size[this.vRow.a[ino]];
  }
  /**
   * The version whose mode, owner, xattrs and device numbers `v` has: a hardlink has those of what
   * it links to (the file's inode, or the symlink, fifo or device), as on disk; its own tar header
   * may say otherwise, and umoci and tar give the link the inode's.
   */
  metaOf(v: number): number {
    const ino = this.vInode.a[v];
    if (ino >= 0) return ino;
    const to = this.vLinkTo.a[v];
    return to >= 0 ? to : v;
  }

  /** What a version is on disk: a hardlink is the kind of what it links to (a file, a symlink…). */
  inodeKindOf(v: number): KindCode {
    return this.kindOf(this.metaOf(v));
  }
  modeOf(v: number): number {
    const m = this.metaOf(v);
    const row = this.vRow.a[m];
    return row === IMPLICIT ? 0o755 : this.layers[this.vLayer.a[m]].mode[row];
  }
  uidOf(v: number): number {
    const m = this.metaOf(v);
    const row = this.vRow.a[m];
    return row === IMPLICIT ? 0 : this.layers[this.vLayer.a[m]].uid[row];
  }
  gidOf(v: number): number {
    const m = this.metaOf(v);
    const row = this.vRow.a[m];
    return row === IMPLICIT ? 0 : this.layers[this.vLayer.a[m]].gid[row];
  }
  linkOf(v: number): string | undefined {
    const row = this.vRow.a[v];
    return row === IMPLICIT ? undefined : this.layers[this.vLayer.a[v]].link[row];
  }

  // ---- building ------------------------------------------------------------------------------

  /** The node of `path`, made (with its parents) if new; `parent`: its parent's node when known. */
  private ensureNode(path: string, parent = -1): number {
    const h = hashPath(path);
    const hit = this.byPath.find(path, h);
    if (hit >= 0) return hit;
    const p = parent >= 0 ? parent : this.parentNode(path);
    const id = this.byPath.insert(path, h);
    this.parent.push(p);
    this.firstChild.push(-1);
    this.nextSibling.push(-1);
    this.lastChild.push(-1);
    this.lastVersion.push(-1);
    this.live.push(-1);
    this.hidden.push(this.hidden.a[p] || (p === 0 && path.startsWith('.wh..wh.')) ? 1 : 0);
    const last = this.lastChild.a[p];
    if (last < 0) this.firstChild.a[p] = id;
    else this.nextSibling.a[last] = id;
    this.lastChild.a[p] = id;
    return id;
  }

  /**
   * The node of a new path's parent. Tar entries come directory by directory, so the last parent
   * usually is it again: checking that spares slicing and hashing the parent's path per entry.
   */
  private parentNode(path: string): number {
    const cut = path.lastIndexOf('/');
    const hit = this.lastParentOf(path, cut);
    if (hit >= 0) return hit;
    const parent = cut < 0 ? '' : path.slice(0, cut);
    const id = this.ensureNode(parent);
    this.lastParent = parent;
    this.lastParentId = id;
    return id;
  }

  /** The node of the parent (`path` up to `cut`) when it is the one looked up last, else -1. */
  private lastParentOf(path: string, cut: number): number {
    const last = this.lastParent;
    return cut > 0 && cut === last.length && path.startsWith(last) ? this.lastParentId : -1;
  }

  /** Entries whose parent directories are missing (or are not directories) get implicit ones. */
  private ensureParents(node: number, L: number, onClose: (v: number) => void, change: Uint8Array): void {
    const p0 = this.parent.a[node];
    if (p0 === 0) return;
    const v0 = this.live.a[p0];
    if (v0 >= 0 && this.kindOf(v0) === Kind.dir) return; // the usual case: no chain to collect
    const chain: number[] = [];
    for (let p = this.parent.a[node]; p > 0; p = this.parent.a[p]) {
      const v = this.live.a[p];
      if (v >= 0 && this.kindOf(v) === Kind.dir) break;
      chain.push(p);
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const p = chain[i];
      const old = this.live.a[p];
      if (old >= 0) {
        onClose(old);
        this.close(old, L, End.replaced);
        if (this.vRow.a[old] >= 0 && this.vLayer.a[old] === L) change[this.vRow.a[old]] = Change.dropped;
      }
      this.openVersion(p, L, IMPLICIT);
    }
  }

  /** The path marker row i of layer L applies to: its own, or where a symlinked directory leads. */
  private applied(r: LayerRecords, i: number, L: number): string {
    const path = r.path[i];
    if (r.kind[i] === Kind.opaque && path !== '') {
      // the marker is inside its directory, so the directory itself is followed too (rare: no fast path)
      const inside = this.throughSymlinks(`${path}/.wh..wh..opq`);
      const p = inside.slice(0, Math.max(inside.lastIndexOf('/'), 0));
      if (p !== path) this.redirected[L].add(i);
      return p;
    }
    return this.liveDirParent(path) >= 0 ? path : this.redirect(r, i, L);
  }

  /** Row i's path followed through symlinked parent directories; noted when it leads elsewhere. */
  private redirect(r: LayerRecords, i: number, L: number): string {
    const p = this.throughSymlinks(r.path[i]);
    if (p !== r.path[i]) this.redirected[L].add(i);
    return p;
  }

  /**
   * The node of the parent directory of `path` when it is live and a directory (the root: 0), else
   * -1. Then no ancestor is a symlink: the usual case, one comparison and no walk.
   */
  private liveDirParent(path: string): number {
    const cut = path.lastIndexOf('/');
    if (cut < 0) return 0;
    let node = this.lastParentOf(path, cut);
    if (node < 0) {
      const parent = path.slice(0, cut);
      node = this.byPath.find(parent);
      if (node < 0) return -1;
      this.lastParent = parent;
      this.lastParentId = node;
    }
    const v = this.live.a[node];
    return v >= 0 && this.kindOf(v) === Kind.dir ? node : -1;
  }

  /**
   * `path` with its parent directories resolved through live symlinks, as umoci, containerd and
   * Docker apply a layer (`lib/x` with `lib -> usr/lib` is written to `usr/lib/x`), never above
   * the root. The last component is not followed. Returns `path` itself when no symlink is met.
   */
  private throughSymlinks(path: string): string {
    let p = path;
    for (let hops = 0; ; ) {
      let cut = p.indexOf('/');
      let followed = false;
      while (cut >= 0 && !followed) {
        const node = this.byPath.find(p.slice(0, cut));
        const v = node < 0 ? -1 : this.live.a[node];
        if (v < 0) return p; // a missing directory: nothing below it can be a symlink yet
        const k = this.kindOf(v);
        if (k === Kind.symlink && this.linkOf(v)) {
          if (++hops > MAX_SYMLINKS) throw new StrataError(`/${path}: too many levels of symbolic links in its parent directories`);
          const dir = p.slice(0, Math.max(p.lastIndexOf('/', cut - 1), 0));
          const to = resolveLink(dir, this.linkOf(v)!);
          p = to === '' ? p.slice(cut + 1) : `${to}${p.slice(cut)}`;
          checkPathLength(p); // long link targets joined up would build a path deeper than any entry's
          followed = true;
        } else if (k !== Kind.dir) {
          return p; // a file: the entry replaces it (ensureParents)
        } else {
          cut = p.indexOf('/', cut + 1);
        }
      }
      if (!followed) return p;
    }
  }

  private openVersion(node: number, L: number, row: number): number {
    const v = this.vNode.push(node);
    this.vLayer.push(L);
    this.vRow.push(row);
    this.vTo.push(LIVE);
    this.vPrev.push(this.lastVersion.a[node]);
    this.vInode.push(-1);
    this.vLinkTo.push(-1);
    this.vEnd.push(End.live);
    this.lastVersion.a[node] = v;
    this.live.a[node] = v;
    return v;
  }

  private close(v: number, L: number, why: number): void {
    this.vTo.a[v] = L - 1;
    this.vEnd.a[v] = why;
    this.live.a[this.vNode.a[v]] = -1;
  }

  private closeChildren(node: number, L: number, onClose: (v: number) => void, deleted: number[]): void {
    for (let c = this.firstChild.a[node]; c >= 0; c = this.nextSibling.a[c]) {
      if (this.live.a[c] >= 0) this.closeSubtree(c, L, End.parentReplaced, true, onClose, deleted);
    }
  }

  private closeSubtree(node: number, L: number, why: number, self: boolean, onClose: (v: number) => void, deleted: number[]): void {
    const stack = self ? [node] : this.children(node).filter((c) => this.live.a[c] >= 0);
    while (stack.length) {
      const n = stack.pop()!;
      const v = this.live.a[n];
      if (v < 0) continue;
      for (let c = this.firstChild.a[n]; c >= 0; c = this.nextSibling.a[c]) if (this.live.a[c] >= 0) stack.push(c);
      onClose(v);
      this.close(v, L, why);
      deleted.push(v);
    }
  }

  /**
   * The version a hardlink links to. A target this layer's own whiteouts removed from the lower layers
   * still counts: extraction in tar order (umoci, Docker) links before it deletes when the tar lists
   * the link first, and nothing is lost by allowing it in any order.
   */
  private linkTarget(r: LayerRecords, i: number, before: Map<number, number>): number {
    const target = r.link[i]!;
    const tn = this.byPath.find(this.liveDirParent(target) >= 0 ? target : this.throughSymlinks(target));
    const tv = tn < 0 ? -1 : this.live.a[tn] >= 0 ? this.live.a[tn] : (before.get(tn) ?? -1);
    if (tv < 0) throw new StrataError(`hardlink /${r.path[i]} points to /${target}, which does not exist at that point`);
    if (this.kindOf(tv) === Kind.dir) throw new StrataError(`hardlink /${r.path[i]} points to /${target}, which is a directory`);
    return tv;
  }

  /** Compare a version with an earlier one of the same node (before a layer, or a range of layers): see docs/union.md. */
  classify(v: number, prev: number): ChangeCode {
    if (prev < 0) return Change.added;
    const kv = this.effectiveKind(v);
    if (kv !== this.effectiveKind(prev)) return Change.modified;
    if (kv === Kind.file) {
      const a = this.vInode.a[v], b = this.vInode.a[prev];
      if (this.sizeOf(v) !== this.sizeOf(prev)) return Change.modified;
      if (a !== b && !sameHash(this.layers[this.vLayer.a[a]], this.vRow.a[a], this.layers[this.vLayer.a[b]], this.vRow.a[b])) return Change.modified;
    } else if (kv === Kind.symlink) {
      if (this.linkOf(this.linkedTo(v)) !== this.linkOf(this.linkedTo(prev))) return Change.modified;
    } else if (kv === Kind.hardlink) {
      if (this.linkOf(v) !== this.linkOf(prev)) return Change.modified;
    } else if (kv === Kind.char || kv === Kind.block) {
      const a = this.devOf(v), b = this.devOf(prev);
      if (a[0] !== b[0] || a[1] !== b[1]) return Change.modified;
    }
    if (this.modeOf(v) !== this.modeOf(prev) || this.uidOf(v) !== this.uidOf(prev) || this.gidOf(v) !== this.gidOf(prev)) return Change.metadata;
    const mv = this.metaOf(v), mp = this.metaOf(prev);
    const rv = this.vRow.a[mv], rp = this.vRow.a[mp];
    const xa = rv === IMPLICIT ? undefined : this.layers[this.vLayer.a[mv]].xattrs[rv];
    const xb = rp === IMPLICIT ? undefined : this.layers[this.vLayer.a[mp]].xattrs[rp];
    if ((xa || xb) && !(xa && xb && sameXattrs(this.layers[this.vLayer.a[mv]], rv, this.layers[this.vLayer.a[mp]], rp))) return Change.metadata;
    return Change.unchanged;
  }

  /**
   * A hardlink compares as what it is on disk: the file, or the symlink, fifo or device it links to
   * (a later change of that symlink's target or device numbers changes the link too).
   */
  private effectiveKind(v: number): KindCode {
    const k = this.kindOf(v);
    if (k !== Kind.hardlink) return k;
    return this.vInode.a[v] >= 0 ? Kind.file : this.kindOf(this.linkedTo(v));
  }

  /** The version a hardlink links to (never a link itself), or `v` when it is none. */
  private linkedTo(v: number): number {
    const to = this.kindOf(v) === Kind.hardlink ? this.vLinkTo.a[v] : -1;
    return to >= 0 ? to : v;
  }

  devOf(v: number): [number, number] {
    const m = this.metaOf(v); // a hardlink to a device is that device
    const row = this.vRow.a[m];
    return row === IMPLICIT ? [0, 0] : this.layers[this.vLayer.a[m]].dev[row] ?? [0, 0];
  }

  flagsOf(v: number): number {
    const row = this.vRow.a[v];
    return row === IMPLICIT ? 0 : this.layers[this.vLayer.a[v]].flags[row];
  }
}


export { LIVE, IMPLICIT };
