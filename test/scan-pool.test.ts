import test from 'ava';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ScanPool } from '../src/scan/scan-pool.js';
import { scanLayer } from '../src/scan/scan-layer.js';
import { StrataError } from '../src/util/errors.js';
import { DirTree, TarTree } from '../src/sources/file-tree.js';
import { layersToSplit, readImage } from '../src/model/read-image.js';
import { openImage } from '../src/sources/resolve.js';
import { inspectReport } from '../src/analyze/report.js';
import { noise, writeOciLayout } from './helpers/image-builder.js';
import { file, tar } from './helpers/tar-writer.js';

function tarOf(files: [string, Buffer][]): Buffer {
  return tar(files.map(([name, data]) => file(name, data, { mtime: 0 })));
}

async function* chunked(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield Buffer.from(buf.subarray(i, i + size));
}

/** A pool of `size` workers and a scratch directory, both gone after `f`. */
async function withPool<T>(size: number, f: (pool: ScanPool, dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-pool-'));
  const pool = new ScanPool(size);
  try {
    return await f(pool, dir);
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a worker scan equals an in-process scan, chunk boundaries anywhere', async (t) => {
  const files: [string, Buffer][] = Array.from({ length: 300 }, (_, i) => [`d/f${i}`, Buffer.alloc(i * 97, i)]);
  const blob = gzipSync(tarOf(files));
  await withPool(2, async (pool) => {
    const local = await scanLayer(chunked(blob, 1 << 20));
    for (const size of [1, 511, 4096, 1 << 20]) {
      const remote = await pool.scan(chunked(blob, size));
      t.deepEqual(remote, local, `chunk size ${size}`);
    }
  });
});

test('a worker error is a StrataError and the pool keeps working', async (t) => {
  await withPool(1, async (pool, dir) => {
    const good = gzipSync(tarOf([['a', Buffer.from('hello')]]));
    const bad = Buffer.concat([good.subarray(0, 20), Buffer.alloc(64, 0xaa)]);
    writeFileSync(join(dir, 'bad'), bad);
    const err = await t.throwsAsync(pool.scan(createReadStream(join(dir, 'bad'))));
    t.true(err instanceof StrataError);
    t.regex(err!.message, /corrupt gzip/);
    const ok = await pool.scan(chunked(good, 7));
    t.deepEqual(ok.records.path, ['a']);
  });
});

test('a worker reads a blob from its range of a local file: a docker save member, an OCI blob, a missing file', async (t) => {
  await withPool(1, async (pool, dir) => {
    // 2.7 MB of varied bytes: files span the worker's 1 MiB reads, which reuse one buffer
    let x = 7;
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24));
    const layer = tarOf(Array.from({ length: 60 }, (_, i) => [`f${i}`, bytes(i * 1511 + 3)] as [string, Buffer]));
    t.true(layer.length > 2.5 * 1024 * 1024);
    for (const blob of [gzipSync(layer), layer]) {
      const local = await scanLayer(chunked(blob, 1 << 20));
      // a member of an archive: the range starts after other members and ends before more
      const archive = join(dir, 'save.tar');
      writeFileSync(archive, tarOf([['a/other', Buffer.alloc(700, 1)], ['b/layer.tar', blob], ['c/after', Buffer.alloc(900, 2)]]));
      const range = (await TarTree.index(archive)).locate('b/layer.tar')!;
      t.true(range.offset > 512);
      t.deepEqual(await pool.scan(range), local);
      const tree = new DirTree(dir);
      writeFileSync(join(dir, 'blob'), blob);
      await tree.prefetch(['blob']);
      t.deepEqual(await pool.scan(tree.locate('blob')!), local);
    }
    const err = await t.throwsAsync(pool.scan({ file: join(dir, 'gone'), offset: 0, size: 10 }));
    t.true(err instanceof StrataError);
    t.regex(err!.message, /ENOENT.*gone/);
  });
});

test('a layer scanned split (inflated on one worker, parsed on another, digests beside them) is the unsplit scan, errors included', async (t) => {
  await withPool(2, async (pool, dir) => {
    const range = (name: string, bytes: Buffer) => {
      writeFileSync(join(dir, name), bytes);
      return { file: join(dir, name), offset: 0, size: bytes.length };
    };
    const layer = tarOf(Array.from({ length: 40 }, (_, i) => [`d/f${i}`, noise(i * 2311 + 5, i)] as [string, Buffer]));
    for (const [name, blob] of [['gzip', gzipSync(layer)], ['plain', layer]] as const) {
      const r = range(name, blob);
      const whole = await pool.scan(r);
      t.true(whole.diffId.startsWith('sha256:') && whole.blobDigest.startsWith('sha256:'));
      const before = pool.hashedHere;
      t.deepEqual(await pool.scan(r, { split: true }), whole, name);
      // gzip: one worker inflates, another parses and takes the diffID, the main thread the blob's
      // digest; plain: one worker parses, another takes the digest (the main thread none)
      t.is(pool.hashedHere - before, name === 'gzip' ? blob.length : 0, name);
    }
    // sha512, as an image may name its digests: the same digests either way
    const r = range('sha512', gzipSync(layer));
    const algorithms = { blob: 'sha512', diff: 'sha512' } as const;
    const whole512 = await pool.scan(r, { algorithms });
    t.true(whole512.diffId.startsWith('sha512:') && whole512.blobDigest.startsWith('sha512:'));
    t.deepEqual(await pool.scan(r, { split: true, algorithms }), whole512);
    // the same error as unsplit: a truncated tar (the parser's), corrupt gzip (both fail alike)
    for (const [name, blob] of [['cut', layer.subarray(0, 30_000)], ['corrupt', Buffer.concat([gzipSync(layer).subarray(0, 5000), Buffer.alloc(3000, 0xaa)])]] as const) {
      const r = range(name, blob);
      const unsplit = await t.throwsAsync(pool.scan(r));
      const split = await t.throwsAsync(pool.scan(r, { split: true }));
      t.true(split instanceof StrataError);
      t.is(split!.message, unsplit!.message, name);
    }
    // the pool is whole after the failures
    t.deepEqual((await pool.scan(range('again', layer), { split: true })).records.path.length, 40);
  });
});

test('which layers are scanned split: one big enough and bigger than twice all the others, with two workers or more', (t) => {
  const MB = 1024 * 1024;
  t.deepEqual(layersToSplit([100 * MB], 2), [true]);
  t.deepEqual(layersToSplit([100 * MB, 30 * MB, 20 * MB], 2), [true, false, false]);
  t.deepEqual(layersToSplit([100 * MB, 30 * MB, 21 * MB], 2), [false, false, false]);
  t.deepEqual(layersToSplit([100 * MB], 1), [false]);
  t.deepEqual(layersToSplit([31 * MB], 2), [false]);
  t.deepEqual(layersToSplit([31 * MB], 2, 1), [true]);
  t.deepEqual(layersToSplit([undefined, 100 * MB], 2), [false, true]);
});

test('readImage scans an image’s one big layer split: the same model, and the same digest errors', async (t) => {
  await withPool(2, async (pool, dir) => {
    // over 4 MiB, so that a worker scans it; a small second layer beside it
    const big = [file('big', noise(5 * 1024 * 1024, 21)), file('small', 'x')];
    for (const compression of ['gzip', 'none', 'zstd'] as const) {
      const at = join(dir, compression);
      writeOciLayout(at, { images: [{ layers: [{ entries: big, compression }, { entries: [file('top', 'y')] }] }] });
      // a fresh pool for each, to count the workers the scan takes (the small layer is scanned in-process)
      const counted = (splitMinBytes: number) =>
        withPool(2, async (own) => ({ model: await readImage(await openImage(at), { pool: own, splitMinBytes }), workers: own.workersStarted, hashed: own.hashedHere }));
      const { model: split, workers, hashed } = await counted(1);
      const { model: whole, workers: one, hashed: none } = await counted(Infinity);
      // split, two workers: inflating and parsing (the main thread hashing the blob), or, for a
      // plain or zstd layer, parsing and hashing
      t.deepEqual([workers, one], [2, 1], compression);
      t.deepEqual([hashed, none], [compression === 'gzip' ? split.layers[0].blobSize : 0, 0], compression);
      t.deepEqual(inspectReport(split), inspectReport(whole), compression);
      t.deepEqual(split.layers[0].records, whole.layers[0].records);
    }
    const wrong = `sha256:${'3'.repeat(64)}`;
    const at = join(dir, 'wrong');
    writeOciLayout(at, { images: [{ layers: [{ entries: big }], config: { rootfs: { type: 'layers', diff_ids: [wrong] } } }] });
    const message = async (splitMinBytes: number) => (await t.throwsAsync(readImage(await openImage(at), { pool, splitMinBytes })))!.message;
    t.regex(await message(1), /diff_id \(sha256 of the uncompressed layer\) mismatch: expected sha256:3{64}, got sha256:/);
    t.is(await message(1), await message(Infinity));
  });
});

test('a split scan stops at once when either side fails, whatever the other was waiting for', async (t) => {
  await withPool(2, async (pool, dir) => {
    const range = (name: string, bytes: Buffer) => {
      writeFileSync(join(dir, name), bytes);
      return { file: join(dir, name), offset: 0, size: bytes.length };
    };
    // 48 MB of tar: more than both rings hold, so the inflater is waiting for room when the parser stops
    const layer = tarOf([['a', Buffer.alloc(48 * 1024 * 1024, 'a')], ['b', Buffer.from('b')]]);
    const badHeader = Buffer.from(layer);
    badHeader.fill(0x41, 0, 100); // the first header's name and checksum no longer agree
    const cases: [string, Buffer][] = [
      ['bad first header', gzipSync(badHeader)],
      ['cut inside the big file', gzipSync(layer.subarray(0, 30 * 1024 * 1024))],
      // a tar that starts like gzip is a bad tar, not gzip to inflate once more (the parser takes the tar as it is)
      ['gzip inside gzip', gzipSync(gzipSync(layer))],
      ['corrupt deep inside', (() => {
        const z = gzipSync(layer);
        return Buffer.concat([z.subarray(0, z.length >> 1), Buffer.alloc(4096, 0x55), z.subarray(z.length >> 1)]);
      })()],
    ];
    for (const [name, blob] of cases) {
      const r = range(name.replace(/ /g, '-'), blob);
      const unsplit = await t.throwsAsync(pool.scan(r));
      const split = await t.throwsAsync(pool.scan(r, { split: true }));
      t.true(split instanceof StrataError, name);
      t.is(split!.message, unsplit!.message, name);
    }
    t.deepEqual((await pool.scan(range('whole', gzipSync(layer)), { split: true })).records.path, ['a', 'b']);
  });
});

test('while a split scan holds both workers, readImage scans a small layer on its own thread instead of queueing it', async (t) => {
  class Counting extends ScanPool {
    scans = 0;
    override scan(...args: Parameters<ScanPool['scan']>) {
      this.scans++;
      return super.scan(...args);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'strata-pool-'));
  const pool = new Counting(2);
  try {
    // between the in-process limit (4 MiB) and the beside-a-split one (16 MiB), and under half the big one (so that it is split)
    const at = join(dir, 'img');
    writeOciLayout(at, { images: [{ layers: [{ entries: [file('big', noise(12 * 1024 * 1024, 3))] }, { entries: [file('mid', noise(5 * 1024 * 1024, 4))] }] }] });
    const split = await readImage(await openImage(at), { pool, splitMinBytes: 1 });
    t.is(pool.scans, 1, 'only the big layer went to the pool');
    const whole = await readImage(await openImage(at), { pool: new Counting(1) });
    t.deepEqual(inspectReport(split), inspectReport(whole));
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
