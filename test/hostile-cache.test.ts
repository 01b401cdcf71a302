/**
 * Cache trust (issue 29, class 8): a layer or report cached for honest bytes must never stand for
 * other bytes that merely claim the same diffID (or the same blob digest). A hit rests on a digest
 * of these very bytes that a verified read mapped to the diffID.
 */
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openImage } from '../src/sources/resolve.js';
import { readImage, type RecordStore } from '../src/model/read-image.js';
import { LayerCache } from '../src/cache/layer-cache.js';
import type { Image, Layer } from '../src/image/image.js';
import {
  blobPath, buildLayer, dockerArchiveFiles, ociLayoutFiles, tempDir, writeDir, writeTar, type Files,
} from './helpers/image-builder.js';
import { file } from './helpers/tar-writer.js';
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
