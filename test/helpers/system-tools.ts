/**
 * The system tools the tests run, each with the Debian package that installs it: the one list the
 * README's "Tests" paragraph, `.ci/run` and `test/system-tools.test.ts` agree with. A missing tool
 * fails its test file with one line naming the package, never an uncaught `spawn … ENOENT`.
 */
import test from 'ava';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const DEBIAN_PACKAGES = {
  'redis-server': 'redis-server',
  htpasswd: 'apache2-utils',
  'docker-registry': 'docker-registry',
  skopeo: 'skopeo',
  umoci: 'umoci',
  dockerd: 'docker.io',
  docker: 'docker.io',
  podman: 'podman',
  buildah: 'buildah',
  tmux: 'tmux',
  chromium: 'chromium',
  openssl: 'openssl',
  setcap: 'libcap2-bin',
  getcap: 'libcap2-bin',
  python3: 'python3',
  rpm: 'rpm',
  rpmbuild: 'rpm',
  rpmdb: 'rpm',
  'db5.3_load': 'db5.3-util',
  dpkg: 'dpkg',
  'dpkg-query': 'dpkg',
  'apt-mark': 'apt',
} as const;

export type SystemTool = keyof typeof DEBIAN_PACKAGES;

function onPath(name: string, path: string): boolean {
  return path.split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** `NAME not found: apt-get install PACKAGE`, or undefined when NAME is on PATH. */
export function missingTool(name: SystemTool, path = process.env.PATH ?? ''): string | undefined {
  return onPath(name, path) ? undefined : `${name} not found: apt-get install ${DEBIAN_PACKAGES[name]}`;
}

/**
 * Declare the tools a test file runs, before its own hooks: a serial `before` hook, which ava runs
 * ahead of the file's other hooks and tests and, when it fails, runs none of them. It fails with one
 * line per missing tool. Fail, not skip: the suite is meant to run where `.ci/run` installed all.
 */
export function requireTools(...names: SystemTool[]): void {
  test.serial.before('system tools', (t) => {
    const missing = names.map((n) => missingTool(n)).filter((m) => m !== undefined);
    for (const m of missing) t.fail(m);
    if (missing.length === 0) t.pass();
  });
}

const tied = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of tied) p.kill('SIGKILL');
});

/**
 * Start a long-running tool (a registry, redis-server, an engine, a `strata worker`) that cannot
 * outlive this test process: the kernel kills it when the process dies, however it dies (setpriv
 * --pdeathsig from util-linux, essential on Debian: an ava timeout's SIGTERM skips exit handlers),
 * and a normal exit kills it too. The test still stops it in a teardown: the leak check counts it.
 */
export function spawnTied(cmd: string, args: string[], opts: SpawnOptions): ChildProcess {
  const proc = spawn('setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args], opts);
  tied.add(proc);
  proc.once('exit', () => tied.delete(proc));
  return proc;
}
