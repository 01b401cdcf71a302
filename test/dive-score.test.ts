import test from 'ava';
import { diveEfficiency } from '../src/analyze/dive-score.js';
import { Kind, RecordsBuilder, type KindCode, type LayerRecords } from '../src/scan/records.js';
import { Union } from '../src/model/union.js';
import { referenceDiveEfficiency } from './helpers/dive-reference.js';

type Row = [path: string, kind: KindCode, size?: number];

function records(rows: Row[]): LayerRecords {
  const b = new RecordsBuilder();
  for (const [path, kind, size = 0] of rows) b.add(path, kind, size, 0o644, 0, 0, 0);
  return b.finish(0, 0);
}

function unionOf(layers: Row[][]): Union {
  const u = new Union();
  for (const l of layers) u.addLayer(records(l));
  return u;
}

/** Both implementations agree, and the expected score is what the reference gives. */
function check(t: import('ava').ExecutionContext, layers: Row[][], expected: number): void {
  const u = unionOf(layers);
  t.is(referenceDiveEfficiency(u.layers), expected);
  t.is(diveEfficiency(u), expected);
}

const F = Kind.file, D = Kind.dir, W = Kind.whiteout, O = Kind.opaque;

test('no layers, or nothing but empty leaves, scores 1', (t) => {
  t.is(diveEfficiency(new Union()), 1);
  check(t, [[['d', D]], [['d', D], ['d/e', D]]], 1);
});

test('a whiteout of a directory counts its stacked subtree under its own path, on both sides', (t) => {
  // d/x 100 and d/y 50 seen once; d's whiteout counts 150 under "d", seen once: nothing lost
  check(t, [[['d', D], ['d/x', F, 100], ['d/y', F, 50]], [['d', W]]], 1);
  // a file whiteout counts 0: its path keeps min 0 of 100
  check(t, [[['d', D], ['d/x', F, 100], ['d/y', F, 50]], [['d/x', W]]], 50 / 150);
});

test('X and .wh.X in one layer: dive stacks them in name order', (t) => {
  // ".wh.b" sorts before "b": b is removed, then re-added holding only layer 1's files, so layer 2's
  // whiteout of b counts layer 1's b/new (7), not layer 0's b/old (100)
  check(t, [[['b', D], ['b/old', F, 100]], [['b', W], ['b', D], ['b/new', F, 7]], [['b', W]]], (100 + 7 + 7) / (100 + (100 + 7) + 7));
  // "-b" sorts before ".wh.-b": -b is added then removed; layer 2's whiteout of -b names a missing
  // path and stops dive's visit of layer 2 before z (counting z's 9 would score below 1)
  const layers: Row[][] = [[['-b', D], ['-b/old', F, 100], ['z', F, 5]], [['-b', W], ['-b', D], ['-b/new', F, 7]], [['-b', W], ['z', F, 9]]];
  check(t, layers, 1);
});

test('a whiteout of a missing path stops the layer at its place in dive order only', (t) => {
  // ".wh.x" sorts before "a": nothing of layer 1 counts
  check(t, [[['a', F, 10], ['m', F, 10]], [['a', F, 1], ['x', W], ['m', F, 1]]], 1);
  // "-a" sorts before ".wh.x": -a counts, m does not
  check(t, [[['-a', F, 10], ['m', F, 10]], [['-a', F, 1], ['x', W], ['m', F, 1]]], (1 + 10) / (10 + 1 + 10));
  // dive compares names, not paths: a/f comes before a.b/.wh.gone ("a" < "a.b") although the path
  // "a.b/.wh.gone" sorts before "a/f"
  check(t, [[['a', D], ['a/f', F, 10], ['a.b', D], ['a.b/x', F, 10]], [['a', D], ['a/f', F, 2], ['a.b', D], ['a.b/gone', W]]], (2 + 10) / (10 + 2 + 10));
});

test('layer 0 whiteouts look in layer 0 itself', (t) => {
  check(t, [[['d', D], ['d/f', F, 10], ['d/f', W]]], 0);
  check(t, [[['d', D], ['d/f', F, 10], ['e', W], ['z', F, 5]]], 1);
});

test('opaque markers add their directory (as a payload-less leaf when alone) and nothing else', (t) => {
  check(t, [[['d', D], ['d/a', F, 10]], [['d', O]], [['d', W]]], 1);
  check(t, [[['d', D], ['d/a', F, 10]], [['e', O]], [['e', W], ['d/a', F, 4]]], 4 / 14);
});

test('implicit parents have no payload: a whiteout of one counts 0', (t) => {
  check(t, [[['d', D], ['d/a', F, 10]], [['d/b', F, 5]], [['d', W]]], 15 / 15);
});

// ---- differential: random layers against the reference ------------------------------------------

// mostly plain names; "-c" sorts before ".wh.-c"; ".wh.a" as a directory and AUFS names are rare
const NAMES = ['a', 'b', '-c', 'a.b', 'a', 'b', '-c', 'a.b', '.wh.a', '.wh..wh.plnk', '.wh..wh..x'];
const TARGETS = ['a', 'b', '-c', 'a.b'];

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const SEEDS = 20000;

function randomLayers(rand: () => number): Row[][] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const used: string[] = [];
  const join = (d: string, n: string) => (d === '' ? n : `${d}/${n}`);
  // half the time, a path an earlier row used (or its parent): overwrites, deletions, merges
  const path = (names: readonly string[]) => {
    if (used.length && rand() < 0.5) {
      const p = pick(used);
      return rand() < 0.7 || !p.includes('/') ? p : p.slice(0, p.lastIndexOf('/'));
    }
    const depth = Math.floor(rand() * 3);
    const dir = Array.from({ length: depth }, () => pick(rand() < 0.9 ? TARGETS : NAMES)).join('/');
    const p = join(dir, pick(names));
    used.push(p);
    return p;
  };
  return Array.from({ length: 1 + Math.floor(rand() * 4) }, () =>
    Array.from({ length: Math.floor(rand() * 14) }, (): Row => {
      const r = rand();
      if (r < 0.5) return [path(NAMES), F, Math.floor(rand() * 4) * 10];
      if (r < 0.7) return [path(NAMES), D];
      if (r < 0.75) return [path(NAMES), Kind.symlink];
      if (r < 0.92) {
        const p = path(TARGETS);
        return [TARGETS.some((n) => p === n || p.endsWith(`/${n}`)) ? p : 'a', W];
      }
      const p = path(NAMES);
      return [rand() < 0.2 ? '' : p, O];
    }),
  );
}

test('rows strata applies through a symlinked directory are scored at their own paths, as dive does', (t) => {
  const withLink = (path: string, target: string): LayerRecords => {
    const b = new RecordsBuilder();
    b.add('usr', D, 0, 0o755, 0, 0, 0);
    b.add('usr/lib', D, 0, 0o755, 0, 0, 0);
    b.add('usr/lib/x', F, 100, 0o644, 0, 0, 0);
    b.records.link[b.add(path, Kind.symlink, 0, 0o777, 0, 0, 0)] = target;
    return b.finish(100, 0);
  };
  const u = new Union();
  u.addLayer(withLink('lib', 'usr/lib'));
  u.addLayer(records([['lib/x', F, 100], ['lib/y', F, 30]])); // the union: usr/lib/x replaced, usr/lib/y added
  t.deepEqual([...u.redirected[1]], [0, 1]);
  t.is(u.nodePath[u.rowNode[1][0]], 'usr/lib/x');
  // dive keeps lib/x and lib/y under the symlink: nothing of layer 0 looks overwritten to it
  t.is(diveEfficiency(u), referenceDiveEfficiency(u.layers));
  t.is(diveEfficiency(u), 1);
});

test('random layers: the same score as the direct transcription of dive', (t) => {
  let nontrivial = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const layers = randomLayers(rng(seed));
    const u = unionOf(layers);
    const want = referenceDiveEfficiency(u.layers);
    const got = diveEfficiency(u);
    if (got !== want) {
      t.fail(`seed ${seed}: ${got} !== ${want}\n${JSON.stringify(layers)}`);
      return;
    }
    if (want !== 1) nontrivial++;
  }
  t.true(nontrivial > SEEDS / 10, `only ${nontrivial} cases scored below 1`);
});
