/**
 * Loaded by ava into every test file's process (package.json `ava.require`): the file fails when it
 * leaves a temp entry or a child process behind, pass or fail. Each file gets its own TMPDIR
 * (os.tmpdir() and every child that inherits the environment write there), so what is left in it
 * once the file's `after.always` hooks and teardowns have run is that file's leak. The check then
 * removes what it found, so a leak never outlives the run, and the file exits non-zero (ava reports
 * "exited with a non-zero exit code" under the line printed here).
 */
import { registerCompletionHandler } from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = mkdtempSync(join(tmpdir(), 'strata-testfile-'));
process.env.TMPDIR = root;

/** Live descendants of this process, from /proc (ppid chains), zombies left out. */
export function liveDescendants(pid = process.pid): { pid: number; command: string }[] {
  const parent = new Map<number, number>();
  const command = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const [state, ppid] = stat.slice(close + 2).split(' ');
      if (state === 'Z') continue;
      parent.set(Number(name), Number(ppid));
      command.set(Number(name), readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' '));
    } catch {
      // gone meanwhile
    }
  }
  const isDescendant = (p: number): boolean => {
    for (let q = parent.get(p); q !== undefined; q = parent.get(q)) if (q === pid) return true;
    return false;
  };
  return [...parent.keys()].filter(isDescendant).map((p) => ({ pid: p, command: command.get(p)! }));
}

function killAll(procs: { pid: number }[]): void {
  for (const p of procs) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

registerCompletionHandler(() => {
  // after the other completion handlers (registered later, run on the same tick queue)
  setImmediate(() => {
    const entries = readdirSync(root);
    const children = liveDescendants();
    if (entries.length > 0 || children.length > 0) {
      const what = [...entries.map((e) => `temp ${e}`), ...children.map((c) => `process ${c.pid} (${c.command.slice(0, 80)})`)];
      process.stderr.write(`leak check: left behind: ${what.join(', ')}\n`);
      process.exitCode = 1;
    }
    killAll(children);
    rmSync(root, { recursive: true, force: true });
  });
});

// ava stops a file that overran its timeout with SIGTERM, which skips exit handlers: clean up, then die of it.
process.once('SIGTERM', () => {
  killAll(liveDescendants());
  rmSync(root, { recursive: true, force: true });
  process.kill(process.pid, 'SIGTERM');
});
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
