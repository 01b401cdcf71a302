/**
 * The first, direct transcription of dive's algorithm (one tree per layer plus a stacked copy, as
 * dive builds them), kept as the oracle for src/analyze/dive-score.ts, which computes the same score
 * over the union's node table. Too slow and memory-hungry for big images; exact by construction.
 *
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
 *   - score = Σ over paths of the smallest size seen / Σ of all sizes seen (1 when nothing is seen).
 */
import { Kind, type LayerRecords } from '../../src/scan/records.js';
import { baseName, parentOf } from '../../src/util/paths.js';

const WH = '.wh.';
const OPAQUE = '.wh..wh..';

interface DNode {
  name: string;
  size: number;
  isDir: boolean;
  /** null for leaves: most nodes are files, and a Map each would dominate memory on big images. */
  children: Map<string, DNode> | null;
}

const newNode = (name: string): DNode => ({ name, size: 0, isDir: false, children: null });

const kids = (node: DNode) => (node.children ??= new Map());

export function referenceDiveEfficiency(layers: LayerRecords[]): number {
  if (layers.length === 0) return 1;
  const trees = layers.map(layerTree);
  const seen = new Map<string, { min: number; sum: number }>();
  // `below` is dive's StackTreeRange(trees, 0, k-1): a copy of tree 0, then trees 0..k-1 stacked on it.
  const below = copyTree(trees[0]);
  for (const [k, tree] of trees.entries()) {
    const lower = k === 0 ? trees[0] : below;
    const count = (path: string, size: number) => {
      const s = seen.get(path);
      if (!s) seen.set(path, { min: size, sum: size });
      else {
        s.sum += size;
        if (size < s.min) s.min = size;
      }
    };
    try {
      visitLeaves(tree, '', (leaf, path) => {
        if (!leaf.name.startsWith(WH)) return count(path, leaf.size);
        const prev = getNode(lower, path);
        if (!prev) throw new StopLayer();
        count(path, prev.isDir ? subtreeSize(prev) : 0);
      });
    } catch (e) {
      if (!(e instanceof StopLayer)) throw e;
    }
    stack(below, tree);
  }
  let min = 0;
  let sum = 0;
  for (const s of seen.values()) {
    min += s.min;
    sum += s.sum;
  }
  return sum === 0 ? 1 : min / sum;
}

class StopLayer extends Error {}

/** The layer's tar entries as dive names them: whiteouts keep their `.wh.` prefix. */
function layerTree(r: LayerRecords): DNode {
  const root = newNode('');
  const index = new Map<string, DNode | null>([['', root]]);
  // dive's AddPath: missing parents are created without payload; `.wh..wh..` names are never added.
  const ensure = (path: string): DNode | null => {
    const hit = index.get(path);
    if (hit !== undefined) return hit;
    const parent = ensure(parentOf(path));
    const name = baseName(path);
    let node: DNode | null = null;
    if (parent && !name.startsWith(OPAQUE)) {
      node = parent.children?.get(name) ?? newNode(name);
      kids(parent).set(name, node);
    }
    index.set(path, node);
    return node;
  };
  for (let i = 0; i < r.count; i++) {
    const k = r.kind[i];
    let path = r.path[i];
    if (k === Kind.whiteout) path = join(parentOf(path), WH + baseName(path));
    else if (k === Kind.opaque) path = join(path, `${OPAQUE}opq`);
    const node = ensure(path);
    if (node) {
      node.size = r.size[i];
      node.isDir = k === Kind.dir;
    }
  }
  return root;
}

function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

const sortedChildren = (node: DNode) => (node.children ? [...node.children.keys()].sort().map((k) => node.children!.get(k)!) : []);

/** Leaves in dive's order (children first, names sorted), with their path (`.wh.` dropped). */
function visitLeaves(node: DNode, prefix: string, visit: (leaf: DNode, path: string) => void): void {
  for (const c of sortedChildren(node)) {
    const name = c.name.startsWith(WH) ? c.name.slice(WH.length) : c.name;
    if (!c.children?.size) visit(c, `${prefix}/${name}`);
    else visitLeaves(c, `${prefix}/${c.name}`, visit);
  }
}

function getNode(root: DNode, path: string): DNode | undefined {
  let node: DNode | undefined = root;
  for (const name of path.split('/')) {
    if (name === '') continue;
    node = node.children?.get(name);
    if (!node) return undefined;
  }
  return node;
}

function subtreeSize(node: DNode): number {
  let s = node.size;
  for (const c of node.children?.values() ?? []) s += subtreeSize(c);
  return s;
}

function copyTree(node: DNode): DNode {
  const c: DNode = { name: node.name, size: node.size, isDir: node.isDir, children: null };
  for (const [k, v] of node.children ?? []) kids(c).set(k, copyTree(v));
  return c;
}

/** dive's Stack: whiteouts remove their path, every other node is added with its payload. */
function stack(base: DNode, upper: DNode): void {
  for (const c of sortedChildren(upper)) {
    if (c.name.startsWith(WH)) {
      if (c.children?.size) {
        // dive adds a whiteout's children (never seen in practice) before removing its target
        let w = base.children?.get(c.name);
        if (!w) kids(base).set(c.name, (w = newNode(c.name)));
        stack(w, c);
      }
      base.children?.delete(c.name.slice(WH.length));
      continue;
    }
    let b = base.children?.get(c.name);
    if (!b) kids(base).set(c.name, (b = newNode(c.name)));
    stack(b, c);
    b.size = c.size;
    b.isDir = c.isDir;
  }
}
