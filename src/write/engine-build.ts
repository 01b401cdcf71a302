/**
 * `strata dockerfile --verify`: DIR/Dockerfile built on DIR/context by the local engine (docker,
 * else podman, else buildah), and a reference strata's sources open the result by. The build runs
 * the image's own steps and prints what they print: its output is hostile text, and no string
 * reaches a shell (execFile-style argument arrays, `--flag=value` so a value never reads as a flag).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { StrataError } from '../util/errors.js';
import { terminalText } from '../util/terminal-text.js';
import { pushAll } from '../util/arrays.js';

export type BuildEngine = 'docker' | 'podman' | 'buildah';

export interface BuildOptions {
  /** The name the built image gets (`strata-verify:1234`). */
  tag: string;
  /** Default: the first of docker, podman, buildah whose `version` answers. */
  engine?: BuildEngine;
  /** `--network` of the build (`host` for package installs on an engine without a bridge). */
  network?: string;
  /** Each line the build prints (stdout and stderr), as printed: escape before showing it. */
  onLine?: (line: string) => void;
  /** The build is stopped after this long; default: no limit. */
  timeoutMs?: number;
  /** `--build-arg NAME=VALUE` each (the Dockerfile's `ARG BASE` when the base has no name). */
  buildArgs?: Record<string, string>;
  /** The engines' environment (DOCKER_HOST, CONTAINERS_STORAGE_CONF…); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface Built {
  engine: BuildEngine;
  /** `docker-daemon:TAG`, `podman:TAG`, or `oci-archive:PATH` (buildah with storage podman does not see). */
  ref: string;
}

/** How long `X version` and the like may take before the engine counts as absent. */
const PROBE_MS = 15_000;
/** After SIGTERM, how long an engine gets to clean up before SIGKILL. */
const KILL_GRACE_MS = 5_000;
/** A build line longer than this is cut: a step can print megabytes without a newline. */
const LINE_MAX = 4096;
/** The last line quoted in an error. */
const QUOTE_MAX = 300;

// engine commands running now, killed if strata exits while one runs
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** Tag -> the OCI archive this process pushed a buildah image to (removeBuilt deletes it). */
const archives = new Map<string, string>();

// what a tag may hold: the engine checks the grammar, this keeps out what could read as anything else
const TAG = /^[A-Za-z0-9][A-Za-z0-9._/:-]{0,254}$/;
const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkTag(tag: string): void {
  if (!TAG.test(tag)) throw new StrataError(`build tag ${JSON.stringify(terminalText(tag))}: not an image name`);
}

export async function buildWithEngine(dir: string, opts: BuildOptions): Promise<Built> {
  checkTag(opts.tag);
  const env = opts.env ?? process.env;
  const engine = opts.engine ?? (await chooseEngine(env));
  const root = resolve(dir);
  const args = [`--tag=${opts.tag}`, `--file=${join(root, 'Dockerfile')}`];
  if (opts.network !== undefined) args.push(`--network=${opts.network}`);
  for (const [name, value] of Object.entries(opts.buildArgs ?? {})) {
    if (!ARG_NAME.test(name)) throw new StrataError(`build argument ${JSON.stringify(terminalText(name))}: not an ARG name`);
    args.push(`--build-arg=${name}=${value}`);
  }
  let cmd: string[];
  let buildEnv = env;
  if (engine === 'docker') {
    // the docker CLI without the buildx plugin refuses BuildKit builds: the legacy builder then
    const buildx = await answers('docker', ['buildx', 'version'], env);
    if (!buildx) buildEnv = { ...env, DOCKER_BUILDKIT: '0' };
    // with buildx, --load: a builder other than the engine's own keeps its result to itself otherwise
    cmd = ['docker', 'build', ...(buildx ? ['--progress=plain', '--load'] : []), ...args];
  } else cmd = engine === 'podman' ? ['podman', 'build', ...args] : ['buildah', 'bud', ...args];
  // a stopped podman or buildah leaves its scratch directory in TMPDIR: its own, removed after
  const scratch = mkdtempSync(join(tmpdir(), 'strata-engine-'));
  let result: RunResult;
  try {
    result = await run(cmd[0], [...cmd.slice(1), join(root, 'context')], { ...buildEnv, TMPDIR: scratch }, { timeoutMs: opts.timeoutMs, onLine: opts.onLine });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (result.timedOut) throw new StrataError(`${engine} build: no result in ${Math.round(opts.timeoutMs! / 1000)} s, stopped${lastLineNote(result.lastLine)}`);
  if (result.code !== 0) {
    throw new StrataError(`${engine} build failed (${result.signal ?? `exit ${result.code}`})${lastLineNote(result.lastLine)}`);
  }
  if (engine === 'docker') return { engine, ref: `docker-daemon:${opts.tag}` };
  if (engine === 'podman') return { engine, ref: `podman:${opts.tag}` };
  return { engine, ref: await buildahRef(opts.tag, env) };
}

/** Delete the tag (the image's layers go with it unless another tag holds them), and the archive it was pushed to. */
export async function removeBuilt(engine: BuildEngine, tag: string, opts: { env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  checkTag(tag);
  const archive = archives.get(tag);
  if (archive) rmSync(dirname(archive), { recursive: true, force: true });
  archives.delete(tag);
  const r = await run(engine, ['rmi', tag], opts.env ?? process.env, { timeoutMs: PROBE_MS * 4 });
  if (r.code !== 0) throw new StrataError(`${engine} rmi ${terminalText(tag)} failed${lastLineNote(r.lastLine)}`);
}

/** Load a docker-archive (a base image written by strata) into the engine, under the tag it carries. */
export async function loadArchive(engine: BuildEngine, path: string, opts: { env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  const file = resolve(path);
  const args = engine === 'buildah' ? ['pull', '--quiet', `docker-archive:${file}`] : ['load', '--quiet', `--input=${file}`];
  const r = await run(engine, args, opts.env ?? process.env, { timeoutMs: PROBE_MS * 40 });
  if (r.code !== 0) throw new StrataError(`${engine} ${args[0]} ${terminalText(file)} failed${lastLineNote(r.lastLine)}`);
}

/** The first of docker, podman, buildah whose `version` answers (docker's needs its daemon). */
export async function chooseEngine(env: NodeJS.ProcessEnv = process.env): Promise<BuildEngine> {
  for (const engine of ['docker', 'podman', 'buildah'] as const) if (await answers(engine, ['version'], env)) return engine;
  throw new StrataError('no engine to build with: neither `docker version` (is the daemon running? DOCKER_HOST), `podman version` nor `buildah version` answered');
}

/**
 * buildah and podman share containers-storage when they read the same storage.conf (as root on one
 * machine, by default): podman then opens the image. Otherwise the image goes to an OCI archive.
 */
async function buildahRef(tag: string, env: NodeJS.ProcessEnv): Promise<string> {
  if (await answers('podman', ['image', 'exists', tag], env)) return `podman:${tag}`;
  const path = join(mkdtempSync(join(tmpdir(), 'strata-build-')), 'image.oci.tar');
  const r = await run('buildah', ['push', tag, `oci-archive:${path}`], env, { timeoutMs: PROBE_MS * 40 });
  if (r.code !== 0) {
    rmSync(dirname(path), { recursive: true, force: true });
    throw new StrataError(`buildah push ${terminalText(tag)} to an OCI archive failed${lastLineNote(r.lastLine)}`);
  }
  archives.set(tag, path);
  return `oci-archive:${path}`;
}

function lastLineNote(line: string): string {
  if (!line) return '';
  const shown = terminalText(line.length > QUOTE_MAX ? `${line.slice(0, QUOTE_MAX)}…` : line);
  return `: ${shown}`;
}

async function answers(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  try {
    return (await run(cmd, args, env, { timeoutMs: PROBE_MS })).code === 0;
  } catch {
    return false; // not installed
  }
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The last non-blank line printed, on either stream. */
  lastLine: string;
}

/** Run a command to its end, its output split into lines; stopped (TERM, then KILL) on timeout or when onLine throws. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, opts: { timeoutMs?: number; onLine?: (line: string) => void }): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let lastLine = '';
    let timedOut = false;
    let failure: unknown;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      if (child.exitCode !== null || child.signalCode !== null || killTimer || child.pid === undefined) return;
      // podman's and buildah's RUN step runs under buildah-oci-runtime, the step's process the init of
      // its pid namespace: it ignores SIGTERM, and signalling podman or the runtime does not end it
      // reliably. The engine's descendants are killed, the engine gets SIGTERM to clean up. The tree
      // is taken now: once the engine is gone, its children belong to init.
      const tree = processTree(child.pid);
      signal(tree.slice(1), 'SIGKILL');
      signal(tree.slice(0, 1), 'SIGTERM');
      killTimer = setTimeout(() => signal(tree, 'SIGKILL'), KILL_GRACE_MS);
    };
    const line = (l: string) => {
      // the legacy builder ends a red error with a colour reset on a line of its own: not the line to quote
      // eslint-disable-next-line no-control-regex
      if (l.replace(/\x1b\[[0-9;]*m/g, '').trim()) lastLine = l;
      if (!opts.onLine || failure) return;
      try {
        opts.onLine(l);
      } catch (e) {
        failure = e;
        stop();
      }
    };
    const splitters = [lineSplitter(line), lineSplitter(line)];
    // decoded per stream: a character split between two chunks stays whole
    child.stdout!.setEncoding('utf8').on('data', splitters[0].push);
    child.stderr!.setEncoding('utf8').on('data', splitters[1].push);
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), stop()), opts.timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      running.delete(child);
      reject(e.code === 'ENOENT' ? new StrataError(`${cmd}: command not found`) : new StrataError(`${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      running.delete(child);
      for (const s of splitters) s.end();
      if (failure) reject(failure);
      else resolvePromise({ code, signal, timedOut, lastLine });
    });
  });
}

interface ProcessId {
  pid: number;
  /** /proc/PID/stat's start time: a pid reused after the process ended is not signalled. */
  start: string;
}

/** `pid` and its live descendants, from /proc (ppid chains). */
function processTree(pid: number): ProcessId[] {
  const children = new Map<number, number[]>();
  const start = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = statOf(Number(name));
    if (!stat) continue;
    const ppid = Number(stat[1]);
    start.set(Number(name), stat[19]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out: ProcessId[] = [];
  for (const queue = [pid]; queue.length; ) {
    const p = queue.shift()!;
    if (start.has(p)) out.push({ pid: p, start: start.get(p)! });
    pushAll(queue, children.get(p) ?? []);
  }
  return out;
}

/** /proc/PID/stat's fields after the command name (state, ppid, …), or undefined once it is gone. */
function statOf(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Deepest first: each process before its parent. */
function signal(tree: ProcessId[], sig: NodeJS.Signals): void {
  for (const p of [...tree].reverse()) {
    if (statOf(p.pid)?.[19] !== p.start) continue;
    try {
      process.kill(p.pid, sig);
    } catch {
      // ended meanwhile
    }
  }
}

/** Chunks -> lines (CR and LF both end one: progress output redraws with CR), each cut at LINE_MAX. */
function lineSplitter(onLine: (line: string) => void): { push: (chunk: string) => void; end: () => void } {
  let partial = '';
  let cut = false; // the current line passed LINE_MAX: the rest of it is dropped
  return {
    push(chunk) {
      const parts = chunk.split(/\r\n|\r|\n/);
      for (let i = 0; i < parts.length; i++) {
        if (!cut) {
          partial += parts[i];
          if (partial.length > LINE_MAX) {
            partial = `${partial.slice(0, LINE_MAX)}…`;
            cut = true;
          }
        }
        if (i < parts.length - 1) {
          onLine(partial);
          partial = '';
          cut = false;
        }
      }
    },
    end() {
      if (partial) onLine(partial);
      partial = '';
    },
  };
}
