/**
 * The contract every hostile-input case asserts (issue 29): strata either refuses with exit 2 and one
 * `strata: …` line, or succeeds; in both cases within a time bound the test enforces, under a peak
 * RSS bound, with no raw control byte on stdout or stderr, no secret value in any output, and no file
 * created or changed outside the directories the test owns.
 */
import type { ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { runStrata, type RunOptions, type RunResult } from './cli.js';

export interface Bounds {
  /** Wall time the run must finish within (default 30 s). */
  ms?: number;
  /** Peak RSS of the whole process in MiB (default 400). */
  rssMb?: number;
  /** Values that must appear in no output (stdout, stderr). */
  secrets?: string[];
  /** refuses(): progress notes allowed on stderr before the refusal (`pulling REF from the registry`). */
  notes?: RegExp;
}

/** C0 controls other than \n, DEL, C1 controls: what a terminal acts on. Tabs are refused too. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f]/;

export function assertNoRawControl(t: ExecutionContext, text: string, what: string): void {
  const m = RAW_CONTROL.exec(text);
  t.is(m, null, m ? `${what} holds a raw control byte 0x${m[0].charCodeAt(0).toString(16)} at ${m.index}: ${JSON.stringify(text.slice(Math.max(0, m.index - 40), m.index + 40))}` : '');
}

export function assertNoSecrets(t: ExecutionContext, text: string, secrets: string[] | undefined, what: string): void {
  for (const s of secrets ?? []) t.false(text.includes(s), `${what} shows the secret ${s.slice(0, 6)}…`);
}

async function run(t: ExecutionContext, args: string[], opts: RunOptions & Bounds): Promise<RunResult> {
  const ms = opts.ms ?? 30_000;
  // the kill timer is generous so that an overrun is reported with its time, not as a bare kill
  const r = await runStrata(args, { ...opts, timeoutMs: ms * 2, measureRss: true });
  t.false(r.timedOut, `strata ${args.join(' ')} hung (killed after ${ms * 2} ms)`);
  t.true(r.ms <= ms, `strata ${args.join(' ')} took ${r.ms} ms, bound ${ms} ms`);
  t.not(r.maxRssKb, undefined, 'peak RSS not reported');
  const rssMb = (r.maxRssKb ?? 0) / 1024;
  t.true(rssMb <= (opts.rssMb ?? 400), `peak RSS ${rssMb.toFixed(0)} MiB, bound ${opts.rssMb ?? 400} MiB`);
  assertNoRawControl(t, r.stdout, 'stdout');
  assertNoRawControl(t, r.stderr, 'stderr');
  assertNoSecrets(t, r.stdout, opts.secrets, 'stdout');
  assertNoSecrets(t, r.stderr, opts.secrets, 'stderr');
  return r;
}

/** The run must fail as bad input: exit 2, nothing on stdout, one `strata:` line; returns the message. */
export async function refuses(t: ExecutionContext, args: string[], opts: RunOptions & Bounds = {}): Promise<string> {
  const r = await run(t, args, opts);
  t.is(r.code, 2, `exit ${r.code}: ${r.stderr}`);
  t.is(r.stdout, '');
  const all = r.stderr.replace(/\n$/, '').split('\n');
  const lines = all.filter((l, i) => i === all.length - 1 || !opts.notes?.test(l));
  t.is(lines.length, 1, r.stderr);
  t.true(lines[0].startsWith('strata: '), r.stderr);
  t.false(lines[0].includes('internal error'), r.stderr);
  return lines[0].slice('strata: '.length);
}

/** The run must succeed (exit 0, or `code`) under the same bounds; returns the result. */
export async function succeeds(t: ExecutionContext, args: string[], opts: RunOptions & Bounds & { code?: number } = {}): Promise<RunResult> {
  const r = await run(t, args, opts);
  t.is(r.code, opts.code ?? 0, r.stderr);
  return r;
}


/** Every entry under `root` (not following symlinks): compare two to see what a run touched. */
export function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out.set(p, `link ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.set(p, `dir ${st.mode.toString(8)}`);
        walk(p);
      } else out.set(p, `file ${st.mode.toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
    }
  };
  walk(root);
  return out;
}

/** Assert that nothing under `root` changed between two snapshots (outside the paths `allowed`). */
export function assertUnchanged(t: ExecutionContext, before: Map<string, string>, after: Map<string, string>, allowed: (p: string) => boolean = () => false): void {
  const changed: string[] = [];
  for (const [p, v] of after) if (before.get(p) !== v && !allowed(p)) changed.push(`${before.has(p) ? 'changed' : 'created'} ${p}`);
  for (const p of before.keys()) if (!after.has(p) && !allowed(p)) changed.push(`deleted ${p}`);
  t.deepEqual(changed, []);
}

/** Every file under `root` must hold none of `secrets` (caches, reports). */
export function assertNoSecretsInTree(t: ExecutionContext, root: string, secrets: string[]): void {
  for (const [p, v] of snapshot(root)) {
    if (!v.startsWith('file ')) continue;
    const bytes = readFileSync(p);
    for (const s of secrets) t.false(bytes.includes(s), `${p} holds the secret ${s.slice(0, 6)}…`);
  }
}
