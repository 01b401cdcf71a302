/**
 * Images of one command that begin with the same layers merge them once: a union copied after k
 * layers and extended must be the union built from scratch, and the copy must not touch the original.
 */
import test from 'ava';
import { join } from 'node:path';
import { Union } from '../src/model/union.js';
import { UnionPrefixes } from '../src/model/union-prefixes.js';
import type { ImageModel } from '../src/model/read-image.js';
import { inspectReport } from '../src/analyze/report.js';
import { layerChanges, listView } from '../src/model/views.js';
import { Loading, loadModel } from '../src/commands/common.js';
import { modelOf } from './helpers/model.js';
import { dir, file, hardlink, opaque, symlink, whiteout } from './helpers/tar-writer.js';

const fixture = (name: string) => join(import.meta.dirname, '..', '..', 'testdata', name);

/** Everything the analyses read of a union: each layer's view and changes, and the whole report. */
function dump(m: ImageModel): unknown {
  return {
    views: m.layers.map((l) => [...listView(m, l.index)]),
    changes: m.layers.map((l) => [...layerChanges(m, l.index)]),
    report: inspectReport(m),
  };
}

/** `m`'s model with its union made of a copy taken after k layers, then the rest; and the original union, extended after the copy. */
function viaCopy(m: ImageModel, k: number): { copied: ImageModel; original: ImageModel; prefixBefore: unknown; prefixAfter: unknown } {
  const records = m.layers.map((l) => l.records);
  const base = new Union();
  for (const r of records.slice(0, k)) base.addLayer(r);
  const prefix = { ...m, layers: m.layers.slice(0, k), union: base };
  const prefixBefore = dump(prefix);
  const copy = new Union(base);
  for (const r of records.slice(k)) copy.addLayer(r);
  const prefixAfter = dump(prefix); // the copy's layers did not reach the original
  for (const r of records.slice(k)) base.addLayer(r);
  return { copied: { ...m, union: copy }, original: { ...m, union: base }, prefixBefore, prefixAfter };
}

const synthetic = () =>
  modelOf([
    [dir('usr/lib'), file('usr/lib/old.so', 'old'), symlink('lib', 'usr/lib'), dir('etc/conf.d'), file('etc/conf.d/one', '1'), file('etc/hosts', 'h'), file('tmp/x.log', 'log')],
    [file('lib/new.so', 'new'), whiteout('lib/old.so'), hardlink('etc/hosts-link', 'etc/hosts'), dir('etc/type'), file('etc/type/inner', 'i')],
    [opaque('etc/conf.d'), file('etc/conf.d/two', '2'), file('etc/type', 'now a file'), file('etc/hosts', 'h2'), whiteout('tmp')],
    [hardlink('usr/lib/again.so', 'lib/new.so'), file('etc/conf.d/two', '2'), whiteout('etc/hosts-link')],
  ]);

const images: [string, () => Promise<ImageModel>][] = [
  ['synthetic (symlinked directory, hardlinks, opaque, type change, whiteouts)', synthetic],
  ...['tiny-dockerfile.docker.tar', 'tiny-overlay.oci.tar', 'tiny-commit-overlay.oci.tar'].map(
    (name) => [name, () => loadModel({ image: fixture(name), cache: false })] as [string, () => Promise<ImageModel>],
  ),
];

for (const [name, open] of images) {
  test(`${name}: a union copied after any k layers, then extended, equals the one built from scratch; the original is untouched`, async (t) => {
    const m = await open();
    const fresh = dump(m);
    for (let k = 1; k < m.layers.length; k++) {
      const { copied, original, prefixBefore, prefixAfter } = viaCopy(m, k);
      t.deepEqual(dump(copied), fresh, `copy after ${k} layers`);
      t.deepEqual(prefixAfter, prefixBefore, `original after ${k} layers`);
      t.deepEqual(dump(original), fresh, `original extended after ${k} layers`);
    }
  });
}

test('a later image starts from a copy of the earliest union that shares the most leading layers', async (t) => {
  const prefixes = new UnionPrefixes();
  const a = prefixes.begin(['l0', 'l1', 'l2']);
  t.is(await a.start, null);
  const b = prefixes.begin(['l0', 'l1', 'other']);
  const other = prefixes.begin(['x']);
  t.is(await other.start, null);
  const u1 = new Union();
  a.reached(1, u1);
  let got: Awaited<typeof b.start> | undefined;
  void b.start.then((s) => (got = s));
  await Promise.resolve();
  t.is(got, undefined); // still waiting: a has 1 of the 2 shared layers
  const u2 = new Union();
  a.reached(2, u2);
  const start = await b.start;
  t.is(start?.layers, 2);
  t.true(start!.union instanceof Union);
  t.not(start!.union, u2); // a copy, b's own to extend
  // an image that begins after `a` finished takes a copy of its final union at once, while a's model holds it
  const final = new Union();
  a.reached(3, final);
  a.end(true);
  const late = await prefixes.begin(['l0', 'l1', 'l2', 'l3']).start;
  t.is(late?.layers, 3);
  t.not(late?.union, final);
});

test('when the image that was to give a copy fails, the waiting one builds its own union', async (t) => {
  const prefixes = new UnionPrefixes();
  const a = prefixes.begin(['l0', 'l1']);
  const b = prefixes.begin(['l0', 'l1', 'l2']);
  a.reached(1, new Union());
  a.end(false);
  t.is(await b.start, null);
  // b builds its own from the first layer; a failed image gives no copies later, b does
  const c = prefixes.begin(['l0']);
  b.reached(1, new Union());
  t.is((await c.start)?.layers, 1);
});

test('images of one command share their leading layers: one base union, reports as if each were read alone', async (t) => {
  const names = ['tiny-commit.docker.tar', 'tiny-dockerfile.docker.tar', 'tiny-dockerfile.docker25.tar'];
  const together = await Loading.with((loading) => Promise.all(names.map((name) => loadModel({ image: fixture(name), cache: false }, { loading }))));
  const [commit, dockerfile, docker25] = together;
  // the base layer's records come from one union, copied; the Docker 25 save shares all 8 layers
  t.is(dockerfile.union.layers[0], commit.union.layers[0]);
  t.is(docker25.union.layers[7], dockerfile.union.layers[7]);
  t.not(docker25.union, dockerfile.union);
  for (const [i, name] of names.entries()) {
    const alone = await loadModel({ image: fixture(name), cache: false });
    t.deepEqual(dump(together[i]), dump(alone), name);
  }
});
