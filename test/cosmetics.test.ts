/**
 * Small things a new user saw (issue 30, "Cosmetic"): `--top 0`, the bloat table's file counts
 * whatever `--top` keeps, and the diff's file list not padded out by one long path.
 */
import test from 'ava';
import { join } from 'node:path';
import { runStrata } from './helpers/cli.js';
import { tempDir, writeOciArchive } from './helpers/image-builder.js';
import { dir, file } from './helpers/tar-writer.js';

const COMMIT = 'testdata/tiny-commit.docker.tar';

test('inspect --top 0: the findings header says 0 of N, and no "none" under it', async (t) => {
  const r = await runStrata(['inspect', COMMIT, '--top', '0']);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  const at = lines.findIndex((l) => /^Findings \(0 of \d+, largest first; --top \/ --category\)$/.test(l));
  t.true(at >= 0, r.stdout);
  t.not(lines[at + 1], '  none');
});

test('the bloat table counts files from the whole analysis, whatever --top keeps', async (t) => {
  const all = await runStrata(['inspect', COMMIT]);
  const top = await runStrata(['inspect', COMMIT, '--top', '1']);
  const table = (out: string) => out.slice(out.indexOf('Bloat in the final image'), out.indexOf('\nFindings'));
  t.regex(table(all.stdout), /\d+ files?/);
  t.is(table(top.stdout), table(all.stdout));
});

test('diff: one long path does not pad every other row of the file list', async (t) => {
  const { dir: root, cleanup } = tempDir();
  t.teardown(cleanup);
  const long = `deep/${'a'.repeat(60)}/${'b'.repeat(60)}/file`;
  const a = join(root, 'a.tar');
  const b = join(root, 'b.tar');
  await writeOciArchive(a, { images: [{ layers: [{ entries: [dir('etc'), file('etc/x', 'x')] }] }] });
  await writeOciArchive(b, { images: [{ layers: [{ entries: [dir('etc'), file('etc/x', 'xy'), file('etc/y', 'y'), dir('deep'), file(long, 'z', { prefix: true })] }] }] });
  const r = await runStrata(['diff', a, b]);
  t.is(r.code, 0, r.stderr);
  const rows = r.stdout.split('\n').filter((l) => /^ {2}[ADMmTL] /.test(l));
  t.true(rows.some((l) => l.includes(long)), r.stdout);
  for (const row of rows.filter((l) => !l.includes('/deep/'))) t.true(row.length < 100, row);
});
