/**
 * Issue 29, classes 1 and 3: every JSON document strata reads is validated by schema (a wrong type
 * is one `strata:` line naming the file and the field, never an internal error), no message quotes
 * more than a short escaped excerpt of the input, and every registered digest algorithm (sha256,
 * sha512) is verified while any other is refused.
 */
import test, { type ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import {
  blobPath, dockerArchiveFiles, ociLayoutFiles, sha256, tempDir, writeDir, writeTar, type BuiltLayout, type ImageSpec,
} from './helpers/image-builder.js';
import { refuses, succeeds } from './helpers/hostile.js';
import { file } from './helpers/tar-writer.js';

const BOUNDS = { ms: 20_000, rssMb: 300 };
const MARKER = 'VICTIM-MARKER-7f3a9c';

function tmp(t: ExecutionContext): string {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  return dir;
}

const okSpec = (): ImageSpec => ({ layers: [{ entries: [file('etc/motd', 'hello\n')] }] });
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

function layout(t: ExecutionContext, mutate: (b: BuiltLayout) => void, spec = okSpec()): string {
  const built = ociLayoutFiles({ images: [spec] });
  mutate(built);
  return writeDir(`${tmp(t)}/layout`, built.files);
}

/** Store `manifest` under its digest and make index.json list only it; returns the digest. */
function pointIndexAt(b: BuiltLayout, manifest: Buffer): string {
  const d = sha256(manifest);
  b.files.set(blobPath(d), manifest);
  b.files.set('index.json', json({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d, size: manifest.length }] }));
  return d;
}

const manifestOf = (b: BuiltLayout) => JSON.parse(b.images[0].manifest.toString()) as { config: { digest: string; size: number }; layers: { digest: string; size: number; mediaType: string }[] };

test('null and wrong types in index.json: the field path and what was expected', async (t) => {
  const cases: [unknown, string][] = [
    [null, 'must be an object, not null'],
    [[], 'must be an object, not an array'],
    [{ schemaVersion: 2, manifests: [null] }, 'manifests[0] must be an object, not null'],
    [{ schemaVersion: 2, manifests: {} }, 'manifests must be an array, not an object'],
    [{ schemaVersion: 2, manifests: [{ digest: sha256('x'), size: '1' }] }, 'manifests[0].size must be a number, not a string'],
    [{ schemaVersion: 2, manifests: [{ digest: sha256('x'), size: 1, annotations: { 'org.opencontainers.image.ref.name': 7 } }] }, 'manifests[0].annotations["org.opencontainers.image.ref.name"] must be a string, not a number'],
    [{ schemaVersion: 2, manifests: [{ digest: sha256('x'), size: 1, platform: null }] }, 'manifests[0].platform must be an object, not null'],
  ];
  for (const [doc, message] of cases) {
    const dir = layout(t, (b) => b.files.set('index.json', json(doc)));
    t.is(await refuses(t, ['inspect', dir], BOUNDS), `${dir}/index.json: ${message}`);
  }
});

test('null and wrong types in a manifest and a config', async (t) => {
  let d = '';
  const nullLayer = layout(t, (b) => (d = pointIndexAt(b, json({ ...manifestOf(b), layers: [null] }))));
  t.is(await refuses(t, ['inspect', nullLayer], BOUNDS), `${nullLayer} manifest ${d}: layers[0] must be an object, not null`);
  const nullConfig = layout(t, (b) => (d = pointIndexAt(b, json({ ...manifestOf(b), config: null }))));
  t.is(await refuses(t, ['inspect', nullConfig], BOUNDS), `${nullConfig} manifest ${d}: config must be an object, not null`);
  const spec: ImageSpec = { ...okSpec(), config: { rootfs: { type: 'layers', diff_ids: [null] } } };
  const built = ociLayoutFiles({ images: [spec] });
  const dir = writeDir(`${tmp(t)}/layout`, built.files);
  t.is(await refuses(t, ['inspect', dir], BOUNDS), `${dir} config ${built.images[0].configDigest}: rootfs.diff_ids[0] must be a string, not null`);
});

test('docker save manifest.json: a null entry, RepoTags that are not strings', async (t) => {
  const cases: [(m: Record<string, unknown>[]) => unknown, string][] = [
    [() => [null], '[0] must be an object, not null'],
    [(m) => [{ ...m[0], RepoTags: [1, {}] }], '[0].RepoTags[0] must be a string, not a number'],
    [(m) => [{ ...m[0], RepoTags: 'app:1' }], '[0].RepoTags must be an array, not a string'],
    [(m) => [{ ...m[0], Layers: [null] }], '[0].Layers[0] must be a string, not null'],
    [(m) => [{ ...m[0], Config: undefined }], '[0].Config is missing (expected a string)'],
  ];
  for (const [mutate, message] of cases) {
    const save = dockerArchiveFiles({ images: [okSpec()] });
    save.files.set('manifest.json', json(mutate(JSON.parse((save.files.get('manifest.json') as Buffer).toString()))));
    const path = await writeTar(`${tmp(t)}/save.tar`, save.files);
    t.is(await refuses(t, ['inspect', path], BOUNDS), `${path}: manifest.json: ${message}`);
  }
});

test('a config nested deeper than 256 levels in a field nobody reads: one line, not a stack overflow; 256 levels read', async (t) => {
  const nested = (levels: number) => {
    let v: unknown = 'x';
    for (let i = 0; i < levels; i++) v = i % 2 ? { k: v } : [v];
    return v;
  };
  // the config object is the first level, Healthcheck.Test (a field strata reads) the third
  const deep: ImageSpec = { ...okSpec(), config: { unknown: nested(2000), config: { Healthcheck: { Test: nested(2500) } } } };
  const built = ociLayoutFiles({ images: [deep] });
  const dir = writeDir(`${tmp(t)}/layout`, built.files);
  t.regex(await refuses(t, ['inspect', dir], BOUNDS), new RegExp(`^${dir} config ${built.images[0].configDigest}: nested deeper than 256 levels at byte \\d+$`));
  const atLimit = ociLayoutFiles({ images: [{ ...okSpec(), config: { unknown: nested(255) } }] });
  await succeeds(t, ['inspect', writeDir(`${tmp(t)}/layout`, atLimit.files)], BOUNDS);
});

test('an index of indexes fanning out: refused after 256 nested indexes or 65,536 manifests, not walked for hours', async (t) => {
  const IDX = 'application/vnd.oci.image.index.v1+json';
  const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
  // eight levels, each listing the level below ten times: 10^8 walks of one index per level
  let fanned = '';
  const deep = layout(t, (b) => {
    let below = json({ schemaVersion: 2, manifests: [] });
    for (let level = 0; level < 8; level++) {
      const d = sha256(below);
      b.files.set(blobPath(d), below);
      below = json({ schemaVersion: 2, manifests: Array.from({ length: 10 }, () => ({ mediaType: IDX, digest: d, size: below.length })) });
    }
    b.files.set('index.json', below);
    fanned = JSON.parse(below.toString()).manifests[0].digest;
  });
  t.regex(await refuses(t, ['inspect', deep], BOUNDS), new RegExp(`^${deep} index\\.json -> ${fanned.slice(0, 19)}( -> sha256:[0-9a-f]{12})+: more than 256 nested image indexes$`));
  // one index listing the image 65,537 times (a registry caps an index at 4 MiB; a layout at 64)
  const wide = layout(t, (b) => {
    const m = JSON.parse(b.files.get('index.json')!.toString()).manifests[0];
    b.files.set('index.json', json({ schemaVersion: 2, manifests: Array.from({ length: 65_537 }, () => ({ ...m, mediaType: MANIFEST })) }));
  });
  t.is(await refuses(t, ['inspect', wide], BOUNDS), `${wide} index.json: more than 65536 image manifests`);
});

test('a JSON syntax error quotes at most a short escaped excerpt of the input', async (t) => {
  // what an index.json pointing at /etc/passwd looked like: the marker lies past the excerpt
  const passwd = `root:x:0:0:root:/root:/bin/bash\n${MARKER}:x:1000:1000::/home/v:/bin/sh\n`;
  const dir = layout(t, (b) => b.files.set('index.json', Buffer.from(passwd)));
  t.is(await refuses(t, ['inspect', dir], { ...BOUNDS, secrets: [MARKER, '/bin/bash'] }), `${dir}/index.json: not valid JSON at byte 0 ("root:x:0:0:root:/roo…")`);
  // control bytes in the excerpt come out escaped (refuses() asserts no raw control byte)
  const ctl = layout(t, (b) => b.files.set('index.json', Buffer.from('{"a":\x1b[31m\x07\x9b}')));
  t.is(await refuses(t, ['inspect', ctl], BOUNDS), `${ctl}/index.json: not valid JSON at byte 5 ("\\u001b[31m\\u0007\\u009b}")`);
  const utf8 = layout(t, (b) => b.files.set('index.json', Buffer.from([0x7b, 0x22, 0x61, 0xff, 0x22, 0x7d])));
  t.is(await refuses(t, ['inspect', utf8], BOUNDS), `${utf8}/index.json: not valid UTF-8 at byte 3`);
});

// ---- digests -------------------------------------------------------------------------------------

const sha512 = (b: Buffer) => `sha512:${createHash('sha512').update(b).digest('hex')}`;
const blob512 = (d: string) => `blobs/sha512/${d.slice(7)}`;

/** The image with its config and layer stored under sha512 digests; `tamper` may swap stored bytes. */
function sha512Layout(t: ExecutionContext, tamper?: { config?: Buffer; layer?: Buffer }): { dir: string; config: string; layer: string; manifest: string } {
  let out = { config: '', layer: '', manifest: '' };
  const dir = layout(t, (b) => {
    const img = b.images[0];
    const config = sha512(img.config);
    const layer = sha512(img.layers[0].blob);
    b.files.set(blob512(config), tamper?.config ?? img.config);
    b.files.set(blob512(layer), tamper?.layer ?? img.layers[0].blob);
    const m = manifestOf(b);
    m.config.digest = config;
    m.layers[0].digest = layer;
    const manifest = pointIndexAt(b, json(m));
    out = { config, layer, manifest };
  });
  return { dir, ...out };
}

test('sha512 digests are verified: an honest image reads, a tampered config or layer is refused', async (t) => {
  const honest = sha512Layout(t);
  const r = await succeeds(t, ['inspect', '--json', honest.dir], BOUNDS);
  t.true(r.stdout.includes(honest.layer), 'the sha512 layer digest is reported');
  const other = Buffer.from(ociLayoutFiles({ images: [{ layers: [{ entries: [file('etc/motd', 'HELLO\n')] }] }] }).images[0].config);
  const cfg = sha512Layout(t, { config: other });
  t.is(await refuses(t, ['inspect', cfg.dir], BOUNDS), `${cfg.dir} config ${cfg.config}: content does not match its digest (got ${sha512(other)})`);
  const otherLayer = ociLayoutFiles({ images: [{ layers: [{ entries: [file('etc/motd', 'HELLO\n')] }] }] }).images[0].layers[0].blob;
  const lay = sha512Layout(t, { layer: otherLayer });
  t.is(await refuses(t, ['inspect', lay.dir], BOUNDS), `layer 0 (${blob512(lay.layer).slice(0, 37)}…): blob digest mismatch: expected ${lay.layer}, got ${sha512(otherLayer)}`);
});

test('other digest algorithms and malformed digests are refused, naming the field', async (t) => {
  const cases: [string, string][] = [
    [`md5:${'a'.repeat(32)}`, 'uses unsupported digest algorithm "md5" (strata verifies sha256, sha512)'],
    [`sha256:${'a'.repeat(63)}`, 'is not a valid sha256 digest (expected 64 lowercase hex digits)'],
    [`sha512:${'a'.repeat(64)}`, 'is not a valid sha512 digest (expected 128 lowercase hex digits)'],
    [`sha256:${'A'.repeat(64)}`, 'is not a valid sha256 digest (expected 64 lowercase hex digits)'],
  ];
  for (const [digest, message] of cases) {
    let d = '';
    const dir = layout(t, (b) => {
      const m = manifestOf(b);
      m.layers[0].digest = digest;
      d = pointIndexAt(b, json(m));
    });
    t.is(await refuses(t, ['inspect', dir], BOUNDS), `${dir} manifest ${d}: layers[0].digest ${message}`);
  }
  // a docker save config named by a digest: the same rules for a diff_id
  const spec: ImageSpec = { ...okSpec(), config: { rootfs: { type: 'layers', diff_ids: [`md5:${'0'.repeat(32)}`] } } };
  const save = dockerArchiveFiles({ images: [spec] });
  const path = await writeTar(`${tmp(t)}/save.tar`, save.files);
  const name = `${save.images[0].configDigest.slice(7)}.json`;
  t.is(await refuses(t, ['inspect', path], BOUNDS), `${path}: ${name}: rootfs.diff_ids[0] uses unsupported digest algorithm "md5" (strata verifies sha256, sha512)`);
});
