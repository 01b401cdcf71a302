/**
 * bin/strata.js keeps V8's compiled code in strata's cache directory where Node has
 * module.enableCompileCache (22.1 and later; CI runs this file on Node 20, 22 and 24): under
 * --cache-dir, STRATA_CACHE_DIR or the default, never under --no-cache or STRATA_NO_CACHE, nor in
 * a directory others can write; a root that cannot be made costs nothing; the output does not change.
 */
import test from 'ava';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStrata } from './helpers/cli.js';

const IMAGE = 'testdata/tiny-dockerfile.docker.tar';
const supported = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

function dir(t: import('ava').ExecutionContext): string {
  const d = mkdtempSync(join(tmpdir(), 'strata-compile-cache-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const compiled = (root: string) => (existsSync(join(root, 'compiled')) ? readdirSync(join(root, 'compiled'), { recursive: true }).length : 0);

test(`compiled code is kept in the cache directory ${supported ? '(this Node has the cache)' : '(this Node has none: nothing is written)'}`, async (t) => {
  const viaFlag = dir(t);
  const first = await runStrata(['inspect', IMAGE, '--cache-dir', viaFlag], { env: { STRATA_NO_CACHE: '' } });
  t.is(first.code, 0, first.stderr);
  t.is(compiled(viaFlag) > 0, supported);
  const again = await runStrata(['inspect', IMAGE, `--cache-dir=${viaFlag}`], { env: { STRATA_NO_CACHE: '' } });
  t.is(again.stdout, first.stdout);

  const viaEnv = dir(t);
  t.is((await runStrata(['inspect', IMAGE], { env: { STRATA_NO_CACHE: '', STRATA_CACHE_DIR: viaEnv } })).code, 0);
  t.is(compiled(viaEnv) > 0, supported);

  // the default root (this suite runs without STRATA_CACHE_DIR in its environment)
  const home = dir(t);
  t.is((await runStrata(['inspect', IMAGE], { env: { STRATA_NO_CACHE: '', XDG_CACHE_HOME: '', HOME: home } })).code, 0);
  t.is(compiled(join(home, '.cache', 'strata')) > 0, supported);
});

test('a cache root it cannot make (under /proc: Node\'s own mkdir would spin forever) or one others can write: no compiled code, no hang', async (t) => {
  const r = await runStrata(['inspect', IMAGE, '--cache-dir', '/proc/strata-nope'], { env: { STRATA_NO_CACHE: '' }, timeoutMs: 20_000 });
  t.false(r.timedOut);
  t.is(r.code, 0, r.stderr);
  const shared = dir(t);
  mkdirSync(join(shared, 'compiled'));
  chmodSync(join(shared, 'compiled'), 0o777);
  t.is((await runStrata(['inspect', IMAGE, '--cache-dir', shared], { env: { STRATA_NO_CACHE: '' } })).code, 0);
  t.is(compiled(shared), 0);
});

test('no compiled code is kept under --no-cache or STRATA_NO_CACHE, unless --cache comes after', async (t) => {
  const a = dir(t);
  t.is((await runStrata(['inspect', IMAGE, '--no-cache', '--cache-dir', a], { env: { STRATA_NO_CACHE: '' } })).code, 0);
  t.false(existsSync(join(a, 'compiled')));
  const b = dir(t);
  t.is((await runStrata(['inspect', IMAGE, '--cache-dir', b], { env: { STRATA_NO_CACHE: '1' } })).code, 0);
  t.false(existsSync(join(b, 'compiled')));
  // --cache overrides STRATA_NO_CACHE here as it does for every other cache (the last flag wins)
  const c = dir(t);
  t.is((await runStrata(['inspect', IMAGE, '--no-cache', '--cache', '--cache-dir', c], { env: { STRATA_NO_CACHE: '1' } })).code, 0);
  t.true(existsSync(join(c, 'layers')));
  t.is(compiled(c) > 0, supported);
  const d = dir(t);
  t.is((await runStrata(['inspect', IMAGE, '--cache', 'false', '--cache-dir', d], { env: { STRATA_NO_CACHE: '' } })).code, 0);
  t.false(existsSync(join(d, 'compiled')));
});
