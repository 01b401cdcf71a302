/**
 * What a user gets from npm: the tarball `npm pack` makes, installed globally into an empty prefix
 * (npm installs no dev dependencies there), and its `strata` run on a bundled image from elsewhere.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './helpers/cli.js';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  devDependencies: Record<string, string>;
};

/** What the tarball may hold: the launcher, the built src/ (no tests, no bench), docs, the metadata. */
const SHIPPED = /^(bin\/|dist\/src\/|docs\/|README\.md$|LICENSE$|package\.json$)/;

/**
 * Time each step may take: 57 s for the whole file on a quiet machine, mostly npm building the zstd
 * addon from source; several times that beside the rest of the suite on two cores. Generous on
 * purpose: a loaded machine is slow, not broken (ava's 2 min default would kill the file).
 */
const PACK_TIMEOUT_MS = 300_000;
const INSTALL_TIMEOUT_MS = 900_000;

const dir = mkdtempSync(join(tmpdir(), 'strata-package-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

// dist/ is fresh: the test command compiles before ava runs, so pack needs no prepare script here
const packed = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: repoRoot, maxBuffer: 64 << 20 }).then(
  ({ stdout }) => (JSON.parse(stdout) as { filename: string; size: number; files: { path: string }[] }[])[0],
);

test('npm pack: a tarball under 2 MB with bin/, the built src/, docs, README and LICENSE only', async (t) => {
  t.timeout(PACK_TIMEOUT_MS);
  const p = await packed;
  t.is(p.filename, `${pkg.name}-${pkg.version}.tgz`);
  t.true(statSync(join(dir, p.filename)).size < 2_000_000, `${p.size} bytes`);
  const paths = p.files.map((f) => f.path);
  t.deepEqual(paths.filter((f) => !SHIPPED.test(f)), []);
  for (const needed of ['bin/strata.js', 'dist/src/cli.js', 'dist/src/scan/scan-worker.js', 'README.md', 'LICENSE']) t.true(paths.includes(needed), needed);
});

test('npm install -g of the tarball into an empty prefix: the installed strata inspects a bundled image', async (t) => {
  t.timeout(INSTALL_TIMEOUT_MS); // npm builds the zstd addon from source (its prebuilt binaries are not reachable here)
  const p = await packed;
  const prefix = join(dir, 'prefix');
  await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', join(dir, p.filename)], { cwd: dir, maxBuffer: 64 << 20 });
  const installed = join(prefix, 'lib', 'node_modules', pkg.name);
  // type packages aside (zstd-napi itself depends on @types/node), no dev tool comes along
  for (const dev of Object.keys(pkg.devDependencies).filter((d) => !d.startsWith('@types/'))) t.false(existsSync(join(installed, 'node_modules', dev)), `dev dependency ${dev} installed`);
  t.false(existsSync(join(installed, 'test')));

  const strata = join(prefix, 'bin', 'strata');
  // run from outside the checkout, so nothing of the repository (its node_modules, its dist/) is on the way
  const env = { PATH: process.env.PATH ?? '', HOME: dir, STRATA_NO_CACHE: '1' };
  t.is((await run(strata, ['--version'], { cwd: dir, env })).stdout.trim(), pkg.version);
  const { stdout } = await run(strata, ['inspect', join(repoRoot, 'testdata', 'tiny-dockerfile.docker.tar'), '--json'], { cwd: dir, env, maxBuffer: 64 << 20 });
  const report = JSON.parse(stdout) as { layers: unknown[] };
  t.is(report.layers.length, 8);
  // the zstd decoder is a native addon: the install must have built it
  const zstd = await run(strata, ['ls', join(repoRoot, 'testdata', 'tiny-overlay-zstd.oci-layout.tar'), '--json'], { cwd: dir, env, maxBuffer: 64 << 20 });
  const paths = zstd.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { path: string }).path);
  t.true(paths.includes('/app/bundle.js'), paths.slice(0, 5).join(' '));
});
