/**
 * Union semantics on synthetic layers: whiteouts, opaque directories, type replacement, hardlinks,
 * AUFS bookkeeping, repeated blobs, history, and the per-layer change classification.
 */
import test from 'ava';
import { End, LIVE } from '../src/model/union.js';
import { Kind } from '../src/scan/records.js';
import { changeCounts, imageSizes, layerChanges } from '../src/model/views.js';
import { analyzeWaste } from '../src/analyze/waste.js';
import { inspectReport } from '../src/analyze/report.js';
import { diffImages } from '../src/analyze/diff/diff.js';
import { buildLayer, tempDir, writeOciLayout, type LayerSpec } from './helpers/image-builder.js';
import { changesOf, modelOf, pathsAt, viewAt } from './helpers/model.js';
import { jsonLines, runStrata } from './helpers/cli.js';
import { dir, file, hardlink, opaque, symlink, whiteout, type Entry } from './helpers/tar-writer.js';

test('.wh.NAME removes a file, and a directory with its whole subtree', async (t) => {
  const m = await modelOf([
    [dir('etc'), file('etc/a', 'a'), file('etc/b', 'b'), dir('opt/dir'), file('opt/dir/x', 'x'), dir('opt/dir/sub'), file('opt/dir/sub/y', 'y')],
    [whiteout('etc/a'), whiteout('opt/dir')],
  ]);
  t.deepEqual(pathsAt(m, 0), ['/etc', '/etc/a', '/etc/b', '/opt', '/opt/dir', '/opt/dir/sub', '/opt/dir/sub/y', '/opt/dir/x']);
  t.deepEqual(pathsAt(m, 1), ['/etc', '/etc/b', '/opt']);
  t.deepEqual(changesOf(m, 1), { '/etc/a': 'removed', '/opt/dir': 'removed', '/opt/dir/sub': 'removed', '/opt/dir/sub/y': 'removed', '/opt/dir/x': 'removed' });
  const u = m.union;
  const y = u.versionAt(u.nodeOf('opt/dir/sub/y')!, 0);
  t.is(u.visibleUntil(y), 0);
  t.is(u.endReason(y), End.whiteout);
  t.is(u.visibleUntil(u.versionAt(u.nodeOf('etc/b')!, 1)), LIVE);
});

test('an opaque marker clears lower layers before the same layer adds entries, even when they come first in the tar', async (t) => {
  const m = await modelOf([
    [dir('etc/conf.d'), file('etc/conf.d/one', '1'), file('etc/conf.d/two', '2'), dir('etc/conf.d/sub'), file('etc/conf.d/sub/deep', 'd')],
    [file('etc/conf.d/three', '3'), file('etc/conf.d/one', 'one again'), opaque('etc/conf.d')],
  ]);
  t.deepEqual(pathsAt(m, 1), ['/etc', '/etc/conf.d', '/etc/conf.d/one', '/etc/conf.d/three']);
  t.is(viewAt(m).get('/etc/conf.d/one')?.size, 9);
  t.deepEqual(changesOf(m, 1), {
    '/etc/conf.d/one': 'modified', // compared with what was visible before the layer, not after the marker
    '/etc/conf.d/sub': 'removed',
    '/etc/conf.d/sub/deep': 'removed',
    '/etc/conf.d/three': 'added',
    '/etc/conf.d/two': 'removed',
  });
  const u = m.union;
  t.is(u.endReason(u.versionAt(u.nodeOf('etc/conf.d/two')!, 0)), End.opaque);
  // the opaque directory itself stays, from the lower layer
  t.is(viewAt(m).get('/etc/conf.d')?.layer, 0);
});

test('a whited-out path added again in a later layer is visible again', async (t) => {
  const m = await modelOf([
    [file('srv/app.conf', 'v1')],
    [whiteout('srv/app.conf')],
    [file('srv/app.conf', 'v1')],
  ]);
  t.deepEqual(pathsAt(m, 1), ['/srv']);
  t.deepEqual(pathsAt(m, 2), ['/srv', '/srv/app.conf']);
  t.is(viewAt(m, 2).get('/srv/app.conf')?.layer, 2);
  t.deepEqual(changesOf(m, 2), { '/srv/app.conf': 'added' });
});

test('.wh.a and a/new in one layer: the old a is gone, a/new survives', async (t) => {
  const m = await modelOf([
    [dir('a'), file('a/old', 'old'), file('a/keep?', 'no')],
    [file('a/new', 'new'), whiteout('a')],
  ]);
  t.deepEqual(pathsAt(m, 1), ['/a', '/a/new']);
  t.is(viewAt(m).get('/a')?.type, 'dir');
  // a is whited out and made again, implicitly, by a/new: the same 0755 root directory
  t.deepEqual(changesOf(m, 1), { '/a': 'unchanged', '/a/keep?': 'removed', '/a/new': 'added', '/a/old': 'removed' });
});

test('a directory replaced by a file loses its children; a file replaced by a directory', async (t) => {
  const m = await modelOf([
    [dir('d'), file('d/x', 'x'), dir('d/y'), file('d/y/z', 'z'), file('f', 'plain file')],
    [file('d', 'now a file'), dir('f'), file('f/child', 'c')],
  ]);
  const v = viewAt(m);
  t.deepEqual([...v.keys()], ['/d', '/f', '/f/child']);
  t.like(v.get('/d'), { type: 'file', size: 10, layer: 1 });
  t.like(v.get('/f'), { type: 'dir', layer: 1 });
  t.deepEqual(changesOf(m, 1), { '/d': 'modified', '/d/x': 'removed', '/d/y': 'removed', '/d/y/z': 'removed', '/f': 'modified', '/f/child': 'added' });
  const u = m.union;
  t.is(u.endReason(u.versionAt(u.nodeOf('d/y/z')!, 0)), End.parentReplaced);
  t.is(u.endReason(u.versionAt(u.nodeOf('d')!, 0)), End.replaced);
});

test('hardlinks take their target content, same layer or lower, and outlive a whiteout of the target', async (t) => {
  const busybox = Buffer.alloc(1000, 0xbb);
  const m = await modelOf([
    [file('bin/busybox', busybox, { mode: 0o755 })],
    [file('usr/a', 'abc'), hardlink('usr/a-link', 'usr/a'), hardlink('bin/bb-link', 'bin/busybox'), hardlink('bin/chain', 'bin/bb-link')],
    [whiteout('bin/busybox'), whiteout('usr/a')],
  ]);
  const at1 = viewAt(m, 1);
  t.like(at1.get('/usr/a-link'), { type: 'hardlink', size: 3, linkTarget: '/usr/a' });
  t.like(at1.get('/bin/bb-link'), { type: 'hardlink', size: 1000, linkTarget: '/bin/busybox' });
  t.like(at1.get('/bin/chain'), { type: 'hardlink', size: 1000, linkTarget: '/bin/bb-link' });
  const top = viewAt(m);
  t.deepEqual([...top.keys()], ['/bin', '/bin/bb-link', '/bin/chain', '/usr', '/usr/a-link']);
  t.is(top.get('/bin/bb-link')?.size, 1000);
  t.is(top.get('/usr/a-link')?.size, 3);
  // each inode counted once in the final view
  t.is(imageSizes(m).final, 1003);
  t.deepEqual(changesOf(m, 2), { '/bin/busybox': 'removed', '/usr/a': 'removed' });
});

test('a hardlink to a path that does not exist is an error naming the layer', async (t) => {
  await t.throwsAsync(modelOf([[file('x', 'x')], [hardlink('y', 'nope')]]), {
    message: /^layer 1 \(blobs\/sha256\/[0-9a-f]{24}…\): hardlink \/y points to \/nope, which does not exist at that point$/,
  });
});

test('AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs, .wh..wh.orph) is hidden, hardlinks into plnk still resolve', async (t) => {
  const m = await modelOf([[
    file('.wh..wh.aufs', ''),
    dir('.wh..wh.orph'),
    dir('.wh..wh.plnk'),
    file('.wh..wh.plnk/1234.5678', 'linked content'),
    hardlink('usr/lib/x.so', '.wh..wh.plnk/1234.5678'),
  ]]);
  t.deepEqual(pathsAt(m), ['/usr', '/usr/lib', '/usr/lib/x.so']);
  t.is(viewAt(m).get('/usr/lib/x.so')?.size, 14);
  t.deepEqual(changesOf(m, 0), { '/usr': 'added', '/usr/lib': 'added', '/usr/lib/x.so': 'added' });
  t.is(imageSizes(m).final, 14);
});

for (const [name, entries, expected] of [
  ['.wh. with nothing after it', [file('etc/.wh.', '')], 'tar entry at byte 0: invalid whiteout name "etc/.wh."'],
  ['.wh..', [file('etc/.wh..', '')], 'tar entry at byte 0: invalid whiteout name "etc/.wh.."'],
  ['../x', [file('ok', 'ok'), file('../x', 'evil')], 'tar entry at byte 1024: entry "../x" has a ".." component; strata refuses those'],
  ['a/../../x', [file('a/../../x', 'evil')], 'tar entry at byte 0: entry "a/../../x" has a ".." component; strata refuses those'],
  // inside the root, yet refused all the same: the message says what it is
  ['a/../b/f', [dir('a'), dir('b'), file('a/../b/f', 'f')], 'tar entry at byte 1024: entry "a/../b/f" has a ".." component; strata refuses those'],
  ['a hardlink to a/../b', [dir('a'), file('b', 'b'), hardlink('a/h', 'a/../b')], 'tar entry at byte 1536: hardlink target entry "a/../b" has a ".." component; strata refuses those'],
] as [string, Entry[], string][]) {
  test(`invalid entry name rejected: ${name}`, async (t) => {
    const digest = buildLayer({ entries }).digest;
    const where = `layer 0 (${`blobs/sha256/${digest.slice(7)}`.slice(0, 37)}…)`;
    await t.throwsAsync(modelOf([entries]), { name: 'StrataError', message: `${where}: ${expected}` });
  });
}

test('a blob listed twice in one manifest is applied at each position', async (t) => {
  const x: LayerSpec = { entries: [file('tool', 'v1')] };
  const m = await modelOf([x, [whiteout('tool')], x]);
  t.is(m.layers.length, 3);
  t.is(m.layers[0].digest, m.layers[2].digest);
  t.deepEqual(pathsAt(m, 0), ['/tool']);
  t.deepEqual(pathsAt(m, 1), []);
  t.deepEqual(pathsAt(m, 2), ['/tool']);
  t.is(viewAt(m, 2).get('/tool')?.layer, 2);
  t.deepEqual(changesOf(m, 2), { '/tool': 'added' });
  // the same blob over itself: every entry re-stored unchanged
  const twice = await modelOf([x, x]);
  t.deepEqual(changesOf(twice, 1), { '/tool': 'unchanged' });
});

test('missing, short and empty_layer-laden history is tolerated', async (t) => {
  const layers = [[file('a', 'a')], [file('b', 'b')], [file('c', 'c')]];
  const none = await modelOf(layers, { history: null });
  t.deepEqual(none.layers.map((l) => l.history), [undefined, undefined, undefined]);
  const short = await modelOf(layers, { history: [{ created_by: 'ADD rootfs' }] });
  t.deepEqual(short.layers.map((l) => l.history?.created_by), ['ADD rootfs', undefined, undefined]);
  const mixed = await modelOf(layers, {
    history: [
      { created_by: 'ENV A=1', empty_layer: true },
      { created_by: 'L0' },
      { created_by: 'LABEL x=y', empty_layer: true },
      { created_by: 'L1' },
      { created_by: 'L2' },
      { created_by: 'CMD sh', empty_layer: true },
    ],
  });
  t.deepEqual(mixed.layers.map((l) => l.history?.created_by), ['L0', 'L1', 'L2']);
});

test('per-layer change classification', async (t) => {
  const base: Entry[] = [
    dir('etc', { mode: 0o755 }),
    file('etc/same', 'same', { mode: 0o644 }),
    file('etc/content', 'aaaa'),
    file('etc/size', 'short'),
    file('etc/type', 'was a file'),
    symlink('etc/link', 'target-one'),
    symlink('etc/link-same', 'target'),
    file('etc/mode', 'm', { mode: 0o644 }),
    file('etc/owner', 'o', { uid: 0, gid: 0 }),
    file('etc/group', 'g', { uid: 0, gid: 0 }),
    file('etc/xattr', 'x', { pax: { 'SCHILY.xattr.user.a': 'one' } }),
    file('etc/xattr-same', 'x', { pax: { 'SCHILY.xattr.user.a': 'one' } }),
    file('etc/xattr-added', 'x'),
    file('etc/gone', 'g'),
    { name: 'dev/tty', type: 'char', devmajor: 5, devminor: 0 },
    { name: 'dev/same', type: 'char', devmajor: 1, devminor: 3 },
    dir('var', { mode: 0o755 }),
  ];
  const next: Entry[] = [
    dir('etc', { mode: 0o755 }),
    file('etc/same', 'same', { mode: 0o644 }),
    file('etc/content', 'bbbb'),
    file('etc/size', 'much longer'),
    symlink('etc/type', 'now a symlink'),
    symlink('etc/link', 'target-two'),
    symlink('etc/link-same', 'target'),
    file('etc/mode', 'm', { mode: 0o600 }),
    file('etc/owner', 'o', { uid: 1000, gid: 0 }),
    file('etc/group', 'g', { uid: 0, gid: 50 }),
    file('etc/xattr', 'x', { pax: { 'SCHILY.xattr.user.a': 'two' } }),
    file('etc/xattr-same', 'x', { pax: { 'SCHILY.xattr.user.a': 'one' } }),
    file('etc/xattr-added', 'x', { pax: { 'SCHILY.xattr.security.capability': Buffer.from([1, 0, 0, 2, 0x80]) } }),
    whiteout('etc/gone'),
    file('etc/new', 'brand new'),
    { name: 'dev/tty', type: 'char', devmajor: 4, devminor: 1 },
    { name: 'dev/same', type: 'char', devmajor: 1, devminor: 3 },
    dir('var', { mode: 0o700 }),
  ];
  const m = await modelOf([base, next]);
  t.deepEqual(changesOf(m, 1), {
    '/dev/same': 'unchanged',
    '/dev/tty': 'modified',
    '/etc': 'unchanged',
    '/etc/content': 'modified',
    '/etc/gone': 'removed',
    '/etc/group': 'metadata',
    '/etc/link': 'modified',
    '/etc/link-same': 'unchanged',
    '/etc/mode': 'metadata',
    '/etc/new': 'added',
    '/etc/owner': 'metadata',
    '/etc/same': 'unchanged',
    '/etc/size': 'modified',
    '/etc/type': 'modified',
    '/etc/xattr': 'metadata',
    '/etc/xattr-added': 'metadata',
    '/etc/xattr-same': 'unchanged',
    '/var': 'metadata',
  });
  t.deepEqual(inspectReport(m).layers[1].changes, { added: 1, modified: 5, metadata: 6, removed: 1, unchanged: 5 });
  // every entry of layer 0 is new
  t.true([...layerChanges(m, 0)].every((e) => e.change === 'added'));
  t.is([...layerChanges(m, 0)].length, base.length + 1); // and /dev, made implicitly: no entry of its own
});

test('ls --layer N shows the view at intermediate layers (CLI)', async (t) => {
  const { dir: tmp, cleanup } = tempDir();
  t.teardown(cleanup);
  writeOciLayout(`${tmp}/img`, {
    images: [{
      layers: [
        { entries: [dir('app'), file('app/v', 'one')] },
        { entries: [file('app/v', 'two!'), file('app/extra', 'e')] },
        { entries: [whiteout('app/extra')] },
      ],
    }],
  });
  const at = async (layer: string) => {
    const r = await runStrata(['ls', `${tmp}/img`, '--layer', layer, '--json']);
    t.is(r.code, 0, r.stderr);
    return jsonLines(r.stdout).map((e) => [e.path, e.size, e.layer]);
  };
  t.deepEqual(await at('0'), [['/app', 0, 0], ['/app/v', 3, 0]]);
  t.deepEqual(await at('1'), [['/app', 0, 0], ['/app/extra', 1, 1], ['/app/v', 4, 1]]);
  t.deepEqual(await at('-1'), [['/app', 0, 0], ['/app/v', 4, 1]]);
  const ch = await runStrata(['ls', `${tmp}/img`, '--layer', '1', '--changes', '--json']);
  t.deepEqual(jsonLines(ch.stdout).map((e) => [e.path, e.change]), [['/app/extra', 'added'], ['/app/v', 'modified']]);
  const bad = await runStrata(['ls', `${tmp}/img`, '--layer', '3']);
  t.is(bad.code, 2);
  t.is(bad.stderr, 'strata: --layer 3: the image has layers 0..2\n');
});

test('whiting out a path that never existed is harmless and reports nothing', async (t) => {
  const m = await modelOf([[file('a', 'a')], [whiteout('.dockerenv'), whiteout('no/such/dir')]]);
  t.deepEqual(pathsAt(m), ['/a']);
  t.deepEqual(changesOf(m, 1), {});
});

test('an opaque marker at the root hides everything below it', async (t) => {
  const m = await modelOf([
    [dir('etc'), file('etc/a', 'a'), file('top', 't')],
    [file('new', 'n'), { name: '.wh..wh..opq', type: 'file', mode: 0 }],
  ]);
  t.deepEqual(pathsAt(m), ['/new']);
  t.deepEqual(changesOf(m, 1), { '/etc': 'removed', '/etc/a': 'removed', '/new': 'added', '/top': 'removed' });
});

test('hardlinks to a symlink, a fifo and a device (docker writes these for any non-directory with nlink > 1)', async (t) => {
  const layer: Entry[] = [
    symlink('usr/bin/vi', 'vim.basic'),
    hardlink('usr/bin/view', 'usr/bin/vi'),
    { name: 'run/ctl', type: 'fifo', mode: 0o600 },
    hardlink('run/ctl2', 'run/ctl'),
    { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3 },
    hardlink('dev/null2', 'dev/null'),
  ];
  const m = await modelOf([layer, layer]);
  const v = viewAt(m, 0);
  t.like(v.get('/usr/bin/view'), { type: 'hardlink', size: 0, linkTarget: '/usr/bin/vi', layer: 0 });
  t.like(v.get('/run/ctl2'), { type: 'hardlink', size: 0, linkTarget: '/run/ctl', mode: '0600' });
  t.like(v.get('/dev/null2'), { type: 'hardlink', size: 0, linkTarget: '/dev/null' });
  // on disk each is what it links to: its kind, mode and device numbers (a link to a link too)
  const u = m.union;
  const at = (p: string) => u.versionAt(u.nodeOf(p)!, 0);
  t.deepEqual(['usr/bin/view', 'run/ctl2', 'dev/null2'].map((p) => u.inodeKindOf(at(p))), [Kind.symlink, Kind.fifo, Kind.char]);
  t.deepEqual(u.devOf(at('dev/null2')), [1, 3]);
  const chain = await modelOf([[...layer, hardlink('run/ctl3', 'run/ctl2')]]);
  t.is(chain.union.inodeKindOf(chain.union.versionAt(chain.union.nodeOf('run/ctl3')!, 0)), Kind.fifo);
  t.is(imageSizes(m).final, 0);
  t.deepEqual(changesOf(m, 1), {
    '/dev/null': 'unchanged', '/dev/null2': 'unchanged', '/run/ctl': 'unchanged', '/run/ctl2': 'unchanged', '/usr/bin/vi': 'unchanged', '/usr/bin/view': 'unchanged',
  });
  // diff compares them too: the same links are no change, a link moved to another target is one
  const other = await modelOf([[...layer.slice(0, 4), { name: 'dev/zero', type: 'char', devmajor: 1, devminor: 5 }, hardlink('dev/null2', 'dev/zero')]]);
  const top = (x: typeof m) => ({ model: x, layer: x.layers.length - 1 });
  t.deepEqual(diffImages(top(m), top(m)).files, []);
  t.deepEqual(diffImages(top(m), top(other)).files.map((f) => [f.path, f.change]), [['/dev/null', 'removed'], ['/dev/null2', 'retarget'], ['/dev/zero', 'added']]);
});

test('a hardlink to a path its own layer whites out links to the lower file, as extraction in tar order does', async (t) => {
  const m = await modelOf([[file('x', 'lower')], [hardlink('y', 'x'), whiteout('x')]]);
  t.deepEqual(pathsAt(m), ['/y']);
  t.like(viewAt(m).get('/y'), { type: 'hardlink', size: 5, linkTarget: '/x' });
  t.deepEqual(changesOf(m, 1), { '/x': 'removed', '/y': 'added' });
  t.deepEqual(analyzeWaste(m).items, []); // the lower file lives on as y
});

test('a hardlink to a directory is an error naming the layer', async (t) => {
  await t.throwsAsync(modelOf([[dir('d'), hardlink('e', 'd')]]), {
    message: /^layer 0 \(blobs\/sha256\/[0-9a-f]{24}…\): hardlink \/e points to \/d, which is a directory$/,
  });
});

test('a hardlink keeps the content it was linked to when its target is later replaced', async (t) => {
  const m = await modelOf([
    [file('lib/a.so', 'version one'), hardlink('lib/b.so', 'lib/a.so')],
    [file('lib/a.so', 'v2')],
  ]);
  t.like(viewAt(m).get('/lib/b.so'), { type: 'hardlink', size: 11, layer: 0 });
  t.like(viewAt(m).get('/lib/a.so'), { type: 'file', size: 2, layer: 1 });
  t.is(imageSizes(m).final, 13);
});

test('a hardlink to a path written again later in its layer keeps the first copy, as GNU tar and umoci extract it', async (t) => {
  const m = await modelOf([
    [file('a', 'version one'), hardlink('b', 'a'), hardlink('c', 'b'), file('a', 'v2'), hardlink('d', 'a')],
    [whiteout('b')],
    [whiteout('c')],
  ]);
  t.like(viewAt(m, 0).get('/b'), { type: 'hardlink', size: 11, linkTarget: '/a' });
  t.like(viewAt(m, 0).get('/c'), { type: 'hardlink', size: 11 });
  t.like(viewAt(m, 0).get('/a'), { type: 'file', size: 2 });
  t.like(viewAt(m, 0).get('/d'), { type: 'hardlink', size: 2 });
  t.deepEqual(changesOf(m, 0), { '/a': 'added', '/b': 'added', '/c': 'added', '/d': 'added' });
  t.is(imageSizes(m).final, 2); // a and d share the second copy
  // the first copy is waste only once no hardlink to it is left (c, removed by layer 2)
  t.deepEqual(analyzeWaste(m).items.map((i) => [i.path, i.bytes, i.layer, i.removedBy]), [['a', 11, 0, 2]]);
});

test('directories a layer creates without entries of their own are among its changes and counts', async (t) => {
  const m = await modelOf([
    [file('f', 'a file'), dir('d'), file('d/old', 'o')],
    [file('p/q/r/deep', 'no parent entries'), file('f/inside', 'f is now a directory'), whiteout('d'), file('d/new', 'n')],
  ]);
  t.deepEqual(changesOf(m, 0), { '/d': 'added', '/d/old': 'added', '/f': 'added' });
  // d: removed by its whiteout, made again (implicitly, the same 0755 root directory): unchanged
  t.deepEqual(changesOf(m, 1), {
    '/d': 'unchanged', '/d/new': 'added', '/d/old': 'removed', '/f': 'modified', '/f/inside': 'added',
    '/p': 'added', '/p/q': 'added', '/p/q/r': 'added', '/p/q/r/deep': 'added',
  });
  t.deepEqual(changeCounts(m.union, 1), { added: 6, modified: 1, metadata: 0, removed: 1, unchanged: 1 });
  t.deepEqual(inspectReport(m).layers[1].changes, changeCounts(m.union, 1));
});

test('paths through a symlinked directory land where it points, as umoci, containerd and Docker write them', async (t) => {
  const m = await modelOf([
    [dir('usr/lib'), file('usr/lib/old.so', 'old'), symlink('lib', 'usr/lib'), dir('run'), dir('var'), symlink('var/run', '../../../run')],
    [file('lib/new.so', 'new'), whiteout('lib/old.so'), hardlink('lib/again.so', 'lib/new.so'), dir('var/run/app'), file('var/run/app/pid', '1')],
  ]);
  t.deepEqual(pathsAt(m), ['/lib', '/run', '/run/app', '/run/app/pid', '/usr', '/usr/lib', '/usr/lib/again.so', '/usr/lib/new.so', '/var', '/var/run']);
  t.like(viewAt(m).get('/lib'), { type: 'symlink', layer: 0 });
  t.like(viewAt(m).get('/usr/lib/again.so'), { type: 'hardlink', size: 3, layer: 1 });
  t.deepEqual(changesOf(m, 1), {
    '/run/app': 'added', '/run/app/pid': 'added', '/usr/lib/again.so': 'added', '/usr/lib/new.so': 'added', '/usr/lib/old.so': 'removed',
  });
  t.deepEqual([...m.union.redirected[1]].length, 5);
  // an opaque marker inside the symlinked directory clears where it points
  const o = await modelOf([
    [dir('usr/lib'), file('usr/lib/old.so', 'old'), symlink('lib', 'usr/lib')],
    [opaque('lib'), file('lib/z.so', 'z')],
  ]);
  t.deepEqual(pathsAt(o), ['/lib', '/usr', '/usr/lib', '/usr/lib/z.so']);
  t.deepEqual(changesOf(o, 1), { '/usr/lib/old.so': 'removed', '/usr/lib/z.so': 'added' });
  await t.throwsAsync(modelOf([[symlink('a', 'b'), symlink('b', 'a')], [file('a/x', 'x')]]), {
    message: /^layer 1 \(.*\): \/a\/x: too many levels of symbolic links in its parent directories$/,
  });
});

test('the same path twice in one layer: the later entry wins and is reported once', async (t) => {
  const m = await modelOf([
    [file('keep', 'k'), file('dup', 'lower')],
    [file('x', 'one'), file('x', 'second'), file('dup', 'first'), file('dup', 'lower')],
  ]);
  t.like(viewAt(m).get('/x'), { size: 6, layer: 1 });
  t.deepEqual(changesOf(m, 1), { '/dup': 'unchanged', '/x': 'added' });
  t.is([...layerChanges(m, 1)].length, 2);
});

test('a directory made and replaced by a file within one layer leaves no trace of its children', async (t) => {
  const m = await modelOf([
    [file('keep', 'k')],
    [dir('d'), file('d/child', 'c'), file('d', 'now a file')],
  ]);
  t.deepEqual(pathsAt(m), ['/d', '/keep']);
  // d/child never existed before this layer: it is neither added nor removed by it
  t.deepEqual(changesOf(m, 1), { '/d': 'added' });
  t.deepEqual(changeCounts(m.union, 1), { added: 1, modified: 0, metadata: 0, removed: 0, unchanged: 0 });
});

test('a path stored as a hardlink, then as a directory or fifo in the same layer, is only the later entry', async (t) => {
  const x = dir('x', { mode: 0o711, uid: 7 });
  const p: Entry = { name: 'p', type: 'fifo', mode: 0o640 };
  const m = await modelOf([
    [x, p],
    [file('a', 'AAAA', { mode: 0o600, uid: 5, gid: 6 }), hardlink('x', 'a'), x, hardlink('p', 'a'), p],
  ]);
  // not the hardlink target's mode and owner
  t.like(viewAt(m).get('/x'), { type: 'dir', mode: '0711', uid: 7, gid: 0 });
  t.like(viewAt(m).get('/p'), { type: 'fifo', mode: '0640', uid: 0, gid: 0 });
  t.deepEqual(changesOf(m, 1), { '/a': 'added', '/p': 'unchanged', '/x': 'unchanged' });
});

test('a path the layer stores again and then deletes with its parent is removed by it', async (t) => {
  const m = await modelOf([
    [dir('d'), file('d/f', 'old'), file('d/g', 'g')],
    [file('d/f', 'new content'), file('d', 'now a file')],
  ]);
  t.deepEqual(pathsAt(m), ['/d']);
  // d/f was visible after layer 0 and is not after layer 1, whatever the layer did with it in between
  t.deepEqual(changesOf(m, 1), { '/d': 'modified', '/d/f': 'removed', '/d/g': 'removed' });
  t.like([...layerChanges(m, 1)].find((e) => e.path === '/d/f'), { size: 3, layer: 0 }); // as it was before the layer
  t.deepEqual(changeCounts(m.union, 1), { added: 0, modified: 1, metadata: 0, removed: 2, unchanged: 0 });
});

test('a hardlink to a symlink or device its layer stores again keeps the first one, as files are kept', async (t) => {
  const m = await modelOf([[
    { name: 'c', type: 'char', devmajor: 1, devminor: 3, mode: 0o600 }, hardlink('h', 'c'), { name: 'c', type: 'char', devmajor: 1, devminor: 5, mode: 0o666 },
    // one symlink inode under three names: s is written again as a link to h, which is that inode
    symlink('s', 'nowhere', { mode: 0o777 }), hardlink('l', 's'), hardlink('s', 'l'), hardlink('g', 's'),
  ]]);
  const u = m.union;
  const at = (p: string) => u.versionAt(u.nodeOf(p)!, 0);
  t.like(viewAt(m).get('/h'), { type: 'hardlink', mode: '0600', linkTarget: '/c' });
  t.deepEqual(u.devOf(at('h')), [1, 3]);
  t.like(viewAt(m).get('/c'), { type: 'char', mode: '0666' });
  t.deepEqual(u.devOf(at('c')), [1, 5]);
  for (const p of ['s', 'l', 'g']) {
    t.is(u.inodeKindOf(at(p)), Kind.symlink, p);
    t.is(u.modeOf(at(p)), 0o777, p);
  }
  t.is(u.metaOf(at('s')), u.metaOf(at('l')));
  t.is(u.metaOf(at('g')), u.metaOf(at('l')));
  t.deepEqual(changesOf(m, 0), { '/c': 'added', '/g': 'added', '/h': 'added', '/l': 'added', '/s': 'added' });
});

test('a hardlink to a symlink or device compares as that symlink or device: a new target or device numbers change it, a plain copy of it does not', async (t) => {
  const m = await modelOf([
    [symlink('s', 'a'), hardlink('h', 's'), { name: 'c', type: 'char', devmajor: 1, devminor: 3 }, hardlink('d', 'c'), symlink('p', 'x'), hardlink('q', 'p')],
    [symlink('s', 'b'), { name: 'c', type: 'char', devmajor: 1, devminor: 5 }],
    // stored again as links to the new s and c: on disk h now points to b, d is 1:5; q becomes the symlink it was
    [hardlink('h', 's'), hardlink('d', 'c'), symlink('q', 'x')],
  ]);
  t.deepEqual(changesOf(m, 2), { '/h': 'modified', '/d': 'modified', '/q': 'unchanged' });
});

test('AUFS names mean AUFS bookkeeping at the layer root only: below it they are ordinary names, or whiteouts of .wh.x', async (t) => {
  const m = await modelOf([
    [dir('a'), file('a/.wh..wh.plnk/1.2', 'plnk'), dir('b/.wh.x'), file('b/.wh.x/f', 'f')],
    [{ name: 'a/.wh..wh.plnk', type: 'dir' }, file('b/.wh..wh.x', '')],
  ]);
  t.deepEqual(pathsAt(m, 0), ['/a', '/a/.wh..wh.plnk', '/a/.wh..wh.plnk/1.2', '/b', '/b/.wh.x', '/b/.wh.x/f']);
  t.deepEqual(changesOf(m, 0), { '/a': 'added', '/a/.wh..wh.plnk': 'added', '/a/.wh..wh.plnk/1.2': 'added', '/b': 'added', '/b/.wh.x': 'added', '/b/.wh.x/f': 'added' });
  // as Docker and umoci apply them: a/.wh..wh.plnk whites out a/.wh.plnk (nothing), b/.wh..wh.x whites out b/.wh.x
  t.deepEqual(pathsAt(m), ['/a', '/a/.wh..wh.plnk', '/a/.wh..wh.plnk/1.2', '/b']);
  t.deepEqual(changesOf(m, 1), { '/b/.wh.x': 'removed', '/b/.wh.x/f': 'removed' });
});
