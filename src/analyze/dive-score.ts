/**
 * dive's "image efficiency" score, reproduced from its algorithm (wagoodman/dive,
 * dive/filetree/efficiency.go) so dive users can compare numbers. It is not strata's measure:
 *
 *   - each layer's tar becomes a tree; only its leaves (nodes without children in that layer)
 *     count, keyed by path; a leaf's size is its tar header size (0 for dirs, symlinks, hardlinks);
 *   - a whiteout leaf counts 0 for a file, and for a directory the size of its whole subtree in the
 *     layers below (stacked dive's way, which ignores opaque whiteouts) — under the directory's own
 *     path, so deleting a directory never lowers the score;
 *   - opaque whiteouts are ignored entirely; a whiteout naming a missing path stops the visit of
 *     the rest of that layer, as dive's visitor error does;
 *   - score = Σ over paths of the smallest size seen / Σ of all sizes seen (1 when nothing is seen);
 *   - dive's "wasted bytes" (its CI rules) = Σ of all sizes seen under paths seen more than once.
 *
 * dive builds a tree of objects per layer plus a stacked copy; here every path dive sees is a node
 * id (the union's node, or an extra id for whiteout names `.wh.X` and the few paths only whiteouts
 * name), and the per-layer tree and dive's stacked tree are flags and sizes in typed arrays indexed
 * by id. Nothing is sorted: dive's name order only matters where a whiteout of a missing path stops
 * a layer (leaves are compared in that order then), and where a layer holds both `X` and `.wh.X`
 * (dive's Stack applies them in name order: see stackLayer). test/dive-score.test.ts checks the
 * result against a direct transcription of dive's algorithm (test/helpers/dive-reference.ts).
 */
import { Kind } from '../scan/records.js';
import type { Union } from '../model/union.js';

const WH = '.wh.';
/** dive never adds `.wh..wh..*` names (nor anything beneath them) to its trees. */
const OPAQUE = '.wh..wh..';
const UNSET = -0x80000000;

export function diveEfficiency(u: Union): number {
  return diveAnalysis(u).efficiency;
}

export interface DiveAnalysis {
  efficiency: number;
  /** dive's "wasted bytes": every size seen under a path seen more than once, the kept copy's too. */
  wastedBytes: number;
}

export function diveAnalysis(u: Union): DiveAnalysis {
  if (u.layerCount === 0) return { efficiency: 1, wastedBytes: 0 };
  return new DiveScore(u).score();
}

class DiveScore {
  private readonly ids: DiveNodes;
  /** Per layer, per record row: DiveNodes.ofRow. */
  private readonly rowNode: Int32Array[];
  // the current layer's tree: membership and "has a child" stamped with layer + 1, payload
  private readonly inLayer: Int32Array;
  private readonly hasKid: Int32Array;
  private readonly lSize: Float64Array;
  private readonly lDir: Uint8Array;
  private members: Int32Array;
  private memberCount = 0;
  // dive's stacked tree of the layers below
  private readonly present: Uint8Array;
  private readonly sSize: Float64Array;
  private readonly sDir: Uint8Array;
  /** Smallest size counted per path (-1: never counted). */
  private readonly min: Float64Array;
  /** Times counted, and their sizes' sum, per path (for dive's wasted bytes). */
  private readonly seen: Int32Array;
  private readonly pathSum: Float64Array;
  private sum = 0;

  constructor(private readonly u: Union) {
    this.ids = new DiveNodes(u);
    this.rowNode = u.layers.map((r) => new Int32Array(r.count).fill(UNSET));
    // Most rows are a version's: its node, without looking the path up (dive cuts `.wh..wh..` paths,
    // and does not follow symlinks: a row strata applied through one is dive's at its own path).
    for (let v = 0; v < u.versionCount; v++) {
      const L = u.layerOf(v), row = u.rowOf(v);
      if (row >= 0 && !u.layers[L].path[row].includes(OPAQUE) && !u.redirected[L].has(row)) this.rowNode[L][row] = u.nodeOfVersion(v);
    }
    for (const [L, r] of u.layers.entries()) {
      const rows = this.rowNode[L];
      for (let i = 0; i < r.count; i++) if (rows[i] === UNSET) rows[i] = this.ids.ofRow(r.path[i], r.kind[i]);
    }
    this.ids.seal();
    const n = this.ids.count;
    this.inLayer = new Int32Array(n);
    this.hasKid = new Int32Array(n);
    this.lSize = new Float64Array(n);
    this.lDir = new Uint8Array(n);
    this.members = new Int32Array(1024);
    this.present = new Uint8Array(n);
    this.sSize = new Float64Array(n);
    this.sDir = new Uint8Array(n);
    this.min = new Float64Array(n).fill(-1);
    this.seen = new Int32Array(n);
    this.pathSum = new Float64Array(n);
    this.present[0] = 1;
  }

  score(): DiveAnalysis {
    for (let k = 0; k < this.u.layerCount; k++) {
      this.buildLayer(k);
      this.countLeaves(k);
      if (k === 0) this.copyLayer();
      this.stackLayer(k);
    }
    let min = 0;
    for (const m of this.min) if (m > 0) min += m;
    let wastedBytes = 0;
    for (let id = 0; id < this.seen.length; id++) if (this.seen[id] > 1) wastedBytes += this.pathSum[id];
    return { efficiency: this.sum === 0 ? 1 : min / this.sum, wastedBytes };
  }

  /** dive's tree of layer k: every row's node and its missing parents (no payload), last row wins. */
  private buildLayer(k: number): void {
    const r = this.u.layers[k];
    const rows = this.rowNode[k];
    const stamp = k + 1;
    this.inLayer[0] = stamp;
    this.memberCount = 0;
    for (let i = 0; i < r.count; i++) {
      const v = rows[i];
      const id = v < 0 ? -1 - v : v;
      if (this.inLayer[id] !== stamp) this.join(id, stamp);
      if (v >= 0 && r.kind[i] !== Kind.opaque) {
        this.lSize[id] = r.size[i];
        this.lDir[id] = r.kind[i] === Kind.dir ? 1 : 0;
      }
    }
  }

  /** Adds a node and its missing parents to the layer's tree, parents first. */
  private join(id: number, stamp: number): void {
    const p = this.ids.parentOf(id);
    if (this.inLayer[p] !== stamp) this.join(p, stamp);
    this.inLayer[id] = stamp;
    this.hasKid[p] = stamp;
    this.lSize[id] = 0;
    this.lDir[id] = 0;
    if (this.memberCount === this.members.length) {
      const b = new Int32Array(this.members.length * 2);
      b.set(this.members);
      this.members = b;
    }
    this.members[this.memberCount++] = id;
  }

  private countLeaves(k: number): void {
    const stamp = k + 1;
    // layer 0's whiteouts look in layer 0's own tree; later ones in the stack of the layers below
    const inLower = (id: number) => (k === 0 ? this.inLayer[id] === 1 : this.present[id] === 1);
    let stop = -1;
    for (let j = 0; j < this.memberCount; j++) {
      const id = this.members[j];
      if (this.hasKid[id] === stamp || !this.ids.isWhiteout(id)) continue;
      const target = this.ids.whiteoutTarget(id);
      if ((target < 0 || !inLower(target)) && (stop < 0 || this.ids.before(id, stop))) stop = id;
    }
    for (let j = 0; j < this.memberCount; j++) {
      const id = this.members[j];
      if (this.hasKid[id] === stamp) continue;
      if (stop >= 0 && !this.ids.before(id, stop)) continue;
      if (!this.ids.isWhiteout(id)) {
        this.count(id, this.lSize[id]);
        continue;
      }
      const target = this.ids.whiteoutTarget(id);
      const isDir = k === 0 ? this.lDir[target] : this.sDir[target];
      this.count(target, isDir ? this.subtreeSize(target, k === 0 ? stamp : 0) : 0);
    }
  }

  private count(id: number, size: number): void {
    this.sum += size;
    this.seen[id]++;
    this.pathSum[id] += size;
    if (this.min[id] < 0 || size < this.min[id]) this.min[id] = size;
  }

  /** A node's size plus its descendants', in layer `stamp`'s tree (0: in the stacked tree). */
  private subtreeSize(root: number, stamp: number): number {
    const ids = this.ids;
    const size = stamp ? this.lSize : this.sSize;
    const has = stamp ? (id: number) => this.inLayer[id] === stamp : (id: number) => this.present[id] === 1;
    let total = 0;
    const todo = [root];
    while (todo.length) {
      const n = todo.pop()!;
      total += size[n];
      ids.eachChild(n, (c) => {
        if (has(c)) todo.push(c);
      });
    }
    return total;
  }

  /** dive starts its stack from a copy of layer 0's tree, whiteout leaves included. */
  private copyLayer(): void {
    for (let j = 0; j < this.memberCount; j++) {
      const id = this.members[j];
      this.present[id] = 1;
      this.sSize[id] = this.lSize[id];
      this.sDir[id] = this.lDir[id];
    }
  }

  /**
   * dive's Stack of layer k onto the stacked tree. dive walks the layer in name order: `.wh.X`
   * removes X (with its subtree), any other node is added (kept if present, with the layer's
   * payload). Only X and `.wh.X` in the same layer depend on that order: `.wh.X` first (the usual
   * case, as "." sorts before letters) leaves a fresh X holding only this layer's subtree; X first
   * leaves nothing. So: removals, then additions parents first, then the removals dive does last.
   */
  private stackLayer(k: number): void {
    const stamp = k + 1;
    const ids = this.ids;
    const late: number[] = [];
    for (let j = 0; j < this.memberCount; j++) {
      const id = this.members[j];
      if (!ids.isWhiteout(id)) continue;
      const target = ids.whiteoutTarget(id);
      if (target < 0) continue;
      if (this.inLayer[target] === stamp && ids.nameLess(target, id)) late.push(target);
      else this.remove(target);
    }
    for (let j = 0; j < this.memberCount; j++) {
      const id = this.members[j];
      if (!ids.isWhiteout(id)) {
        this.present[id] = 1;
        this.sSize[id] = this.lSize[id];
        this.sDir[id] = this.lDir[id];
      } else if (this.hasKid[id] === stamp && !this.present[id]) {
        // dive adds a whiteout's children (never seen in practice) under a payload-less node
        this.present[id] = 1;
        this.sSize[id] = 0;
        this.sDir[id] = 0;
      }
    }
    for (const id of late) this.remove(id);
  }

  private remove(root: number): void {
    if (!this.present[root]) return;
    const todo = [root];
    while (todo.length) {
      const n = todo.pop()!;
      this.present[n] = 0;
      this.ids.eachChild(n, (c) => {
        if (this.present[c]) todo.push(c);
      });
    }
  }
}

/**
 * Ids for every path dive sees: the union's nodes, then extra ids for the paths only whiteouts and
 * opaque markers bring (the `.wh.X` names themselves, parents that no other entry has).
 */
class DiveNodes {
  private readonly base: number;
  private readonly extraPath: string[] = [];
  private readonly extraParent: number[] = [];
  private readonly extraByPath = new Map<string, number>();
  private readonly extraKids = new Map<number, number[]>();
  /** Per id, once known: 1 plain name, 2 `.wh.` name. */
  private wh = new Uint8Array(0);
  private readonly whTargets = new Map<number, number>();

  constructor(private readonly u: Union) {
    this.base = u.nodeCount;
  }

  get count(): number {
    return this.base + this.extraPath.length;
  }

  /**
   * The node a record row sets in dive's tree (whiteouts: `.wh.NAME`; opaque markers: their
   * directory, without payload). dive stops adding a path at its first `.wh..wh..` name, keeping
   * the parents above it: such rows give -1 - that deepest parent, to add without payload.
   */
  ofRow(path: string, kind: number): number {
    if (kind === Kind.whiteout) {
      const i = path.lastIndexOf('/');
      path = `${path.slice(0, i + 1)}${WH}${path.slice(i + 1)}`;
    } else if (kind !== Kind.opaque && !path.includes(OPAQUE)) {
      return this.ensure(path); // the union's node, or dive's own for a path strata applied elsewhere
    }
    if (path.includes(OPAQUE)) {
      const parts = path.split('/');
      const cut = parts.findIndex((p) => p.startsWith(OPAQUE));
      if (cut >= 0) return -1 - this.ensure(parts.slice(0, cut).join('/'));
    }
    return this.ensure(path);
  }

  private lookup(path: string): number {
    return this.u.nodeOf(path) ?? this.extraByPath.get(path) ?? -1;
  }

  private ensure(path: string): number {
    const hit = this.lookup(path);
    if (hit >= 0) return hit;
    const i = path.lastIndexOf('/');
    const parent = this.ensure(i < 0 ? '' : path.slice(0, i));
    const id = this.count;
    this.extraPath.push(path);
    this.extraParent.push(parent);
    this.extraByPath.set(path, id);
    const kids = this.extraKids.get(parent);
    if (kids) kids.push(id);
    else this.extraKids.set(parent, [id]);
    return id;
  }

  /** Every row has its id: no more are made. */
  seal(): void {
    this.wh = new Uint8Array(this.count);
  }

  pathOf(id: number): string {
    return id < this.base ? this.u.nodePath[id] : this.extraPath[id - this.base];
  }

  parentOf(id: number): number {
    return id < this.base ? this.u.parentOf(id) : this.extraParent[id - this.base];
  }

  eachChild(id: number, f: (child: number) => void): void {
    if (id < this.base) for (let c = this.u.firstChildOf(id); c >= 0; c = this.u.nextSiblingOf(c)) f(c);
    const extra = this.extraKids.get(id);
    if (extra) for (const c of extra) f(c);
  }

  isWhiteout(id: number): boolean {
    let w = this.wh[id];
    if (w === 0) {
      const p = this.pathOf(id);
      this.wh[id] = w = p.startsWith(WH, p.lastIndexOf('/') + 1) ? 2 : 1;
    }
    return w === 2;
  }

  /** The node `.wh.X` names (X, its sibling), or -1 when no entry ever had that path. */
  whiteoutTarget(id: number): number {
    let t = this.whTargets.get(id);
    if (t === undefined) {
      const p = this.pathOf(id);
      const i = p.lastIndexOf('/') + 1;
      this.whTargets.set(id, (t = this.lookup(p.slice(0, i) + p.slice(i + WH.length))));
    }
    return t;
  }

  private nameOf(id: number): string {
    const p = this.pathOf(id);
    return p.slice(p.lastIndexOf('/') + 1);
  }

  /** Siblings in dive's order (Go sorts names; JS compares UTF-16 units: equal for ASCII names). */
  nameLess(a: number, b: number): boolean {
    return this.nameOf(a) < this.nameOf(b);
  }

  private depth(id: number): number {
    let d = 0;
    for (let n = id; n > 0; n = this.parentOf(n)) d++;
    return d;
  }

  /** Does leaf a come before leaf b in dive's depth-first walk (children sorted by name)? */
  before(a: number, b: number): boolean {
    if (a === b) return false;
    let da = this.depth(a);
    let db = this.depth(b);
    for (; da > db; da--) a = this.parentOf(a);
    for (; db > da; db--) b = this.parentOf(b);
    if (a === b) return false; // one is beneath the other: never the case for two leaves
    while (this.parentOf(a) !== this.parentOf(b)) {
      a = this.parentOf(a);
      b = this.parentOf(b);
    }
    return this.nameLess(a, b);
  }
}
