/**
 * A real Docker engine for a test file: dockerd as root on a private socket, vfs storage (works in
 * any container, no overlay mounts), no networking of its own (`--iptables=false --bridge=none`:
 * containers run with `--network none`, builds with `--network host`). Its data and its own temp
 * directory are under a temp directory removed with it.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stopProcess, tempDir } from './registry-harness.js';
import { missingTool, spawnTied } from './system-tools.js';

const run = promisify(execFile);

export interface Engine {
  socket: string;
  proc: ChildProcess;
  dir: string;
}

/** The started engine, or why it could not start (a missing tool names its package). */
export async function startDockerd(): Promise<Engine | string> {
  const missing = missingTool('dockerd');
  if (missing) return missing;
  const dir = tempDir('dockerd');
  const socket = join(dir, 'docker.sock');
  // its own temp dir (containerd dumps its stacks there when stopped), removed with the engine's
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const proc = spawnTied('dockerd', [
    '--storage-driver', 'vfs', '--iptables=false', '--ip6tables=false', '--bridge=none',
    '-H', `unix://${socket}`, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'docker.pid'),
  ], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
  let log = '';
  proc.stderr!.on('data', (d) => (log = (log + d).slice(-4000)));
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) return `dockerd exited: ${log.trim().split('\n').pop()}`;
    if (existsSync(socket)) {
      try {
        await run('docker', ['-H', `unix://${socket}`, 'version']);
        return { socket, proc, dir };
      } catch {
        // not answering yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopProcess(proc);
  return `dockerd did not answer within 30 s: ${log.trim().split('\n').pop()}`;
}

/**
 * Stop the engine (its containers with it) and remove its storage. dockerd bind-mounts the host's
 * network namespace at exec/netns/default for the first `--network host` container or build and
 * leaves it there when it stops: unmounted first, or removing its directory fails (EBUSY).
 */
export async function stopDockerd(e: Engine): Promise<void> {
  await stopProcess(e.proc);
  const points = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((p) => p?.startsWith(`${e.dir}/`));
  for (const p of points.reverse()) await run('umount', [p]);
  rmSync(e.dir, { recursive: true, force: true });
}
