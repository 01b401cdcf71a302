/**
 * `strata dockerfile --verify`'s builds with real engines: a private dockerd (vfs, no bridge), and
 * podman and buildah on their own vfs storage. A tiny context FROM the loaded fixture, opened back
 * through strata's sources; a failing step's line in the error, escaped; a hung build stopped;
 * the tag removed.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildWithEngine, loadArchive, removeBuilt, type BuildEngine } from '../src/write/engine-build.js';
import { writeDockerArchive } from './helpers/image-builder.js';
import { dir, file } from './helpers/tar-writer.js';
import { openImage } from '../src/sources/resolve.js';
import { readImage, type ImageModel } from '../src/model/read-image.js';
import { listView } from '../src/model/views.js';
import { StrataError } from '../src/util/errors.js';
import { startDockerd, stopDockerd, type Engine } from './helpers/dockerd.js';
import { requireTools } from './helpers/system-tools.js';
import { tempDir } from './helpers/registry-harness.js';
import { assertNoRawControl } from './helpers/hostile.js';
import { runStrata } from './helpers/cli.js';

const run = promisify(execFile);
const FIXTURE = 'testdata/tiny-dockerfile.docker.tar';
// the fixture ends with USER 1000: the steps below write to /
const FROM = 'FROM tiny-app:dockerfile\nUSER 0\n';

requireTools('dockerd', 'docker', 'podman', 'buildah');

let engine: Engine | string = 'not started';
let storage = '';
test.before(async () => {
  storage = tempDir('containers');
  writeFileSync(join(storage, 'storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${storage}/root"\nrunroot = "${storage}/run"\n`);
  const load = run('podman', ['load', '-q', '-i', FIXTURE], { env: podmanEnv() });
  engine = await startDockerd();
  if (typeof engine !== 'string') await run('docker', ['load', '-q', '-i', FIXTURE], { env: dockerEnv() });
  await load;
});
test.after.always(async () => {
  if (typeof engine !== 'string') await stopDockerd(engine);
});

/** The private dockerd as DOCKER_HOST; podman's API out of reach (strata reads docker-daemon: through the Engine API). */
function dockerEnv(): NodeJS.ProcessEnv {
  if (typeof engine === 'string') throw new Error(`docker engine: ${engine}`);
  return { ...process.env, DOCKER_HOST: `unix://${engine.socket}`, CONTAINER_HOST: 'unix:///nonexistent/podman.sock' };
}

/**
 * podman and buildah on the private storage; no docker engine answers. No CONTAINER_HOST (it makes
 * the podman CLI a remote client) nor XDG_RUNTIME_DIR: strata reads podman: by `podman image save`.
 */
function podmanEnv(more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { CONTAINER_HOST: _host, XDG_RUNTIME_DIR: _run, ...env } = process.env;
  return { ...env, CONTAINERS_STORAGE_CONF: join(storage, 'storage.conf'), DOCKER_HOST: 'unix:///nonexistent/docker.sock', ...more };
}

/** DIR/Dockerfile and DIR/context/hello.txt, as `strata dockerfile -o DIR` lays them out. */
function context(dockerfile: string): string {
  const dir = tempDir('build');
  mkdirSync(join(dir, 'context'));
  writeFileSync(join(dir, 'context', 'hello.txt'), 'hello from the context\n');
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

const GOOD = `${FROM}COPY hello.txt /hello.txt\nRUN echo built > /built.txt\n`;

async function read(ref: string, env: NodeJS.ProcessEnv): Promise<ImageModel> {
  return readImage(await openImage(ref, { remote: { env, cacheDir: tempDir('cache'), probeTimeoutMs: 30_000 } }));
}

function sizes(model: ImageModel): Record<string, number> {
  return Object.fromEntries([...listView(model)].filter((e) => e.path === '/hello.txt' || e.path === '/built.txt').map((e) => [e.path, e.size]));
}

async function hasImage(cmd: BuildEngine, tag: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const args = cmd === 'docker' ? ['image', 'inspect', tag] : cmd === 'podman' ? ['image', 'exists', tag] : ['inspect', tag];
  return run(cmd, args, { env }).then(() => true, () => false);
}

test.serial('docker (the first that answers): built by the legacy builder, opened as docker-daemon:, removed', async (t) => {
  const env = dockerEnv();
  const lines: string[] = [];
  const built = await buildWithEngine(context(GOOD), { tag: 'strata-verify:docker', network: 'none', env, onLine: (l) => lines.push(l) });
  t.deepEqual(built, { engine: 'docker', ref: 'docker-daemon:strata-verify:docker' });
  t.true(lines.some((l) => /^Step 4\/4 : RUN echo built/.test(l)), lines.join('\n'));
  const model = await read(built.ref, env);
  t.deepEqual(sizes(model), { '/hello.txt': 23, '/built.txt': 6 });
  t.is(model.layers.length, 10); // the fixture's 8, COPY, RUN
  await removeBuilt('docker', 'strata-verify:docker', { env });
  t.false(await hasImage('docker', 'strata-verify:docker', env));
});

test.serial('docker: a failing step is a StrataError naming the engine and the last line, escaped', async (t) => {
  const env = dockerEnv();
  const dir = context(`${FROM}RUN echo 'bad\x1b[2J' && exit 3\n`);
  const err = await t.throwsAsync(buildWithEngine(dir, { tag: 'strata-verify:fails', network: 'none', env }), { instanceOf: StrataError });
  t.regex(err!.message, /^docker build failed \(exit 3\): The command '\/bin\/sh -c echo 'bad\\x1b\[2J' && exit 3' returned a non-zero code: 3$/);
  assertNoRawControl(t, err!.message, 'the error');
  t.false(await hasImage('docker', 'strata-verify:fails', env));
});

test.serial('docker: a build over its time is stopped, the CLI with it (the leak check counts children)', async (t) => {
  const env = dockerEnv();
  const started = Date.now();
  const err = await t.throwsAsync(buildWithEngine(context(`${FROM}RUN sleep 120\n`), { tag: 'strata-verify:slow', network: 'none', env, timeoutMs: 4000 }), { instanceOf: StrataError });
  t.regex(err!.message, /^docker build: no result in 4 s, stopped/);
  t.true(Date.now() - started < 15_000);
  t.false(await hasImage('docker', 'strata-verify:slow', env));
  // the daemon ends the step once its client is gone
  let running = 'not asked';
  for (let i = 0; i < 100 && running; i++) {
    running = (await run('docker', ['ps', '-q'], { env })).stdout.trim();
    if (running) await new Promise((r) => setTimeout(r, 100));
  }
  t.is(running, '', 'the step\'s container still runs');
});

test('names that could read as flags, and engines that do not answer, are refused before anything runs', async (t) => {
  await t.throwsAsync(buildWithEngine(context(GOOD), { tag: '--help', env: podmanEnv() }), { message: 'build tag "--help": not an image name' });
  await t.throwsAsync(buildWithEngine(context(GOOD), { tag: 'a b\x1b', env: podmanEnv() }), { message: 'build tag "a b\\\\x1b": not an image name' });
  await t.throwsAsync(removeBuilt('podman', '-f', { env: podmanEnv() }), { message: /not an image name/ });
  const empty = tempDir('empty-path');
  await t.throwsAsync(buildWithEngine(context(GOOD), { tag: 'x:1', env: podmanEnv({ PATH: empty }) }), { message: /^no engine to build with/ });
});

test.serial('podman (docker not answering): opened as podman:, removed', async (t) => {
  const env = podmanEnv();
  const built = await buildWithEngine(context(GOOD), { tag: 'strata-verify:podman', network: 'none', env });
  t.deepEqual(built, { engine: 'podman', ref: 'podman:strata-verify:podman' });
  t.deepEqual(sizes(await read(built.ref, env)), { '/hello.txt': 23, '/built.txt': 6 });
  await removeBuilt('podman', 'strata-verify:podman', { env });
  t.false(await hasImage('podman', 'strata-verify:podman', env));
});

test.serial('podman: a failing step names podman and the step', async (t) => {
  const err = await t.throwsAsync(buildWithEngine(context(`${FROM}RUN exit 3\n`), { tag: 'strata-verify:pfail', engine: 'podman', network: 'none', env: podmanEnv() }), { instanceOf: StrataError });
  t.regex(err!.message, /^podman build failed \(exit \d+\): .*RUN exit 3/, err!.message);
});

/** A one-layer base (no shell: the steps above it only COPY) loaded from a docker-archive, then named by the BASE argument. */
async function loadedBase(cmd: BuildEngine, env: NodeJS.ProcessEnv): Promise<ImageModel> {
  const archive = join(tempDir('base'), 'base.tar');
  await writeDockerArchive(archive, { images: [{ tags: [`strata-verify-base:${cmd}`], layers: [{ entries: [dir('etc'), file('etc/base.conf', 'from the base\n')] }] }] });
  await loadArchive(cmd, archive, { env });
  const dir_ = context(`ARG BASE\nFROM $BASE\nCOPY hello.txt /hello.txt\n`);
  const built = await buildWithEngine(dir_, { tag: `strata-verify:on-base-${cmd}`, engine: cmd, env, buildArgs: { BASE: `strata-verify-base:${cmd}` } });
  try {
    return await read(built.ref, env);
  } finally {
    await removeBuilt(cmd, `strata-verify:on-base-${cmd}`, { env });
    await removeBuilt(cmd, `strata-verify-base:${cmd}`, { env });
  }
}

for (const cmd of ['docker', 'podman', 'buildah'] as const) {
  test.serial(`${cmd}: a base loaded from an archive, named by a build argument`, async (t) => {
    const env = cmd === 'docker' ? dockerEnv() : podmanEnv();
    const model = await loadedBase(cmd, env);
    t.deepEqual([...listView(model)].map((e) => [e.path, e.size]), [['/etc', 0], ['/etc/base.conf', 14], ['/hello.txt', 23]]);
    t.false(await hasImage(cmd === 'buildah' ? 'podman' : cmd, `strata-verify-base:${cmd}`, env));
  });
}

test('a build argument name that is not one is refused', async (t) => {
  await t.throwsAsync(buildWithEngine(context(GOOD), { tag: 'x:1', engine: 'podman', env: podmanEnv(), buildArgs: { 'A=B --x': '1' } }), { message: 'build argument "A=B --x": not an ARG name' });
});

/** Live processes running `sleep SECONDS`, anywhere on the machine (a stopped build's step reparented to init). */
function sleeping(seconds: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8') === `sleep\0${seconds}\0`) out.push(Number(name));
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

for (const cmd of ['podman', 'buildah'] as const) {
  test.serial(`${cmd}: a build over its time is stopped, the running step with it`, async (t) => {
    const seconds = cmd === 'podman' ? 4321 : 4322;
    const err = await t.throwsAsync(buildWithEngine(context(`${FROM}RUN sleep ${seconds}\n`), { tag: `strata-verify:${cmd}-slow`, engine: cmd, network: 'none', env: podmanEnv(), timeoutMs: 3000 }), { instanceOf: StrataError });
    t.regex(err!.message, new RegExp(`^${cmd} build: no result in 3 s, stopped`));
    await new Promise((r) => setTimeout(r, 500));
    const left = sleeping(seconds);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    t.deepEqual(left, [], 'the step still runs');
  });
}

test.serial('buildah: its storage is podman\'s here, so podman: opens the image', async (t) => {
  const env = podmanEnv();
  const built = await buildWithEngine(context(GOOD), { tag: 'strata-verify:buildah', engine: 'buildah', network: 'none', env });
  t.deepEqual(built, { engine: 'buildah', ref: 'podman:strata-verify:buildah' });
  t.deepEqual(sizes(await read(built.ref, env)), { '/hello.txt': 23, '/built.txt': 6 });
  await removeBuilt('buildah', 'strata-verify:buildah', { env });
  t.false(await hasImage('podman', 'strata-verify:buildah', env));
});

test.serial('buildah without podman: pushed to an OCI archive, which removeBuilt deletes', async (t) => {
  // a PATH holding buildah alone: `podman image exists` cannot answer (COPY only: no runtime needed)
  const bin = tempDir('buildah-only');
  symlinkSync('/usr/bin/buildah', join(bin, 'buildah'));
  const env = podmanEnv({ PATH: bin });
  const built = await buildWithEngine(context(`${FROM}COPY hello.txt /hello.txt\n`), { tag: 'strata-verify:archive', engine: 'buildah', env });
  t.is(built.engine, 'buildah');
  t.regex(built.ref, /^oci-archive:\/.*\/strata-build-[^/]+\/image\.oci\.tar$/);
  t.deepEqual(sizes(await read(built.ref, env)), { '/hello.txt': 23 });
  await removeBuilt('buildah', 'strata-verify:archive', { env });
  await t.throwsAsync(openImage(built.ref), { message: /no such file or directory/ });
  t.false(await hasImage('podman', 'strata-verify:archive', podmanEnv()));
  rmSync(bin, { recursive: true, force: true });
});

// the whole command on the two other engines: its base loaded from the image's own layers, the
// rebuild read back, compared; buildah's own /etc/hosts, /etc/hostname, /etc/resolv.conf and /run
// are what an engine mounts in every container (the `runtime` category), left out on both sides
for (const cmd of ['podman', 'buildah'] as const) {
  test.serial(`strata dockerfile --verify --engine ${cmd}: the commit-built fixture rebuilds equal, and nothing is left in the engine`, async (t) => {
    const env = podmanEnv();
    const before = (await run('podman', ['images', '-q', '--no-trunc'], { env })).stdout.split('\n').filter(Boolean).sort();
    const out = join(tempDir('dockerfile'), 'out');
    const r = await runStrata(['dockerfile', 'testdata/tiny-commit.docker.tar', '-o', out, '--verify', '--engine', cmd, '--json'], { env: env as Record<string, string>, timeoutMs: 240_000 });
    t.is(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { verify: { engine: string; equal: boolean; differences: unknown[]; after: { fileBytes: number }; before: { fileBytes: number } } };
    t.is(json.verify.engine, cmd);
    t.true(json.verify.equal, JSON.stringify(json.verify.differences));
    t.is(json.verify.before.fileBytes - json.verify.after.fileBytes, 708_893);
    const after = (await run('podman', ['images', '-q', '--no-trunc'], { env })).stdout.split('\n').filter(Boolean).sort();
    t.deepEqual(after, before, 'the base and the rebuild are removed');
  });
}
