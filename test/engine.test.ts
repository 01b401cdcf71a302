/**
 * A real Docker engine: dockerd on a private socket (vfs storage, no networking), a fixture loaded
 * with `docker load` and read back through the Engine API. A missing tool fails the file with the
 * package to install; an engine that cannot start (no privileges) fails its tests with the reason.
 */
import test from 'ava';
import { execFile, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openImage } from '../src/sources/resolve.js';
import { readImage, type ImageModel } from '../src/model/read-image.js';
import { listView } from '../src/model/views.js';
import { readRows } from '../src/scan/extract.js';
import { push, startRegistry, stopProcess, tempDir } from './helpers/registry-harness.js';
import { runStrata } from './helpers/cli.js';
import { missingTool, requireTools, spawnTied } from './helpers/system-tools.js';
import { startDockerd, type Engine } from './helpers/dockerd.js';


const run = promisify(execFile);
const FIXTURE = 'testdata/tiny-dockerfile.docker.tar';

function env(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const home = tempDir('home');
  return { PATH: process.env.PATH, HOME: home, CONTAINER_HOST: `unix://${home}/no-podman.sock`, ...extra };
}

async function read(ref: string, e: NodeJS.ProcessEnv): Promise<{ model: ImageModel; notes: string[] }> {
  const notes: string[] = [];
  // a generous probe: under the whole suite's load an engine can take seconds to answer, and
  // strata would then fall back to another way (podman image save), which these tests tell apart
  const image = await openImage(ref, { remote: { env: e, cacheDir: tempDir('cache'), backoffMs: 20, probeTimeoutMs: 30_000, onNote: (m) => notes.push(m) } });
  return { model: await readImage(image), notes };
}

function same(t: import('ava').ExecutionContext, got: ImageModel, want: ImageModel): void {
  t.is(got.image.configDigest, want.image.configDigest);
  t.deepEqual(got.layers.map((l) => [l.diffId, l.tarSize, l.size]), want.layers.map((l) => [l.diffId, l.tarSize, l.size]));
  t.deepEqual([...listView(got)], [...listView(want)]);
}

/** /bin/busybox, in the fixture's 2 MB layer 0: scanned as it streamed past, so read by a second export. */
async function busybox(model: ImageModel): Promise<Buffer | undefined> {
  const row = model.layers[0].records.path.indexOf('bin/busybox');
  return (await readRows(model.image, 0, [row])).get(row);
}

interface Podman {
  /** CONTAINERS_STORAGE_CONF: podman's own storage (vfs) under a temporary directory. */
  storageConf: string;
  socket: string;
  proc: ChildProcess;
  dir: string;
}

/** A real podman with the fixture loaded, and `podman system service` answering on a private socket. */
async function startPodman(): Promise<Podman | string> {
  const missing = missingTool('podman');
  if (missing) return missing;
  const dir = tempDir('podman');
  const storageConf = join(dir, 'storage.conf');
  writeFileSync(storageConf, `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/run"\n`);
  const e = { ...process.env, CONTAINERS_STORAGE_CONF: storageConf };
  try {
    await run('podman', ['load', '-q', '-i', FIXTURE], { env: e });
  } catch (err) {
    return `podman load failed: ${(err as { stderr?: string }).stderr?.trim().split('\n').pop() ?? err}`;
  }
  const socket = join(dir, 'podman.sock');
  const proc = spawnTied('podman', ['system', 'service', '--time=0', `unix://${socket}`], { env: e, stdio: 'ignore' });
  // Ready once it answers an image lookup: its first requests are slow, and strata gives an
  // engine 3 s to answer before it falls back to `podman image save`.
  for (let i = 0; i < 300 && proc.exitCode === null; i++) {
    if (existsSync(socket) && (await answers(socket, '/images/localhost/tiny-app:dockerfile/json'))) {
      // and a lookup that misses, whose first answer was slow enough on a loaded CI machine (the
      // browser tests beside it) for strata's 3 s to run out and fall back to `podman image save`
      await answers(socket, '/images/localhost/absent/json');
      return { storageConf, socket, proc, dir };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopProcess(proc);
  return 'podman system service did not answer within 30 s';
}

function answers(socketPath: string, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path, headers: { Host: 'engine' } }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}

requireTools('dockerd', 'docker', 'podman', 'docker-registry', 'skopeo');

// Both engines start once, in a hook (ava wants every declaration in the first tick, so no
// top-level await); a test of an engine that could not start fails with the reason.
let engine: Engine | string = 'not started';
let podman: Podman | string = 'not started';
test.before(async () => {
  [engine, podman] = await Promise.all([startDockerd(), startPodman()]);
  if (typeof engine !== 'string') await run('docker', ['-H', `unix://${engine.socket}`, 'load', '-i', FIXTURE]);
});
test.after.always(async () => {
  for (const e of [engine, podman]) {
    if (typeof e === 'string') continue;
    await stopProcess(e.proc);
    rmSync(e.dir, { recursive: true, force: true });
  }
});

/** The docker engine's host for a test, or the test fails with why it could not start. */
function dockerHostFor(): string {
  if (typeof engine === 'string') throw new Error(`docker engine: ${engine}`);
  return `unix://${engine.socket}`;
}

/** The running podman for a test, or the test fails with why it could not start. */
function podmanFor(): Podman {
  if (typeof podman === 'string') throw new Error(`podman: ${podman}`);
  return podman;
}

test('podman: without an API socket, `podman image save` on a pipe (a stand-in podman: the exact command)', async (t) => {
  // A stand-in that saves like the real one (the archive on stdout) and checks the arguments.
  const bin = tempDir('bin');
  writeFileSync(join(bin, 'podman'), `#!/bin/sh
[ "$1 $2 $3 $4" = "image save --format docker-archive" ] || { echo "unexpected: $*" >&2; exit 64; }
[ "$5" = "tiny-app:dockerfile" ] || { echo "Error: $5: image not known" >&2; exit 125; }
exec cat ${join(process.cwd(), FIXTURE)}
`);
  chmodSync(join(bin, 'podman'), 0o755);
  const e = env({ PATH: `${bin}:${process.env.PATH}` });
  const { model, notes } = await read('podman:tiny-app:dockerfile', e);
  t.is(model.image.source, 'podman');
  t.deepEqual(notes, ['reading tiny-app:dockerfile from podman']);
  same(t, model, await readImage(await openImage(FIXTURE)));
  await t.throwsAsync(read('podman:absent', e), { message: 'podman image save absent: Error: absent: image not known' });
});

// Engines that are not there: always testable.
test('no engine reachable: one clear line naming the address', async (t) => {
  const e = env({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
  await t.throwsAsync(read('docker-daemon:app:v1', e), {
    message: 'no docker engine reachable at unix:///nonexistent/docker.sock: no socket; start Docker or set DOCKER_HOST',
  });
  await t.throwsAsync(read('docker-daemon:app', env({ DOCKER_HOST: 'ssh://host' })), { message: /DOCKER_HOST=ssh:\/\/host: only unix:\/\/ and tcp:\/\// });
  await t.throwsAsync(read('podman:app', env({ PATH: tempDir('empty-path') })), {
    message: /^no podman engine reachable: no API socket \(unix:\/\/.*no-podman\.sock\) and no podman command$/,
  });
});

// An engine that is installed but cannot start fails, as a missing one does: these tests exist to run.
test('docker-daemon: streams `docker save` from the Engine API and matches the fixture', async (t) => {
  const dockerHost = dockerHostFor();
  const { model, notes } = await read('docker-daemon:tiny-app:dockerfile', env({ DOCKER_HOST: dockerHost }));
  const fixture = await readImage(await openImage(FIXTURE));
  same(t, model, fixture);
  t.deepEqual(await busybox(model), await busybox(fixture));
  t.is(model.image.source, 'docker-daemon');
  t.deepEqual(model.image.tags, ['tiny-app:dockerfile']);
  t.deepEqual(notes, [`reading tiny-app:dockerfile from the docker engine at ${dockerHost}`]);
});

test('docker-daemon: an image the engine lacks', async (t) => {
  const dockerHost = dockerHostFor();
  await t.throwsAsync(read('docker-daemon:absent:v9', env({ DOCKER_HOST: dockerHost })), {
    message: /^docker engine at unix:\/\/.*\/docker.sock: no image absent:v9: reference does not exist$/,
  });
});

test('docker-daemon: a second inspect with a cache exports nothing: the kept config and the engine\'s diffIDs find the report', async (t) => {
  const dockerHost = dockerHostFor();
  // a socket in front of the engine's that notes each request
  const dir = tempDir('proxy');
  const socket = join(dir, 'proxy.sock');
  const seen: string[] = [];
  const proxy = net.createServer((client) => {
    const upstream = net.connect(dockerHost.slice('unix://'.length));
    client.on('data', (d: Buffer) => {
      for (const m of d.toString('latin1').matchAll(/^(?:GET|HEAD|POST) (\S+)/gm)) seen.push(m[1]);
    });
    client.pipe(upstream).pipe(client);
    const close = () => (client.destroy(), upstream.destroy());
    client.on('error', close);
    upstream.on('error', close);
  });
  await new Promise<void>((r) => proxy.listen(socket, r));
  t.teardown(() => new Promise<void>((r) => proxy.close(() => r())));
  const env = { DOCKER_HOST: `unix://${socket}`, STRATA_NO_CACHE: '', STRATA_CACHE_DIR: join(dir, 'cache') };
  const first = await runStrata(['inspect', '--json', 'docker-daemon:tiny-app:dockerfile'], { env, timeoutMs: 120_000 });
  t.is(first.code, 0, first.stderr);
  t.true(seen.some((p) => p.startsWith('/images/get')), seen.join(' '));
  seen.length = 0;
  const second = await runStrata(['inspect', '--json', 'docker-daemon:tiny-app:dockerfile'], { env, timeoutMs: 120_000 });
  t.is(second.code, 0, second.stderr);
  t.false(seen.some((p) => p.startsWith('/images/get')), seen.join(' '));
  t.true(seen.some((p) => /^\/images\/tiny-app:dockerfile\/json/.test(p)), seen.join(' '));
  t.deepEqual(JSON.parse(second.stdout), JSON.parse(first.stdout));
});

test('a bare reference: the engine when it holds the image, else the registry', async (t) => {
  const dockerHost = dockerHostFor();
  const e = env({ DOCKER_HOST: dockerHost });
  const local = await read('tiny-app:dockerfile', e);
  t.is(local.model.image.source, 'docker-daemon');
  t.regex(local.notes[0], /^reading tiny-app:dockerfile from the docker engine at unix:\/\/.* \(docker:\/\/tiny-app:dockerfile pulls from the registry instead\)$/);

  const reg = await startRegistry();
  t.teardown(() => reg.stop());
  await push(`docker-archive:${FIXTURE}`, `${reg.host}/tiny-app:dockerfile`);
  const remote = await read(`${reg.host}/tiny-app:dockerfile`, e);
  t.is(remote.model.image.source, 'registry');
  t.deepEqual(remote.notes, [`pulling ${reg.host}/tiny-app:dockerfile from the registry`]);
  t.deepEqual([...listView(remote.model)], [...listView(local.model)]);
});

test('optimize: the output loads into dockerd and a container reads the same files as the original', async (t) => {
  const dockerHost = dockerHostFor();
  const out = join(tempDir('optimize'), 'slim.tar');
  const r = await runStrata(['optimize', FIXTURE, '-o', `docker-archive:${out}:tiny-app:slim`], { timeoutMs: 120_000 });
  t.is(r.code, 0, r.stderr);
  await run('docker', ['-H', dockerHost, 'load', '-i', out]);
  // every regular file's content and every path's mode, owner and type, as the container sees them
  // (one hostname for both: docker writes it into /etc/hostname and /etc/hosts)
  const script = 'find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -print | sort | while read p; do stat -c "%n %F %a %u:%g %s" "$p"; [ -f "$p" ] && md5sum "$p"; done';
  const inContainer = async (image: string) =>
    (await run('docker', ['-H', dockerHost, 'run', '--rm', '--network', 'none', '--hostname', 'strata', '--user', '0', image, 'sh', '-c', script], { maxBuffer: 1 << 26 })).stdout;
  const [original, slim] = await Promise.all([inContainer('tiny-app:dockerfile'), inContainer('tiny-app:slim')]);
  t.true(original.split('\n').length > 500);
  t.is(slim, original);
  const sizes = async (image: string) => Number((await run('docker', ['-H', dockerHost, 'image', 'inspect', '-f', '{{.Size}}', image])).stdout);
  t.true((await sizes('tiny-app:slim')) < (await sizes('tiny-app:dockerfile')) - 1_000_000);
});

test('podman: through a Docker-compatible API socket (CONTAINER_HOST)', async (t) => {
  const dockerHost = dockerHostFor();
  const { model } = await read('podman:tiny-app:dockerfile', env({ CONTAINER_HOST: dockerHost, DOCKER_HOST: 'unix:///nonexistent.sock' }));
  t.is(model.image.source, 'podman');
  same(t, model, await readImage(await openImage(FIXTURE)));
});

test('podman (real): `podman image save` on a pipe when no API socket answers', async (t) => {
  const podman = podmanFor();
  const storage = { CONTAINERS_STORAGE_CONF: podman.storageConf };
  // No CONTAINER_HOST: the podman command honours it too, and would dial the socket strata found silent.
  const e = env(storage);
  delete e.CONTAINER_HOST;
  const { model, notes } = await read('podman:tiny-app:dockerfile', e);
  t.is(model.image.source, 'podman');
  t.deepEqual(model.image.tags, ['localhost/tiny-app:dockerfile']);
  t.deepEqual(notes, ['reading tiny-app:dockerfile from podman']);
  const fixture = await readImage(await openImage(FIXTURE));
  same(t, model, fixture);
  t.deepEqual(await busybox(model), await busybox(fixture));
  await t.throwsAsync(read('podman:absent', e), { message: 'podman image save absent: Error: absent: image not known' });
});

test('podman (real): the API of `podman system service` (CONTAINER_HOST)', async (t) => {
  const podman = podmanFor();
  const storage = { CONTAINERS_STORAGE_CONF: podman.storageConf };
  const e = env({ ...storage, CONTAINER_HOST: `unix://${podman.socket}`, DOCKER_HOST: 'unix:///nonexistent.sock' });
  const { model } = await read('podman:localhost/tiny-app:dockerfile', e);
  t.is(model.image.source, 'podman');
  const fixture = await readImage(await openImage(FIXTURE));
  same(t, model, fixture);
  t.deepEqual(await busybox(model), await busybox(fixture));
  await t.throwsAsync(read('podman:absent', e), { message: `podman engine at unix://${podman.socket}: no image absent` });
  // a bare reference: docker does not answer, podman holds it
  const bare = await read('tiny-app:dockerfile', e);
  t.is(bare.model.image.source, 'podman');
  t.deepEqual(bare.notes, [`reading tiny-app:dockerfile from the podman engine at unix://${podman.socket} (docker://tiny-app:dockerfile pulls from the registry instead)`]);
});
