/**
 * Cache trust (issue 29, class 8): a layer or report cached for honest bytes must never stand for
 * other bytes that merely claim the same diffID (or the same blob digest). A hit rests on a digest
 * of these very bytes that a verified read mapped to the diffID.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { openImage } from '../src/sources/resolve.js';
import { readImage, type RecordStore } from '../src/model/read-image.js';
import { CACHE_SCHEMA, decodeScan, LayerCache } from '../src/cache/layer-cache.js';
import type { Image, Layer } from '../src/image/image.js';
import {
  blobPath, buildLayer, dockerArchiveFiles, ociLayoutFiles, tempDir, writeDir, writeTar, type Files,
} from './helpers/image-builder.js';
import { file, hardlink, symlink } from './helpers/tar-writer.js';
import { refuses, succeeds, assertNoSecretsInTree } from './helpers/hostile.js';

const ghToken = () => `ghp_${randomBytes(27).toString('base64').replace(/[^A-Za-z0-9]/g, 'a').slice(0, 36)}`;

function tmp(t: ExecutionContext): string {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  return dir;
}

const honestEntries = () => [file('etc/motd', 'hello\n'), file('app/main.js', 'console.log(1)\n')];
const tamperedEntries = (secret: string) => [file('etc/motd', 'hello\n'), file('app/.env', `GITHUB_TOKEN=${secret}\n`)];

/** An OCI layout whose one layer is `entries`, then the same files with the layer blob replaced by `blob` (digest kept). */
function layoutWithBlob(dir: string, entries: ReturnType<typeof honestEntries>, blob?: Buffer): string {
  const built = ociLayoutFiles({ images: [{ layers: [{ entries }] }] });
  if (blob) built.files.set(blobPath(built.images[0].layers[0].digest), blob);
  return writeDir(dir, built.files);
}

/** Counts the layers a read scans, over a real layer cache. */
async function scans(image: Image, cache: RecordStore): Promise<number> {
  let n = 0;
  await readImage(image, { cache, onScanned: () => n++ });
  return n;
}

test('an honest image is served from the layer cache on a second read (its blob hashed, not scanned)', async (t) => {
  const root = tmp(t);
  const cache = new LayerCache({ dir: join(root, 'cache'), maxBytes: 1 << 30 });
  const path = layoutWithBlob(join(root, 'honest'), honestEntries());
  t.is(await scans(await openImage(path), cache), 1);
  t.is(await scans(await openImage(path), cache), 0);
});

test('a blob with other bytes under the cached layer\'s digest and diffID is read, and refused, not served from the cache', async (t) => {
  const root = tmp(t);
  const cache = new LayerCache({ dir: join(root, 'cache'), maxBytes: 1 << 30 });
  const honest = layoutWithBlob(join(root, 'honest'), honestEntries());
  await scans(await openImage(honest), cache);
  const secret = ghToken();
  const evil = layoutWithBlob(join(root, 'evil'), honestEntries(), buildLayer({ entries: tamperedEntries(secret) }).blob);
  const e = await t.throwsAsync(readImage(await openImage(evil), { cache }));
  t.regex(e!.message, /^layer 0 \(blobs\/sha256\/[0-9a-f…]+\): blob digest mismatch: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}$/);
});

test('a legacy docker save (plain tar, no blob digest) claiming a cached diffID is scanned, and refused', async (t) => {
  const root = tmp(t);
  const cache = new LayerCache({ dir: join(root, 'cache'), maxBytes: 1 << 30 });
  const honest = dockerArchiveFiles({ images: [{ layers: [{ entries: honestEntries() }] }] });
  const honestPath = await writeTar(join(root, 'honest.tar'), honest.files, { dirs: true });
  t.is(await scans(await openImage(honestPath), cache), 1);
  t.is(await scans(await openImage(honestPath), cache), 0);
  const secret = ghToken();
  const files: Files = new Map(honest.files);
  files.set(honest.layerPaths[0][0], buildLayer({ entries: tamperedEntries(secret), compression: 'none' }).blob);
  const evilPath = await writeTar(join(root, 'evil.tar'), files, { dirs: true });
  const e = await t.throwsAsync(readImage(await openImage(evilPath), { cache }));
  t.regex(e!.message, /diff_id \(sha256 of the uncompressed layer\) mismatch/);
});

test('bytes from a registry are named by their digest: a stored scan serves a layer only under a digest a verified read gave', async (t) => {
  const root = tmp(t);
  const cache = new LayerCache({ dir: join(root, 'cache'), maxBytes: 1 << 30 });
  const honest = buildLayer({ entries: honestEntries() });
  const evil = buildLayer({ entries: tamperedEntries(ghToken()) });
  let opened = 0;
  const remoteImage = (blob: Buffer, digest: string): Image => {
    const layer: Layer = {
      index: 0, diffId: honest.diffId, digest, blobSize: blob.length, where: 'layer 0 (remote)', contentAddressed: true,
      open: () => { opened++; return (async function* () { yield blob; })(); },
    };
    return { ref: 'r', source: 'registry', tags: [], configDigest: 'sha256:' + '0'.repeat(64), config: { rootfs: { type: 'layers', diff_ids: [honest.diffId] } }, platform: { os: 'linux', architecture: 'amd64' }, layers: [layer] };
  };
  t.is(await scans(remoteImage(honest.blob, honest.digest), cache), 1);
  t.is(opened, 1);
  t.is(await scans(remoteImage(honest.blob, honest.digest), cache), 0);
  t.is(opened, 1, 'a vouched registry layer is not fetched again');
  // another digest claiming the cached diffID: fetched and verified (and its bytes give another diffID)
  const e = await t.throwsAsync(readImage(remoteImage(evil.blob, evil.digest), { cache }));
  t.regex(e!.message, /diff_id \(sha256 of the uncompressed layer\) mismatch/);
  t.is(opened, 2);
});

test('through the CLI with a cache: the tampered archive fails (exit 2) after the honest one filled the layer and report caches, and no secret reaches the caches', async (t) => {
  const root = tmp(t);
  const env = { STRATA_NO_CACHE: '', STRATA_CACHE_DIR: join(root, 'cache') };
  const honest = layoutWithBlob(join(root, 'honest'), honestEntries());
  await succeeds(t, ['inspect', honest], { env });
  await succeeds(t, ['inspect', honest], { env }); // the report cache is filled and served
  const secret = ghToken();
  const evil = layoutWithBlob(join(root, 'evil'), honestEntries(), buildLayer({ entries: tamperedEntries(secret) }).blob);
  const msg = await refuses(t, ['inspect', evil], { env, secrets: [secret] });
  t.regex(msg, /^layer 0 \(blobs\/sha256\/[0-9a-f…]+\): blob digest mismatch/);
  assertNoSecretsInTree(t, join(root, 'cache'), [secret]);
});

// --- a cache restored from elsewhere (a CI cache of another branch): entries crafted, not damaged ------

/** The layer records the CLI stored for `image` under `root`, as [file, header, columns after it]. */
async function storedRecords(t: ExecutionContext, root: string, image: string): Promise<{ file: string; header: Record<string, unknown>; body: Buffer }[]> {
  await succeeds(t, ['inspect', image], { env: { STRATA_NO_CACHE: '', STRATA_CACHE_DIR: root } });
  const dir = join(root, 'layers', `v${CACHE_SCHEMA}`);
  return readdirSync(dir).filter((n) => n.endsWith('.bin')).map((n) => {
    const buf = readFileSync(join(dir, n));
    const hl = buf.readUInt32LE(0);
    return { file: join(dir, n), header: JSON.parse(buf.toString('utf8', 4, 4 + hl)), body: buf.subarray(4 + hl) };
  });
}

function entry(header: Record<string, unknown>, body: Buffer): Buffer {
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(h.length);
  return Buffer.concat([len, h, body]);
}

test('layer records that decode but that no scan could have made are misses, not crashes (kinds, sizes, paths, every map of the header)', async (t) => {
  const root = tmp(t);
  const built = ociLayoutFiles({ images: [{ layers: [{ entries: [file('etc/motd', 'hello\n'), symlink('etc/link', 'motd'), hardlink('etc/hard', 'etc/motd'), file('app/main.js', 'console.log(1)\n')] }] }] });
  const [{ header: h, body }] = await storedRecords(t, root, writeDir(join(root, 'img'), built.files));
  const n = h.count as number;
  const diffId = h.diffId as string;
  t.truthy(decodeScan(entry(h, body), diffId), 'the stored entry itself decodes');
  // columns: size (n×8), mtime (n×8), mode, uid, gid (n×4 each), kind (n), flags (n), hashes, then the paths
  const column = (at: number, write: (b: Buffer) => void) => {
    const b = Buffer.from(body);
    write(b.subarray(at));
    return b;
  };
  const paths = body.toString('utf8', n * 30 + n * 16).split('\0');
  const withPath = (i: number, p: string) => Buffer.concat([body.subarray(0, n * 30 + n * 16), Buffer.from(paths.map((x, j) => (j === i ? p : x)).join('\0'))]);
  const hardRow = paths.indexOf('etc/hard');
  const crafted: Record<string, Buffer> = {
    'kind 99': entry(h, column(n * 28, (b) => b.writeUInt8(99, 0))),
    'size NaN': entry(h, column(0, (b) => b.writeDoubleLE(NaN, 0))),
    'size negative': entry(h, column(0, (b) => b.writeDoubleLE(-1e18, 0))),
    'mtime Infinity': entry(h, column(n * 8, (b) => b.writeDoubleLE(Infinity, 0))),
    'a path climbing out': entry(h, withPath(0, '../../etc/passwd')),
    'a path not normalised': entry(h, withPath(0, 'etc//motd')),
    'a hardlink target climbing out': entry({ ...h, link: { ...(h.link as object), [hardRow]: '../x' } }, body),
    'a link of a row past the end': entry({ ...h, link: { [n + 5]: 'x' } }, body),
    'a link that is a number': entry({ ...h, link: { ...(h.link as object), [hardRow]: 42 } }, body),
    'xattrs null': entry({ ...h, xattrs: null }, body),
    'xattrs a string': entry({ ...h, xattrs: { 0: 'x' } }, body),
    'dev a string': entry({ ...h, dev: { 0: 'x' } }, body),
    'secrets a string': entry({ ...h, secrets: 'oops' }, body),
    'a secret hit without a fingerprint': entry({ ...h, secrets: { 0: [{ rule: 'private-key', line: 1 }] } }, body),
    'a package file of a row past the end': entry({ ...h, packageFiles: { [n]: 0 } }, body),
    'an unknown compression': entry({ ...h, compression: 'lz4' }, body),
    'negative file bytes': entry({ ...h, fileBytes: -5 }, body),
    'a count that is not a number': entry({ ...h, count: 'many' }, body),
  };
  for (const [what, buf] of Object.entries(crafted)) t.is(decodeScan(buf, diffId), undefined, what);
});

test('a FIFO or a link to /dev/zero in place of cache entries: misses, no hang, the same report', async (t) => {
  const root = tmp(t);
  const image = layoutWithBlob(join(root, 'honest'), honestEntries());
  const cache = join(root, 'cache');
  const env = { STRATA_NO_CACHE: '', STRATA_CACHE_DIR: cache };
  const expected = (await succeeds(t, ['inspect', image, '--json'], { env: { STRATA_NO_CACHE: '1' } })).stdout;
  await succeeds(t, ['inspect', image], { env });
  const entries = readdirSync(cache, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  t.true(entries.some((p) => p.endsWith('.bin')) && entries.some((p) => p.endsWith('.json')));
  for (const plant of ['fifo', 'zero'] as const) {
    for (const p of entries) {
      rmSync(p);
      if (plant === 'fifo') execFileSync('mkfifo', [p]);
      else symlinkSync('/dev/zero', p);
    }
    const r = await succeeds(t, ['inspect', image, '--json'], { env, ms: 20_000, rssMb: 300 });
    t.is(r.stdout, expected, plant);
  }
});

test('what the cache keeps only its user can read: directories 0700, entries 0600', async (t) => {
  const root = tmp(t);
  const cache = join(root, 'cache');
  await succeeds(t, ['inspect', layoutWithBlob(join(root, 'honest'), honestEntries())], { env: { STRATA_NO_CACHE: '', STRATA_CACHE_DIR: cache } });
  const modes = [cache, ...readdirSync(cache, { recursive: true }).map((p) => join(cache, String(p)))].filter((p) => !p.includes(`${join(cache, 'compiled')}`)).map((p) => {
    const st = lstatSync(p);
    return `${st.isDirectory() ? 'dir' : 'file'} ${(st.mode & 0o777).toString(8)}`;
  });
  t.true(modes.length > 4, modes.join(' '));
  t.deepEqual([...new Set(modes)].sort(), ['dir 700', 'file 600']);
});
