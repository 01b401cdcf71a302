import test from 'ava';
import { openImage } from '../src/sources/resolve.js';
import { readImage, type ImageModel } from '../src/model/read-image.js';
import { analyzeWaste, type WastedItem } from '../src/analyze/waste.js';
import { imageSizes } from '../src/model/views.js';
import { dir, file, hardlink, modelOf, opaque, symlink, whiteout } from './helpers/bloat-images.js';

const fixture = async (name: string): Promise<ImageModel> => readImage(await openImage(`testdata/${name}`));
const models = new Map<string, Promise<ImageModel>>();
const load = (name: string) => {
  if (!models.has(name)) models.set(name, fixture(name));
  return models.get(name)!;
};

const brief = (items: WastedItem[]) => items.map((i) => [i.path, i.bytes, i.layer, i.removedBy, i.reason, i.deletedRoot ?? null, i.viaHardlink ?? false]);

// testdata/README.md: base /etc/passwd is 30 B and rewritten by layer 6; layer 1's obj.o (250000 B)
// and index.db (400000 B) are deleted by layer 3; layer 4's chmod/chown re-stores /app (405264 + 18 B);
// layer 6 removes layer 5's two 4-byte conf files.
const sharedWaste = [
  ['etc/passwd', 30, 0, 6, 'replaced', null, false],
  ['tmp/build/obj.o', 250000, 1, 3, 'whiteout', 'tmp/build', false],
  ['var/cache/pkg/index.db', 400000, 1, 3, 'whiteout', 'var/cache/pkg/index.db', false],
  ['app/bundle.js', 405264, 2, 4, 'metadata', null, false],
  ['app/index.js', 18, 2, 4, 'metadata', null, false],
];

for (const name of ['tiny-dockerfile.docker.tar', 'tiny-dockerfile.docker25.tar']) {
  test(`vfs build (${name}): every wasted copy, its layers and reason`, async (t) => {
    const w = analyzeWaste(await load(name));
    t.deepEqual(brief(w.items), [
      ...sharedWaste,
      ['etc/conf.d/one.conf', 4, 5, 6, 'whiteout', 'etc/conf.d/one.conf', false],
      ['etc/conf.d/two.conf', 4, 5, 6, 'whiteout', 'etc/conf.d/two.conf', false],
    ]);
    t.is(w.wastedBytes, 30 + 250000 + 400000 + 405264 + 18 + 8);
    t.deepEqual(w.byCategory, { deleted: 650008, overwritten: 30, 'metadata-copy': 405282 });
  });
}

for (const name of ['tiny-overlay.oci.tar', 'tiny-overlay-zstd.oci-layout.tar']) {
  test(`overlay build (${name}): opaque whiteout and hardlink copy-up`, async (t) => {
    const w = analyzeWaste(await load(name));
    t.deepEqual(brief(w.items), [
      ...sharedWaste,
      // layer 7 links /app/bundle-hardlink.js to bundle.js: the builder copies the file up, so layer 4's copy is hidden
      ['app/bundle.js', 405264, 4, 7, 'unchanged', null, true],
      ['etc/conf.d/one.conf', 4, 5, 6, 'opaque', 'etc/conf.d', false],
      ['etc/conf.d/two.conf', 4, 5, 6, 'opaque', 'etc/conf.d', false],
    ]);
    t.is(w.wastedBytes, 30 + 250000 + 400000 + 405264 + 18 + 405264 + 8);
    t.deepEqual(w.byCategory, { deleted: 650008, overwritten: 30, 'metadata-copy': 810546 });
  });
}

for (const name of ['tiny-commit.docker.tar', 'tiny-commit-overlay.oci.tar']) {
  test(`commit build (${name}): nothing is wasted, everything is in the final view`, async (t) => {
    const w = analyzeWaste(await load(name));
    t.deepEqual(w.items, []);
    t.is(w.wastedBytes, 0);
    t.is(w.efficiency, 1);
    t.is(w.diveEfficiency, 1);
    t.is(w.finalBytes, 1982256 + 30 + 10 + 405264 + 18 + 250000 + 400000 + 58893);
  });
}

for (const name of ['tiny-dockerfile.docker.tar', 'tiny-overlay.oci.tar', 'tiny-commit.docker.tar', 'tiny-commit-overlay.oci.tar']) {
  test(`${name}: kept + wasted = every stored byte, and efficiency = final / stored`, async (t) => {
    const model = await load(name);
    const w = analyzeWaste(model);
    const sizes = imageSizes(model);
    t.is(w.finalBytes + w.wastedBytes, sizes.uncompressed);
    t.is(w.efficiency, sizes.final / sizes.uncompressed);
  });
}

test('efficiency on the fixtures, exact', async (t) => {
  const stored = 1982256 + 30 + 10 + 250000 + 400000 + 58893 + 405282 * 2 + 8 + 4 + 31 + 405264;
  t.is(analyzeWaste(await load('tiny-dockerfile.docker.tar')).efficiency, (stored - 1055320) / stored);
  t.is(analyzeWaste(await load('tiny-overlay.oci.tar')).efficiency, (stored - 1460584) / stored);
});

test("dive's score on the fixtures, computed its way", async (t) => {
  const stored = 1982256 + 30 + 10 + 250000 + 400000 + 58893 + 405282 * 2 + 8 + 4 + 31 + 405264;
  // dive sizes the whiteout of the /tmp/build directory as its subtree (250000) under its own path:
  // it adds to both sums. It counts a file whiteout as 0 and keeps the smaller copy of each path.
  const seen = stored + 250000;
  // vfs: index.db (400000 vs 0), bundle.js and index.js (stored twice, same size), conf files (4 vs 0),
  // /etc/passwd (30 then 31: dive keeps the smaller and counts 31 as wasted).
  const vfsLost = 400000 + 405264 + 18 + 8 + 31;
  t.is(analyzeWaste(await load('tiny-dockerfile.docker.tar')).diveEfficiency, (seen - vfsLost) / seen);
  // overlay: dive ignores the opaque whiteout (conf files count as kept) and sizes layer 7's hardlink
  // /app/bundle.js as 0, so both earlier copies of bundle.js count as lost.
  const overlayLost = 400000 + 405264 * 2 + 18 + 31;
  t.is(analyzeWaste(await load('tiny-overlay.oci.tar')).diveEfficiency, (seen - overlayLost) / seen);
});

// ---- synthetic images ---------------------------------------------------------------------------

test('deleting a directory wastes everything beneath it, attributed to the deleted directory', async (t) => {
  const m = await modelOf([
    { entries: [dir('opt'), dir('opt/sdk'), dir('opt/sdk/lib'), file('opt/sdk/lib/a.so', 1000), file('opt/sdk/lib/b.so', 2000), file('opt/sdk/README', 30), symlink('opt/sdk/cur', 'lib')] },
    { entries: [file('opt/sdk/lib/c.so', 500)] },
    { entries: [dir('opt'), whiteout('opt/sdk')] },
  ]);
  const w = analyzeWaste(m);
  t.deepEqual(brief(w.items), [
    ['opt/sdk/README', 30, 0, 2, 'whiteout', 'opt/sdk', false],
    ['opt/sdk/lib/a.so', 1000, 0, 2, 'whiteout', 'opt/sdk', false],
    ['opt/sdk/lib/b.so', 2000, 0, 2, 'whiteout', 'opt/sdk', false],
    ['opt/sdk/lib/c.so', 500, 1, 2, 'whiteout', 'opt/sdk', false],
  ]);
  t.is(w.wastedBytes, 3530);
  t.is(w.finalBytes, 0);
  t.is(w.efficiency, 0);
  // dive keys the directory whiteout by the directory path and counts its subtree on both sides.
  t.is(w.diveEfficiency, 1);
});

test('overwrite, metadata-only and unchanged re-stores, each wasting the older copy only', async (t) => {
  const m = await modelOf([
    { entries: [dir('etc'), file('etc/a', 100), file('etc/b', 200), file('etc/c', 300)] },
    {
      entries: [
        dir('etc'),
        file('etc/a', 150), // new content
        { ...file('etc/b', 200), mode: 0o600, uid: 7 }, // same content, new mode/owner (chmod/chown)
        file('etc/c', 300), // same content and metadata (touch)
      ],
    },
  ]);
  const w = analyzeWaste(m);
  t.deepEqual(brief(w.items), [
    ['etc/a', 100, 0, 1, 'replaced', null, false],
    ['etc/b', 200, 0, 1, 'metadata', null, false],
    ['etc/c', 300, 0, 1, 'unchanged', null, false],
  ]);
  t.deepEqual(w.byCategory, { deleted: 0, overwritten: 100, 'metadata-copy': 500 });
  t.is(w.finalBytes, 650);
});

test('a type change wastes the replaced file, and a directory replaced by a file wastes its subtree', async (t) => {
  const m = await modelOf([
    { entries: [dir('x'), file('x/f', 40), dir('x/d'), file('x/d/inner', 60)] },
    { entries: [dir('x'), dir('x/f'), file('x/d', 5)] },
  ]);
  const w = analyzeWaste(m);
  t.deepEqual(brief(w.items), [
    ['x/d/inner', 60, 0, 1, 'type-change', null, false],
    ['x/f', 40, 0, 1, 'type-change', null, false],
  ]);
  t.deepEqual(w.byCategory, { deleted: 0, overwritten: 100, 'metadata-copy': 0 });
});

test('the same path twice in one layer wastes the first copy', async (t) => {
  const m = await modelOf([{ entries: [file('a', 70), file('a', 'final')] }]);
  const w = analyzeWaste(m);
  t.deepEqual(brief(w.items), [['a', 70, 0, 0, 'superseded', null, false]]);
  t.is(w.finalBytes + w.wastedBytes, imageSizes(m).uncompressed);
});

test('opaque whiteout hides the lower contents, not what the same layer adds', async (t) => {
  const m = await modelOf([
    { entries: [dir('d'), file('d/old1', 10), dir('d/sub'), file('d/sub/old2', 20)] },
    { entries: [dir('d'), opaque('d'), file('d/new', 5)] },
  ]);
  const w = analyzeWaste(m);
  t.deepEqual(brief(w.items), [
    ['d/old1', 10, 0, 1, 'opaque', 'd', false],
    ['d/sub/old2', 20, 0, 1, 'opaque', 'd', false],
  ]);
  t.is(w.finalBytes, 5);
});

test('hardlinks: an inode still visible through a link is not wasted', async (t) => {
  const m = await modelOf([
    { entries: [dir('a'), file('a/data', 1000), hardlink('a/link', 'a/data')] },
    { entries: [dir('a'), whiteout('a/data')] },
  ]);
  const w = analyzeWaste(m);
  t.deepEqual(w.items, []);
  t.is(w.finalBytes, 1000);
  t.is(w.efficiency, 1);
});

test('hardlinks: deleting every path to an inode wastes its bytes once, blamed on the last deletion', async (t) => {
  const m = await modelOf([
    { entries: [dir('a'), file('a/data', 1000), hardlink('a/l1', 'a/data'), hardlink('a/l2', 'a/data')] },
    { entries: [dir('a'), whiteout('a/data'), whiteout('a/l1')] },
    { entries: [dir('a'), whiteout('a/l2')] },
  ]);
  const w = analyzeWaste(m);
  t.deepEqual(brief(w.items), [['a/data', 1000, 0, 2, 'whiteout', 'a/l2', false]]);
  t.is(w.wastedBytes, 1000);
});

test('hardlinks: linking in a later layer to a lower file copies it up and wastes the lower copy', async (t) => {
  // What overlay builders store for `ln /app/big /app/big-link` in a later RUN.
  const m = await modelOf([
    { entries: [dir('app'), file('app/big', 5000)] },
    { entries: [dir('app'), file('app/big-link', bytes5000()), hardlink('app/big', 'app/big-link')] },
  ]);
  const w = analyzeWaste(m);
  t.deepEqual(brief(w.items), [['app/big', 5000, 0, 1, 'unchanged', null, true]]);
  t.is(w.finalBytes, 5000);
});

function bytes5000(): Buffer {
  return file('app/big', 5000).content!;
}

test("dive's score: a file deletion and an overwrite count, opaque whiteouts do not", async (t) => {
  const m = await modelOf([
    { entries: [dir('d'), file('d/a', 100), file('d/b', 300), file('c', 50)] },
    { entries: [dir('d'), whiteout('d/a'), opaque('d'), file('c', 80)] },
  ]);
  // paths: d/a 100+0 (min 0); d/b 300 once (opaque ignored); c 50+80 (min 50)
  t.is(analyzeWaste(m).diveEfficiency, (0 + 300 + 50) / (100 + 300 + 130));
  // strata: d/a and d/b are gone (whiteout, opaque), c's first copy is overwritten
  t.is(analyzeWaste(m).wastedBytes, 100 + 300 + 50);
});

test("dive's score: a whiteout of a missing path stops dive's visit of the rest of that layer", async (t) => {
  const m = await modelOf([
    { entries: [file('z', 100)] },
    // sorted child-first, `.wh.missing` comes before `z`: dive errors out before counting z again
    { entries: [whiteout('missing'), file('z', 10)] },
  ]);
  t.is(analyzeWaste(m).diveEfficiency, 1);
  t.is(analyzeWaste(m).wastedBytes, 100);
});

test('a file the same layer then uses as a directory (f, then f/c) is wasted once: kept + wasted = stored', async (t) => {
  const m = await modelOf([{ entries: [file('f', 100), file('f/c', 1)] }]);
  const w = analyzeWaste(m);
  t.deepEqual(brief(w.items), [['f', 100, 0, 0, 'type-change', null, false]]);
  t.is(w.finalBytes + w.wastedBytes, w.storedBytes);
  // linked before it was replaced, it lives on as the link
  const linked = analyzeWaste(await modelOf([{ entries: [file('f', 100), hardlink('h', 'f'), file('f/c', 1)] }]));
  t.deepEqual(linked.items, []);
  t.is(linked.finalBytes, 101);
});
