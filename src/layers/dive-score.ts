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
 *   - score = Σ over paths of the smallest size seen / Σ of all sizes seen (1 when nothing is seen).
 */
import { Kind, type LayerRecords } from './records.js';
import { baseName, parentOf } from './paths.js';

const WH = '.wh.';
const OPAQUE = '.wh..wh..';

interface DNode {
  name: string;
  size: number;
  isDir: boolean;
  parent: DNode | null;
  children: Map<string, DNode>;
}

const newNode = (name: string, parent: DNode | null): DNode => ({ name, size: 0, isDir: false, parent, children: new Map() });

export function diveEfficiency(layers: LayerRecords[]): number {
  if (layers.length === 0) return 1;
  const trees = layers.map(layerTree);
  const seen = new Map<string, { min: number; sum: number }>();
  // `below` is dive's StackTreeRange(trees, 0, k-1): a copy of tree 0, then trees 0..k-1 stacked on it.
  const below = copyTree(trees[0]);
  for (const [k, tree] of trees.entries()) {
    const lower = k === 0 ? trees[0] : below;
    try {
      for (const leaf of leavesChildFirst(tree)) {
        const path = nodePath(leaf);
        let size = leaf.size;
        if (leaf.name.startsWith(WH)) {
          const prev = getNode(lower, path);
          if (!prev) throw new StopLayer();
          size = prev.isDir ? subtreeSize(prev) : 0;
        }
        const s = seen.get(path);
        if (!s) seen.set(path, { min: size, sum: size });
        else {
          s.sum += size;
          if (size < s.min) s.min = size;
        }
      }
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
  const root = newNode('', null);
  for (let i = 0; i < r.count; i++) {
    const k = r.kind[i];
    let name = r.path[i];
    if (k === Kind.whiteout) name = join(parentOf(name), WH + baseName(name));
    else if (k === Kind.opaque) name = join(name, `${OPAQUE}opq`);
    addPath(root, name, r.size[i], k === Kind.dir);
  }
  return root;
}

function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** dive's AddPath: missing parents are created without payload; `.wh..wh..` names are never added. */
function addPath(root: DNode, path: string, size: number, isDir: boolean): void {
  const names = path.split('/').filter((n) => n !== '');
  let node = root;
  for (const [i, name] of names.entries()) {
    let child = node.children.get(name);
    if (!child) {
      if (name.startsWith(OPAQUE)) return;
      child = newNode(name, node);
      node.children.set(name, child);
    }
    node = child;
    if (i === names.length - 1) {
      node.size = size;
      node.isDir = isDir;
    }
  }
}

function* leavesChildFirst(node: DNode): Generator<DNode> {
  for (const name of [...node.children.keys()].sort()) yield* leavesChildFirst(node.children.get(name)!);
  if (node.parent && node.children.size === 0) yield node;
}

function* allChildFirst(node: DNode): Generator<DNode> {
  for (const name of [...node.children.keys()].sort()) yield* allChildFirst(node.children.get(name)!);
  if (node.parent) yield node;
}

/** `/a/b`, with the `.wh.` prefix dropped from the last name only. */
function nodePath(node: DNode): string {
  const names: string[] = [];
  for (let n: DNode | null = node; n && n.parent; n = n.parent) names.push(n === node && n.name.startsWith(WH) ? n.name.slice(WH.length) : n.name);
  return `/${names.reverse().join('/')}`;
}

function getNode(root: DNode, path: string): DNode | undefined {
  let node: DNode | undefined = root;
  for (const name of path.split('/')) {
    if (name === '') continue;
    node = node.children.get(name);
    if (!node) return undefined;
  }
  return node;
}

function subtreeSize(node: DNode): number {
  let s = node.size;
  for (const c of node.children.values()) s += subtreeSize(c);
  return s;
}

function copyTree(node: DNode, parent: DNode | null = null): DNode {
  const c: DNode = { name: node.name, size: node.size, isDir: node.isDir, parent, children: new Map() };
  for (const [k, v] of node.children) c.children.set(k, copyTree(v, c));
  return c;
}

/** dive's Stack: whiteouts remove their path, every other node is added with its payload. */
function stack(base: DNode, upper: DNode): void {
  for (const node of allChildFirst(upper)) {
    const path = nodePath(node);
    if (node.name.startsWith(WH)) {
      const gone = getNode(base, path);
      if (gone && gone.parent) gone.parent.children.delete(gone.name);
    } else {
      addPath(base, path, node.size, node.isDir);
    }
  }
}
