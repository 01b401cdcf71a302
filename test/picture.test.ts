/** The HTML report's data: the tile tree's folding, and the pictures' sizes against the reports. */
import test from 'ava';
import { TileTreeBuilder, type Tile } from '../src/analyze/picture/tile-tree.js';
import { HIDDEN, inspectPicture } from '../src/analyze/picture/inspect-picture.js';
import { inspectReport } from '../src/analyze/report.js';
import { FIXTURE_FILES, loadFixture } from './helpers/fixtures.js';

function* tiles(t: Tile): Generator<Tile> {
  yield t;
  for (const k of t.k ?? []) yield* tiles(k);
}

/** Every directory's size is its children's sum, and its file count theirs. */
function assertExact(t: { truthy: (v: unknown, m?: string) => void }, root: Tile): void {
  for (const d of tiles(root)) {
    if (!d.k) continue;
    t.truthy(d.k.reduce((s, k) => s + k.s, 0) === d.s, `${d.n}: children add up to ${d.s}`);
    t.truthy(d.k.reduce((s, k) => s + (k.k || k.x ? k.f! : 1), 0) === d.f, `${d.n}: file counts add up to ${d.f}`);
  }
}

test('the tree keeps the biggest tiles and folds the rest per directory, with exact sums and the dominant class', (t) => {
  const b = new TileTreeBuilder(1);
  // dir d0..d9, 100 files each: file i of dir d has size (i+1)*(d+1), class 2 for the 30 biggest (most bytes), else i % 2
  for (let d = 0; d < 10; d++) for (let i = 0; i < 100; i++) b.leaf(`d${d}/f${i}`, { size: (i + 1) * (d + 1), classes: [i >= 70 ? 2 : i % 2] });
  const root = b.build(60);
  const all = [...tiles(root)];
  const named = all.filter((x) => !x.x && x !== root);
  t.is(named.length, 60, 'the budget of kept nodes');
  t.is(root.s, 5050 * 55);
  t.is(root.f, 1000);
  assertExact(t, root);
  // the 10 dirs are the biggest nodes, so all kept; the 50 biggest files after them
  t.is(root.k!.length, 10);
  const folded = all.filter((x) => x.x);
  t.is(folded.length, 10, 'one folded tile per directory');
  t.is(folded.reduce((s, x) => s + x.f!, 0), 950);
  const d0 = root.k!.find((x) => x.n === 'd0')!;
  const small = d0.k!.find((x) => x.x)!;
  t.is(small.f, 100 - (d0.k!.length - 1));
  t.deepEqual(small.c, [2], 'class 2 (the 30 biggest files) holds most of the folded bytes');
  // biggest first
  t.true(d0.k!.slice(0, -1).every((x, i, a) => i === 0 || a[i - 1].s >= x.s));
});

test('ties at the cut are broken by order, and nothing is lost when the budget is larger than the tree', (t) => {
  const b = new TileTreeBuilder(1);
  for (let i = 0; i < 10; i++) b.leaf(`same/f${i}`, { size: 7, classes: [0] });
  const cut = b.build(6);
  const kept = [...tiles(cut)].filter((x) => !x.x && x !== cut);
  t.is(kept.length, 6, 'the directory and 5 of the 10 equal files');
  t.is(cut.s, 70);
  assertExact(t, cut);
  const b2 = new TileTreeBuilder(1);
  for (let i = 0; i < 10; i++) b2.leaf(`same/f${i}`, { size: 7, classes: [0] });
  b2.leaf('empty-file', { size: 0, classes: [0] });
  const whole = b2.build(1000);
  t.is(whole.k!.find((x) => x.n === 'same')!.k!.length, 10);
  t.true([...tiles(whole)].some((x) => x.x && x.f === 1 && x.s === 0), 'an empty file is counted, folded, not drawn as a tile of its own');
  assertExact(t, whole);
  // a builder builds again, with another budget, to the same sizes (sums do not pile up)
  t.deepEqual(b2.build(1000), whole);
  t.deepEqual(b.build(1000).s, 70);
  t.deepEqual(b.build(6), cut);
});

test('a grouping of strata\'s never merges with a directory of the same name', (t) => {
  const b = new TileTreeBuilder(1);
  b.leaf('hidden in layers/real', { size: 5, classes: [0] });
  const g = b.dir('hidden in layers', TileTreeBuilder.ROOT, true);
  b.leaf('x', { size: 3, classes: [0] }, g);
  const root = b.build();
  t.is(root.k!.length, 2);
  t.deepEqual(root.k!.map((k) => [k.n, k.s, k.v ?? 0]), [['hidden in layers', 5, 0], ['hidden in layers', 3, 1]]);
});

for (const name of FIXTURE_FILES) {
  test(`${name}: the picture's view adds up to finalSize, its hidden tiles to wastedBytes, per layer`, async (t) => {
    const model = await loadFixture(name);
    const report = inspectReport(model);
    const p = inspectPicture(model, report);
    assertExact(t, p.tree);
    const hidden = p.tree.k?.find((k) => k.v && k.n === HIDDEN);
    t.is(p.tree.s - (hidden?.s ?? 0), report.summary.finalSize);
    t.is(hidden?.s ?? 0, report.summary.wastedBytes);
    for (const l of p.layers) {
      t.is(l.visible + l.wasted, report.layers[l.index].size, `layer ${l.index}: stored = visible + wasted`);
      const own = hidden?.k?.find((k) => k.n === `layer ${l.index}`);
      t.is(own?.s ?? 0, l.wasted);
    }
    // every file a bloat finding names is coloured with its category
    const byPath = new Map<string, Tile>();
    const walk = (x: Tile, path: string) => {
      if (x.v) return;
      if (!x.k) byPath.set(path, x);
      for (const k of x.k ?? []) if (!k.x) walk(k, `${path}/${k.n}`);
    };
    for (const k of p.tree.k ?? []) walk(k, `/${k.n}`);
    for (const f of report.findings.filter((x) => x.kind === 'bloat')) {
      for (const it of f.items) {
        const tile = byPath.get(it.path);
        if (tile) t.is(p.categories[tile.c![1]], f.category, it.path);
      }
    }
  });
}
