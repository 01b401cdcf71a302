/** Run the real CLI (`node bin/strata.js`) as a child process, with a timeout so a hang fails. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  stdin?: Buffer;
  timeoutMs?: number;
  pipeFrom?: string;
  /** Working directory (default: the repository), e.g. one holding a .strata.yml. */
  cwd?: string;
  /** Environment on top of the defaults (`STRATA_NO_CACHE: ''` with a `STRATA_CACHE_DIR` turns a cache on). */
  env?: Record<string, string>;
}

const bin = join(repoRoot, 'bin', 'strata.js');

/** At most this many CLI runs at once per test file: the timeout measures a run, not a queue. */
const MAX_RUNNING = 4;
let running = 0;
const queue: (() => void)[] = [];

export async function runStrata(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  if (running >= MAX_RUNNING) await new Promise<void>((r) => queue.push(r));
  else running++;
  try {
    return await runOnce(args, opts);
  } finally {
    const next = queue.shift();
    if (next) next();
    else running--;
  }
}

function runOnce(args: string[], opts: RunOptions): Promise<RunResult> {
  // pipeFrom: the image is `<(cat FILE)` appended by bash (a /dev/fd pipe path, as a user would pass)
  const [cmd, argv] = opts.pipeFrom === undefined
    ? [process.execPath, [bin, ...args]]
    : ['bash', ['-c', 'node=$0 bin=$1 f=$2; shift 2; exec "$node" "$bin" "$@" <(cat "$f")', process.execPath, bin, opts.pipeFrom, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, {
      cwd: opts.cwd ?? repoRoot,
      // no stack traces; no layer cache, so every run reads the bytes it is given
      env: { ...process.env, STRATA_DEBUG: '', STRATA_NO_CACHE: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => {}); // the CLI may exit before reading all of stdin
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut });
    });
    if (opts.stdin) child.stdin.end(opts.stdin);
    else child.stdin.end();
  });
}

/** `ls --json` output parsed, one object per line. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}
