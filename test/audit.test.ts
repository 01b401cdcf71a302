/**
 * `strata audit` on one machine and distributed (#20): the real fixtures, from files and from a real
 * registry (docker-registry, its catalog), Debian's redis-server started here on 127.0.0.1, and
 * `strata worker` processes. The distributed report must equal the single-machine one, each
 * distinct layer be scanned exactly once across the workers, and a worker killed with SIGKILL in the
 * middle of a job must not keep the audit from completing.
 */
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHE_SCHEMA } from '../src/cache/layer-cache.js';
import { Redis } from 'ioredis';
import { repoRoot, runStrata } from './helpers/cli.js';
import { fixture } from './helpers/fixtures.js';
import { freePort, push, startProxy, startRegistry, stopProcess, type Proxy, type Registry } from './helpers/registry-harness.js';
import type { FleetReport } from '../src/analyze/fleet/fleet.js';
import { requireTools, spawnTied } from './helpers/system-tools.js';

requireTools('redis-server', 'docker-registry', 'skopeo');

const work = mkdtempSync(join(tmpdir(), 'strata-audit-'));
const FILES = ['tiny-dockerfile.docker.tar', 'tiny-dockerfile.docker25.tar', 'tiny-commit.docker.tar', 'tiny-overlay.oci.tar', 'tiny-overlay.skopeo-docker.tar'].map(fixture);
/** No stored logins, no engines: the registry is reached as the tests set it up. */
const env = (extra: Record<string, string> = {}) => ({ HOME: mkdtempSync(join(work, 'home-')), DOCKER_HOST: 'unix:///nonexistent.sock', CONTAINER_HOST: 'unix:///nonexistent.sock', STRATA_NO_CACHE: '', ...extra });

let registry: Registry;
let redis: ChildProcess;
let redisUrl: string;
let proxy: Proxy;

test.before(async () => {
  registry = await startRegistry();
  await push(`docker-archive:${fixture('tiny-dockerfile.docker.tar')}`, `${registry.host}/team/app:v1`);
  await push(`oci-archive:${fixture('tiny-overlay.oci.tar')}`, `${registry.host}/team/app:v2`);
  await push(`docker-archive:${fixture('tiny-commit.docker.tar')}`, `${registry.host}/team/app:v3`);
  await push(`oci-archive:${fixture('tiny-commit-overlay.oci.tar')}`, `${registry.host}/team/api:1`);
  await push(`oci-archive:${fixture('tiny-overlay-zstd.oci-layout.tar')}`, `${registry.host}/other/zstd:1`);
  proxy = await startProxy(registry);
  const port = await freePort();
  redis = spawnTied('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  redisUrl = `redis://127.0.0.1:${port}`;
  const probe = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: null, retryStrategy: () => 50 });
  probe.on('error', () => undefined); // refused until the server is up
  await probe.ping();
  probe.disconnect();
});

test.after.always(async () => {
  if (redis) await stopProcess(redis);
  await proxy?.stop();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function audit(args: string[], opts: { cache?: string; cwd?: string } = {}) {
  const r = await runStrata(['audit', ...args], { env: env(opts.cache ? { STRATA_CACHE_DIR: opts.cache } : {}), cwd: opts.cwd, timeoutMs: 120_000 });
  return { ...r, scanned: Number(/(\d+) layers? scanned/.exec(r.stderr)?.[1] ?? NaN) };
}

const json = (stdout: string) => JSON.parse(stdout) as FleetReport;

test.serial('one machine: a row per image, shared layers, waste by instruction, duplicates; each distinct layer scanned once; a second run reads nothing', async (t) => {
  const cache = mkdtempSync(join(work, 'cache-'));
  const first = await audit([...FILES, '--json'], { cache });
  t.is(first.code, 0, first.stderr);
  const r = json(first.stdout);
  t.deepEqual(r.images.map((i) => i.ref), [...FILES].sort());
  t.is(first.scanned, r.fleet.distinctLayers, 'every distinct layer scanned, none twice');
  t.is(r.fleet.distinctLayers, 17);
  // the busybox base of the three overlay-built and docker25 images is one layer
  t.is(r.fleet.sharedLayers[0].images, 3);
  const base = JSON.parse((await runStrata(['inspect', '--json', FILES[0]])).stdout).layers[0];
  t.deepEqual([r.fleet.sharedLayers[0].diffId, r.fleet.sharedLayers[0].size], [base.diffId, base.size]);
  const inspect = JSON.parse((await runStrata(['inspect', '--json', FILES[0]])).stdout);
  const row = r.images.find((i) => i.ref === FILES[0])!;
  t.deepEqual([row.uncompressedSize, row.finalSize, row.wastedBytes, row.bloatBytes, row.verdict], [inspect.summary.uncompressedSize, inspect.summary.finalSize, inspect.summary.wastedBytes, inspect.summary.bloatBytes, inspect.summary.verdict]);
  const optimize = JSON.parse((await runStrata(['optimize', FILES[0], '--dry-run', '--json'])).stdout);
  t.is(row.optimizeSaves, optimize.saved.fileBytes);
  t.is(r.fleet.optimizeSaves, r.images.reduce((n, i) => n + i.optimizeSaves, 0));
  t.is(r.fleet.wasteByInstruction[0].pattern.startsWith('RUN mkdir -p /var/cache/pkg'), true);
  // bundle.js is the same content in the COPY layers of every app image: one file stored in 7 distinct layers
  const bundle = r.fleet.duplicates.find((d) => d.paths.includes('/app/bundle.js'))!;
  t.deepEqual([bundle.size, bundle.layers], [405_264, 7]);
  // again: every image from its kept result, no layer read, the same report
  const second = await audit([...FILES, '--json'], { cache });
  t.is(second.scanned, 0);
  t.is(second.stdout, first.stdout);
});

test.serial('one layer stored in two blobs (gzip in one image, plain tar in the other), read at the same time: scanned once', async (t) => {
  const both = [fixture('tiny-overlay.oci.tar'), fixture('tiny-overlay.skopeo-docker.tar')];
  const r = await audit([...both, '--jobs', '2', '--json'], { cache: mkdtempSync(join(work, 'cache-')) });
  t.is(r.code, 0, r.stderr);
  t.is(json(r.stdout).fleet.distinctLayers, 8);
  t.is(r.scanned, 8);
});

test.serial('resumable: a run stopped half-way goes on where it was; a bad image is reported and the others complete (exit 2)', async (t) => {
  const cache = mkdtempSync(join(work, 'cache-'));
  const half = await audit([FILES[0], FILES[2], '--json'], { cache });
  t.is(half.code, 0, half.stderr);
  const kept = readdirSync(join(cache, 'audit'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
  t.is(kept.length, 2);
  const from = join(work, 'images.txt');
  writeFileSync(from, `# the fleet\n${FILES.join('\n')}\n${join(work, 'missing.tar')}\n`);
  const rest = await audit(['--from', from, '--json'], { cache });
  t.is(rest.code, 2);
  const r = json(rest.stdout);
  t.is(r.images.length, 5);
  t.deepEqual(r.failed.map((f) => [f.ref, f.error]), [[join(work, 'missing.tar'), `${join(work, 'missing.tar')}: no such file or directory`]]);
  // only the layers the first run had not read: 17 in all, 8 + 2 of them read before
  t.is(rest.scanned, 17 - half.scanned);
  const full = await audit([...FILES, '--json'], { cache: mkdtempSync(join(work, 'cache-')) });
  t.deepEqual(r.images, json(full.stdout).images);
});

test.serial('--registry HOST/PREFIX with --tags N, CSV and the fleet page', async (t) => {
  const out = await audit(['--registry', `${registry.host}/team`, '--tags', '2', '--csv', '--html', join(work, 'fleet.html')], { cache: mkdtempSync(join(work, 'cache-')) });
  t.is(out.code, 0, out.stderr);
  const lines = out.stdout.trim().split('\r\n');
  t.is(lines[0], 'ref,key,platform,compressed_bytes,uncompressed_bytes,final_bytes,wasted_bytes,bloat_bytes,optimize_saves_bytes,secrets,hidden_secrets,layers,verdict,error');
  // team/api:1 and the two newest of team/app (v2 the overlay build, v3 the commit: the fixtures' created order)
  t.deepEqual(lines.slice(1).map((l) => l.split(',')[0]).sort(), [`${registry.host}/team/api:1`, `${registry.host}/team/app:v2`, `${registry.host}/team/app:v3`].sort());
  const page = readFileSync(join(work, 'fleet.html'), 'utf8');
  t.regex(page, /<script id="strata-data" type="application\/json">\{"kind":"fleet"/);
  t.regex(out.stderr, /wrote .*fleet\.html/);
});

interface Worker {
  proc: ChildProcess;
  log: () => string;
}

function startWorker(cache: string, run = 'fleet'): Worker {
  let log = '';
  const proc = spawnTied(process.execPath, [join(repoRoot, 'bin', 'strata.js'), 'worker', '--queue', redisUrl, '--run', run, '--stalled-after', '2', '--insecure', '--cache-dir', cache], { env: { ...process.env, ...env() }, stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr!.on('data', (d) => (log += d));
  return { proc, log: () => log };
}

async function until(what: () => boolean, ms = 60_000): Promise<void> {
  for (const start = Date.now(); !what(); ) {
    if (Date.now() - start > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test.serial('distributed: three workers on BullMQ, one killed with SIGKILL mid-job; the report equals the single-machine one, each layer scanned once', async (t) => {
  const refs = ['team/app:v1', 'team/app:v2', 'team/app:v3', 'team/api:1', 'other/zstd:1'].map((r) => `${proxy.host}/${r}`);
  // team/app's blobs come slowly for a while, so that a worker can be killed while it reads one
  let slowUntil = 0;
  proxy.fault = (req) => {
    if (!req.path.includes('/team/app/blobs/') || req.method !== 'GET') return undefined;
    if (slowUntil === 0) slowUntil = Date.now() + 3000;
    return Date.now() < slowUntil ? { kind: 'delay', ms: 3000 } : undefined;
  };
  const inHand = (w: Worker) => {
    const said = (event: string) => [...w.log().matchAll(new RegExp(`^strata worker: ${event} (\\S+)$`, 'gm'))].map((m) => m[1]);
    const done = said('completed');
    return said('active').filter((ref) => !done.includes(ref));
  };
  const workers = [1, 2, 3].map((i) => startWorker(mkdtempSync(join(work, `worker${i}-`))));
  try {
    await until(() => workers.every((w) => /waiting for jobs/.test(w.log())));
    const run = runStrata(['audit', ...refs, '--queue', redisUrl, '--run', 'fleet', '--insecure', '--json'], { env: env(), timeoutMs: 120_000 });
    // a worker in the middle of a team/app job, waiting for its slow blob
    await until(() => slowUntil > 0);
    const victim = workers.find((w) => inHand(w).some((ref) => ref.includes('/team/app:')))!;
    t.truthy(victim, workers.map((w) => w.log()).join('\n'));
    const lost = inHand(victim);
    victim.proc.kill('SIGKILL');
    const r = await run;
    t.is(r.code, 0, r.stderr);
    // what the killed worker had in hand was done by another one
    for (const ref of lost) t.true(workers.some((w) => w !== victim && new RegExp(`^strata worker: completed ${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').test(w.log())), ref);
    const distributed = json(r.stdout);
    t.deepEqual(distributed.failed, []);
    t.is(distributed.images.length, 5);
    // the same report as one machine's (its own cache: nothing shared with the workers)
    const local = await audit([...refs, '--insecure', '--json'], { cache: mkdtempSync(join(work, 'cache-')) });
    t.is(local.code, 0, local.stderr);
    t.deepEqual(distributed, json(local.stdout));
    // each distinct layer scanned once across the workers (a killed worker's scan never completed, so it stored nothing)
    const db = new Redis(redisUrl);
    const scans = await db.hgetall(`strata:layers:v${CACHE_SCHEMA}:scans`);
    db.disconnect();
    t.is(Object.keys(scans).length, distributed.fleet.distinctLayers);
    t.deepEqual([...new Set(Object.values(scans))], ['1']);
    t.regex(r.stderr, new RegExp(`shared store holds ${distributed.fleet.distinctLayers} layers, scanned ${distributed.fleet.distinctLayers} times`));
    // --collect prints the same report later
    const collected = await runStrata(['audit', '--queue', redisUrl, '--run', 'fleet', '--collect', '--json'], { env: env() });
    t.deepEqual(json(collected.stdout), distributed);
  } finally {
    for (const w of workers) if (w.proc.exitCode === null) w.proc.kill('SIGTERM');
    await Promise.all(workers.map((w) => (w.proc.exitCode === null && w.proc.signalCode === null ? new Promise((r) => w.proc.once('exit', r)) : undefined)));
  }
});

test.serial('distributed: a job failing 3 times is reported with its error; the audit completes', async (t) => {
  const w = startWorker(mkdtempSync(join(work, 'worker-')), 'failing');
  try {
    await until(() => /waiting for jobs/.test(w.log()));
    const r = await runStrata(['audit', `${proxy.host}/team/app:v1`, `${proxy.host}/team/nothing:here`, '--queue', redisUrl, '--run', 'failing', '--insecure', '--json'], { env: env(), timeoutMs: 120_000 });
    t.is(r.code, 2, `${r.stderr}\n${w.log()}`);
    const report = json(r.stdout);
    t.is(report.images.length, 1);
    t.is(report.failed.length, 1);
    t.is(report.failed[0].attempts, 3);
    t.regex(report.failed[0].error, /team\/nothing/);
  } finally {
    w.proc.kill('SIGTERM');
    await new Promise((r) => w.proc.once('exit', r));
  }
});

test.serial('distributed: Redis restarted under a waiting worker; the worker reconnects and takes the next audit', async (t) => {
  const w = startWorker(mkdtempSync(join(work, 'worker-')), 'restart');
  try {
    await until(() => /waiting for jobs/.test(w.log()));
    await stopProcess(redis);
    const port = Number(new URL(redisUrl).port);
    redis = spawnTied('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const r = await runStrata(['audit', FILES[2], '--queue', redisUrl, '--run', 'restart', '--json'], { env: env(), timeoutMs: 60_000 });
    t.is(r.code, 0, `${r.stderr}\n${w.log()}`);
    t.deepEqual(json(r.stdout).images.map((i) => i.ref), [FILES[2]]);
    t.regex(w.log(), /completed .*tiny-commit\.docker\.tar/);
  } finally {
    w.proc.kill('SIGTERM');
    await new Promise((r) => w.proc.once('exit', r));
  }
});

test('errors: no images, --collect without --queue, an unreachable Redis: one line, exit 2', async (t) => {
  for (const [args, message] of [
    [[], /no images to audit/],
    [['--collect'], /--collect reads a distributed run/],
    [[FILES[0], '--queue', 'redis://127.0.0.1:1'], /--queue redis:\/\/127\.0\.0\.1:1: cannot reach Redis/],
    [[FILES[0], '--queue', 'http://x'], /expected redis:\/\/HOST:PORT/],
    [['--tags', '2', FILES[0]], /--tags lists the newest tags of --registry/],
  ] as [string[], RegExp][]) {
    const r = await runStrata(['audit', ...args], { env: env() });
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, message);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const w = await runStrata(['worker'], { env: env() });
  t.is(w.code, 2);
  t.regex(w.stderr, /strata worker needs --queue/);
});
