/**
 * The system tools the suite runs (helpers/system-tools.ts): a missing one fails its test file with
 * one line naming the Debian package, the README and .ci/run list every one, and the leak check
 * (helpers/leak-check.ts) fails a file that leaves a temp entry or a child process behind.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers/cli.js';
import { DEBIAN_PACKAGES, missingTool } from './helpers/system-tools.js';

const helpers = join(repoRoot, 'dist', 'test', 'helpers');

/** A project of its own holding `files`, run by this checkout's ava (and its leak check) with `path`. */
async function ava(t: import('ava').ExecutionContext, files: Record<string, string>, path: string): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-avaproject-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', ava: { files: ['*.test.mjs'], workerThreads: false, require: [join(helpers, 'leak-check.js')] } }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot, 'node_modules', 'ava', 'entrypoints', 'cli.mjs'), '--tap'], { cwd: dir, env: { ...process.env, PATH: path, CI: '' } }, (err, stdout, stderr) => {
      resolve({ code: (err as { code?: number } | null)?.code ?? 0, out: stdout + stderr });
    });
  });
}

test('missingTool: the one line naming the package, nothing when the tool is on PATH', (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'strata-empty-path-'));
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  t.is(missingTool('redis-server', empty), 'redis-server not found: apt-get install redis-server');
  t.is(missingTool('htpasswd', empty), 'htpasswd not found: apt-get install apache2-utils');
  t.is(missingTool('dockerd', empty), 'dockerd not found: apt-get install docker.io');
  t.is(missingTool('redis-server'), undefined);
});

test('a file needing a missing tool fails with that line, runs none of its tests, and no spawn ENOENT escapes', async (t) => {
  // a PATH with node only: redis-server is missing, as on a fresh machine
  const bin = mkdtempSync(join(tmpdir(), 'strata-node-only-'));
  t.teardown(() => rmSync(bin, { recursive: true, force: true }));
  symlinkSync(process.execPath, join(bin, 'node'));
  const r = await ava(t, {
    'needs.test.mjs': `import test from 'ava';
import { spawn } from 'node:child_process';
import { requireTools } from ${JSON.stringify(join(helpers, 'system-tools.js'))};
requireTools('redis-server');
test.before(() => { spawn('redis-server'); });
for (let i = 0; i < 8; i++) test('t' + i, (t) => t.pass());
`,
  }, bin);
  t.is(r.code, 1, r.out);
  t.regex(r.out, /message: 'redis-server not found: apt-get install redis-server'/);
  t.regex(r.out, /# 8 tests remaining/);
  t.notRegex(r.out, /ENOENT|Uncaught/);
  t.notRegex(r.out, /^ok /m);
});

test('the leak check fails a file that leaves a temp dir and a child process, and removes both', async (t) => {
  const marker = `strata-leaked-${process.pid}`;
  const r = await ava(t, {
    'leaks.test.mjs': `import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
test('leaks', (t) => { mkdtempSync(join(tmpdir(), '${marker}-')); spawn('sleep', ['600', '${marker}'.length.toString()]); t.pass(); });
`,
  }, process.env.PATH ?? '');
  t.is(r.code, 1, r.out);
  t.regex(r.out, new RegExp(`leak check: left behind: temp ${marker}-\\w+, process \\d+ \\(sleep 600 \\d+\\)`));
  t.regex(r.out, /leaks\.test\.mjs exited with a non-zero exit code: 1/);
  const pid = Number(/process (\d+)/.exec(r.out)![1]);
  t.false(existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'), 'the leaked process was killed');
});

test('the README and .ci/run name every tool the suite runs with its Debian package', (t) => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const ci = readFileSync(join(repoRoot, '.ci', 'run'), 'utf8');
  const aptLine = /^apt-get install -y (.+)$/m.exec(readme)?.[1].split(' ') ?? [];
  for (const [tool, pkg] of Object.entries(DEBIAN_PACKAGES)) {
    t.true(readme.includes(`\`${tool}\` (${pkg})`), `README lists ${tool} (${pkg})`);
    t.true(aptLine.includes(pkg), `README's apt-get line installs ${pkg}`);
    t.regex(ci, new RegExp(`command -v ${tool} .*need\\+=\\(${pkg}\\)`), `.ci/run installs ${pkg} for ${tool}`);
  }
});
