import test from 'ava';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { makeDir } from '../src/util/make-dir.js';
import { runStrata } from './helpers/cli.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImage } from '../src/sources/resolve.js';
import { readImage } from '../src/model/read-image.js';
import { LayerCache, CACHE_SCHEMA } from '../src/cache/layer-cache.js';
import { inspectReport } from '../src/analyze/report.js';
import { listView } from '../src/model/views.js';

const fixture = (name: string) => join(import.meta.dirname, '..', '..', 'testdata', name);

test('a second read from the layer cache gives the same report and views', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-cache-'));
  try {
    const cache = new LayerCache({ dir, maxBytes: 1 << 30 });
    const first = await readImage(await openImage(fixture('tiny-overlay.oci.tar')), { cache });
    const files = readdirSync(join(dir, `v${CACHE_SCHEMA}`));
    t.is(files.filter((f) => f.endsWith('.bin')).length, 8);
    const second = await readImage(await openImage(fixture('tiny-overlay.oci.tar')), { cache });
    t.deepEqual(inspectReport(second), inspectReport(first));
    t.deepEqual([...listView(second, 6)], [...listView(first, 6)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a cached layer keeps the facts of the blob it is read for (gzip vs zstd of the same diffID)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-cache-'));
  try {
    const cache = new LayerCache({ dir, maxBytes: 1 << 30 });
    await readImage(await openImage(fixture('tiny-overlay.oci.tar')), { cache });
    const cold = await readImage(await openImage(fixture('tiny-overlay-zstd.oci-layout.tar')));
    const warm = await readImage(await openImage(fixture('tiny-overlay-zstd.oci-layout.tar')), { cache });
    t.deepEqual(inspectReport(warm), inspectReport(cold));
    t.is(warm.layers[0].compression, 'zstd');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('damaged or stale cache entries are misses, and the size cap evicts the oldest', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-cache-'));
  try {
    const cache = new LayerCache({ dir, maxBytes: 1 << 30 });
    const model = await readImage(await openImage(fixture('tiny-dockerfile.docker.tar')), { cache });
    const diffId = model.layers[0].diffId;
    const file = join(dir, `v${CACHE_SCHEMA}`, `${diffId.replace(':', '-')}.bin`);
    writeFileSync(file, 'garbage');
    t.is(await cache.get(diffId), undefined);
    const small = new LayerCache({ dir, maxBytes: 1 });
    await small.put(diffId, { records: model.layers[0].records, blobDigest: diffId, blobSize: 1, diffId, compression: 'none' });
    t.deepEqual(readdirSync(join(dir, `v${CACHE_SCHEMA}`)).filter((f) => f.endsWith('.bin')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a cache directory that cannot be made is said once and skipped, even under /proc where Node\'s recursive mkdir never returns', async (t) => {
  const env = { STRATA_CACHE_DIR: '/proc/strata-no-such-dir/cache', STRATA_NO_CACHE: '' };
  const [cached, plain] = await Promise.all([
    runStrata(['inspect', fixture('tiny-overlay.oci.tar'), fixture('tiny-commit.docker.tar')], { env, timeoutMs: 30_000 }),
    runStrata(['inspect', '--no-cache', fixture('tiny-overlay.oci.tar'), fixture('tiny-commit.docker.tar')]),
  ]);
  t.false(cached.timedOut);
  t.is(cached.code, 0, cached.stderr);
  t.is(cached.stdout, plain.stdout);
  t.is(cached.stderr, 'strata: cannot write the cache directory /proc/strata-no-such-dir/cache (ENOENT); going on without a cache\n');
});

test('makeDir makes every missing component and fails, not loops, where a parent refuses', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-mkdir-'));
  try {
    await makeDir(join(dir, 'a', 'b', 'c'));
    await makeDir(join(dir, 'a', 'b', 'c')); // existing: no error
    t.true(statSync(join(dir, 'a', 'b', 'c')).isDirectory());
    await t.throwsAsync(makeDir('/proc/strata-no-such-dir/x'), { code: 'ENOENT' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a layer cache hit for the same local blob opens it once (hashed, not scanned); another blob of the same diffID is proven once by inflating it, not scanned', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-cache-'));
  try {
    const cache = new LayerCache({ dir, maxBytes: 1 << 30 });
    await readImage(await openImage(fixture('tiny-overlay.oci.tar')), { cache });
    const counted = async (name: string) => {
      const image = await openImage(fixture(name));
      const opens = image.layers.map(() => 0);
      for (const l of image.layers) {
        const open = l.open.bind(l);
        l.open = () => (opens[l.index]++, open());
        delete l.file; // only open() reads the blob
      }
      return { image, opens };
    };
    const same = await counted('tiny-overlay.oci.tar');
    await readImage(same.image, { cache });
    t.deepEqual(same.opens, same.opens.map(() => 1));
    const zstd = await counted('tiny-overlay-zstd.oci-layout.tar');
    let scanned = 0;
    const warm = await readImage(zstd.image, { cache, onScanned: () => scanned++ });
    // no verified read had mapped the zstd blobs to these diffIDs: each is hashed, inflated and hashed (not parsed), sniffed
    t.deepEqual(zstd.opens, zstd.opens.map(() => 3));
    t.is(scanned, 0);
    const again = await counted('tiny-overlay-zstd.oci-layout.tar');
    await readImage(again.image, { cache });
    t.deepEqual(again.opens, again.opens.map(() => 2), 'now hashed and sniffed only');
    t.true(warm.layers.every((l) => l.compression === 'zstd'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
