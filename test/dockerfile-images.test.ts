/**
 * `strata dockerfile` on real commit-built images (helpers/commit-scenarios.ts), with the tests'
 * real dockerd: first what the originals are (what they print, what strata reads in them), which
 * the rebuild tests rely on; then the rebuilds.
 */
import test from 'ava';
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { PackagesReport } from '../src/analyze/packages/types.js';
import type { InspectReport } from '../src/analyze/report.js';
import type { FileEntry } from '../src/model/views.js';
import type { DockerfilePlan } from '../src/analyze/dockerfile/types.js';
import type { VerifyResult } from '../src/analyze/dockerfile/verify.js';
import { jsonLines, runStrata } from './helpers/cli.js';
import { buildCommitScenarios, runImage, type CommitScenarios, type Scenario } from './helpers/commit-scenarios.js';
import { startDockerd, stopDockerd, type Engine } from './helpers/dockerd.js';
import { tempDir } from './helpers/registry-harness.js';
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

interface DockerfileJson {
  plan: DockerfilePlan;
  verify: (VerifyResult & { engine: string }) | null;
}

/** `strata dockerfile --verify --json` of a scenario, FROM its base, the rebuilt image kept as TAG. */
async function rebuilt(s: Scenario, name: string): Promise<{ dir: string; tag: string; json: DockerfileJson; code: number | null; stderr: string }> {
  const dir = join(tempDir(`dockerfile-${name}`), 'out');
  const tag = `strata-tests/rebuilt-${name}`;
  const r = await runStrata(['dockerfile', s.archive, '--from', `docker-daemon:${s.base}`, '-o', dir, '--verify', '--tag', tag, '--build-network', 'host', '--json'], {
    timeoutMs: 8 * 60_000,
    env: { DOCKER_HOST: `unix://${engine().socket}` },
  });
  return { dir, tag, json: r.code === 2 ? ({} as DockerfileJson) : (JSON.parse(r.stdout) as DockerfileJson), code: r.code, stderr: r.stderr };
}

const seedRebuild = memoOnce(() => rebuilt(scenarios().seed, 'seed'));
const richRebuild = memoOnce(() => rebuilt(scenarios().rich, 'rich'));

function memoOnce<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}

/** Every file of a directory tree, read whole. */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((p) => join(dir, p))
    .filter((p) => lstatSync(p).isFile())
    .map((p) => ({ path: p, bytes: readFileSync(p) }));
}

test('seed: the Dockerfile FROMs the base, installs the jq apt was asked for (its dependencies left to apt) and copies the app', async (t) => {
  t.timeout(8 * 60_000);
  const { seed } = scenarios();
  const { dir, json, code, stderr } = await seedRebuild();
  t.is(code, 0, stderr);
  const text = readFileSync(join(dir, 'Dockerfile'), 'utf8');
  t.regex(text, new RegExp(`^FROM ${seed.base}$`, 'm'));
  t.deepEqual(json.plan.packages.map((p) => [p.ecosystem, p.install, p.remove]), [['deb', [{ name: 'jq', version: seed.facts.jq }], []]]);
  t.regex(text, new RegExp(`apt-get install -y --no-install-recommends jq=${seed.facts.jq.replaceAll('+', '\\+')} `));
  for (const auto of seed.facts.auto.split(' ')) t.false(text.includes(`${auto}=`), auto);
  t.deepEqual(json.plan.copies.map((c) => [c.dest, c.tops]), [['/', [{ path: '/app', files: 2 }]]]);
  const source = json.plan.copies[0].source;
  t.deepEqual(filesUnder(join(dir, 'context')).map((f) => f.path.slice(join(dir, 'context', source).length + 1)).sort(), ['app/data.txt', 'app/run.sh']);
});

test('seed: the rebuild prints what the original printed; its view is the original minus the leftovers, which are listed; it is smaller', async (t) => {
  t.timeout(8 * 60_000);
  const { seed } = scenarios();
  const { tag, json, code, stderr } = await seedRebuild();
  t.is(code, 0, stderr);
  t.is(await runImage(engine(), tag), seed.runOutput);
  t.true(json.verify!.equal, JSON.stringify(json.verify!.differences.slice(0, 5)));
  const listed = new Set([...json.plan.leftOut.map((l) => l.path), ...json.plan.secrets.map((s) => s.path)]);
  for (const p of seed.leftOut) t.true(listed.has(p), p);
  const leftOut = json.plan.leftOut.reduce((sum, l) => sum + l.bytes, 0);
  t.true(leftOut > 100e6, `the apt lists and caches: ${leftOut}`);
  t.true(json.verify!.after.tarBytes < json.verify!.before.tarBytes - 100e6);
  t.true(json.verify!.after.fileBytes < json.verify!.before.fileBytes);
});

test('rich: owner, setuid bit, symlink, deleted base file, a local wheel, npm packages: the rebuild prints what the original printed, and verifies', async (t) => {
  t.timeout(8 * 60_000);
  const { rich } = scenarios();
  const { dir, tag, json, code, stderr } = await richRebuild();
  t.is(code, 0, stderr);
  t.is(await runImage(engine(), tag), rich.runOutput);
  t.true(json.verify!.equal, JSON.stringify(json.verify!.differences.slice(0, 5)));
  const text = readFileSync(join(dir, 'Dockerfile'), 'utf8');
  t.regex(text, /^COPY --chown=1001:1001 \["files\/\d+\/", "\/srv\/"\]$/m);
  t.regex(text, new RegExp(`chmod 4755 ${rich.facts.setuid}`));
  // the symlink is in a COPY tree (COPY copies a link as a link)
  t.deepEqual(json.plan.symlinks.filter((l) => l.path === '/usr/local/bin/run').map((l) => l.target), ['/app/run.sh']);
  t.regex(text, new RegExp(`rm -rf ${rich.facts.deleted}`));
  // the wheel came from a file no index serves: its files are copied, and a note says so
  t.true(json.plan.notes.some((n) => n.includes('strata-commit 0.4.2') && n.includes('file:///')));
  const npm = json.plan.packages.find((p) => p.ecosystem === 'npm')!;
  t.is(npm.where, '/app/web');
  t.deepEqual(npm.install.map((p) => `${p.name}@${p.version}`).sort(), [`is-number@${rich.facts.isNumber}`, `left-pad@${rich.facts.leftPad}`]);
  t.regex(text, /RUN cd \/app\/web \\\n && npm ci/);
});

test('rich: the secret file is not copied and is reported; the token in ENV becomes an ARG; neither value is anywhere in the output', async (t) => {
  t.timeout(8 * 60_000);
  const { rich } = scenarios();
  const { dir, json, code, stderr } = await richRebuild();
  t.is(code, 0, stderr);
  t.deepEqual(json.plan.secrets.map((s) => [s.path, s.rule]), [[rich.facts.secretPath, 'aws-credentials-file']]);
  const text = readFileSync(join(dir, 'Dockerfile'), 'utf8');
  t.regex(text, new RegExp(`^ARG ${rich.facts.secretEnv}$`, 'm'));
  t.regex(text, new RegExp(`# +${rich.facts.secretPath.replaceAll('.', '\\.')} +aws-credentials-file +sha256:[0-9a-f]{12}`));
  for (const f of filesUnder(dir)) {
    t.false(f.bytes.includes(rich.facts.awsKeyId), f.path);
    t.false(f.bytes.includes('strata-test-token-5f3c9a71'), f.path);
  }
  t.false(JSON.stringify(json).includes(rich.facts.awsKeyId));
});
