/** Run the real CLI (`node bin/strata.js`) as a child process, with a timeout so a hang fails. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Peak resident set of the whole process in KiB (with `measureRss`). */
  maxRssKb?: number;
  /** Wall time of the run. */
  ms: number;
}

export interface RunOptions {
  stdin?: Buffer;
  timeoutMs?: number;
  pipeFrom?: string;
  /** Working directory (default: the repository), e.g. one holding a .strata.yml. */
  cwd?: string;
  /** Environment on top of the defaults (`STRATA_NO_CACHE: ''` with a `STRATA_CACHE_DIR` turns a cache on). */
  env?: Record<string, string>;
  /** Load test/helpers/rss-probe.js into the child and report its peak RSS. */
  measureRss?: boolean;
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
  const rssDir = opts.measureRss ? mkdtempSync(join(tmpdir(), 'strata-rss-')) : undefined;
  const rssEnv: Record<string, string> = rssDir
    ? { STRATA_RSS_FILE: join(rssDir, 'rss'), NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${new URL('./rss-probe.js', import.meta.url).href}`.trim() }
    : {};
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, {
      cwd: opts.cwd ?? repoRoot,
      // no stack traces; no layer cache, so every run reads the bytes it is given
      env: { ...process.env, STRATA_DEBUG: '', STRATA_NO_CACHE: '1', ...opts.env, ...rssEnv },
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
      let maxRssKb: number | undefined;
      if (rssDir) {
        try {
          maxRssKb = Number(readFileSync(join(rssDir, 'rss'), 'utf8'));
        } catch {
          maxRssKb = undefined;
        }
        rmSync(rssDir, { recursive: true, force: true });
      }
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut, maxRssKb, ms: Date.now() - started });
    });
    if (opts.stdin) child.stdin.end(opts.stdin);
    else child.stdin.end();
  });
}

/** `ls --json` output parsed, one object per line. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}
