import test from 'ava';
import { readFileSync } from 'node:fs';
import { openImage } from '../src/sources/resolve.js';
import { readImage, type ImageModel } from '../src/model/read-image.js';
import { analyzeWaste } from '../src/analyze/waste.js';
import { analyzeBloat, type Finding } from '../src/analyze/bloat/findings.js';
import { knownCategories } from '../src/analyze/bloat/matching.js';
import { BUILTIN_RULES } from '../src/analyze/bloat/rules.js';
import { defaultConfig, parseConfig } from '../src/commands/config-file.js';
import { type BloatConfig } from '../src/analyze/bloat/section.js';
import { inspectReport } from '../src/analyze/report.js';
import { dir, file, hardlink, modelOf, whiteout, type LayerSpec } from './helpers/bloat-images.js';

const models = new Map<string, Promise<ImageModel>>();
const load = (name: string) => {
  if (!models.has(name)) models.set(name, openImage(`testdata/${name}`).then((i) => readImage(i)));
  return models.get(name)!;
};
const analyze = (m: ImageModel, config: BloatConfig = defaultConfig().bloat) => analyzeBloat(m, analyzeWaste(m), config);
const brief = (fs: Finding[]) => fs.map((f) => [f.category, f.kind, f.bytes, f.layer, f.removedBy]);
const configOf = (yaml: string) => parseConfig(yaml, 'test.yml').bloat;

// ---- fixtures (testdata/README.md) -----------------------------------------------------------------

test('vfs build: findings largest first, with layers, instructions and remedies', async (t) => {
  const b = analyze(await load('tiny-dockerfile.docker.tar'));
  t.deepEqual(brief(b.findings), [
    ['deleted', 'waste', 650000, 1, 3],
    ['metadata-copy', 'waste', 405282, 2, 4],
    ['duplicate', 'bloat', 405264, 7, null],
    ['log', 'bloat', 58893, 1, null],
    ['overwritten', 'waste', 30, 0, 6],
    ['deleted', 'waste', 8, 5, 6],
  ]);
  const [deleted, chmod, dup] = b.findings;
  t.deepEqual(deleted.items, [
    { path: '/tmp/build/obj.o', bytes: 250000, layer: 1, reason: 'whiteout', rule: 'tmp' },
    { path: '/var/cache/pkg/index.db', bytes: 400000, layer: 1, reason: 'whiteout', rule: 'var-cache' },
  ]);
  t.regex(deleted.title, /layer 3 deleted \/tmp\/build, \/var\/cache\/pkg\/index\.db/);
  t.regex(deleted.instruction!, /^RUN mkdir -p \/var\/cache\/pkg/);
  t.is(deleted.removedByInstruction, 'RUN rm -rf /tmp/build && rm /var/cache/pkg/index.db');
  t.regex(deleted.remedy, /deleting in a later layer does not shrink the image/i);
  t.regex(chmod.instruction!, /^COPY dir:/);
  t.is(chmod.removedByInstruction, 'RUN chmod -R 0755 /app && chown -R 1000:1000 /app');
  t.regex(chmod.remedy, /COPY --chown=1000:1000 --chmod=755/);
  // one hardlinked inode in the build container, stored twice by the vfs builder
  t.deepEqual(dup.items.map((i) => [i.path, i.layer]), [['/app/bundle-hardlink.js', 7], ['/app/bundle.js', 4]]);
  t.regex(dup.title, /likely one hardlinked file/);
  t.deepEqual(b.bloat, { toolchain: 0, docs: 0, temp: 0, log: 58893, cache: 0, vcs: 0, build: 0, history: 0, 'core-dump': 0, duplicate: 405264 });
  t.is(b.bloatBytes, 58893 + 405264);
  t.is(b.verdict, 'bloated');
});

test('overlay build: the hardlink copy-up is waste, not a duplicate; the opaque deletion names the directory', async (t) => {
  const b = analyze(await load('tiny-overlay.oci.tar'));
  t.deepEqual(brief(b.findings), [
    ['deleted', 'waste', 650000, 1, 3],
    ['metadata-copy', 'waste', 405282, 2, 4],
    ['metadata-copy', 'waste', 405264, 4, 7],
    ['log', 'bloat', 58893, 1, null],
    ['overwritten', 'waste', 30, 0, 6],
    ['deleted', 'waste', 8, 5, 6],
  ]);
  t.regex(b.findings[2].title, /hardlinks/);
  t.regex(b.findings[2].remedy, /same RUN that creates the file, or use a symlink/);
  t.regex(b.findings[5].title, /layer 6 deleted \/etc\/conf\.d \(2 files stored by layer 5\)/);
  t.is(b.bloat.duplicate, 0);
  t.is(b.bloatBytes, 58893);
});

for (const name of ['tiny-commit.docker.tar', 'tiny-commit-overlay.oci.tar']) {
  test(`commit build (${name}): temp, cache and log in one fat layer`, async (t) => {
    const b = analyze(await load(name));
    t.deepEqual(brief(b.findings), [
      ['commit-build', 'pattern', 708893, 1, null],
      ['cache', 'bloat', 400000, 1, null],
      ['temp', 'bloat', 250000, 1, null],
      ['log', 'bloat', 58893, 1, null],
    ]);
    t.regex(b.findings[0].remedy, /Prefer a Dockerfile build over docker commit/);
    t.deepEqual(b.findings[0].items.map((i) => i.path).sort(), ['/tmp/build/obj.o', '/var/cache/pkg/index.db', '/var/log/app/build.log']);
    t.is(b.bloatBytes, 708893); // the pattern overlaps its categories and is not added again
    t.is(b.verdict, 'bloated');
  });
}

test('the report carries the totals; --top and --category narrow the findings only', async (t) => {
  const m = await load('tiny-dockerfile.docker.tar');
  const all = inspectReport(m);
  t.is(all.summary.wastedBytes, 1055320);
  t.is(all.summary.efficiency, 2851740 / 3907060);
  t.is(all.summary.waste['metadata-copy'], 405282);
  t.is(all.summary.bloat.log, 58893);
  t.is(all.summary.findingCount, 6);
  t.is(all.findings.length, 6);
  const top = inspectReport(m, { top: 2 });
  t.deepEqual(brief(top.findings), brief(all.findings.slice(0, 2)));
  t.deepEqual(top.summary, all.summary);
  const deleted = inspectReport(m, { categories: ['deleted', 'log'] });
  t.deepEqual(brief(deleted.findings), [
    ['deleted', 'waste', 650000, 1, 3],
    ['log', 'bloat', 58893, 1, null],
    ['deleted', 'waste', 8, 5, 6],
  ]);
});

// ---- every built-in rule -----------------------------------------------------------------------------

const examples: [string, string][] = [
  ['app/core', 'core-dumps'],
  ['tmp/core.4711', 'core-dumps'],
  ['tmp/core.4194304', 'core-dumps'],
  ['srv/vgcore.12', 'core-dumps'],
  ['opt/app/hs_err_pid42.log', 'core-dumps'],
  ['root/.bash_history', 'shell-history'],
  ['home/u/.ash_history', 'shell-history'],
  ['root/.viminfo', 'shell-history'],
  ['src/.main.c.swp', 'shell-history'],
  ['src/app/.git/objects/pack/p.pack', 'vcs'],
  ['srv/.svn/wc.db', 'vcs'],
  ['var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease', 'apt-lists'],
  ['var/cache/apt/archives/curl_7.88_amd64.deb', 'apt-archives'],
  ['var/cache/apt/pkgcache.bin', 'apt-archives'],
  ['var/cache/apk/APKINDEX.abc.tar.gz', 'apk-cache'],
  ['etc/apk/cache/x.apk', 'apk-cache'],
  ['var/cache/dnf/fedora.solv', 'dnf-yum-cache'],
  ['var/cache/yum/x86_64/repomd.xml', 'dnf-yum-cache'],
  ['root/.cache/pip/http/a/b', 'pip-cache'],
  ['root/.cache/pip/log/debug.log', 'pip-cache'],
  ['root/.npm/_cacache/index-v5/aa', 'npm-cache'],
  ['home/node/.npm/_logs/debug.log', 'npm-cache'],
  ['usr/local/share/.cache/yarn/v6/x.tgz', 'yarn-cache'],
  ['root/.local/share/pnpm/store/v3/files/x', 'pnpm-store'],
  ['app/.pnpm-store/v3/y', 'pnpm-store'],
  ['root/.cache/go-build/ab/cd-a', 'go-cache'],
  ['go/pkg/mod/cache/download/x.zip', 'go-cache'],
  ['root/.m2/repository/org/x.jar', 'maven-repo'],
  ['home/gradle/.gradle/caches/modules-2/x.jar', 'gradle-cache'],
  ['root/.cargo/registry/cache/x.crate', 'cargo-cache'],
  ['usr/local/cargo/git/db/x', 'cargo-cache'],
  ['var/cache/debconf/templates.dat-old', 'var-cache'],
  ['var/cache/man/index.db', 'var-cache'],
  ['tmp/build/obj.o', 'tmp'],
  ['var/tmp/x', 'tmp'],
  ['var/log/dpkg.log', 'logs'],
  ['app/server.log', 'logs'],
  ['src/main.o', 'build-leftovers'],
  ['usr/local/lib/node_modules/x/build/Release/obj.target/x/src/x.o', 'build-leftovers'],
  ['usr/src/python/Python/crt1.obj', 'build-leftovers'],
  ['build/CMakeFiles/x.dir/y', 'build-leftovers'],
  ['src/CMakeCache.txt', 'build-leftovers'],
  ['app/node_modules/.cache/babel/x', 'build-leftovers'],
];
const innocent = [
  'usr/lib/gcc/x86_64-linux-gnu/12/crtbegin.o', 'usr/lib/x86_64-linux-gnu/crt1.o', 'usr/lib/Scrt1.o',
  'usr/lib/python3.11/config-3.11-x86_64-linux-gnu/python.o', 'usr/local/lib/python3.12/config-3.12-x86_64-linux-gnu/python.o',
  'opt/sdk/python/lib/python3.12/config-3.12-x86_64-linux-gnu/python.o',
  'var/cache/debconf/config.dat', 'var/cache/debconf/templates.dat', 'usr/share/doc/python3.11/pybench.log',
  'usr/share/man/man5/core.5.gz', 'usr/share/man/man1/vgcore.1.gz', 'usr/lib/core.12345678', 'usr/bin/core-utils', 'usr/lib/libcore.so', 'etc/logrotate.conf', 'usr/share/doc/git/README', 'usr/lib/python3/pip/_internal/cache.py', 'etc/catalog'];

test('every built-in rule matches its paths, first match wins, and ordinary files match none', async (t) => {
  const paths = [...examples.map(([p]) => p), ...innocent];
  const m = await modelOf([{ entries: paths.map((p) => file(p, 10 + p.length)) }]);
  const b = analyze(m);
  const ruleOf = new Map<string, string>();
  for (const f of b.findings) if (f.kind === 'bloat') for (const i of f.items) ruleOf.set(i.path, f.rule!);
  t.deepEqual(
    paths.map((p) => [p, ruleOf.get(`/${p}`) ?? null]),
    [...examples, ...innocent.map((p) => [p, null])],
  );
  t.deepEqual(new Set(examples.map(([, r]) => r)), new Set(BUILTIN_RULES.map((r) => r.id)), 'every built-in rule has an example');
  for (const f of b.findings.filter((f) => f.kind === 'bloat')) t.is(f.remedy, BUILTIN_RULES.find((r) => r.id === f.rule)!.remedy);
});

test('empty files are never bloat', async (t) => {
  const b = analyze(await modelOf([{ entries: [file('var/log/empty.log', ''), file('tmp/x', '')] }]));
  t.deepEqual(b.findings, []);
  t.is(b.verdict, 'lean');
});

test('rule findings are grouped per rule and storing layer', async (t) => {
  const b = analyze(await modelOf([{ entries: [file('var/log/a.log', 100), file('var/log/b.log', 50)] }, { entries: [file('var/log/c.log', 10)] }]));
  t.deepEqual(
    b.findings.map((f) => [f.rule, f.layer, f.files, f.bytes]),
    [['logs', 0, 2, 150], ['logs', 1, 1, 10]],
  );
});

// ---- duplicates and hardlinks --------------------------------------------------------------------------

test('identical content at several paths is a duplicate; one hardlinked inode is not', async (t) => {
  const same = 'x'.repeat(500);
  const b = analyze(await modelOf([{ entries: [dir('a'), file('a/one', same), file('a/two', same), hardlink('a/three', 'a/one'), file('a/other', 'y'.repeat(500))] }]));
  t.deepEqual(brief(b.findings), [['duplicate', 'bloat', 500, 0, null]]);
  t.deepEqual(b.findings[0].items.map((i) => i.path), ['/a/one', '/a/two']);
  t.regex(b.findings[0].remedy, /Keep one copy/);
  t.notRegex(b.findings[0].title, /hardlinked/);
});

test('a copy in a later layer with the same mode, owner and mtime is flagged as a split hardlink', async (t) => {
  const same = 'z'.repeat(300);
  const split = analyze(await modelOf([{ entries: [file('a', same, { mtime: 5 })] }, { entries: [file('b', same, { mtime: 5 })] }]));
  t.deepEqual(brief(split.findings), [['duplicate', 'bloat', 300, 1, null]]);
  t.regex(split.findings[0].title, /likely one hardlinked file/);
  const apart = analyze(await modelOf([{ entries: [file('a', same, { mtime: 5 })] }, { entries: [file('b', same, { mtime: 6 })] }]));
  t.notRegex(apart.findings[0].title, /hardlinked/);
});

test('files matched by a rule are not counted again as duplicates', async (t) => {
  const same = 'q'.repeat(200);
  const b = analyze(await modelOf([{ entries: [file('tmp/copy', same), file('app/data', same)] }]));
  t.deepEqual(brief(b.findings), [['temp', 'bloat', 200, 0, null]]);
});

// ---- remedies in build terms -------------------------------------------------------------------------------

const appFiles = (o = {}) => [dir('app', o), file('app/main.js', 1000, o), file('app/lib.js', 500, o)];

test('chmod/chown after COPY: COPY --chown/--chmod with the values the later layer set', async (t) => {
  const b = analyze(
    await modelOf([
      { entries: appFiles(), createdBy: '/bin/sh -c #(nop) COPY dir:abc in /app/ ' },
      { entries: appFiles({ mode: 0o750, uid: 10, gid: 20 }), createdBy: '/bin/sh -c chmod -R 0750 /app && chown -R 10:20 /app' },
    ]),
  );
  t.deepEqual(brief(b.findings), [['metadata-copy', 'waste', 1500, 0, 1]]);
  t.regex(b.findings[0].remedy, /COPY --chown=10:20 --chmod=750 in layer 0/);
  t.is(b.findings[0].instruction, 'COPY dir:abc in /app/');
  t.is(b.findings[0].removedByInstruction, 'RUN chmod -R 0750 /app && chown -R 10:20 /app');
});

test('chmod after a RUN: do it in the same RUN', async (t) => {
  const b = analyze(await modelOf([{ entries: appFiles() }, { entries: appFiles({ mode: 0o700 }) }]));
  t.regex(b.findings[0].remedy, /same RUN that creates the files \(layer 0\)/);
});

test('apt lists deleted in a later layer: clean them in the same RUN as apt-get update', async (t) => {
  const lists = ['var/lib/apt/lists/a_InRelease', 'var/lib/apt/lists/b_Packages'];
  const b = analyze(await modelOf([{ entries: lists.map((p) => file(p, 3000)), createdBy: '/bin/sh -c apt-get update && apt-get install -y curl' }, { entries: [dir('var/lib/apt'), whiteout('var/lib/apt/lists')] }]));
  t.deepEqual(brief(b.findings), [['deleted', 'waste', 6000, 0, 1]]);
  t.regex(b.findings[0].remedy, /does not shrink the image/);
  t.regex(b.findings[0].remedy, /Clean the apt lists in the same RUN as apt-get update/);
});

test('files copied in and deleted later: a .dockerignore entry', async (t) => {
  const b = analyze(await modelOf([{ entries: [dir('src'), file('src/build/out.bin', 800)], createdBy: 'COPY . /src # buildkit' }, { entries: [dir('src'), whiteout('src/build')] }]));
  t.regex(b.findings[0].remedy, /\.dockerignore entry \("\*\*\/build"\)/);
});

test('a .git directory copied in: add it to .dockerignore', async (t) => {
  const b = analyze(await modelOf([{ entries: [file('src/.git/index', 700)], createdBy: '/bin/sh -c #(nop) COPY dir:1 in /src ' }]));
  t.deepEqual(brief(b.findings), [['vcs', 'bloat', 700, 0, null]]);
  t.regex(b.findings[0].remedy, /^These came in with COPY\/ADD: add "\.git" to \.dockerignore/);
});

// ---- the commit-based pattern ------------------------------------------------------------------------------

const fat = (createdBy: string, appBytes: number): LayerSpec[] => [
  { entries: [file('bin/sh', 100)], createdBy: 'debian.sh' },
  { entries: [file('tmp/x', 100), file('var/log/y.log', 100), file('app/bin', appBytes)], createdBy },
];

test('the commit pattern needs a non-Dockerfile layer, two of temp/log/cache, and 10% of the layer', async (t) => {
  const commit = analyze(await modelOf(fat('bash', 1000)));
  t.deepEqual(brief(commit.findings.filter((f) => f.kind === 'pattern')), [['commit-build', 'pattern', 200, 1, null]]);
  t.is(analyze(await modelOf(fat('/bin/sh -c make', 1000))).findings.filter((f) => f.kind === 'pattern').length, 0);
  t.is(analyze(await modelOf(fat('bash', 5000))).findings.filter((f) => f.kind === 'pattern').length, 0);
  const oneCategory = analyze(await modelOf([{ entries: [file('bin/sh', 1)] }, { entries: [file('tmp/a', 100), file('tmp/b', 100)], createdBy: 'bash' }]));
  t.is(oneCategory.findings.filter((f) => f.kind === 'pattern').length, 0);
});

// ---- config: extend and disable ----------------------------------------------------------------------------

const logsAndCache: LayerSpec[] = [{ entries: [file('var/log/app.log', 100), file('var/log/keep.log', 40), file('var/cache/x/db', 200), file('srv/reports/r1.csv', 300)] }];

test('config: disable a rule by id or a whole category', async (t) => {
  const m = await modelOf(logsAndCache);
  t.deepEqual(analyze(m, configOf('bloat: {disable: [logs]}')).findings.map((f) => f.category), ['cache']);
  t.deepEqual(analyze(m, configOf('bloat: {disable: [cache]}')).findings.map((f) => f.category), ['log']);
  t.deepEqual(analyze(m, configOf('bloat: {disable: [cache]}')).bloat.cache, 0);
});

test('config: custom rules come first and may add categories; ignore globs hide files', async (t) => {
  const m = await modelOf(logsAndCache);
  const config = configOf(`
bloat:
  rules:
    - id: reports
      category: reports
      paths: ["/srv/reports/**"]
      remedy: Write reports to a volume.
    - id: app-log
      category: applog
      paths: [/var/log/app.log]
  ignore: [keep.log]
`);
  const b = analyze(m, config);
  t.deepEqual(b.findings.map((f) => [f.category, f.rule, f.bytes]), [['reports', 'reports', 300], ['cache', 'var-cache', 200], ['applog', 'app-log', 100]]);
  t.is(b.findings[0].remedy, 'Write reports to a volume.');
  t.is(b.bloat.reports, 300);
  t.is(b.bloat.log, 0);
  t.true(knownCategories(config).includes('reports'));
  t.true(knownCategories(config).includes('deleted'));
});

test('deleting or overwriting base-image files: a smaller base, not "the same RUN"', async (t) => {
  const vfs = analyze(await load('tiny-dockerfile.docker.tar'));
  t.regex(vfs.findings.find((f) => f.category === 'overwritten')!.remedy, /layer 0, which looks like the base image/);
  const base: LayerSpec = { entries: [dir('usr/share/doc'), file('usr/share/doc/big.txt', 900), file('etc/conf', 50)], createdBy: '# debian.sh --arch amd64 out/ bookworm' };
  const b = analyze(await modelOf([base, { entries: [dir('usr/share'), whiteout('usr/share/doc'), file('etc/conf', 60)], createdBy: '/bin/sh -c rm -rf /usr/share/doc' }]));
  t.deepEqual(brief(b.findings), [['deleted', 'waste', 900, 0, 1], ['overwritten', 'waste', 50, 0, 1]]);
  t.regex(b.findings[0].remedy, /Choose a smaller base image/);
  const own = analyze(await modelOf([{ entries: [file('etc/conf', 50)] }, { entries: [file('etc/conf', 60)] }]));
  t.regex(own.findings[0].remedy, /Produce the final version in one step/);
});

test("docs/json.md's example finding is what the overlay fixture gives", async (t) => {
  const doc = readFileSync('docs/json.md', 'utf8');
  const example = JSON.parse(/```json\n([\s\S]*?)```/.exec(doc)![1]);
  const r = inspectReport(await load('tiny-overlay.oci.tar'), { categories: ['metadata-copy'], top: 1 });
  t.deepEqual(r.findings, [example]);
});

test('the same files copied twice: COPY them once; a touch: avoid touching lower files', async (t) => {
  const twice = analyze(await modelOf([{ entries: appFiles(), createdBy: 'COPY . /app # buildkit' }, { entries: appFiles(), createdBy: 'COPY app/ /app/ # buildkit' }]));
  t.deepEqual(brief(twice.findings), [['metadata-copy', 'waste', 1500, 0, 1]]);
  t.regex(twice.findings[0].title, /layer 1 copied in 2 files identical to what layer 0 stored/);
  t.regex(twice.findings[0].remedy, /COPY them once/);
  const touched = analyze(await modelOf([{ entries: appFiles() }, { entries: appFiles(), createdBy: '/bin/sh -c touch /app/*' }]));
  t.regex(touched.findings[0].title, /layer 1 stored 2 files of layer 0 again unchanged/);
  t.regex(touched.findings[0].remedy, /Touching a file of an earlier layer/);
});
