import test from 'ava';
import { CACHE_SCHEMA } from '../src/cache/layer-cache.js';
import { runStrata } from './helpers/cli.js';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openImage } from '../src/sources/resolve.js';
import { readImage, type ImageModel } from '../src/model/read-image.js';
import { diffImages, type DiffReport } from '../src/analyze/diff/diff.js';
import { type DiffSide } from '../src/analyze/diff/side.js';
import type { CategoryDelta } from '../src/analyze/diff/bloat.js';
import { inspectReport } from '../src/analyze/report.js';
import { removeTemp, tempDir } from './helpers/diff-images.js';

test.after.always(removeTemp);

const root = fileURLToPath(new URL('../../', import.meta.url));
const td = (f: string) => join(root, 'testdata', f);
const COMMIT = td('tiny-commit.docker.tar');
const DOCKERFILE = td('tiny-dockerfile.docker.tar');

const models = new Map<string, Promise<ImageModel>>();
function model(ref: string): Promise<ImageModel> {
  let m = models.get(ref);
  if (!m) models.set(ref, (m = openImage(ref).then((i) => readImage(i))));
  return m;
}
const top = (m: ImageModel, layer = m.layers.length - 1): DiffSide => ({ model: m, layer });

/** Size of the regular file at `path` as the view after `layer` shows it (read from the union, not the analyses). */
function sizeAt(m: ImageModel, path: string, layer = m.layers.length - 1): number {
  const node = m.union.nodeOf(path.slice(1));
  if (node === undefined) throw new Error(`${path}: not in the image`);
  const v = m.union.versionAt(node, layer);
  if (v < 0) throw new Error(`${path}: not visible after layer ${layer}`);
  return m.union.sizeOf(v);
}
const stored = (m: ImageModel, layer = m.layers.length - 1) => m.layers.slice(0, layer + 1).reduce((s, l) => s + l.size, 0);
const nonZero = (r: DiffReport) => r.bloat.categories.filter((c) => c.a || c.b).map((c) => [c.category, c.kind, c.a, c.b, c.delta]);

const strata = (args: string[], cwd = root) => runStrata(args, { cwd });

// The recipe (testdata/README.md): layer 1 writes /tmp/build/obj.o (250000 B, temp), /var/cache/pkg/index.db
// (400000 B, cache) and /var/log/app/build.log; /app holds index.js (18 B) and bundle.js (405264 B).
const OBJ = 250_000, INDEX_DB = 400_000, INDEX_JS = 18, BUNDLE = 405_264, CONF = 4;

test('commit-based vs Dockerfile build: the leftovers the commit keeps, the Dockerfile build deletes but wastes', async (t) => {
  const a = await model(COMMIT), b = await model(DOCKERFILE);
  const r = diffImages(top(a), top(b));
  const log = sizeAt(a, '/var/log/app/build.log');
  t.is(sizeAt(b, '/var/log/app/build.log'), log);
  // the base's /etc/passwd, rewritten by the Dockerfile's layer 6: its old copy is overwritten waste
  const passwd = sizeAt(b, '/etc/passwd', 0);
  t.not(passwd, sizeAt(b, '/etc/passwd'));
  t.deepEqual(nonZero(r), [
    // layer 3 deletes obj.o and index.db, layer 6 the two 4-byte conf.d files: hidden, still stored
    ['deleted', 'waste', 0, OBJ + INDEX_DB + 2 * CONF, OBJ + INDEX_DB + 2 * CONF],
    // chmod -R / chown -R stores /app again
    ['metadata-copy', 'waste', 0, BUNDLE + INDEX_JS, BUNDLE + INDEX_JS],
    // the hardlink to a lower layer's bundle.js, stored whole by the vfs builder
    ['duplicate', 'bloat', 0, BUNDLE, BUNDLE],
    ['cache', 'bloat', INDEX_DB, 0, -INDEX_DB],
    ['temp', 'bloat', OBJ, 0, -OBJ],
    ['overwritten', 'waste', 0, passwd, passwd],
    ['log', 'bloat', log, log, 0],
  ]);
  // every category is listed, the empty ones last
  t.true(r.bloat.categories.slice(7).every((c) => c.a === 0 && c.b === 0));
  t.deepEqual(
    r.bloat.categories.map((c) => c.category).sort(),
    ['build', 'cache', 'core-dump', 'deleted', 'docs', 'duplicate', 'history', 'log', 'metadata-copy', 'overwritten', 'temp', 'toolchain', 'vcs'],
  );

  const wastedB = OBJ + INDEX_DB + 2 * CONF + BUNDLE + INDEX_JS + passwd;
  t.deepEqual(r.bloat.wastedBytes, { a: 0, b: wastedB, delta: wastedB });
  // kept + wasted = stored: the view size is what the diff's summary measured independently
  t.is(stored(b) - r.summary.b.size, wastedB);
  t.deepEqual(r.bloat.bloatBytes, { a: OBJ + INDEX_DB + log, b: BUNDLE + log, delta: BUNDLE - OBJ - INDEX_DB });
  t.deepEqual(r.bloat.efficiency, { a: 1, b: r.summary.b.size / stored(b) });
  t.is(r.summary.a.size, stored(a)); // the commit build hides nothing
  t.is(r.bloat.efficiency.b.toFixed(3), '0.730'); // docs/bloat.md: the vfs build's efficiency is 73.0%
});

test('an image against itself: every category delta is 0, and each side matches strata inspect', async (t) => {
  for (const ref of [COMMIT, DOCKERFILE]) {
    const m = await model(ref);
    const r = diffImages(top(m), top(m));
    t.true(r.bloat.categories.length > 0);
    for (const c of r.bloat.categories) t.deepEqual([c.a, c.delta], [c.b, 0], `${ref} ${c.category}`);
    t.is(r.bloat.wastedBytes.delta, 0);
    t.is(r.bloat.bloatBytes.delta, 0);
    t.is(r.bloat.efficiency.a, r.bloat.efficiency.b);
    const s = inspectReport(m).summary;
    const side = (kind: CategoryDelta['kind']) => Object.fromEntries(r.bloat.categories.filter((c) => c.kind === kind).map((c) => [c.category, c.a]));
    t.deepEqual(side('bloat'), s.bloat);
    t.deepEqual(side('waste'), s.waste);
    t.is(r.bloat.wastedBytes.a, s.wastedBytes);
    t.is(r.bloat.bloatBytes.a, s.bloatBytes);
    t.is(r.bloat.efficiency.a, s.efficiency);
  }
  // the Dockerfile build has waste, so the zeros above are not vacuous
  const r = diffImages(top(await model(DOCKERFILE)), top(await model(DOCKERFILE)));
  t.true(r.bloat.wastedBytes.a > 0);
});

test('two views of one image: each is analysed as the image stood after its layer', async (t) => {
  const b = await model(DOCKERFILE);
  // after layer 1 the leftovers are visible; layer 3 deletes obj.o and index.db
  const r = diffImages(top(b, 1), top(b, 3));
  const log = sizeAt(b, '/var/log/app/build.log', 1);
  t.deepEqual(nonZero(r), [
    ['deleted', 'waste', 0, OBJ + INDEX_DB, OBJ + INDEX_DB],
    ['cache', 'bloat', INDEX_DB, 0, -INDEX_DB],
    ['temp', 'bloat', OBJ, 0, -OBJ],
    ['log', 'bloat', log, log, 0],
  ]);
  t.deepEqual(r.bloat.wastedBytes, { a: 0, b: OBJ + INDEX_DB, delta: OBJ + INDEX_DB });
  t.deepEqual(r.bloat.efficiency, { a: 1, b: (stored(b, 3) - OBJ - INDEX_DB) / stored(b, 3) });
  // the lower views leave the model's own (top) analysis alone
  t.deepEqual(diffImages(top(b), top(b)).bloat.wastedBytes.a, inspectReport(b).summary.wastedBytes);
});

test('CLI: text, --markdown and --json report the categories; bloat rules come from .strata.yml', async (t) => {
  const text = await strata(['diff', COMMIT, DOCKERFILE]);
  t.is(text.code, 0, text.stderr);
  t.regex(text.stdout, /\n {2}wasted {6}0 B -> 1\.1 MB {2}\(\+1\.1 MB;/);
  t.regex(text.stdout, /\n {2}efficiency {2}100\.0% -> 73\.0%/);
  const section = text.stdout.split('Bloat and waste by category')[1]?.split('\n\n')[0] ?? '';
  t.deepEqual(
    section.split('\n').slice(2).map((l) => l.trim().split(/\s{2,}/)),
    [
      ['deleted', 'waste', '0 B', '650 kB', '+650 kB'],
      ['metadata-copy', 'waste', '0 B', '405 kB', '+405 kB'],
      ['duplicate', 'bloat', '0 B', '405 kB', '+405 kB'],
      ['cache', 'bloat', '400 kB', '0 B', '-400 kB'],
      ['temp', 'bloat', '250 kB', '0 B', '-250 kB'],
      ['overwritten', 'waste', '0 B', '30 B', '+30 B'],
      ['log', 'bloat', '58.9 kB', '58.9 kB', '0 B'],
    ],
  );

  const md = await strata(['diff', COMMIT, DOCKERFILE, '--markdown']);
  t.is(md.code, 0, md.stderr);
  t.regex(md.stdout, /\| wasted \| 0 B \| 1\.1 MB \| \+1\.1 MB \|/);
  t.regex(md.stdout, /\| efficiency \| 100\.0% \| 73\.0% \| -27\.0 pt \|/);
  t.regex(md.stdout, /<summary>Bloat and waste by category<\/summary>\n\n\| category \| kind \| A \| B \| Δ \|\n\|---\|---\|---:\|---:\|---:\|\n\| deleted \| waste \| 0 B \| 650 kB \| \+650 kB \|/);

  const json = await strata(['diff', COMMIT, DOCKERFILE, '--json']);
  t.is(json.code, 0, json.stderr);
  const j = JSON.parse(json.stdout) as DiffReport;
  t.deepEqual(j.bloat, diffImages(top(await model(COMMIT)), top(await model(DOCKERFILE))).bloat);

  // a custom rule claims /app/*.js: first rule wins, so the split hardlink is no longer a duplicate
  const cwd = tempDir();
  writeFileSync(join(cwd, '.strata.yml'), "diff:\n  ignore: [/run]\nbloat:\n  rules:\n    - id: app-js\n      category: bundle\n      paths: ['/app/*.js']\n");
  const custom = await strata(['diff', COMMIT, DOCKERFILE, '--json'], cwd);
  t.is(custom.code, 0, custom.stderr);
  const c = JSON.parse(custom.stdout) as DiffReport;
  const cat = (name: string) => c.bloat.categories.find((x) => x.category === name);
  t.deepEqual(cat('bundle'), { category: 'bundle', kind: 'bloat', a: BUNDLE + INDEX_JS, b: 2 * BUNDLE + INDEX_JS, delta: BUNDLE });
  t.deepEqual(cat('duplicate'), { category: 'duplicate', kind: 'bloat', a: 0, b: 0, delta: 0 });
  t.deepEqual(c.summary.ignored, ['/run']);

  writeFileSync(join(cwd, '.strata.yml'), 'bloat:\n  disable: [no-such-rule]\n');
  const bad = await strata(['diff', COMMIT, DOCKERFILE], cwd);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^strata: \.strata\.yml: bloat\.disable\[0\]: unknown rule or category "no-such-rule"/);
});

test("a side at its image's top takes its totals from the image's inspect report, as computed; other sides are analysed", async (t) => {
  const [c, d] = await Promise.all([model(COMMIT), model(DOCKERFILE)]);
  const plain = diffImages(top(c), top(d));
  const withReports = diffImages({ ...top(c), report: inspectReport(c) }, { ...top(d), report: inspectReport(d) });
  t.deepEqual(withReports, plain);
  // the report's numbers are the ones used (a planted one shows), and only at the top
  const planted = inspectReport(d);
  planted.summary = { ...planted.summary, wastedBytes: 12345, bloat: { ...planted.summary.bloat, log: 777 } };
  const used = diffImages(top(c), { ...top(d), report: planted });
  t.is(used.bloat.wastedBytes.b, 12345);
  t.is(used.bloat.categories.find((x) => x.category === 'log')!.b, 777);
  const below = diffImages(top(c), { ...top(d, 3), report: planted });
  t.deepEqual(below.bloat, diffImages(top(c), top(d, 3)).bloat);
});

test('CLI: diff after inspect of both images reads their reports from the cache, and so reports as without one', async (t) => {
  const cache = tempDir();
  const env = { STRATA_CACHE_DIR: cache, STRATA_NO_CACHE: '' };
  const run = (args: string[]) => runStrata(args, { cwd: root, env });
  const fresh = await strata(['diff', COMMIT, DOCKERFILE, '--json']);
  t.is(fresh.code, 0, fresh.stderr);
  for (const image of [COMMIT, DOCKERFILE]) t.is((await run(['inspect', image])).code, 0);
  const cached = await run(['diff', COMMIT, DOCKERFILE, '--json']);
  t.is(cached.stdout, fresh.stdout);
  // a diff with no report cached makes and saves them: an inspect after it reads no layer
  const cache2 = tempDir();
  const env2 = { STRATA_CACHE_DIR: cache2, STRATA_NO_CACHE: '' };
  t.is((await runStrata(['diff', COMMIT, DOCKERFILE], { cwd: root, env: env2 })).code, 0);
  rmSync(join(cache2, 'layers'), { recursive: true });
  t.is((await runStrata(['inspect', COMMIT, DOCKERFILE], { cwd: root, env: env2 })).code, 0);
  // no layer scanned again (no records made): the layers' bytes were only proven to give the reports' diffIDs
  t.deepEqual(readdirSync(cache2).sort(), ['layers', 'reports']);
  t.deepEqual(readdirSync(join(cache2, 'layers', `v${CACHE_SCHEMA}`)).filter((f) => f.endsWith('.bin')), []);
});
