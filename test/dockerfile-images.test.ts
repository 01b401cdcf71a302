/**
 * `strata dockerfile` on real commit-built images (helpers/commit-scenarios.ts), with the tests'
 * real dockerd: first what the originals are (what they print, what strata reads in them), which
 * the rebuild tests rely on; then the rebuilds.
 */
import test from 'ava';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { PackagesReport } from '../src/analyze/packages/types.js';
import type { InspectReport } from '../src/analyze/report.js';
import type { FileEntry } from '../src/model/views.js';
import { jsonLines, runStrata } from './helpers/cli.js';
import { buildCommitScenarios, dockerRun, runImage, unmountLeftovers, type CommitScenarios, type Scenario } from './helpers/commit-scenarios.js';
import { startDockerd, stopDockerd, type Engine } from './helpers/dockerd.js';
import { stopProcess, tempDir } from './helpers/registry-harness.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('dockerd', 'docker', 'python3');

/** Building both takes minutes (apt-get update, npm install, vfs copies of the roots): past ava's 2 min of silence. */
const BUILD_TIMEOUT_MS = 10 * 60_000;

let started: Promise<Engine | string> | undefined;
let built: { engine: Engine; scenarios: CommitScenarios } | string = 'not built';

test.before(async (t) => {
  t.timeout(BUILD_TIMEOUT_MS);
  const work = tempDir('dockerfile-images');
  started = startDockerd();
  const e = await started;
  if (typeof e === 'string') {
    built = `docker engine: ${e}`;
    return;
  }
  const t0 = Date.now();
  try {
    built = { engine: e, scenarios: await buildCommitScenarios(e, work) };
    const { seed, rich } = built.scenarios;
    const mb = (s: Scenario) => `${(statSync(s.archive).size / 1e6).toFixed(0)} MB`;
    t.log(`scenarios built in ${((Date.now() - t0) / 1000).toFixed(0)} s; seed ${mb(seed)}, rich ${mb(rich)}`);
  } catch (err) {
    built = err instanceof Error ? err.message : String(err);
  }
});

test.after.always(async () => {
  const e = await started;
  if (e === undefined || typeof e === 'string') return;
  await stopProcess(e.proc);
  await unmountLeftovers(e);
  await stopDockerd(e);
});

function scenarios(): CommitScenarios {
  if (typeof built === 'string') throw new Error(`the scenarios could not be built: ${built}`);
  return built.scenarios;
}

function engine(): Engine {
  if (typeof built === 'string') throw new Error(`the scenarios could not be built: ${built}`);
  return built.engine;
}

const memo = new Map<string, Promise<string>>();
/** strata's stdout for these arguments, run once. */
function strata(args: string[]): Promise<string> {
  const key = args.join('\0');
  if (!memo.has(key)) {
    memo.set(key, runStrata(args, { timeoutMs: 120_000 }).then((r) => {
      if (r.code !== 0) throw new Error(`strata ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
      return r.stdout;
    }));
  }
  return memo.get(key)!;
}

/** The view after `layer` (default: the last), by path. */
async function view(s: Scenario, layer?: number): Promise<Map<string, FileEntry>> {
  const out = await strata(['ls', '--json', ...(layer === undefined ? [] : ['--layer', String(layer)]), s.archive]);
  return new Map(jsonLines(out).map((e) => [e.path as string, e as unknown as FileEntry]));
}

// ---- the originals -----------------------------------------------------------------------------

test('seed prints jq\'s output and the app\'s data', (t) => {
  const { seed } = scenarios();
  t.is(seed.runOutput, `[1,2,3]\njq-${seed.facts.jq.split('-')[0]}\nstrata seed data\n`);
});

test('rich prints each variant: the owner, the modes, the symlink, the deleted file, the wheel, the npm packages', (t) => {
  t.is(scenarios().rich.runOutput, [
    'owner 1001:1001 appuser',
    'private 750 1001:1001',
    'setuid 4755',
    'link /app/run.sh',
    'issue.net gone',
    'wheel 0.4.2',
    'left-pad "  x"',
    'is-number true',
    '',
  ].join('\n'));
});

test('seed: apt installed jq, libjq1 and libonig5 in the committed layer; the two libraries automatically', async (t) => {
  const { seed } = scenarios();
  const report = JSON.parse(await strata(['packages', '--json', seed.archive])) as PackagesReport;
  const row = (name: string) => report.packages.find((p) => p.ecosystem === 'deb' && p.name === name);
  for (const name of ['jq', 'libjq1', 'libonig5']) {
    t.like(row(name), { version: seed.facts[name], layer: 1 }, name);
  }
  t.deepEqual(seed.facts.auto.split(' ').filter((n) => ['jq', 'libjq1', 'libonig5'].includes(n)), ['libjq1', 'libonig5']);
  // the base's packages are in layer 0
  t.like(row('apt'), { layer: 0 });
});

test('rich: strata lists the wheel pip installed and the npm packages', async (t) => {
  const { rich } = scenarios();
  const report = JSON.parse(await strata(['packages', '--json', rich.archive])) as PackagesReport;
  const of = (ecosystem: string, name: string) => report.packages.find((p) => p.ecosystem === ecosystem && p.name === name);
  t.like(of('pypi', 'strata-commit'), { version: '0.4.2', layer: 1 });
  t.is(of('pypi', 'strata-commit')!.path, `${posix.dirname(rich.facts.wheelDir)}/strata_commit-0.4.2.dist-info`);
  t.like(of('npm', 'is-number'), { version: rich.facts.isNumber, layer: 1 });
  t.like(of('npm', 'left-pad'), { version: rich.facts.leftPad, layer: 1 });
  t.deepEqual([rich.facts.isNumber, rich.facts.leftPad], ['7.0.0', '1.3.0']);
});

for (const name of ['seed', 'rich'] as const) {
  test(`${name}: every path to leave out is in the final view, none in the base`, async (t) => {
    const s = scenarios()[name];
    const [last, base] = await Promise.all([view(s), view(s, 0)]);
    t.true(s.leftOut.length > 1);
    for (const p of s.leftOut) {
      t.true(last.has(p), `${p} in the final view`);
      t.false(base.has(p), `${p} not in the base`);
    }
  });
}

test('rich: the view has the owner, the modes, the symlink, and the base file gone', async (t) => {
  const { rich } = scenarios();
  const [last, base] = await Promise.all([view(rich), view(rich, 0)]);
  t.like(last.get('/srv/data/report.txt'), { uid: 1001, gid: 1001 });
  t.like(last.get('/srv/data/private'), { type: 'dir', uid: 1001, gid: 1001 });
  t.is(last.get('/srv/data/private')!.mode, '0750');
  t.is(last.get(rich.facts.setuid)!.mode, '4755');
  t.like(last.get('/usr/local/bin/run'), { linkTarget: '/app/run.sh' });
  t.true(base.has(rich.facts.deleted));
  t.false(last.has(rich.facts.deleted));
  // the wheel was put in /tmp and deleted: only pip's install of it remains
  t.false([...last.keys()].some((p) => p.endsWith('.whl')));
});

test('rich: strata reports the AWS credentials file and the token in ENV', async (t) => {
  const { rich } = scenarios();
  const report = JSON.parse(await strata(['inspect', '--json', rich.archive])) as InspectReport;
  const file = report.risks.secrets.find((s) => s.path === rich.facts.secretPath);
  t.like(file, { rule: 'aws-credentials-file', status: 'visible', layer: 1 });
  t.deepEqual(file!.matches.map((m) => m.rule).sort(), ['aws-access-key-id', 'aws-secret-access-key']);
  t.deepEqual(report.risks.config.map((c) => `${c.where} ${c.name} ${c.rule}`), [`env ${rich.facts.secretEnv} env-credential`]);
});

// ---- strata dockerfile ----

let rebuilds = 0;

/** DIR/Dockerfile built on DIR/context (network for its package steps), then run as the originals were. */
async function rebuild(e: Engine, dir: string): Promise<{ tag: string; runOutput: string }> {
  const tag = `strata-tests/rebuilt-${++rebuilds}`;
  await dockerRun(e, ['build', '--network', 'host', '-q', '-f', join(dir, 'Dockerfile'), '-t', tag, join(dir, 'context')]);
  return { tag, runOutput: await runImage(e, tag) };
}

test('rebuild: builds DIR/Dockerfile on DIR/context, with the network for a pinned apt-get install, and prints what the image prints', async (t) => {
  const { seed } = scenarios();
  const dir = tempDir('rebuild');
  mkdirSync(join(dir, 'context'));
  writeFileSync(join(dir, 'context/hello.txt'), 'rebuilt\n');
  writeFileSync(join(dir, 'Dockerfile'), [
    `FROM ${seed.base}`,
    `RUN apt-get update -q && apt-get install -y -q --no-install-recommends jq=${seed.facts.jq} && rm -rf /var/lib/apt/lists/*`,
    'COPY hello.txt /hello.txt',
    'CMD ["sh", "-c", "jq --version && cat /hello.txt"]',
    '',
  ].join('\n'));
  const { tag, runOutput } = await rebuild(engine(), dir);
  t.is(runOutput, `jq-${seed.facts.jq.split('-')[0]}\nrebuilt\n`);
  t.regex(tag, /^strata-tests\/rebuilt-\d+$/);
});
