import { createHash } from 'node:crypto';
import test from 'ava';
import { runStrata } from './helpers/cli.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openImage } from '../src/sources/resolve.js';
import { readImage, type ImageModel } from '../src/model/read-image.js';
import { comparePaths, type FileDiff } from '../src/analyze/diff/files.js';
import { diffImages, type DiffReport } from '../src/analyze/diff/diff.js';
import { type DiffSide } from '../src/analyze/diff/side.js';
import { contentDiffs } from '../src/analyze/diff/content.js';
import { readRows } from '../src/scan/extract.js';
import { ignoreMatcher } from '../src/util/glob.js';
import { parsePlatform } from '../src/image/platform.js';
import { parseSideRef } from '../src/commands/diff.js';
import { renderDiffMarkdown, renderDiffText } from '../src/render/diff.js';
import { removeTemp, tempDir, writeImage, type Entry, type ImageSpec } from './helpers/diff-images.js';

test.after.always(removeTemp);

const root = fileURLToPath(new URL('../../', import.meta.url));
const td = (f: string) => join(root, 'testdata', f);
const COMMIT = td('tiny-commit.docker.tar');
const DOCKERFILE = td('tiny-dockerfile.docker.tar');
const OVERLAY = td('tiny-overlay.oci.tar');
const MULTIARCH = td('tiny-multiarch.oci-layout.tar');

const models = new Map<string, Promise<ImageModel>>();
function model(ref: string, platform?: string): Promise<ImageModel> {
  const key = `${ref} ${platform ?? ''}`;
  let m = models.get(key);
  if (!m) models.set(key, (m = openImage(ref, { platform: platform ? parsePlatform(platform) : undefined }).then((i) => readImage(i))));
  return m;
}
const top = (m: ImageModel, layer = m.layers.length - 1): DiffSide => ({ model: m, layer });
const changes = (r: DiffReport) => r.files.map((f) => `${f.change} ${f.path}${f.metadata ? ` [${f.metadata.join(',')}]` : ''}`);

const strata = (args: string[], cwd = root) => runStrata(args, { cwd });

async function synthetic(a: ImageSpec, b: ImageSpec, ignore?: string[]): Promise<DiffReport> {
  const ma = await readImage(await openImage(writeImage(a)));
  const mb = await readImage(await openImage(writeImage(b)));
  return diffImages(top(ma), top(mb), { ignore });
}

// ---- real builds ---------------------------------------------------------------------------------

test('commit-based vs Dockerfile build: same app, different history', async (t) => {
  const a = await model(COMMIT), b = await model(DOCKERFILE);
  const r = diffImages(top(a), top(b));
  t.false(r.summary.identical);
  // the imported busybox base is the same layer; the commit's one RUN matches the Dockerfile's first RUN
  t.is(r.layers.sharedBase, 1);
  t.deepEqual(r.layers.pairs.map((p) => [p.a?.index ?? null, p.b?.index ?? null, p.match]), [
    [1, 1, 'instruction'],
    [null, 2, 'unmatched'],
    [null, 3, 'unmatched'],
    [null, 4, 'unmatched'],
    [null, 5, 'unmatched'],
    [null, 6, 'unmatched'],
    [null, 7, 'unmatched'],
  ]);
  t.deepEqual(changes(r), [
    'metadata /app [uid,gid]',
    'added /app/bundle-hardlink.js',
    'metadata /app/bundle.js [mode,uid,gid]',
    'metadata /app/index.js [mode,uid,gid]',
    'added /etc/conf.d',
    'added /etc/conf.d/three.conf',
    'modified /etc/passwd',
    'removed /tmp/build',
    'removed /tmp/build/obj.o',
    'added /usr',
    'added /usr/local',
    'added /usr/local/bin',
    'added /usr/local/bin/app',
    'removed /var/cache/pkg/index.db',
  ]);
  const byPath = new Map(r.files.map((f) => [f.path, f]));
  t.is(byPath.get('/tmp/build/obj.o')!.sizeDelta, -250000);
  t.is(byPath.get('/usr/local/bin/app')!.b!.linkTarget, '/app/index.js');
  t.deepEqual(r.summary.files, { added: 7, removed: 3, modified: 1, metadata: 3, type: 0, retarget: 0, total: 14 });
  // the Dockerfile build drops the temp files and cache the commit kept
  const dirs = new Map(r.directories.map((d) => [d.path, d.sizeDelta]));
  t.is(dirs.get('/var/cache/pkg'), -400000);
  t.is(dirs.get('/tmp'), -250000);
  t.is(dirs.get('/app'), 405264);
  t.is(r.directories[0].path, '/app'); // biggest absolute delta first
  t.is(r.summary.sizeDelta, r.summary.b.size - r.summary.a.size);
  t.true(r.summary.sizeDelta < 0);
  t.deepEqual(r.config.map((c) => `${c.field} ${c.key}: ${c.a} -> ${c.b}`), [
    'env NODE_ENV: null -> production',
    'env PATH: null -> /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  ]);
  t.deepEqual(r.history.filter((h) => h.op === 'same').length, 2);
  t.true(r.history.some((h) => h.op === 'added' && h.instruction === 'USER 1000' && h.emptyLayer));
  const text = renderDiffText(r, 120);
  t.regex(text, /^ {2}first layer identical$/m);
  t.regex(text, /^ {2}1 +1\.1 MB +sh -c mkdir .* ~ +1 +709 kB +RUN mkdir /m);
  t.regex(text, /^ {2}-400 kB +\/var\/cache\/pkg +1 changed$/m);
});

test('vfs vs overlay builds of one Dockerfile: union views equal apart from the RUN mount points', async (t) => {
  const r = diffImages(top(await model(DOCKERFILE)), top(await model(OVERLAY)));
  t.deepEqual(changes(r), [
    // vfs stored bundle-hardlink.js as a second copy; overlay kept the hardlink
    'metadata /app/bundle-hardlink.js [links]',
    'metadata /app/bundle.js [links]',
    'added /dev',
    'added /etc/hostname',
    'added /etc/hosts',
    'added /etc/resolv.conf',
    'added /proc',
    'added /run',
    'added /sys',
  ]);
  t.is(r.files.find((f) => f.path === '/app/bundle.js')!.b!.links, 2);
  t.is(r.summary.sizeDelta, -405264); // the copy
  t.deepEqual(r.layers.pairs.map((p) => p.match), ['unmatched', ...Array(7).fill('instruction')]);
  t.deepEqual(r.config, [{ field: 'label', key: 'io.buildah.version', a: null, b: '1.28.2' }]);
  t.is(r.summary.compressedSizeDelta, null); // docker save stores plain tars
  t.is(r.summary.a.compressedSize, null);
  t.true(r.summary.b.compressedSize! > 0);

  const quiet = diffImages(top(await model(DOCKERFILE)), top(await model(OVERLAY)), { ignore: ['/run', '/dev', '/proc', '/sys', '/etc/host*', '/etc/resolv.conf'] });
  t.deepEqual(changes(quiet), ['metadata /app/bundle-hardlink.js [links]', 'metadata /app/bundle.js [links]']);
});

test('multi-arch index: a different platform on each side', async (t) => {
  const a = await model(MULTIARCH, 'linux/amd64'), b = await model(MULTIARCH, 'linux/arm64');
  const r = diffImages(top(a), top(b));
  t.deepEqual(changes(r), ['modified /etc/build-arch']);
  t.deepEqual(r.config, [{ field: 'platform', a: 'linux/amd64', b: 'linux/arm64' }]);
  t.is(r.layers.sharedBase, 1);
  const [c] = await contentDiffs(top(a), top(b), ['/etc/build-arch'], 1024);
  t.is(c.kind, 'text');
  t.regex(c.patch!, /^-amd-build$/m);
  t.regex(c.patch!, /^\+arm-build$/m);

  const cli = await strata(['diff', MULTIARCH, MULTIARCH, '--platform-a', 'linux/amd64', '--platform-b', 'linux/arm64/v8', '--json']);
  t.is(cli.code, 0, cli.stderr);
  const j = JSON.parse(cli.stdout) as DiffReport;
  t.is(j.summary.a.platform, 'linux/amd64');
  t.is(j.summary.b.platform, 'linux/arm64');
  t.deepEqual(j.files.map((f) => f.path), ['/etc/build-arch']);
});

test('--file: unified diff of /etc/passwd between layers 5 and 6', async (t) => {
  const m = await model(OVERLAY);
  const [c] = await contentDiffs(top(m, 5), top(m, 6), ['/etc/passwd'], 65536);
  t.is(c.kind, 'text');
  t.false(c.identical);
  t.is(c.patch, '--- a/etc/passwd\n+++ b/etc/passwd\n@@ -1,1 +1,1 @@\n-root:x:0:0:root:/root:/bin/sh\n+root:x:0:0:root:/root:/bin/ash\n');
  // the full sha256 is of the bytes read; the records' XXH3-128 content hashes differ as the contents do
  t.is(c.a!.sha256, createHash('sha256').update('root:x:0:0:root:/root:/bin/sh\n').digest('hex'));
  t.is(c.b!.sha256, createHash('sha256').update('root:x:0:0:root:/root:/bin/ash\n').digest('hex'));
  t.regex(c.a!.contentHash!, /^[0-9a-f]{32}$/);
  t.not(c.a!.contentHash, c.b!.contentHash);

  for (const args of [
    [OVERLAY, '--layers', '5..6', '--file', '/etc/passwd'],
    [`${OVERLAY}@5`, `${OVERLAY}@-2`, '--file', '/etc/passwd'],
    [`${OVERLAY}@5`, '--file', '/etc/passwd', `${OVERLAY}@6`], // a repeatable option does not swallow B
  ]) {
    const cli = await strata(['diff', ...args, '--exit-code']);
    t.is(cli.code, 1, cli.stderr);
    t.is(cli.stdout, c.patch!);
  }
  const md = await strata(['diff', OVERLAY, '--layers', '5..6', '--file', '/etc/passwd', '--markdown']);
  t.is(md.stdout, `\`\`\`diff\n${c.patch}\`\`\`\n`);
  const [small] = await contentDiffs(top(m, 5), top(m, 6), ['/etc/passwd'], 16);
  t.is(small.kind, 'too-large');
  t.is(small.patch, undefined);
  const same = await strata(['diff', OVERLAY, '--layers', '6..7', '--file', '/etc/passwd', '--exit-code']);
  t.is(same.code, 0, same.stderr);
  t.regex(same.stdout, /\/etc\/passwd: identical/);
  const binary = await contentDiffs(top(await model(DOCKERFILE)), top(await model(COMMIT)), ['/bin/busybox', '/var/cache/pkg/index.db'], 1 << 20);
  t.is(binary[0].kind, 'identical'); // same size and hash: not read
  t.true(binary[0].identical);
  t.is(binary[1].kind, 'binary'); // random bytes, only in the commit build
  t.is(binary[1].a, null);
  t.is(binary[1].b!.size, 400000);
  t.regex(binary[1].b!.sha256!, /^[0-9a-f]{64}$/);
  t.regex(binary[1].b!.contentHash!, /^[0-9a-f]{32}$/);
});

test('an image diffed with itself reports no change; --exit-code 0 identical, 1 different, 2 error', async (t) => {
  const m = await model(DOCKERFILE);
  const r = diffImages(top(m), top(m));
  t.true(r.summary.identical);
  t.deepEqual(r.files, []);
  t.deepEqual(r.config, []);
  t.is(r.layers.sharedBase, 8);
  t.deepEqual(r.layers.pairs, []);
  t.is(r.summary.sizeDelta, 0);

  const self = await strata(['diff', OVERLAY, OVERLAY, '--exit-code']);
  t.is(self.code, 0, self.stderr);
  t.regex(self.stdout, /Identical/);
  t.regex(self.stdout, /first 8 layers identical/);
  const different = await strata(['diff', DOCKERFILE, OVERLAY, '--exit-code']);
  t.is(different.code, 1, different.stderr);
  const noExitCode = await strata(['diff', DOCKERFILE, OVERLAY]);
  t.is(noExitCode.code, 0);
  t.is(noExitCode.stdout, different.stdout);
  for (const args of [
    ['diff', td('no-such.tar'), OVERLAY, '--exit-code'],
    ['diff', OVERLAY, '--exit-code'],
    ['diff', OVERLAY, '--layers', '2-5'],
    ['diff', OVERLAY, '--layers', '2..9'],
    ['diff', `${OVERLAY}@8`, OVERLAY],
    ['diff', OVERLAY, OVERLAY, '--no-ignore-mtime'],
    ['diff', OVERLAY, OVERLAY, '--file', '/no/such/file'],
  ]) {
    const e = await strata(args);
    t.is(e.code, 2, args.join(' '));
    t.regex(e.stderr, /^strata: /);
    t.false(/internal error/.test(e.stderr), e.stderr);
  }
});

test('--layers M..N compares two views of one image', async (t) => {
  const cli = await strata(['diff', OVERLAY, '--layers', '2..5', '--json']);
  t.is(cli.code, 0, cli.stderr);
  const r = JSON.parse(cli.stdout) as DiffReport;
  t.is(r.schemaVersion, 1);
  t.is(r.layers.sharedBase, 3);
  t.deepEqual(r.layers.pairs.map((p) => [p.a, p.b?.index, p.match]), [[null, 3, 'unmatched'], [null, 4, 'unmatched'], [null, 5, 'unmatched']]);
  t.deepEqual(changes(r), [
    'metadata /app [uid,gid]',
    'metadata /app/bundle.js [mode,uid,gid]',
    'metadata /app/index.js [mode,uid,gid]',
    'added /etc/conf.d',
    'added /etc/conf.d/one.conf',
    'added /etc/conf.d/two.conf',
    'removed /tmp/build',
    'removed /tmp/build/obj.o',
    'removed /var/cache/pkg/index.db',
  ]);
  t.is(r.summary.sizeDelta, -650000 + 8);
  // the history of a lower view stops at the instruction that made its top layer
  t.deepEqual(r.history.filter((h) => h.op !== 'same').map((h) => h.op), ['added', 'added', 'added']);
});

// ---- synthetic: every change kind -----------------------------------------------------------------

const base: Entry[] = [
  { path: 'etc', type: 'dir' },
  { path: 'etc/same', content: 'same' },
  { path: 'etc/gone', content: 'bye' },
  { path: 'etc/content', content: 'aaaa' },
  { path: 'etc/grow', content: 'a' },
  { path: 'etc/mode', content: 'm', mode: 0o644 },
  { path: 'etc/owner', content: 'o', uid: 0, gid: 0 },
  { path: 'etc/xattr', content: 'x', xattrs: { 'user.k': 'v1' } },
  { path: 'etc/mtime', content: 't', mtime: 1000 },
  { path: 'etc/f2dir', content: 'was a file' },
  { path: 'etc/f2link', content: 'was a file' },
  { path: 'etc/link', type: 'symlink', link: 'same' },
  { path: 'etc/linkmode', type: 'symlink', link: 'same' },
  { path: 'dev', type: 'dir' },
  { path: 'dev/null', type: 'char', dev: [1, 3], mode: 0o666 },
  { path: 'lib', type: 'dir' },
  { path: 'lib/big', content: 'x'.repeat(5000) },
];

const changed: Entry[] = [
  { path: 'etc', type: 'dir' },
  { path: 'etc/same', content: 'same' },
  { path: 'etc/new', content: 'hello' },
  { path: 'etc/content', content: 'bbbb' },
  { path: 'etc/grow', content: 'abc' },
  { path: 'etc/mode', content: 'm', mode: 0o755 },
  { path: 'etc/owner', content: 'o', uid: 1000, gid: 0 },
  { path: 'etc/xattr', content: 'x', xattrs: { 'user.k': 'v2' } },
  { path: 'etc/mtime', content: 't', mtime: 2000 },
  { path: 'etc/f2dir', type: 'dir' },
  { path: 'etc/f2dir/inside', content: 'i' },
  { path: 'etc/f2link', type: 'symlink', link: 'same' },
  { path: 'etc/link', type: 'symlink', link: 'content' },
  { path: 'etc/linkmode', type: 'symlink', link: 'same', uid: 7 },
  { path: 'dev', type: 'dir' },
  { path: 'dev/null', type: 'char', dev: [1, 5], mode: 0o666 },
  { path: 'lib', type: 'dir' },
  { path: 'lib/big', content: 'y'.repeat(20000) },
];

test('synthetic: each change kind, with sizes and metadata fields', async (t) => {
  const r = await synthetic({ layers: [{ entries: base }] }, { layers: [{ entries: changed }] });
  t.deepEqual(changes(r), [
    'modified /dev/null',
    'modified /etc/content',
    'type /etc/f2dir',
    'added /etc/f2dir/inside',
    'type /etc/f2link',
    'removed /etc/gone',
    'modified /etc/grow',
    'retarget /etc/link',
    'metadata /etc/linkmode [uid]',
    'metadata /etc/mode [mode]',
    'added /etc/new',
    'metadata /etc/owner [uid]',
    'metadata /etc/xattr [xattrs]',
    'modified /lib/big',
  ]);
  const f = new Map<string, FileDiff>(r.files.map((x) => [x.path, x]));
  t.is(f.get('/etc/grow')!.sizeDelta, 2);
  t.is(f.get('/etc/gone')!.sizeDelta, -3);
  t.is(f.get('/etc/new')!.sizeDelta, 5);
  t.is(f.get('/etc/content')!.sizeDelta, 0);
  t.not(f.get('/etc/content')!.a!.contentHash, f.get('/etc/content')!.b!.contentHash);
  t.is(f.get('/etc/f2dir')!.a!.type, 'file');
  t.is(f.get('/etc/f2dir')!.b!.type, 'dir');
  t.is(f.get('/etc/f2dir')!.sizeDelta, -10);
  t.is(f.get('/etc/link')!.a!.linkTarget, 'same');
  t.is(f.get('/etc/link')!.b!.linkTarget, 'content');
  t.is(f.get('/etc/mode')!.b!.mode, '0755');
  t.deepEqual(r.summary.files, { added: 2, removed: 1, modified: 4, metadata: 4, type: 2, retarget: 1, total: 14 });
  t.deepEqual(r.directories.map((d) => [d.path, d.sizeDelta, d.changed]), [
    ['/lib', 15000, 1],
    ['/etc', 2 - 3 + 5 - 10 + 1 - 10, 12],
    ['/etc/f2dir', 1, 1],
    ['/dev', 0, 1],
  ]);

  const text = renderDiffText(r, 120);
  t.regex(text, /^ {2}T +-10 B +\/etc\/f2dir +file -> dir$/m);
  t.regex(text, /^ {2}L +\/etc\/link +same -> content$/m);
  t.regex(text, /\/etc\/mode +mode 0644 -> 0755/);
  t.regex(text, /files +14 changed: 2 added, 1 removed, 4 modified, 4 metadata-only, 2 type changed, 1 symlink retargeted/);
  const md = renderDiffMarkdown(r);
  t.regex(md, /^\| T \| `\/etc\/f2dir` \| -10 B \| file -> dir \|$/m);
  t.regex(md, /^\| size \| .* \| \+15\.0 kB \|$/m);
});

test('synthetic: mtime alone is no change, and the same files in other layers are the same view', async (t) => {
  const files: Entry[] = [{ path: 'a', type: 'dir' }, { path: 'a/x', content: 'x' }, { path: 'b', content: 'b' }];
  const r = await synthetic(
    { layers: [{ entries: files }] },
    { layers: [{ entries: files.slice(0, 2).map((e) => ({ ...e, mtime: 5 })) }, { entries: [{ ...files[2], mtime: 9 }] }] },
  );
  t.deepEqual(r.files, []);
  t.is(r.summary.sizeDelta, 0);
  t.is(r.layers.sharedBase, 0);
  t.false(r.summary.identical); // the history differs: two layers instead of one
  t.deepEqual(r.history.map((h) => h.op), ['same', 'added']);
});

test('synthetic: changes come in walk order where string order differs (a/b, a.b, a-b)', async (t) => {
  // '-' and '.' sort before '/': a plain string merge would pair these wrongly
  const names: Entry[] = [
    { path: 'a', type: 'dir' },
    { path: 'a/b', content: '1' },
    { path: 'a-b', content: '2' },
    { path: 'a.b', type: 'dir' },
    { path: 'a.b/c', content: '3' },
    { path: 'a0', content: '4' },
  ];
  t.true(comparePaths('a/b', 'a.b') < 0 && comparePaths('a.b', 'a/b') > 0);
  t.true(comparePaths('a', 'a/b') < 0 && comparePaths('a-b', 'a0') < 0);
  const r = await synthetic({ layers: [{ entries: names }] }, { layers: [{ entries: [...names, { path: 'a/z', content: 'new' }, { path: 'a.b/a', content: 'n' }] }] });
  t.deepEqual(changes(r), ['added /a/z', 'added /a.b/a']);
  // removed, added and modified interleaved: the changes come in walk order, not string order
  const edited = names.filter((e) => e.path !== 'a/b').map((e) => (e.path === 'a-b' ? { ...e, content: 'two' } : e));
  const r2 = await synthetic({ layers: [{ entries: names }] }, { layers: [{ entries: [...edited, { path: 'a/z', content: 'new' }] }] });
  t.deepEqual(changes(r2), ['removed /a/b', 'added /a/z', 'modified /a-b']);
});

test('synthetic: whiteouts and hardlinks in layers, compared on the union view', async (t) => {
  const l0: Entry[] = [{ path: 'd', type: 'dir' }, { path: 'd/f', content: 'data' }, { path: 'd/g', content: 'gone' }];
  const dir = writeImage({ layers: [{ entries: l0, createdBy: 'base' }] });
  const two = writeImage({
    layers: [
      { entries: l0, createdBy: 'base' },
      { entries: [{ path: 'd', type: 'dir' }, { path: 'd/.wh.g', content: '' }, { path: 'd/h', type: 'hardlink', link: 'd/f' }], createdBy: 'rm g, ln f h' },
    ],
  });
  const ma = await readImage(await openImage(dir)), mb = await readImage(await openImage(two));
  const r = diffImages(top(ma), top(mb));
  t.is(r.layers.sharedBase, 1);
  t.deepEqual(r.layers.pairs.map((p) => [p.a, p.b?.index, p.match]), [[null, 1, 'unmatched']]);
  t.deepEqual(changes(r), ['metadata /d/f [links]', 'removed /d/g', 'added /d/h']);
  t.is(r.files[2].b!.links, 2);
  t.is(r.files[2].b!.size, 4);
  t.is(r.summary.sizeDelta, -4); // the hardlink shares d/f's bytes; d/g's are gone
  // a hardlink's content is read from the layer and path that hold its file
  const [h, g] = await contentDiffs(top(ma), top(mb), ['/d/h', '/d/g'], 100);
  t.is(h.patch, '--- /dev/null\n+++ b/d/h\n@@ -0,0 +1,1 @@\n+data\n\\ No newline at end of file\n');
  t.is(g.patch, '--- a/d/g\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-gone\n\\ No newline at end of file\n');
  // a view of B before its last layer is A
  t.true(diffImages(top(ma), top(mb, 0)).summary.identical);
});

test('synthetic: layers aligned by diffID, then instruction, the rest side by side', async (t) => {
  const L = (createdBy: string, content: string) => ({ createdBy, entries: [{ path: createdBy.replace(/\W/g, ''), content }] });
  const r = await synthetic(
    { layers: [L('FROM base', 'b'), L('RUN build', 'v1'), L('RUN x', 'x'), L('COPY dir:0123456789abcdef0123 in /srv', 'y')] },
    { layers: [L('FROM base', 'b'), L('RUN build', 'v2'), L('RUN z', 'z'), L('RUN x', 'x'), L('COPY dir:fedcba9876543210fedc in /srv', 'y2')] },
  );
  t.is(r.layers.sharedBase, 1);
  t.deepEqual(r.layers.pairs.map((p) => [p.a?.index ?? null, p.b?.index ?? null, p.match]), [
    [1, 1, 'instruction'],
    [null, 2, 'unmatched'],
    [2, 3, 'identical'], // same diffID at another position
    [3, 4, 'instruction'], // COPY source digests differ per build
  ]);
});

test('synthetic: config diff covers env, entrypoint, cmd, user, workdir, labels, ports, volumes', async (t) => {
  const layers = [{ entries: [{ path: 'x', content: 'x' }] }];
  const r = await synthetic(
    {
      layers,
      config: { Env: ['A=1', 'B=2'], Entrypoint: ['/e'], Cmd: ['a'], User: 'root', WorkingDir: '/', Labels: { l: '1', k: 'same' }, ExposedPorts: { '80/tcp': {} }, Volumes: { '/data': {} } },
    },
    {
      layers,
      architecture: 'arm64',
      config: { Env: ['A=1', 'B=3', 'C=x=y'], Cmd: ['b'], User: '1000', WorkingDir: '/app', Labels: { k: 'same', m: '2' }, ExposedPorts: { '443/tcp': {} } },
      emptyHistory: ['ENV C=x=y'],
    },
  );
  t.deepEqual(r.files, []);
  t.deepEqual(
    r.config.map((c) => [c.field, c.key ?? null, c.a, c.b]),
    [
      ['platform', null, 'linux/amd64', 'linux/arm64'],
      ['user', null, 'root', '1000'],
      ['workdir', null, '/', '/app'],
      ['entrypoint', null, '["/e"]', null],
      ['cmd', null, '["a"]', '["b"]'],
      ['env', 'B', '2', '3'],
      ['env', 'C', null, 'x=y'],
      ['label', 'l', '1', null],
      ['label', 'm', null, '2'],
      ['exposedPort', '443/tcp', null, '443/tcp'],
      ['exposedPort', '80/tcp', '80/tcp', null],
      ['volume', '/data', '/data', null],
    ],
  );
  t.deepEqual(r.history.filter((h) => h.op !== 'same'), [{ op: 'added', instruction: 'ENV C=x=y', emptyLayer: true }]);
  t.false(r.summary.identical);
});

// ---- content, ignore, output --------------------------------------------------------------------

test('readRows streams only the wanted rows: each copy of a path stored twice is its own row', async (t) => {
  const dir = writeImage({
    layers: [
      {
        entries: [
          { path: 'a', content: 'first' },
          { path: 'b', content: 'other' },
          { path: 'a', content: 'second' },
          { path: 'e', content: '' },
          { path: 'l', type: 'symlink', link: 'a' },
        ],
      },
      { entries: [{ path: 'c', content: 'plain layer' }], gzip: false },
    ],
  });
  const image = await openImage(dir);
  const records = (await readImage(image)).layers[0].records;
  const rows = (p: string) => records.path.flatMap((x, i) => (x === p ? [i] : []));
  const [a1, a2] = rows('a');
  const got = await readRows(image, 0, [a1, a2, ...rows('e'), ...rows('l'), 99]);
  t.deepEqual([...got.keys()].sort(), [a1, a2, ...rows('e')].sort());
  t.is(got.get(a1)!.toString(), 'first');
  t.is(got.get(a2)!.toString(), 'second');
  t.is(got.get(rows('e')[0])!.length, 0);
  t.is((await readRows(image, 1, [0])).get(0)!.toString(), 'plain layer');
  await t.throwsAsync(readRows(image, 2, [0]), { message: /layers 0\.\.1/ });
});

test('a hardlink to a path written again in its layer: --file shows the first copy it kept', async (t) => {
  const a = writeImage({
    layers: [{ entries: [{ path: 'a', content: 'version one\n' }, { path: 'b', type: 'hardlink', link: 'a' }, { path: 'a', content: 'v2\n' }] }],
  });
  const b = writeImage({ layers: [{ entries: [{ path: 'a', content: 'v2\n' }, { path: 'b', content: 'version two\n' }] }] });
  const ma = await readImage(await openImage(a)), mb = await readImage(await openImage(b));
  const [fb, fa] = await contentDiffs(top(ma), top(mb), ['/b', '/a'], 100);
  t.is(fb.patch, '--- a/b\n+++ b/b\n@@ -1,1 +1,1 @@\n-version one\n+version two\n');
  t.true(fa.identical);
});

test('--content: inline diffs for modified text files under the limit, hashes for binary ones, the rest listed as too large', async (t) => {
  const a = writeImage({ layers: [{ entries: [{ path: 'conf', content: 'k=1\nj=2\n' }, { path: 'bin', content: Buffer.from([1, 0, 2]) }, { path: 'big', content: 'a'.repeat(3000) }, { path: 'same', content: 's' }] }] });
  const b = writeImage({ layers: [{ entries: [{ path: 'conf', content: 'k=1\nj=3\n' }, { path: 'bin', content: Buffer.from([1, 0, 3]) }, { path: 'big', content: 'b'.repeat(3000) }, { path: 'same', content: 's' }] }] });
  const cli = await strata(['diff', a, b, '--content', '--content-limit', '1000', '--json']);
  t.is(cli.code, 0, cli.stderr);
  const r = JSON.parse(cli.stdout) as DiffReport;
  // /big is over the limit: listed, not read, so the reader knows it was skipped
  t.deepEqual(r.contents!.map((c) => [c.path, c.kind]), [['/big', 'too-large'], ['/bin', 'binary'], ['/conf', 'text']]);
  t.is(r.contents![0].a!.sha256, undefined);
  t.regex(r.contents![2].patch!, /^-j=2\n\+j=3$/m);
  t.not(r.contents![1].a!.sha256, r.contents![1].b!.sha256);
  const text = await strata(['diff', a, b, '--content', '--content-limit', '1000']);
  t.regex(text.stdout, /\nContent\n(?:.*\n)*--- a\/conf\n\+\+\+ b\/conf\n/);
  t.regex(text.stdout, /\/bin: binary: 3 B [0-9a-f]{64} -> 3 B [0-9a-f]{64}/);
  t.regex(text.stdout, /\/big: over the content limit: 3\.0 kB [0-9a-f]{32} -> 3\.0 kB [0-9a-f]{32}/);
  const md = await strata(['diff', a, b, '--content', '--markdown']);
  t.regex(md.stdout, /```diff\n--- a\/big/);
});

test('--ignore globs, from the command line and from .strata.yml', async (t) => {
  const re = (g: string, p: string) => ignoreMatcher([g])(p);
  t.true(re('*.log', '/var/log/app/build.log'));
  t.false(re('*.log', '/var/log/app/build.logx'));
  t.true(re('/var/cache', '/var/cache/pkg/index.db'));
  t.false(re('/var/cache', '/usr/var/cache'));
  t.true(re('**/tmp/*', '/a/b/tmp/x'));
  t.false(re('/tmp/*.o', '/tmp/sub/x.o'));
  t.true(re('/tmp/**/*.o', '/tmp/sub/x.o'));
  t.true(re('/etc/host?', '/etc/hosts'));

  const r = diffImages(top(await model(COMMIT)), top(await model(DOCKERFILE)), { ignore: ['/usr', '*.conf', '/app/**'] });
  t.deepEqual(changes(r), ['metadata /app [uid,gid]', 'added /etc/conf.d', 'modified /etc/passwd', 'removed /tmp/build', 'removed /tmp/build/obj.o', 'removed /var/cache/pkg/index.db']);
  t.deepEqual(r.summary.ignored, ['/usr', '*.conf', '/app/**']);

  const cwd = tempDir();
  writeFileSync(join(cwd, '.strata.yml'), 'diff:\n  ignore:\n    - /run\n    - /dev\n    - /proc\n    - /sys\n');
  const cli = await strata(['diff', DOCKERFILE, OVERLAY, '--ignore', '/etc/hosts', '--ignore', '/etc/hostname', '--ignore', '/etc/resolv.conf', '--ignore', '/app', '--exit-code', '--json'], cwd);
  t.is(cli.code, 1, cli.stderr); // the files are equal now, but the label and the base's history entry still differ
  const j = JSON.parse(cli.stdout) as DiffReport;
  t.deepEqual(j.files, []);
  t.deepEqual(j.summary.ignored, ['/run', '/dev', '/proc', '/sys', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/app']);

  writeFileSync(join(cwd, '.strata.yml'), 'diff:\n  ignore: {a: 1}\n');
  const bad = await strata(['diff', OVERLAY, OVERLAY], cwd);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /\.strata\.yml: diff\.ignore: expected a list/);
});

test('A@N parsing keeps paths that contain @', (t) => {
  t.deepEqual(parseSideRef('img.tar@3'), { ref: 'img.tar', layer: 3 });
  t.deepEqual(parseSideRef('img.tar@-1'), { ref: 'img.tar', layer: -1 });
  t.deepEqual(parseSideRef('name@sha256:abc'), { ref: 'name@sha256:abc' });
  const dir = tempDir();
  const odd = join(dir, 'x@2');
  writeFileSync(odd, '');
  t.deepEqual(parseSideRef(odd), { ref: odd });
});
