/**
 * `strata dockerfile --verify` end to end with a private dockerd: every bundled image (testdata/*.tar)
 * must rebuild to the same final view minus what the plan leaves out, and the plan must be the same
 * run after run; then an image whose file names are built to break a Dockerfile (line breaks, quotes,
 * `$`, backquotes, backslashes, a leading dash, an ANSI escape…), made by a real `docker build`.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { InspectReport } from '../src/analyze/report.js';
import type { DockerfilePlan } from '../src/analyze/dockerfile/types.js';
import type { DockerfileVerification } from '../src/commands/dockerfile-verify.js';
import { jsonLines, repoRoot, runStrata, type RunResult } from './helpers/cli.js';
import { startDockerd, stopDockerd, type Engine } from './helpers/dockerd.js';
import { assertNoRawControl } from './helpers/hostile.js';
import { tempDir } from './helpers/registry-harness.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('dockerd', 'docker');

const run = promisify(execFile);
const TESTDATA = join(repoRoot, 'testdata');
const IMAGES = readdirSync(TESTDATA).filter((n) => n.endsWith('.tar')).sort();
/** A verify run builds and reads back an image on vfs: seconds alone, more beside another. */
const RUN_MS = 240_000;

interface DockerfileJson {
  output: string;
  plan: Omit<DockerfilePlan, 'copies'>;
  verify: DockerfileVerification | null;
}

let started: Promise<Engine | string> | undefined;
test.before(() => {
  started = startDockerd();
});
test.after.always(async () => {
  const e = await started;
  if (e !== undefined && typeof e !== 'string') await stopDockerd(e);
});

async function engine(): Promise<Engine> {
  const e = await started;
  if (e === undefined || typeof e === 'string') throw new Error(`docker engine: ${e}`);
  return e;
}

// two cores: two images at a time, each verify a build beside a strata run
let free = 2;
const waiting: (() => void)[] = [];
async function twoAtATime<T>(work: () => Promise<T>): Promise<T> {
  if (free > 0) free--;
  else await new Promise<void>((r) => waiting.push(r));
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else free++;
  }
}

async function strata(t: ExecutionContext, args: string[], e?: Engine): Promise<RunResult> {
  const r = await runStrata(args, { timeoutMs: RUN_MS, env: e ? { DOCKER_HOST: `unix://${e.socket}` } : {} });
  t.false(r.timedOut, `strata ${args.join(' ')} was killed after ${RUN_MS} ms`);
  t.log(`strata ${args[0]}${args.includes('--verify') ? ' --verify' : ''}${args.includes('--json') ? ' --json' : ''}: ${(r.ms / 1000).toFixed(1)} s`);
  return r;
}

function docker(e: Engine, args: string[]): Promise<string> {
  return run('docker', ['-H', `unix://${e.socket}`, ...args], { env: { ...process.env, DOCKER_BUILDKIT: '0' }, maxBuffer: 64 << 20 }).then((r) => r.stdout);
}

/** Every entry under `dir`, by relative path: its type, mode and content (or link target). */
function treeOf(dir: string, at = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(join(dir, at)).sort()) {
    const rel = at ? `${at}/${name}` : name;
    const st = lstatSync(join(dir, rel));
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isDirectory()) {
      out.set(rel, `dir ${mode}`);
      for (const [k, v] of treeOf(dir, rel)) out.set(k, v);
    } else if (st.isSymbolicLink()) out.set(rel, `symlink ${readlinkSync(join(dir, rel))}`);
    else out.set(rel, `file ${mode} ${createHash('sha256').update(readFileSync(join(dir, rel))).digest('hex')}`);
  }
  return out;
}

/** What a Dockerfile line may be: a comment, blank, an instruction, or a `&&` continuation of a RUN. */
const INSTRUCTION = /^(FROM|ARG|ENV|USER|RUN|COPY|ADD|WORKDIR|CMD|ENTRYPOINT|LABEL|EXPOSE|VOLUME|HEALTHCHECK|STOPSIGNAL|SHELL) \S/;
function strayLines(dockerfile: string): string[] {
  return dockerfile.replace(/\n$/, '').split('\n').filter((l) => !(l === '' || l.startsWith('#') || l.startsWith(' && ') || INSTRUCTION.test(l)));
}

const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

// ---- every bundled image ----------------------------------------------------------------------

/**
 * A zstd base: Docker 20.10 cannot apply a zstd layer (`docker load … ApplyLayer … archive/tar:
 * invalid tar header`), so --verify loads the base uncompressed (buildImage's plainBase). Byte for
 * byte it fails only when the engine does not hold a layer of that diffID yet (the other
 * buildah-built fixtures share the base): so it runs first, alone, on an engine that holds none,
 * what a user's engine would be.
 */
const ZSTD_BASE = 'tiny-overlay-zstd.oci-layout.tar';

for (const name of IMAGES) {
  (name === ZSTD_BASE ? test.serial : test)(`${name}: the Dockerfile rebuilds the final view minus the left-out paths, and is written the same every time`, async (t) => {
    t.timeout(3 * RUN_MS);
    const e = await engine();
    const img = join(TESTDATA, name);
    const work = tempDir('bundled');
    await twoAtATime(async () => {
      const r = await strata(t, ['dockerfile', img, '-o', join(work, 'verified'), '--verify', '--json', '--engine', 'docker'], e);
      t.is(r.code, 0, `exit ${r.code}: ${r.stderr}`);
      if (r.code !== 0) return;
      const { plan, verify } = JSON.parse(r.stdout) as DockerfileJson;
      t.truthy(verify);
      t.like(verify, { engine: 'docker', equal: true });
      t.deepEqual(verify!.differences, []);

      // the left-out paths are what the rebuild lacks: the final bytes drop by exactly theirs
      const leftOut = sum(plan.leftOut.map((l) => l.bytes));
      t.is(verify!.after.fileBytes, verify!.before.fileBytes - leftOut, `${plan.leftOut.length} left-out paths, ${leftOut} B`);
      const report = JSON.parse((await strata(t, ['inspect', '--json', img])).stdout) as InspectReport;
      t.is(verify!.before.fileBytes, report.summary.finalSize);
      t.is(verify!.before.tarBytes, report.summary.tarSize);
      if (report.summary.wastedBytes > 0 || leftOut > 0) t.true(verify!.after.tarBytes < verify!.before.tarBytes, `tar bytes ${verify!.before.tarBytes} -> ${verify!.after.tarBytes}`);

      // deterministic: the same Dockerfile and context from two plain runs and the verified one
      const dirs = ['plain-1', 'plain-2'].map((d) => join(work, d));
      for (const d of dirs) {
        const p = await strata(t, ['dockerfile', img, '-o', d]);
        t.is(p.code, 0, p.stderr);
      }
      const [first, second] = dirs.map((d) => readFileSync(join(d, 'Dockerfile'), 'utf8'));
      t.is(second, first);
      t.is(readFileSync(join(work, 'verified', 'Dockerfile'), 'utf8'), first);
      t.deepEqual([...treeOf(join(dirs[1], 'context'))], [...treeOf(join(dirs[0], 'context'))]);
      t.deepEqual(strayLines(first), []);
    });
  });
}

// ---- file names built to break the Dockerfile ---------------------------------------------------

const NL = 'line\nbreak';
const ESC = '\x1b[31mred';
/** Directories under /h: a line break, an escape, `$`, backquotes, quotes, a leading dash, `#`, a trailing backslash. */
const DIRS = [`dir ${NL}`, `dir ${ESC}`, './-rf dir', '#comment dir', 'dir ${PATH} `x`', "owned 'dir'", 'say "dir"', "root's dir", "owned 'dir'/empty sub\\"];
/** Regular files (path under /h, content, owner, mode). */
const FILES: { path: string; content: string; owner?: string; mode?: string }[] = [
  { path: NL, content: 'one\n', owner: '1000:1000' },
  { path: 'tab\there', content: 'tab\n' },
  { path: '$HOME', content: 'home\n', mode: '0600' },
  { path: '${PATH}', content: 'path\n' },
  { path: '`id`', content: 'bq\n' },
  { path: "it's", content: 'sq\n' },
  { path: 'say "hi"', content: 'dq\n' },
  { path: 'back\\slash', content: 'bs\n' },
  { path: 'trailing\\', content: 'tb\n' },
  { path: '  two  spaces  ', content: 'sp\n' },
  { path: '-rf', content: 'rf\n', owner: '1000:1000' },
  { path: '#hash', content: 'hash\n' },
  { path: 'star*', content: 'star\n' },
  { path: 'what?', content: 'q\n' },
  { path: 'café', content: 'cafe\n' },
  { path: '🚀 rocket', content: 'rocket\n' },
  { path: ESC, content: 'esc\n' },
  { path: 'empty $HOME', content: '' },
  { path: `dir ${NL}/file ${NL}`, content: 'inner\n' },
  { path: './-rf dir/-f', content: 'inner2\n' },
  { path: '#comment dir/#x', content: 'inner3\n' },
  { path: `dir ${ESC}/${ESC}`, content: 'inner4\n' },
  { path: 'dir ${PATH} `x`/$HOME', content: 'inner5\n' },
  { path: "owned 'dir'/owned \"file\"", content: 'inner6\n', owner: '1234:2345' },
  // a root's directory holding another owner's file: a COPY whose destination is that directory
  { path: 'say "dir"/it\'s `here`', content: 'inner7\n', owner: '1234:2345' },
  { path: "root's dir/user's file", content: 'inner8\n', owner: '1000:1000' },
];
const SYMLINKS = [
  { path: `link ${ESC}`, target: `../target 'q' "d" $HOME \`x\` ${NL} ${ESC} é`, owner: '' },
  { path: 'link to café', target: 'café', owner: '1001:1001' },
];
const HARDLINK = { lead: 'hard\tone', link: 'hard $two', content: 'hard\n' };

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** A path under /h as a shell word that no command reads as an option. */
const at = (p: string) => sh(`./${p.replace(/^\.\//, '')}`);
const abs = (p: string) => `/h/${p.replace(/^\.\//, '')}`;

/** The busybox script of the hostile layer; it is run in exec form, so no Dockerfile rule touches it. */
function hostileScript(): string {
  return [
    'set -e',
    'mkdir /h',
    'cd /h',
    ...DIRS.map((d) => `mkdir -p ${at(d)}`),
    ...FILES.map((f) => `printf '%s' ${sh(f.content)} > ${at(f.path)}`),
    ...SYMLINKS.map((l) => `ln -s ${sh(l.target)} ${at(l.path)}`),
    `printf '%s' ${sh(HARDLINK.content)} > ${at(HARDLINK.lead)}`,
    `ln ${at(HARDLINK.lead)} ${at(HARDLINK.link)}`,
    `chown -R 1234:2345 ${at("owned 'dir'")}`,
    ...FILES.filter((f) => f.owner).map((f) => `chown ${f.owner} ${at(f.path)}`),
    ...SYMLINKS.filter((l) => l.owner).map((l) => `chown -h ${l.owner} ${at(l.path)}`),
    ...FILES.filter((f) => f.mode).map((f) => `chmod ${f.mode} ${at(f.path)}`),
  ].join('\n');
}

/** docker load the bundled app image, build the hostile layer on it, docker save the result. */
async function buildHostile(e: Engine, work: string): Promise<string> {
  const loaded = await docker(e, ['load', '-i', join(TESTDATA, 'tiny-dockerfile.docker.tar')]);
  const base = /Loaded image: (\S+)/.exec(loaded)?.[1];
  if (!base) throw new Error(`docker load said: ${loaded}`);
  const context = join(work, 'hostile-context');
  mkdirSync(context);
  writeFileSync(join(context, 'Dockerfile'), `FROM ${base}\nUSER 0\nRUN ${JSON.stringify(['/bin/sh', '-c', hostileScript()])}\nUSER 1000\n`);
  const tag = 'strata-tests/hostile-names:1';
  await docker(e, ['build', '--network', 'host', '-q', '-t', tag, context]);
  const archive = join(work, 'hostile.tar');
  await docker(e, ['save', '-o', archive, tag]);
  return archive;
}

// A COPY destination is read by Docker's word expansion: quotes, `$` and `\` are escaped. Without the
// quotes, a matched pair was removed (`/h/say "dir"/` built as `/h/say dir/`) and a lone one failed
// the build (`/h/root's dir/`: "unexpected end of statement while looking for matching single-quote").
test('FROM scratch (--base-layers 0): every file copied first, the shell among them, then the steps that need it; verifies', async (t) => {
  t.timeout(3 * RUN_MS);
  const e = await engine();
  const work = tempDir('scratch');
  await twoAtATime(async () => {
    const r = await strata(t, ['dockerfile', join(TESTDATA, 'tiny-overlay.oci.tar'), '--base-layers', '0', '-o', join(work, 'out'), '--verify', '--json', '--engine', 'docker'], e);
    t.is(r.code, 0, r.stderr);
    const { plan, verify } = JSON.parse(r.stdout) as DockerfileJson;
    t.deepEqual(plan.packages, []);
    t.true(verify!.equal, JSON.stringify(verify!.differences.slice(0, 5)));
    const text = readFileSync(join(work, 'out', 'Dockerfile'), 'utf8');
    const at = (re: RegExp) => text.search(re);
    t.true(at(/^FROM scratch$/m) >= 0 && at(/^FROM scratch$/m) < at(/^COPY /m) && at(/^COPY /m) < at(/^RUN /m), text);
    // busybox's applets, /bin/sh among them, are symlinks in the COPY tree
    t.true(plan.symlinks.some((l) => l.path === '/bin/sh'));
  });
});

test('hostile file names: the rebuild verifies, the Dockerfile has no stray line, nothing printed holds a raw control byte', async (t) => {
  t.timeout(4 * RUN_MS);
  const e = await engine();
  const work = tempDir('hostile');
  await twoAtATime(async () => {
    const t0 = Date.now();
    const archive = await buildHostile(e, work);
    t.log(`hostile image built and saved in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // the build made every name as written (else the rest proves nothing)
    const view = jsonLines((await strata(t, ['ls', '--json', archive])).stdout).filter((x) => (x.path as string).startsWith('/h/'));
    const byPath = new Map(view.map((x) => [x.path as string, x]));
    const expected = [...DIRS, ...FILES.map((f) => f.path), ...SYMLINKS.map((l) => l.path), HARDLINK.lead, HARDLINK.link].map(abs).sort();
    t.deepEqual([...byPath.keys()].sort(), expected);
    t.like(byPath.get(abs(SYMLINKS[0].path)), { type: 'symlink', linkTarget: SYMLINKS[0].target });
    t.like(byPath.get(abs(SYMLINKS[1].path)), { uid: 1001, gid: 1001 });
    t.like(byPath.get(abs(HARDLINK.link)), { type: 'hardlink', linkTarget: abs(HARDLINK.lead) });
    t.like(byPath.get(abs(NL)), { uid: 1000, size: 4 });
    t.like(byPath.get(abs("owned 'dir'/empty sub\\")), { type: 'dir', uid: 1234, gid: 2345 });

    const r = await strata(t, ['dockerfile', archive, '-o', join(work, 'json'), '--verify', '--json', '--engine', 'docker'], e);
    assertNoRawControl(t, r.stderr, 'stderr (--json)');
    if (r.stdout === '') return void t.fail(`exit ${r.code}, no JSON: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as DockerfileJson;
    // every one of these names can be written in a Dockerfile (RUN in exec form, COPY's JSON words
    // escaped): no note may give one up, and nothing may differ
    t.deepEqual(out.plan.notes, []);
    t.deepEqual(out.verify?.differences.map((d) => `${d.change} ${d.path}`), []);
    t.is(out.verify?.equal, true);
    t.is(r.code, 0, `exit ${r.code}: ${r.stderr}`);

    const dockerfile = readFileSync(join(work, 'json', 'Dockerfile'), 'utf8');
    t.deepEqual(strayLines(dockerfile), []);
    assertNoRawControl(t, dockerfile, 'Dockerfile');

    // text mode: the summary and the verification, image names and all, escaped
    const text = await strata(t, ['dockerfile', archive, '-o', join(work, 'text'), '--verify', '--engine', 'docker'], e);
    t.is(text.code, out.verify?.equal ? 0 : 1, text.stderr);
    assertNoRawControl(t, text.stdout, 'stdout (text)');
    assertNoRawControl(t, text.stderr, 'stderr (text)');
    t.is(readFileSync(join(work, 'text', 'Dockerfile'), 'utf8'), dockerfile);
  });
});
