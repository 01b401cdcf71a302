/**
 * `npm run bench fleet`: 50 images on 10 shared layers (each image: 3 of the shared layers and one
 * small layer of its own) in one OCI layout, audited on one machine, then on BullMQ with one worker
 * and with two (Debian's redis-server on 127.0.0.1): wall time, and scans counted in Redis (each
 * distinct layer once). Then the same 50 again, every result kept: what the queue itself costs per
 * job. And the Redis memory a layer record takes, per entry of the layer.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { writeLayer, type Blob, type Entry } from './tui-image.js';

const bin = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));
const IMAGES = 50;
const SHARED = 10;
const FILES_PER_SHARED = 20_000;

function* files(prefix: string, n: number, meanSize: number): Generator<Entry> {
  yield { path: prefix, type: 'dir' };
  for (let i = 0; i < n; i++) yield { path: `${prefix}/f${i}`, type: 'file', size: (i * 7919) % (2 * meanSize) };
}

/** The layout, made once under `root`: blobs shared, one manifest per image, tags img-0 … img-49. */
async function fleetLayout(root: string): Promise<{ dir: string; refs: string[]; entriesPerShared: number }> {
  const dir = join(root, 'fleet-layout');
  const refs = Array.from({ length: IMAGES }, (_, i) => `oci:${dir}:img-${i}`);
  const entriesPerShared = FILES_PER_SHARED + 1;
  if (existsSync(join(dir, 'index.json'))) return { dir, refs, entriesPerShared };
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const shared: Blob[] = [];
  for (let s = 0; s < SHARED; s++) shared.push(await writeLayer(blobs, files(`shared${s}`, FILES_PER_SHARED, 1500)));
  const put = (obj: unknown, mediaType: string) => {
    const buf = Buffer.from(JSON.stringify(obj));
    const hex = createHash('sha256').update(buf).digest('hex');
    writeFileSync(join(blobs, hex), buf);
    return { mediaType, digest: `sha256:${hex}`, size: buf.length };
  };
  const manifests = [];
  for (let i = 0; i < IMAGES; i++) {
    const own = await writeLayer(blobs, files(`app${i}`, 50, 2000));
    const layers = [shared[i % 3], shared[3 + (i % 4)], shared[7 + (i % 3)], own];
    const config = put({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) }, history: layers.map((_, j) => ({ created_by: `/bin/sh -c step ${j}` })) }, 'application/vnd.oci.image.config.v1+json');
    const manifest = put({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })) }, 'application/vnd.oci.image.manifest.v1+json');
    manifests.push({ ...manifest, annotations: { 'org.opencontainers.image.ref.name': `img-${i}` } });
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  return { dir, refs, entriesPerShared };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function startWorkers(n: number, url: string, run: string, cacheRoot: string): ChildProcess[] {
  return Array.from({ length: n }, (_, i) => spawn(process.execPath, [bin, 'worker', '--queue', url, '--run', run, '--cache-dir', join(cacheRoot, `w${i}`)], { stdio: 'ignore' }));
}

async function stop(procs: ChildProcess[]): Promise<void> {
  await Promise.all(procs.map((p) => new Promise((r) => {
    p.once('exit', r);
    p.kill('SIGTERM');
  })));
}

function timed(args: string[], env: NodeJS.ProcessEnv = {}): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`strata ${args.slice(0, 3).join(' ')} … exited ${r.status}: ${r.stderr}`);
  return performance.now() - t0;
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export async function fleetBench(root: string): Promise<void> {
  const { refs, entriesPerShared } = await fleetLayout(root);
  const scratch = mkdtempSync(join(tmpdir(), 'strata-fleet-bench-'));
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const redis = new Redis(url, { retryStrategy: () => 50 });
  redis.on('error', () => undefined);
  try {
    await redis.ping();
    console.log(`fleet: ${IMAGES} images on ${SHARED} shared layers (${FILES_PER_SHARED} files each) + one own layer each, ${SHARED + IMAGES} distinct layers`);
    const local = timed(['audit', ...refs, '--json'], { STRATA_CACHE_DIR: join(scratch, 'local') });
    console.log(`  one machine, no queue                  ${s(local).padStart(9)}`);
    for (const n of [1, 2]) {
      await redis.flushall();
      const workers = startWorkers(n, url, `bench${n}`, join(scratch, `run${n}`));
      const ms = timed(['audit', ...refs, '--queue', url, '--run', `bench${n}`, '--json']);
      const scans = Object.values(await redis.hgetall('strata:layers:v2:scans')).map(Number);
      console.log(`  BullMQ, ${n} worker${n === 1 ? ' ' : 's'}                       ${s(ms).padStart(9)}  ${(local / ms).toFixed(2)}x of one machine's speed; ${scans.length} layers scanned ${scans.reduce((a, b) => a + b, 0)} times`);
      if (n === 2) {
        // the same images again: every result is kept, so a job is the queue's round trip and one lookup
        // (--platform makes them new jobs: a job is named by reference and platform)
        const again = timed(['audit', ...refs, '--queue', url, '--run', `bench${n}`, '--platform', 'linux/amd64', '--json']);
        console.log(`  BullMQ, 2 workers, results kept         ${s(again).padStart(9)}  ${((IMAGES / again) * 1000).toFixed(0)} jobs/s (enqueue, take, look up, collect)`);
        const keys = (await redis.keys('strata:layers:v2:sha256:*')).filter((k) => !k.includes(':lock:'));
        const bytes = await Promise.all(keys.map(async (k) => Number(await redis.call('MEMORY', 'USAGE', k))));
        const sharedBytes = bytes.filter((b) => b > 100_000);
        const perEntry = sharedBytes.reduce((a, b) => a + b, 0) / sharedBytes.length / entriesPerShared;
        console.log(`  Redis memory of a layer record          ${(sharedBytes.reduce((a, b) => a + b, 0) / sharedBytes.length / 1e6).toFixed(2)} MB for ${entriesPerShared} entries: ${perEntry.toFixed(0)} B per entry; used_memory ${((await redis.info('memory')).match(/used_memory:(\d+)/)?.[1] ?? '?')} B`);
      }
      await stop(workers);
    }
  } finally {
    redis.disconnect();
    await stop([server]);
    rmSync(scratch, { recursive: true, force: true });
  }
}
