/**
 * What the HTML page of `strata diff A B --html` draws: the union of both views as one tile tree,
 * each file coloured by its change from A to B, with the bytes on each side; the size delta per
 * directory and per bloat/waste category. Sizes are what each path adds to its view's total (a
 * hardlink group once, at its first path: model/counted-bytes.ts, as in the diff's size deltas), so
 * the root's two sides are the two totals; a tile's area is the larger of its two sides, so what B
 * removed is drawn too. B's view gives the tree; the report's file changes give A's side.
 */
import { Kind } from '../../scan/records.js';
import { countedBytes } from '../../model/counted-bytes.js';
import type { DiffReport } from '../diff/diff.js';
import type { FileDiff } from '../diff/files.js';
import type { DiffSide } from '../diff/side.js';
import type { CategoryDelta } from '../diff/bloat.js';
import type { DirDelta } from '../diff/files.js';
import { TileTreeBuilder, type Tile } from './tile-tree.js';

/** Change classes of a diff picture's tiles (`Tile.c[0]`). */
export const CHANGES = ['same', 'added', 'removed', 'grown', 'shrunk', 'changed'] as const;

export interface DiffPicture {
  kind: 'diff';
  summary: DiffReport['summary'];
  dims: readonly ['change'];
  changes: typeof CHANGES;
  tree: Tile;
  /** The directories with the biggest size delta. */
  directories: DirDelta[];
  categories: CategoryDelta[];
}

const DIRECTORIES_SHOWN = 200;

export function diffPicture(b: DiffSide, report: DiffReport, budget?: number): DiffPicture {
  const changed = new Map<string, FileDiff>();
  for (const f of report.files) changed.set(f.path, f);
  const tree = new TileTreeBuilder(1, true);
  const ub = b.model.union;
  const counted = countedBytes(ub, b.layer);
  for (const v of ub.visibleAt(b.layer)) {
    const path = ub.nodePath[ub.nodeOfVersion(v)];
    if (ub.kindOf(v) === Kind.dir) {
      tree.dir(path);
      continue;
    }
    const after = counted.of(v);
    const f = changed.get(`/${path}`);
    const before = f ? after - f.sizeDelta : after; // an unchanged path counts the same on both sides
    tree.leaf(path, { size: Math.max(before, after), before, after, classes: [f ? changeClass(f) : 0] });
  }
  for (const f of report.files) {
    if (f.b !== null || !f.a || f.a.type === 'dir') continue;
    tree.leaf(f.path.slice(1), { size: -f.sizeDelta, before: -f.sizeDelta, after: 0, classes: [changeClass(f)] });
  }
  return {
    kind: 'diff',
    summary: report.summary,
    dims: ['change'],
    changes: CHANGES,
    tree: tree.build(budget),
    directories: report.directories.slice(0, DIRECTORIES_SHOWN),
    categories: report.bloat.categories.filter((c) => c.a !== 0 || c.b !== 0),
  };
}

function changeClass(f: FileDiff): number {
  if (f.change === 'added' || (f.a?.type === 'dir' && f.b)) return 1;
  if (f.change === 'removed') return 2;
  if (f.sizeDelta > 0) return 3;
  if (f.sizeDelta < 0) return 4;
  return 5;
}
