/**
 * Issue 29, the registry client under attack: every misbehaviour of test/helpers/fault-registry.ts
 * through the real CLI ends as one `strata:` line within a bound set by `--timeout 2` (the one
 * deadline policy, sources/registry/http.ts), and a local input makes no network request unless
 * asked (`optimize --base-from-registry`).
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refuses, succeeds } from './helpers/hostile.js';
import { startFaultRegistry, type Fault, type FaultRegistry } from './helpers/fault-registry.js';
import { ociLayoutFiles, writeTar } from './helpers/image-builder.js';
import { file } from './helpers/tar-writer.js';

const TIMEOUT_S = 2;
/** A failing pull ends within a small multiple of the deadline, plus the CLI's start on a loaded machine. */
const BOUND_MS = 3 * TIMEOUT_S * 1000 + 4000;
/** What may precede the refusal on stderr: where the image comes from, and retries. */
const NOTES = /^strata: (pulling \S+ from the registry|\S+: HTTP \d+[^;]*; retrying in [\d.]+ s)$/;

/** A private HOME and no stored logins: only what the fault registry says counts. */
function isolated(t: ExecutionContext): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'strata-hostile-registry-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  return { HOME: home, DOCKER_CONFIG: home, XDG_RUNTIME_DIR: home, REGISTRY_AUTH_FILE: join(home, 'none.json') };
}

async function faulty(t: ExecutionContext, fault: Fault): Promise<FaultRegistry> {
  const reg = await startFaultRegistry(fault);
  t.teardown(() => reg.stop());
  return reg;
}

/** `strata inspect docker://HOST/app:1 --timeout 2` must refuse; returns the message. */
async function pullRefused(t: ExecutionContext, reg: FaultRegistry, opts: { ref?: string; secrets?: string[] } = {}): Promise<string> {
  const ref = `docker://${reg.host}/${opts.ref ?? 'app:1'}`;
  return refuses(t, ['inspect', ref, '--timeout', String(TIMEOUT_S)], { env: isolated(t), ms: BOUND_MS, notes: NOTES, secrets: opts.secrets });
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const layer0 = (reg: FaultRegistry) => `layer 0 (${reg.image.layers[0].digest.slice(0, 19)}…)`;

// --- hangs: the deadline ---------------------------------------------------------------------

test('a registry that accepts and never answers: no answer within --timeout', async (t) => {
  const reg = await faulty(t, 'silent');
  t.is(await pullRefused(t, reg), `registry ${reg.host}: no answer in ${TIMEOUT_S} s (--timeout)`);
  t.true(reg.connections >= 1);
});

test('a manifest whose headers arrive and whose body never does', async (t) => {
  const reg = await faulty(t, 'stall-manifest');
  t.is(await pullRefused(t, reg), `registry ${reg.host}: no data in ${TIMEOUT_S} s (--timeout)`);
});

test('a layer blob whose body never comes: the layer named, no resume past the deadline', async (t) => {
  const reg = await faulty(t, 'stall-blob');
  t.is(await pullRefused(t, reg), `${layer0(reg)}: registry ${reg.host}: no data in ${TIMEOUT_S} s (--timeout)`);
  t.is(reg.seen.filter((s) => s.path.endsWith(reg.image.layers[0].digest) && s.authorization).length, 1);
});

test('a manifest trickled a byte at a time is a stall, not progress', async (t) => {
  const reg = await faulty(t, 'trickle-manifest');
  t.is(await pullRefused(t, reg), `registry ${reg.host}: no data in ${TIMEOUT_S} s (--timeout)`);
});

test('an endless 429 with Retry-After: 3600 fails at once, saying so', async (t) => {
  const reg = await faulty(t, 'throttle');
  t.is(await pullRefused(t, reg), `registry ${reg.host}: HTTP 429 (too many requests), asked to wait 3600 s, more than --timeout (${TIMEOUT_S} s) leaves`);
});

test('503 forever: retries stop within the deadline', async (t) => {
  const reg = await faulty(t, 'unavailable');
  t.is(await pullRefused(t, reg), `${reg.host}/app: manifest 1: HTTP 503`);
  t.true(reg.seen.filter((s) => s.path.includes('/manifests/')).length >= 2, 'retried at least once');
});

// --- tokens ----------------------------------------------------------------------------------

const tokenServer = (reg: FaultRegistry) => `${reg.host}: token server ${reg.host}`;

test('a token endpoint answering null', async (t) => {
  const reg = await faulty(t, 'token-null');
  t.is(await pullRefused(t, reg), `${tokenServer(reg)}: must be an object, not null`);
});

test('a token that is not a string', async (t) => {
  const reg = await faulty(t, 'token-number');
  t.is(await pullRefused(t, reg), `${tokenServer(reg)} sent a token that is not a string`);
});

test('a token with CR/LF (header injection) is refused, never sent nor shown', async (t) => {
  const reg = await faulty(t, 'token-crlf');
  t.is(await pullRefused(t, reg, { secrets: ['X-Injected', reg.token] }), `${tokenServer(reg)} sent a token that is not printable ASCII of at most 16384 characters`);
  t.false(reg.seen.some((s) => s.authorization?.startsWith('Bearer ')), 'no request carried the token');
});

test('a huge token is refused', async (t) => {
  const reg = await faulty(t, 'token-huge');
  t.is(await pullRefused(t, reg, { secrets: ['a'.repeat(64)] }), `${tokenServer(reg)} sent a token that is not printable ASCII of at most 16384 characters`);
});

// --- redirects -------------------------------------------------------------------------------

test('manifests and blobs redirected to another port: the Authorization header stays behind', async (t) => {
  const reg = await faulty(t, 'redirect');
  await succeeds(t, ['inspect', `docker://${reg.host}/app:1`, '--timeout', String(TIMEOUT_S)], { env: isolated(t), ms: BOUND_MS, secrets: [reg.token] });
  const registryPort = Number(reg.host.split(':')[1]);
  const redirected = reg.seen.filter((s) => s.port !== registryPort);
  // the manifest, the config and the layer, each fetched from the storage port
  t.deepEqual(redirected.map((s) => s.path.split('/')[3]).sort(), ['blobs', 'blobs', 'manifests']);
  t.deepEqual(redirected.filter((s) => s.authorization !== undefined), []);
  // while the registry itself was asked for each of them with the token
  t.is(reg.seen.filter((s) => s.port === registryPort && /\/(manifests|blobs)\//.test(s.path) && s.authorization === `Bearer ${reg.token}`).length, 3);
});

test('a redirect loop ends after 10 hops', async (t) => {
  const reg = await faulty(t, 'redirect-loop');
  t.is(await pullRefused(t, reg), `${reg.host}: more than 10 redirects`);
  // the first request, then 10 redirects (the one before them was the 401 asking for a token)
  t.is(reg.seen.filter((s) => s.path.includes('/manifests/') && s.authorization).length, 11);
});

// --- bodies that lie -------------------------------------------------------------------------

test('a Content-Length larger than the body sent', async (t) => {
  const reg = await faulty(t, 'short-body');
  const n = reg.image.manifest.length;
  t.is(await pullRefused(t, reg), `${reg.host}/app: manifest 1: body ended after ${n} of ${n + 1000} bytes`);
});

test('a manifest whose bytes do not match the digest asked for', async (t) => {
  const reg = await faulty(t, 'manifest-mismatch');
  const d = reg.image.manifestDigest;
  t.regex(await pullRefused(t, reg, { ref: `app@${d}` }), new RegExp(`^${esc(reg.host)}/app: manifest ${d}\\b.* does not match its digest \\(got sha256:[0-9a-f]{64}\\)$`));
});

test('a blob whose bytes do not match its digest', async (t) => {
  const reg = await faulty(t, 'blob-mismatch');
  const d = reg.image.configDigest;
  t.regex(await pullRefused(t, reg), new RegExp(`^${esc(reg.host)}/app: blob ${d}: content does not match its digest \\(got sha256:[0-9a-f]{64}\\)$`));
});

test('an oversized manifest is refused by its Content-Length', async (t) => {
  const reg = await faulty(t, 'huge-manifest');
  t.is(await pullRefused(t, reg), `${reg.host}/app: manifest 1: ${5 * 1024 * 1024} bytes, more than the ${4 * 1024 * 1024} allowed`);
});

test('an endless chunked manifest stops at the cap', async (t) => {
  const reg = await faulty(t, 'endless-manifest');
  t.is(await pullRefused(t, reg), `${reg.host}/app: manifest 1: more than the ${4 * 1024 * 1024} bytes allowed`);
});

test('an endless chunked blob stops at its declared size', async (t) => {
  const reg = await faulty(t, 'endless-blob');
  const l = reg.image.layers[0];
  t.is(await pullRefused(t, reg), `${layer0(reg)}: ${reg.host}: blob ${l.digest}: more bytes than the ${l.blob.length} the manifest declares`);
});

test('optimize pushing to a registry that never answers: no answer within --timeout, nothing left behind', async (t) => {
  const reg = await faulty(t, 'silent');
  const env = isolated(t);
  const archive = await annotatedArchive(env.HOME, 'base:1');
  const scratch = join(env.HOME, 'tmp');
  mkdirSync(scratch);
  const message = await refuses(t, ['optimize', archive, '-o', `docker://${reg.host}/slim:1`, '--timeout', String(TIMEOUT_S)], { env: { ...env, TMPDIR: scratch }, ms: BOUND_MS, notes: /^strata: the base annotation names base:1, / });
  t.is(message, `registry ${reg.host}: no answer in ${TIMEOUT_S} s (--timeout)`);
  t.true(reg.connections >= 1);
  t.deepEqual(readdirSync(scratch), []); // the layers written for the push are gone
});

// --- pushes: the upload's Location ------------------------------------------------------------

test("a blob upload whose Location is another origin: the blobs go there, the registry's token stays behind", async (t) => {
  const reg = await faulty(t, 'upload-elsewhere');
  const r = await succeeds(t, ['optimize', 'testdata/tiny-commit.docker.tar', '-o', `docker://${reg.host}/slim:1`, '--timeout', String(TIMEOUT_S)], { env: isolated(t), ms: BOUND_MS, secrets: [reg.token] });
  t.regex(r.stdout, /Wrote docker:\/\//);
  const registryPort = Number(reg.host.split(':')[1]);
  const uploads = reg.seen.filter((s) => s.port !== registryPort);
  t.true(uploads.length >= 2, 'the layers and the config were uploaded');
  t.true(uploads.every((s) => s.method === 'PUT' && s.path.startsWith('/upload/')));
  t.deepEqual(uploads.filter((s) => s.authorization !== undefined), []);
  // the registry itself had the token for the upload POSTs and the manifest
  t.true(reg.seen.some((s) => s.port === registryPort && s.method === 'PUT' && s.path === '/v2/slim/manifests/1' && s.authorization === `Bearer ${reg.token}`));
});

test('a blob upload from an HTTPS registry to a plain-HTTP Location is refused before a byte is sent', async (t) => {
  const env = isolated(t);
  const keyFile = join(env.HOME, 'tls.key');
  const certFile = join(env.HOME, 'tls.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const reg = await startFaultRegistry('upload-elsewhere', { key: readFileSync(keyFile), cert: readFileSync(certFile) });
  t.teardown(() => reg.stop());
  const message = await refuses(t, ['optimize', 'testdata/tiny-commit.docker.tar', '-o', `docker://${reg.host}/slim:1`, '--timeout', String(TIMEOUT_S)], { env: { ...env, NODE_EXTRA_CA_CERTS: certFile }, ms: BOUND_MS, secrets: [reg.token] });
  t.regex(message, new RegExp(`^${esc(reg.host)}/slim: upload of blob sha256:[0-9a-f]{64}: refusing to leave HTTPS for http://127\\.0\\.0\\.1:\\d+$`));
  const registryPort = Number(reg.host.split(':')[1]);
  t.deepEqual(reg.seen.filter((s) => s.port !== registryPort), []);
  t.true(reg.seen.some((s) => s.method === 'POST'), 'the upload was started over HTTPS');
});

// --- no network from local input -------------------------------------------------------------

/** An OCI archive whose manifest's base annotation names `base` (a reference on the fault registry). */
async function annotatedArchive(dir: string, base: string): Promise<string> {
  const built = ociLayoutFiles({ images: [{ layers: [{ entries: [file('etc/os', 'base')] }, { entries: [file('app', 'app')] }] }] });
  const img = built.images[0];
  const manifest = Buffer.from(JSON.stringify({ ...JSON.parse(img.manifest.toString()), annotations: { 'org.opencontainers.image.base.name': base } }));
  const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  built.files.delete(`blobs/sha256/${img.manifestDigest.slice(7)}`);
  built.files.set(`blobs/sha256/${digest.slice(7)}`, manifest);
  built.files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: manifest.length }] })));
  return writeTar(join(dir, 'annotated.oci.tar'), built.files);
}

test("optimize of a local archive: the base annotation's registry is not contacted unless --base-from-registry", async (t) => {
  const reg = await faulty(t, 'silent');
  const env = isolated(t);
  const archive = await annotatedArchive(env.HOME, `${reg.host}/base:1`);
  const plain = await succeeds(t, ['optimize', archive, '-o', join(env.HOME, 'out.tar')], { env, ms: 20_000 });
  t.is(reg.connections, 0);
  t.is(plain.stderr, `strata: the base annotation names ${reg.host}/base:1, not fetched (--base-from-registry pulls it); the base is read from the history\n`);
  // asked: the lookup is made, within the deadline, and its failure costs a note only
  const asked = await succeeds(t, ['optimize', archive, '--dry-run', '--base-from-registry', '--timeout', String(TIMEOUT_S)], { env, ms: BOUND_MS + 10_000 });
  t.true(reg.connections >= 1);
  t.is(asked.stderr, `strata: the base annotation names ${reg.host}/base:1, not usable (registry ${reg.host}: no answer in ${TIMEOUT_S} s (--timeout)); the base is read from the history\n`);
});
