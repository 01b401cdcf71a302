/**
 * Pulls from a real registry (Debian's docker-registry on 127.0.0.1) holding fixtures pushed by
 * skopeo; every pulled image is checked against the same fixture read from its file.
 */
import test from 'ava';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { openImage } from '../src/sources/resolve.js';
import { readImage, type ImageModel } from '../src/model/read-image.js';
import { listView } from '../src/model/views.js';
import { parsePlatform } from '../src/image/platform.js';
import type { RemoteOptions } from '../src/sources/remote.js';
import {
  push, startProxy, startRegistry, startTlsProxy, startTokenRegistry, tempDir,
  type Registry, type TokenServer,
} from './helpers/registry-harness.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('docker-registry', 'skopeo', 'htpasswd', 'openssl');

const OVERLAY = 'testdata/tiny-overlay.oci.tar';
const ZSTD = 'testdata/tiny-overlay-zstd.oci-layout.tar';
const MULTI = 'testdata/tiny-multiarch.oci-layout.tar';

/** An environment with no engine, no logins and a private HOME, so only what a test sets counts. */
function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = tempDir('home');
  return { PATH: process.env.PATH, HOME: home, DOCKER_HOST: `unix://${home}/no-docker.sock`, CONTAINER_HOST: `unix://${home}/no-podman.sock`, ...extra };
}

interface Pulled {
  model: ImageModel;
  notes: string[];
  cacheDir: string;
}

async function pull(ref: string, opts: RemoteOptions & { platform?: string } = {}): Promise<Pulled> {
  const notes: string[] = [];
  const cacheDir = opts.cacheDir ?? tempDir('cache');
  const image = await openImage(ref, {
    platform: opts.platform ? parsePlatform(opts.platform) : undefined,
    remote: { env: isolatedEnv(), backoffMs: 20, attempts: 4, timeoutMs: 10_000, ...opts, cacheDir, onNote: (m) => notes.push(m) },
  });
  return { model: await readImage(image, { concurrency: 3 }), notes, cacheDir };
}

async function local(path: string, platform?: string): Promise<ImageModel> {
  return readImage(await openImage(path, { platform: platform ? parsePlatform(platform) : undefined }));
}

/** What must agree between a pull and the fixture: blobs, diff_ids, and the whole union view. */
function same(t: import('ava').ExecutionContext, got: ImageModel, want: ImageModel): void {
  t.is(got.image.configDigest, want.image.configDigest);
  t.deepEqual(got.layers.map((l) => [l.digest, l.diffId, l.compression, l.blobSize, l.tarSize]),
    want.layers.map((l) => [l.digest, l.diffId, l.compression, l.blobSize, l.tarSize]));
  t.deepEqual([...listView(got)], [...listView(want)]);
}

function cachedBlobs(dir: string): string[] {
  const d = join(dir, 'blobs', 'sha256');
  return existsSync(d) ? readdirSync(d).map((h) => `sha256:${h}`) : [];
}

let reg: Registry;

test.before(async () => {
  reg = await startRegistry();
  // One after another: the two `tiny` images share their config blob, and docker-registry can lose
  // one of two concurrent uploads of the same blob ("manifest blob unknown", seen once in CI).
  await push(`oci-archive:${OVERLAY}`, `${reg.host}/tiny:overlay`);
  await push(`oci-archive:${ZSTD}`, `${reg.host}/tiny:zstd`);
  await push(`oci-archive:${MULTI}`, `${reg.host}/multi:latest`, { all: true });
});

test.after.always(async () => {
  await reg?.stop();
});

test('anonymous pull of a bare reference matches the fixture, and says where it came from', async (t) => {
  const { model, notes, cacheDir } = await pull(`${reg.host}/tiny:overlay`);
  same(t, model, await local(OVERLAY));
  t.is(model.image.source, 'registry');
  t.deepEqual(model.image.tags, [`${reg.host}/tiny:overlay`]);
  t.true(notes.some((n) => n.includes(`pulling ${reg.host}/tiny:overlay from the registry`)), notes.join('\n'));
  // Every layer and the config landed in the cache, verified.
  for (const l of model.layers) t.true(cachedBlobs(cacheDir).includes(l.digest), l.digest);
  t.true(cachedBlobs(cacheDir).includes(model.image.configDigest));
  t.deepEqual(readdirSync(join(cacheDir, 'tmp')), []);
});

test('docker:// forces the registry; a digest reference pins the manifest', async (t) => {
  const first = await pull(`docker://${reg.host}/tiny:overlay`);
  const digest = first.model.image.manifestDigest!;
  t.regex(digest, /^sha256:[a-f0-9]{64}$/);
  const byDigest = await pull(`${reg.host}/tiny@${digest}`);
  t.is(byDigest.model.image.manifestDigest, digest);
  same(t, byDigest.model, first.model);
  await t.throwsAsync(pull(`${reg.host}/tiny:nope`), { message: `${reg.host}/tiny: tag nope not found (MANIFEST_UNKNOWN: manifest unknown)` });
  await t.throwsAsync(pull(`${reg.host}/tiny@sha256:${'0'.repeat(64)}`), { message: /manifest sha256:0+ not found/ });
});

test('a second pull reads every blob from the cache, none from the registry', async (t) => {
  const proxy = await startProxy(reg);
  t.teardown(() => proxy.stop());
  const cacheDir = tempDir('cache');
  await pull(`${proxy.host}/tiny:overlay`, { cacheDir });
  const blobGets = () => proxy.seen.filter((r) => r.path.includes('/blobs/')).length;
  const firstRun = blobGets();
  t.is(firstRun, 9); // the config and 8 layers
  const again = await pull(`${proxy.host}/tiny:overlay`, { cacheDir });
  t.is(blobGets(), firstRun);
  same(t, again.model, await local(OVERLAY));
  // --no-cache fetches again and writes nothing.
  const fresh = tempDir('cache');
  await pull(`${proxy.host}/tiny:overlay`, { cacheDir: fresh, noCache: true });
  t.is(blobGets(), firstRun * 2);
  t.deepEqual(cachedBlobs(fresh), []);
});

test('a cached blob damaged on disk is reported and removed; the next pull fetches it again', async (t) => {
  const cacheDir = tempDir('cache');
  const first = await pull(`${reg.host}/tiny:overlay`, { cacheDir });
  const victim = first.model.layers[1];
  const file = join(cacheDir, 'blobs', 'sha256', victim.digest.slice(7));
  const bytes = readFileSync(file);
  bytes[100] ^= 0xff;
  writeFileSync(file, bytes);
  await t.throwsAsync(pull(`${reg.host}/tiny:overlay`, { cacheDir }), {
    message: new RegExp(`^layer 1 \\(${victim.digest.slice(0, 19)}…\\): (corrupt gzip data|cached blob .* does not match its digest \\(damaged on disk\\); removed it, run again to fetch it)`),
  });
  // gzip's check may fire first; the damaged file is then found and removed as the read is abandoned.
  for (let i = 0; i < 50 && existsSync(file); i++) await new Promise((r) => setTimeout(r, 20));
  t.false(existsSync(file));
  same(t, (await pull(`${reg.host}/tiny:overlay`, { cacheDir })).model, first.model);
  t.true(existsSync(file));
  // The config is read to its end, so its digest check speaks.
  const cfg = join(cacheDir, 'blobs', 'sha256', first.model.image.configDigest.slice(7));
  const doc = readFileSync(cfg);
  doc[doc.length - 2] ^= 0x01;
  writeFileSync(cfg, doc);
  await t.throwsAsync(pull(`${reg.host}/tiny:overlay`, { cacheDir }), {
    message: `cached blob ${cfg} does not match its digest (damaged on disk); removed it, run again to fetch it`,
  });
  t.false(existsSync(cfg));
});

test('the cache cap evicts least recently used blobs', async (t) => {
  const cacheDir = tempDir('cache');
  const { model } = await pull(`${reg.host}/tiny:overlay`, { cacheDir, cacheMax: 600_000 });
  const left = cachedBlobs(cacheDir);
  const sizes = new Map(model.layers.map((l) => [l.digest, l.blobSize]));
  const total = left.reduce((s, d) => s + (sizes.get(d) ?? 0), 0);
  t.true(total <= 600_000, String(total));
  t.true(left.length > 0 && left.length < model.layers.length + 1, left.join(' '));
});

test("eviction and the sweep of dead runs' temp files touch only what strata names so (the root may be the user's: --cache-dir ~)", async (t) => {
  const cacheDir = tempDir('cache');
  mkdirSync(join(cacheDir, 'tmp'));
  mkdirSync(join(cacheDir, 'blobs', 'sha256'), { recursive: true });
  const theirs = [join(cacheDir, 'tmp', 'notes.txt'), join(cacheDir, 'tmp', 'report.2024.pdf'), join(cacheDir, 'tmp', 'sha256-x.1.y'), join(cacheDir, 'blobs', 'sha256', 'README')];
  for (const f of theirs) writeFileSync(f, 'not strata\'s\n');
  // what a run killed mid-download leaves (no process has a pid past pid_max), and one of a live run
  const dead = join(cacheDir, 'tmp', `sha256-${'a'.repeat(64)}.4194305.0123456789abcdef`);
  const live = join(cacheDir, 'tmp', `sha256-${'b'.repeat(64)}.1.0123456789abcdef`);
  writeFileSync(dead, 'partial');
  writeFileSync(live, 'partial');
  await pull(`${reg.host}/tiny:overlay`, { cacheDir, cacheMax: 1 });
  t.deepEqual(theirs.filter((f) => !existsSync(f)), []);
  t.false(existsSync(dead));
  t.true(existsSync(live));
  t.deepEqual(cachedBlobs(cacheDir), ['sha256:README']); // every blob of its own evicted (cap: 1 byte)
});

test('a multi-arch index: the platform picks the manifest, as in the OCI layout', async (t) => {
  for (const platform of ['linux/amd64', 'linux/arm64']) {
    const { model } = await pull(`${reg.host}/multi:latest`, { platform });
    same(t, model, await local(MULTI, platform));
    t.is(`${model.image.platform.os}/${model.image.platform.architecture}`, platform);
  }
  await t.throwsAsync(pull(`${reg.host}/multi:latest`, { platform: 'linux/s390x' }), {
    message: /no image for platform linux\/s390x; available: linux\/amd64, linux\/arm64/,
  });
});

test('a zstd image', async (t) => {
  const { model } = await pull(`${reg.host}/tiny:zstd`);
  t.true(model.layers.every((l) => l.compression === 'zstd'));
  same(t, model, await local(ZSTD));
});

test('a Docker schema 1 manifest is refused clearly', async (t) => {
  const proxy = await startProxy(reg);
  t.teardown(() => proxy.stop());
  const schema1 = JSON.stringify({ schemaVersion: 1, name: 'tiny', tag: 'old', architecture: 'amd64', fsLayers: [], history: [] });
  const tail = ' \\(deprecated since 2017\\); re-push the image with a current client$';
  const cases: [string, RegExp][] = [
    // Declared by its media type, or found by its schemaVersion when served as plain JSON.
    ['application/vnd.docker.distribution.manifest.v1+prettyjws', new RegExp(`^127\\.0\\.0\\.1:\\d+/tiny: old is a Docker schema 1 manifest, not supported${tail}`)],
    ['application/json', new RegExp(`^127\\.0\\.0\\.1:\\d+/tiny:old manifest sha256:[a-f0-9]{64}: Docker schema 1 manifests are not supported${tail}`)],
  ];
  for (const [type, message] of cases) {
    proxy.fault = (r) => (r.path.includes('/manifests/') ? { kind: 'status', status: 200, headers: { 'Content-Type': type }, body: schema1 } : undefined);
    await t.throwsAsync(pull(`${proxy.host}/tiny:old`), { message });
  }
});

test('no registry listening: one clear line', async (t) => {
  await t.throwsAsync(pull('127.0.0.1:1/tiny:overlay', { attempts: 1 }), { message: /^127\.0\.0\.1:1: .*connection refused$/ });
});

// --- faults ----------------------------------------------------------------------------------

test('503 then success: retried', async (t) => {
  const proxy = await startProxy(reg);
  t.teardown(() => proxy.stop());
  let failed = 0;
  proxy.fault = (r) => (r.path.includes('/manifests/') && failed++ < 2 ? { kind: 'status', status: 503 } : undefined);
  const { model, notes } = await pull(`${proxy.host}/tiny:overlay`);
  same(t, model, await local(OVERLAY));
  t.is(failed, 3);
  t.is(notes.filter((n) => /HTTP 503; retrying/.test(n)).length, 2);
});

test('429 with Retry-After: waits as told', async (t) => {
  const proxy = await startProxy(reg);
  t.teardown(() => proxy.stop());
  let once = false;
  proxy.fault = (r) => {
    if (!r.path.includes('/blobs/') || once) return undefined;
    once = true;
    return { kind: 'status', status: 429, headers: { 'Retry-After': '1' } };
  };
  const start = Date.now();
  const { model, notes } = await pull(`${proxy.host}/tiny:overlay`);
  t.true(Date.now() - start >= 1000);
  same(t, model, await local(OVERLAY));
  t.true(notes.some((n) => n.includes('HTTP 429 (too many requests); retrying in 1.0 s')), notes.join('\n'));
});

test('persistent 500: gives up with one line', async (t) => {
  const proxy = await startProxy(reg);
  t.teardown(() => proxy.stop());
  proxy.fault = (r) => (r.path.includes('/manifests/') ? { kind: 'status', status: 500 } : undefined);
  await t.throwsAsync(pull(`${proxy.host}/tiny:overlay`, { attempts: 3 }), { message: `${proxy.host}/tiny: manifest overlay: HTTP 500` });
});

test('a body cut mid-blob is resumed with Range and still verifies', async (t) => {
  const proxy = await startProxy(reg);
  t.teardown(() => proxy.stop());
  const local0 = await local(OVERLAY);
  const big = local0.layers.reduce((a, b) => (b.blobSize > a.blobSize ? b : a));
  let cut = false;
  proxy.fault = (r) => {
    if (!r.path.endsWith(big.digest) || cut) return undefined;
    cut = true;
    return { kind: 'cut', after: Math.floor(big.blobSize / 2) };
  };
  const { model, notes, cacheDir } = await pull(`${proxy.host}/tiny:overlay`);
  same(t, model, local0);
  // One resume, from where the client had got to (node drops what it buffered when the socket dies).
  const ranged = proxy.seen.filter((r) => r.path.endsWith(big.digest) && r.headers.range);
  t.is(ranged.length, 1);
  const from = Number(/^bytes=(\d+)-$/.exec(String(ranged[0].headers.range))?.[1]);
  t.true(from > 0 && from <= Math.floor(big.blobSize / 2), String(from));
  t.true(notes.some((n) => n.endsWith(`resuming at byte ${from}`)), notes.join('\n'));
  t.true(cachedBlobs(cacheDir).includes(big.digest));
});

test('a wrong blob is reported and nothing of it is cached', async (t) => {
  const proxy = await startProxy(reg);
  t.teardown(() => proxy.stop());
  const local0 = await local(OVERLAY);
  const config = local0.image.configDigest;
  const victim = local0.layers[2];
  // A config of the right size with one byte changed: the digest check catches it.
  proxy.fault = (r) => (r.path.endsWith(config) ? { kind: 'corrupt' } : undefined);
  const cacheDir = tempDir('cache');
  await t.throwsAsync(pull(`${proxy.host}/tiny:overlay`, { cacheDir }), {
    message: new RegExp(`^${proxy.host}/tiny: blob ${config}: content does not match its digest \\(got sha256:[a-f0-9]{64}\\)$`),
  });
  // A layer with one byte changed: gzip's own check or the digest, whichever sees it first.
  proxy.fault = (r) => (r.path.endsWith(victim.digest) ? { kind: 'corrupt' } : undefined);
  t.deepEqual(cachedBlobs(cacheDir), []);
  const cacheDir2 = tempDir('cache');
  await t.throwsAsync(pull(`${proxy.host}/tiny:overlay`, { cacheDir: cacheDir2 }), {
    message: new RegExp(`^layer 2 \\(${victim.digest.slice(0, 19)}…\\): (corrupt gzip data|.*content does not match its digest)`),
  });
  // Layers still in flight when the pull failed finish in the background; then no temp file is left.
  for (let i = 0; i < 100 && readdirSync(join(cacheDir2, 'tmp')).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(readdirSync(join(cacheDir2, 'tmp')), []);
  t.true(cachedBlobs(cacheDir2).includes(config));
  t.false(cachedBlobs(cacheDir2).includes(victim.digest));
});

test('a registry that stops answering: one line once the deadline is spent, not retried past it', async (t) => {
  const proxy = await startProxy(reg);
  t.teardown(() => proxy.stop());
  proxy.fault = (r) => (r.path.includes('/manifests/') ? { kind: 'hang' } : undefined);
  const start = Date.now();
  // 1.5 s: long enough that the ping answers on a loaded machine, short enough to keep the test quick
  await t.throwsAsync(pull(`${proxy.host}/tiny:overlay`, { timeoutMs: 1500, attempts: 2 }), {
    message: `registry ${proxy.host}: no answer in 1.5 s (--timeout)`,
  });
  t.true(Date.now() - start < 10000);
  t.is(proxy.seen.filter((r) => r.path.includes('/manifests/')).length, 1);
});

test('HTTPS: a certificate nobody trusts is refused; --insecure accepts it', async (t) => {
  const tls = await startTlsProxy(reg);
  t.teardown(() => tls.stop());
  // Loopback may fall back to plain HTTP, which this port does not speak either: both failures are named.
  await t.throwsAsync(pull(`${tls.host}/tiny:overlay`, { attempts: 1 }), {
    message: /^127\.0\.0\.1:\d+: HTTPS: self-signed certificate \(--insecure skips the check; NODE_EXTRA_CA_CERTS=FILE trusts a CA\); HTTP: .*/,
  });
  const { model } = await pull(`${tls.host}/tiny:overlay`, { insecure: true });
  same(t, model, await local(OVERLAY));
});

// --- auth ------------------------------------------------------------------------------------

test('htpasswd Basic auth: refused without credentials, accepted from flags and from docker/podman logins', async (t) => {
  const r = await startRegistry({ kind: 'htpasswd', users: { alice: 's3cret' } });
  t.teardown(() => r.stop());
  await push(`oci-archive:${OVERLAY}`, `${r.host}/private/app:v1`, { creds: 'alice:s3cret' });
  const ref = `${r.host}/private/app:v1`;
  const want = await local(OVERLAY);

  await t.throwsAsync(pull(ref), { message: `${r.host}: authentication required (log in with docker login or podman login, or pass --username and --password-stdin)` });
  await t.throwsAsync(pull(ref, { username: 'alice', password: 'wrong' }), { message: `${r.host}: manifest v1: authentication failed as alice (credentials from --username)` });
  same(t, (await pull(ref, { username: 'alice', password: 's3cret' })).model, want);

  const auth = Buffer.from('alice:s3cret').toString('base64');
  const dockerConfig = tempDir('docker-config');
  writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [`http://${r.host}/v2/`]: { auth } } }));
  same(t, (await pull(ref, { env: isolatedEnv({ DOCKER_CONFIG: dockerConfig }) })).model, want);

  const authFile = join(tempDir('podman'), 'auth.json');
  writeFileSync(authFile, JSON.stringify({ auths: { [`${r.host}/private`]: { auth } } }));
  same(t, (await pull(ref, { env: isolatedEnv({ REGISTRY_AUTH_FILE: authFile }) })).model, want);

  const runtime = tempDir('runtime');
  mkdirSync(join(runtime, 'containers'));
  writeFileSync(join(runtime, 'containers', 'auth.json'), JSON.stringify({ auths: { [r.host]: { auth } } }));
  same(t, (await pull(ref, { env: isolatedEnv({ XDG_RUNTIME_DIR: runtime }) })).model, want);
});

test('credential helpers: credHelpers and credsStore run docker-credential-*', async (t) => {
  const r = await startRegistry({ kind: 'htpasswd', users: { bob: 'pw-from-helper' } });
  t.teardown(() => r.stop());
  await push(`oci-archive:${OVERLAY}`, `${r.host}/app:v1`, { creds: 'bob:pw-from-helper' });
  const bin = tempDir('bin');
  const log = join(bin, 'asked');
  // A real helper speaks the protocol: `get`, the server on stdin, JSON on stdout.
  writeFileSync(join(bin, 'docker-credential-fake'), `#!/bin/sh
read server
echo "$1 $server" >> ${log}
if [ "$server" = "${r.host}" ]; then echo '{"ServerURL":"'$server'","Username":"bob","Secret":"pw-from-helper"}'; else echo "credentials not found in native keychain"; exit 1; fi
`);
  chmodSync(join(bin, 'docker-credential-fake'), 0o755);
  const path = `${bin}:${process.env.PATH}`;
  for (const cfg of [{ credHelpers: { [r.host]: 'fake' } }, { credsStore: 'fake', auths: { [r.host]: {} } }]) {
    const dir = tempDir('docker-config');
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    const { model } = await pull(`${r.host}/app:v1`, { env: isolatedEnv({ DOCKER_CONFIG: dir, PATH: path }) });
    same(t, model, await local(OVERLAY));
  }
  const missing = tempDir('docker-config');
  writeFileSync(join(missing, 'config.json'), JSON.stringify({ credsStore: 'absent' }));
  await t.throwsAsync(pull(`${r.host}/app:v1`, { env: isolatedEnv({ DOCKER_CONFIG: missing }) }), { message: 'credential helper docker-credential-absent not found on PATH' });
});

interface TokenSetup {
  reg: Registry;
  ts: TokenServer;
}

async function tokenRegistry(t: import('ava').ExecutionContext): Promise<TokenSetup> {
  const { reg: r, ts } = await startTokenRegistry(t);
  // Public repositories pull anonymously; private/ needs carol; pushing needs carol.
  ts.policy = (repo, user) => (user === 'carol' ? ['pull', 'push'] : repo.startsWith('private/') ? [] : ['pull']);
  await push(`oci-archive:${OVERLAY}`, `${r.host}/public/app:v1`, { creds: 'carol:tok-pw' });
  await push(`oci-archive:${OVERLAY}`, `${r.host}/private/app:v1`, { creds: 'carol:tok-pw' });
  ts.requests.length = 0;
  return { reg: r, ts };
}

test('token auth: anonymous token for a public repository, credentialed token for a private one', async (t) => {
  const { reg: r, ts } = await tokenRegistry(t);
  const want = await local(OVERLAY);
  same(t, (await pull(`${r.host}/public/app:v1`)).model, want);
  t.deepEqual(ts.requests, [{ account: undefined, scopes: ['repository:public/app:pull'], authorized: false }]);

  await t.throwsAsync(pull(`${r.host}/private/app:v1`), {
    message: `${r.host}: manifest v1: access denied anonymously (log in with docker login or podman login, or pass --username and --password-stdin)`,
  });
  await t.throwsAsync(pull(`${r.host}/private/app:v1`, { username: 'carol', password: 'nope' }), {
    message: `${r.host}: token server 127.0.0.1:${ts.port} refused the credentials (from --username): HTTP 401`,
  });
  ts.requests.length = 0;
  ts.field = 'access_token';
  same(t, (await pull(`${r.host}/private/app:v1`, { username: 'carol', password: 'tok-pw' })).model, want);
  t.deepEqual(ts.requests, [{ account: 'carol', scopes: ['repository:private/app:pull'], authorized: true }]);
});

test('token auth: an identity token from docker login is traded at the token endpoint (OAuth2 refresh token)', async (t) => {
  const { reg: r, ts } = await tokenRegistry(t);
  const dir = tempDir('docker-config');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [r.host]: { auth: Buffer.from('carol:').toString('base64'), identitytoken: 'refresh-carol' } } }));
  same(t, (await pull(`${r.host}/private/app:v1`, { env: isolatedEnv({ DOCKER_CONFIG: dir }) })).model, await local(OVERLAY));
  t.deepEqual(ts.requests, [{ account: undefined, scopes: ['repository:private/app:pull'], authorized: true }]);
});

test('token auth: insufficient_scope after a token granted too little: a new token is asked for, once', async (t) => {
  const { reg: r, ts } = await tokenRegistry(t);
  // The first token grants nothing; the registry answers insufficient_scope; the second grants pull.
  ts.policy = (_repo, _user, req) => (ts.requests.indexOf(req) === 0 ? [] : ['pull']);
  same(t, (await pull(`${r.host}/public/app:v1`)).model, await local(OVERLAY));
  t.is(ts.requests.length, 2);
  t.deepEqual(ts.requests[1].scopes, ['repository:public/app:pull']);
});

test('token auth: an expired token is replaced', async (t) => {
  const { reg: r, ts } = await tokenRegistry(t);
  ts.expiresIn = 1; // renewed 250 ms early, so about every 750 ms
  const proxy = await startProxy(r);
  t.teardown(() => proxy.stop());
  // Slow every blob down so the pull outlives the token.
  proxy.fault = (req) => (req.path.includes('/blobs/') ? { kind: 'delay', ms: 300 } : undefined);
  same(t, (await pull(`${proxy.host}/public/app:v1`)).model, await local(OVERLAY));
  t.true(ts.requests.length >= 2, `${ts.requests.length} token requests`);
});

test('a redirect to another host goes without the Authorization header', async (t) => {
  const r = await startRegistry({ kind: 'htpasswd', users: { alice: 's3cret' } });
  t.teardown(() => r.stop());
  await push(`oci-archive:${OVERLAY}`, `${r.host}/app:v1`, { creds: 'alice:s3cret' });
  // The "storage" host: the same registry through a second proxy under another name, which adds
  // the registry's credentials itself (as a signed URL would) and records what the client sent.
  const storage = await startProxy(r);
  const front = await startProxy(r);
  t.teardown(async () => {
    await storage.stop();
    await front.stop();
  });
  const redirected: string[] = [];
  const auth = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
  storage.fault = (req) => {
    redirected.push(String(req.headers.authorization ?? 'none'));
    req.headers.authorization = auth;
    return undefined;
  };
  front.fault = (req) => (req.path.includes('/blobs/') && req.headers.authorization
    ? { kind: 'redirect', to: `http://localhost:${storage.port}${req.path}` }
    : undefined);
  const { model } = await pull(`${front.host}/app:v1`, { username: 'alice', password: 's3cret' });
  same(t, model, await local(OVERLAY));
  t.is(redirected.length, 9);
  t.deepEqual([...new Set(redirected)], ['none']);
});

function runCli(args: string[], stdin: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/strata.js', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(stdin);
  });
}

test('the CLI: --username with --password-stdin, the default cache under $XDG_CACHE_HOME, the source on stderr', async (t) => {
  const r = await startRegistry({ kind: 'htpasswd', users: { alice: 's3cret' } });
  t.teardown(() => r.stop());
  const ref = `${r.host}/app:v1`;
  await push(`oci-archive:${OVERLAY}`, ref, { creds: 'alice:s3cret' });
  const xdg = tempDir('xdg');
  const env = isolatedEnv({ XDG_CACHE_HOME: xdg });
  const ok = await runCli(['inspect', '--json', '--username', 'alice', '--password-stdin', ref], 's3cret\n', env);
  t.is(ok.code, 0, ok.stderr);
  t.is(ok.stderr, `strata: pulling ${ref} from the registry\n`);
  const report = JSON.parse(ok.stdout) as { image: { source: string; configDigest: string } };
  t.is(report.image.source, 'registry');
  t.is(report.image.configDigest, (await local(OVERLAY)).image.configDigest);
  t.is(cachedBlobs(join(xdg, 'strata')).length, 9);

  const bad = await runCli(['inspect', '--username', 'alice', '--password-stdin', '--no-cache', ref], 'wrong\n', env);
  t.is(bad.code, 2);
  t.is(bad.stderr.split('\n').filter(Boolean).pop(), `strata: ${r.host}: manifest v1: authentication failed as alice (credentials from --username)`);
  const noUser = await runCli(['inspect', '--password-stdin', ref], 's3cret\n', env);
  t.is(noUser.code, 2);
  t.is(noUser.stderr, 'strata: --password-stdin needs --username\n');
});
