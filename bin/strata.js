#!/usr/bin/env node
// Launcher: the TypeScript is compiled to dist/ by `npm install` (prepare) or `npm run build`.
import { accessSync, constants, existsSync, lstatSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('strata: not built yet: run `npm install` (or `npm run build`) in the strata checkout\n');
  process.exit(2);
}

/**
 * Node >= 22.1 keeps V8's compiled code of the modules on disk: 0.04 s of every start
 * (docs/performance.md#startup). It goes in strata's cache directory, in a directory only this
 * user can write (never a shared temporary one, where another user could plant code), and nowhere
 * under --no-cache. The directory is made here first, by strata's own makeDir: Node's recursive
 * mkdir, which enableCompileCache uses, never returns under /proc (util/make-dir.ts).
 */
async function keepCompiledCode(argv, env) {
  if (typeof module.enableCompileCache !== 'function') return;
  const [{ cacheOff, cacheRoot, PRIVATE_DIR }, { makeDir }] = await Promise.all([import('../dist/src/cache/cache.js'), import('../dist/src/util/make-dir.js')]);
  if (cacheOff(cacheFlag(argv), env)) return;
  const flag = argv.findIndex((a) => a === '--cache-dir' || a.startsWith('--cache-dir='));
  const root = cacheRoot(flag < 0 ? undefined : argv[flag].includes('=') ? argv[flag].slice('--cache-dir='.length) : argv[flag + 1], env);
  if (!root) return;
  const dir = join(root, 'compiled');
  try {
    await makeDir(dir, PRIVATE_DIR);
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) return;
    accessSync(dir, constants.W_OK);
  } catch {
    return; // no cache of compiled code, as with none of anything else
  }
  module.enableCompileCache(dir);
}

/** `--cache`/`--no-cache` as yargs reads them (`--cache=false`, `--cache false`; the last one wins), before yargs is loaded. */
function cacheFlag(argv) {
  let flag;
  for (let i = 0; i < argv.length && argv[i] !== '--'; i++) {
    const a = argv[i];
    if (a === '--no-cache') flag = false;
    else if (a === '--cache=false' || a === '--cache=true') flag = a === '--cache=true';
    else if (a === '--cache') flag = argv[i + 1] !== 'false';
  }
  return flag;
}

await keepCompiledCode(process.argv.slice(2), process.env);
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
