/**
 * `strata dockerfile --verify`'s comparison: synthetic originals and rebuilds, layered differently,
 * compared on their final views with the left-out paths ignored on both sides; every kind of
 * difference listed; hostile names escaped in the text.
 */
import test from 'ava';
import { verifyRebuild, type VerifyResult } from '../src/analyze/dockerfile/verify.js';
import { renderVerify } from '../src/render/dockerfile-verify.js';
import { imageSizes } from '../src/model/views.js';
import type { ImageModel } from '../src/model/read-image.js';
import { modelOf } from './helpers/model.js';
import { dir, file, symlink, type Entry } from './helpers/tar-writer.js';
import { assertNoRawControl } from './helpers/hostile.js';

const XATTR = 'SCHILY.xattr.user.origin';

/** The original's final view, as one layer: the rebuild's starting point in each test. */
function app(over: Record<string, Entry | null> = {}): Entry[] {
  const entries: Record<string, Entry> = {
    app: dir('app', { mode: 0o755 }),
    'app/main.js': file('app/main.js', 'console.log(1)\n', { mode: 0o644, uid: 1000, gid: 1000 }),
    'app/run': symlink('app/run', 'main.js'),
    'app/tagged': file('app/tagged', 'x', { pax: { [XATTR]: 'build' } }),
    etc: dir('etc', { mode: 0o755 }),
    'etc/app.conf': file('etc/app.conf', 'a=1\n'),
  };
  for (const [k, v] of Object.entries(over)) {
    if (v) entries[k] = v;
    else delete entries[k];
  }
  return Object.values(entries);
}

/** The original: the same view reached in three layers, with a temp file and a log left behind. */
const original = () =>
  modelOf([
    [dir('app', { mode: 0o755 }), file('app/main.js', 'old'), dir('tmp', { mode: 0o1777 }), file('tmp/build.o', 'obj'), dir('etc', { mode: 0o755 })],
    [file('app/main.js', 'console.log(1)\n', { mode: 0o644, uid: 1000, gid: 1000 }), symlink('app/run', 'main.js'), file('app/tagged', 'x', { pax: { [XATTR]: 'build' } }), dir('var'), dir('var/log'), file('var/log/build.log', 'compiling…\n')],
    [file('etc/app.conf', 'a=1\n')],
  ]);

const tmpAndLogs = (path: string) => /^\/(tmp|var\/log)(\/|$)/.test(path) || path === '/var';

async function verify(rebuilt: Entry[][], leftOut = tmpAndLogs): Promise<{ result: VerifyResult; a: ImageModel; b: ImageModel }> {
  const [a, b] = await Promise.all([original(), modelOf(rebuilt)]);
  return { result: verifyRebuild(a, b, { leftOut }), a, b };
}

test('the same view, layered otherwise and without the leftovers, verifies; sizes are inspect\'s', async (t) => {
  const { result, a, b } = await verify([app(), [dir('tmp', { mode: 0o1777 })]]);
  t.deepEqual(result.differences, []);
  t.true(result.equal);
  // /tmp, /tmp/build.o, /var, /var/log, /var/log/build.log: each path once, whichever side holds it
  t.is(result.ignored, 5);
  t.deepEqual(result.before, { layers: 3, fileBytes: imageSizes(a).final, blobBytes: imageSizes(a).stored, tarBytes: a.layers.reduce((s, l) => s + l.tarSize, 0) });
  t.deepEqual(result.after, { layers: 2, fileBytes: imageSizes(b).final, blobBytes: imageSizes(b).stored, tarBytes: b.layers.reduce((s, l) => s + l.tarSize, 0) });
  t.is(result.before.fileBytes - result.after.fileBytes, 'obj'.length + Buffer.byteLength('compiling…\n'));
  t.deepEqual(JSON.parse(JSON.stringify(result)), result, 'plain data');
  t.regex(renderVerify(result), /^verified: the rebuilt image's view equals the original's minus the 5 left-out paths\n/);
});

test('without the left-out paths set aside, the leftovers are what differs', async (t) => {
  const { result } = await verify([app()], () => false);
  t.false(result.equal);
  t.is(result.ignored, 0);
  t.deepEqual(result.differences.map((d) => [d.path, d.change]), [
    ['/tmp', 'removed'], ['/tmp/build.o', 'removed'], ['/var', 'removed'], ['/var/log', 'removed'], ['/var/log/build.log', 'removed'],
  ]);
});

test('the rebuild\'s own leftovers are left out as well', async (t) => {
  const { result } = await verify([app({ 'var/log/apt.log': file('var/log/apt.log', 'installed\n') }), [dir('tmp', { mode: 0o1777 }), file('tmp/rebuild.tmp', 'x')]]);
  t.true(result.equal, JSON.stringify(result.differences));
  t.is(result.ignored, 7);
});

/** Each kind of difference, alone: the one path listed, with the fields and both values. */
const cases: { name: string; over: Record<string, Entry | null>; path: string; change: string; metadata?: string[]; shown: RegExp }[] = [
  { name: 'mode', over: { 'app/main.js': file('app/main.js', 'console.log(1)\n', { mode: 0o755, uid: 1000, gid: 1000 }) }, path: '/app/main.js', change: 'metadata', metadata: ['mode'], shown: /mode 0644 -> 0755/ },
  { name: 'owner', over: { 'app/main.js': file('app/main.js', 'console.log(1)\n', { mode: 0o644, uid: 0, gid: 1000 }) }, path: '/app/main.js', change: 'metadata', metadata: ['uid'], shown: /uid 1000 -> 0/ },
  { name: 'content', over: { 'etc/app.conf': file('etc/app.conf', 'a=2\n') }, path: '/etc/app.conf', change: 'modified', shown: /content 4 B [0-9a-f]{12} -> 4 B [0-9a-f]{12}/ },
  { name: 'link target', over: { 'app/run': symlink('app/run', '/app/main.js') }, path: '/app/run', change: 'retarget', shown: /link target main\.js -> \/app\/main\.js/ },
  { name: 'xattr', over: { 'app/tagged': file('app/tagged', 'x', { pax: { [XATTR]: 'rebuild' } }) }, path: '/app/tagged', change: 'metadata', metadata: ['xattrs'], shown: /xattrs differ/ },
  { name: 'missing', over: { 'etc/app.conf': null }, path: '/etc/app.conf', change: 'removed', shown: /missing from the rebuild: file 4 B 0644 0:0/ },
  { name: 'extra', over: { 'etc/extra': file('etc/extra', 'more') }, path: '/etc/extra', change: 'added', shown: /only in the rebuild: file 4 B/ },
  { name: 'type', over: { 'app/run': file('app/run', 'main.js') }, path: '/app/run', change: 'type', shown: /type symlink -> main\.js 0644 0:0 -> file 7 B 0644 0:0/ },
];

for (const c of cases) {
  test(`one difference (${c.name}) is listed with its values`, async (t) => {
    const { result } = await verify([app(c.over)]);
    t.false(result.equal);
    t.deepEqual(result.differences.map((d) => [d.path, d.change, d.metadata]), [[c.path, c.change, c.metadata]]);
    const text = renderVerify(result);
    t.regex(text, /^differs: 1 path \(besides the 5 left-out paths\)\n/);
    const line = text.split('\n').find((l) => l.includes(` ${c.path} `));
    t.truthy(line, text);
    t.regex(line!, c.shown);
  });
}

test('hostile names and link targets are escaped in the text, exact in the result', async (t) => {
  const bad = 'evil\n\x1b[2Jname\u202e';
  const { result } = await verify([app({ [bad]: file(`etc/${bad}`, 'x'), 'app/run': symlink('app/run', `main.js\r\x1b]52;c;cHduZWQ=\x07`) })]);
  t.deepEqual(result.differences.map((d) => d.path), ['/app/run', `/etc/${bad}`]);
  const text = renderVerify(result, { color: false });
  assertNoRawControl(t, text, 'verify text');
  t.false(text.includes('\u202e'));
  t.true(text.includes(String.raw`/etc/evil\n\x1b[2Jname\u202e`), text);
  t.true(text.includes(String.raw`main.js\r\x1b]52;c;cHduZWQ=\x07`), text);
  // one line per difference: the LF in the name forged none
  t.is(text.split('\n').filter((l) => /^ {2}[ADMmTL] /.test(l)).length, 2);
});

test('color paints the verdict only', async (t) => {
  const { result } = await verify([app({ 'etc/app.conf': null })]);
  const text = renderVerify(result, { color: true });
  t.true(text.startsWith('\x1b[31mdiffers: 1 path\x1b[0m'));
  t.is(text.split('\n').slice(1).join('\n'), renderVerify(result).split('\n').slice(1).join('\n'));
});
