/**
 * Wide images: a directory of 200,000 entries and a package database of 200,000 packages. Every
 * command lists them: nothing may pass one argument per entry (`push(...items)`, `Math.max(...)`),
 * which overflowed the stack (`internal error: Maximum call stack size exceeded`).
 */
import test from 'ava';
import { join } from 'node:path';
import { tempDir, writeOciArchive } from './helpers/image-builder.js';
import { file } from './helpers/tar-writer.js';
import { succeeds } from './helpers/hostile.js';

const N = 200_000;
const BOUNDS = { ms: 90_000, rssMb: 1200 };

test(`${N.toLocaleString('en-US')} files in one directory, ${N.toLocaleString('en-US')} packages: ls, inspect and packages list them all`, async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const status = Array.from({ length: N }, (_, i) => `Package: p${i}\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n`).join('\n');
  const image = join(dir, 'wide.oci.tar');
  await writeOciArchive(image, { images: [{ layers: [{ entries: [file('var/lib/dpkg/status', status), ...Array.from({ length: N }, (_, i) => file(`d/f${i}`, ''))] }] }] });

  const ls = await succeeds(t, ['ls', image], BOUNDS);
  t.is(ls.stdout.split('\n').filter((l) => / \/d\/f\d+$/.test(l)).length, N);
  const inspect = JSON.parse((await succeeds(t, ['inspect', image, '--json'], BOUNDS)).stdout);
  t.is(inspect.packages.count, N);
  const packages = await succeeds(t, ['packages', image], BOUNDS);
  t.is(packages.stdout.split('\n').filter((l) => /^deb\s+p\d+\s/.test(l)).length, N);
});
