/**
 * Outputs (issue 29, class 6): every file strata writes goes through one safe writer. Nothing planted
 * beside or inside an output (symlinks at temporary names, a symlinked blobs directory or blob, a
 * broken index.json) makes strata write outside it, delete what it did not create, or leave half an
 * output or a temporary; a write that fails is one `strata: cannot write OUT: <reason>` line.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from './helpers/fixtures.js';
import { tempDir } from './helpers/image-builder.js';
import { assertUnchanged, refuses, snapshot, succeeds } from './helpers/hostile.js';

const IMAGE = fixture('tiny-commit.docker.tar'); // no base annotation: no note on stderr beside a refusal
const VICTIM_TEXT = 'the victim file: strata must leave it as it is\n';

function tmp(t: ExecutionContext): string {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  return dir;
}

/** A work directory and, apart from it, a directory of victims (a file and a directory) that nothing may touch. */
function scene(t: ExecutionContext): { work: string; victims: string; file: string; dir: string } {
  const root = tmp(t);
  const work = join(root, 'work');
  const victims = join(root, 'victims');
  mkdirSync(work);
  mkdirSync(join(victims, 'dir'), { recursive: true });
  writeFileSync(join(victims, 'file'), VICTIM_TEXT);
  writeFileSync(join(victims, 'dir', 'kept'), VICTIM_TEXT);
  return { work, victims, file: join(victims, 'file'), dir: join(victims, 'dir') };
}

/** Names a run left in `dir` that look like strata's temporaries or scratch directories. */
const strays = (dir: string) => readdirSync(dir).filter((n) => /strata|\.tmp$/.test(n));

/** The blob digests (hex) an optimize of IMAGE writes, from a reference run into a fresh layout. */
async function blobsWritten(t: ExecutionContext): Promise<{ config: string; manifest: string; layers: string[] }> {
  const ref = join(tmp(t), 'ref');
  await succeeds(t, ['optimize', IMAGE, '-o', `oci:${ref}`]);
  const index = JSON.parse(readFileSync(join(ref, 'index.json'), 'utf8'));
  const manifestHex = index.manifests[0].digest.slice(7);
  const manifest = JSON.parse(readFileSync(join(ref, 'blobs', 'sha256', manifestHex), 'utf8'));
  return { manifest: manifestHex, config: manifest.config.digest.slice(7), layers: manifest.layers.map((l: { digest: string }) => l.digest.slice(7)) };
}

/** A valid, empty OCI layout with a file of the user's in it. */
function emptyLayout(dir: string, index = '{"schemaVersion":2,"manifests":[]}'): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), index);
  writeFileSync(join(dir, 'notes.txt'), 'the user\'s own file\n');
}

test('optimize to an archive: symlinks planted at temporary names are not written through, and no temporary is left', async (t) => {
  const s = scene(t);
  const out = join(s.work, 'out.tar');
  // today's predictable names and plausible variants, each a link to the victim
  for (const n of ['.out.tar.strata-tmp', 'out.tar.tmp', '.out.tar.tmp', 'out.tar.strata-tmp']) symlinkSync(s.file, join(s.work, n));
  const before = snapshot(s.victims);
  const links = new Set(readdirSync(s.work));
  await succeeds(t, ['optimize', IMAGE, '-o', out]);
  assertUnchanged(t, before, snapshot(s.victims));
  t.true(lstatSync(out).isFile());
  t.deepEqual(readdirSync(s.work).filter((n) => !links.has(n)), ['out.tar'], 'only the output is new');
  for (const n of links) t.true(lstatSync(join(s.work, n)).isSymbolicLink(), `${n} is left as it was`);
  await succeeds(t, ['ls', `docker-archive:${out}`]);
});

test('optimize to an archive whose path is the user\'s symlink replaces the link and leaves its old destination alone', async (t) => {
  const s = scene(t);
  const out = join(s.work, 'out.tar');
  symlinkSync(s.file, out);
  const before = snapshot(s.victims);
  await succeeds(t, ['optimize', IMAGE, '-o', out]);
  assertUnchanged(t, before, snapshot(s.victims));
  t.true(lstatSync(out).isFile());
  t.deepEqual(strays(s.work), []);
});

test('optimize into an existing layout: symlinks at its temporary names are not written through, the user\'s files stay', async (t) => {
  const s = scene(t);
  const blobs = await blobsWritten(t);
  const layout = join(s.work, 'layout');
  emptyLayout(layout);
  symlinkSync(s.file, join(layout, 'index.json.strata-tmp'));
  symlinkSync(s.file, join(layout, 'blobs', 'sha256', `${blobs.config}.strata-tmp`));
  symlinkSync(s.file, join(layout, 'blobs', 'sha256', `${blobs.manifest}.strata-tmp`));
  const before = snapshot(s.victims);
  const layoutBefore = snapshot(layout);
  await succeeds(t, ['optimize', IMAGE, '-o', `oci:${layout}:slim`]);
  assertUnchanged(t, before, snapshot(s.victims));
  // only index.json changed and the image's blobs were added: the user's file and the planted links are as they were
  const added = new Set([blobs.config, blobs.manifest, ...blobs.layers].map((h) => join(layout, 'blobs', 'sha256', h)));
  assertUnchanged(t, layoutBefore, snapshot(layout), (p) => p === join(layout, 'index.json') || added.has(p));
  t.deepEqual(strays(layout), ['index.json.strata-tmp']);
  t.deepEqual(readdirSync(join(layout, 'blobs', 'sha256')).filter((n) => n.includes('.')).sort(), [`${blobs.config}.strata-tmp`, `${blobs.manifest}.strata-tmp`].sort());
  await succeeds(t, ['ls', `oci:${layout}:slim`]);
});

test('an existing oci:DIR that is not a valid layout is refused before a byte is written, and nothing in it is deleted', async (t) => {
  const cases: [string, string | Buffer, RegExp][] = [
    ['null', 'null', /index\.json: must be an object, not null$/],
    ['an empty object', '{}', /index\.json: schemaVersion is missing \(expected 2\)/],
    ['an array', '[]', /index\.json: must be an object, not an array$/],
    ['garbage', Buffer.from('\x00\x1b[2J{"schemaVersion":2,\xff'), /index\.json: not valid (JSON at byte 0|UTF-8 at byte \d+)/],
    ['a manifest without a digest', '{"schemaVersion":2,"manifests":[{"mediaType":"x","size":1}]}', /index\.json: manifests\[0\]\.digest is missing/],
  ];
  for (const [what, index, message] of cases) {
    const s = scene(t);
    const layout = join(s.work, 'layout');
    emptyLayout(layout);
    writeFileSync(join(layout, 'index.json'), index);
    const before = snapshot(s.work);
    const msg = await refuses(t, ['optimize', IMAGE, '-o', `oci:${layout}`]);
    t.true(msg.startsWith(`oci:${layout}/index.json: `), `${what}: ${msg}`);
    t.regex(msg, message, what);
    assertUnchanged(t, before, snapshot(s.work));
  }
});

test('an oci:DIR with files but no oci-layout, or no index.json, is refused and left whole', async (t) => {
  const s = scene(t);
  const noLayoutFile = join(s.work, 'a');
  emptyLayout(noLayoutFile);
  execFileSync('rm', [join(noLayoutFile, 'oci-layout')]);
  const notALayout = join(s.work, 'b');
  mkdirSync(notALayout);
  writeFileSync(join(notALayout, 'thesis.tex'), 'years of work\n');
  const before = snapshot(s.work);
  t.is(await refuses(t, ['optimize', IMAGE, '-o', `oci:${noLayoutFile}`]), `oci:${noLayoutFile}/oci-layout: missing; not an OCI layout`);
  t.regex(await refuses(t, ['optimize', IMAGE, '-o', `oci:${notALayout}`]), /^-o oci:.*\/b: exists and is not an OCI layout \(no index\.json\)/);
  assertUnchanged(t, before, snapshot(s.work));
});

test('a layout whose blobs/sha256 (or blobs) is a symlink to a victim directory is refused; the victim is untouched', async (t) => {
  for (const linked of ['blobs/sha256', 'blobs']) {
    const s = scene(t);
    const layout = join(s.work, 'layout');
    emptyLayout(layout);
    execFileSync('rm', ['-r', join(layout, linked)]);
    if (linked === 'blobs/sha256') symlinkSync(s.dir, join(layout, 'blobs', 'sha256'));
    else symlinkSync(s.victims, join(layout, 'blobs'));
    const before = snapshot(join(s.work, '..'));
    t.is(await refuses(t, ['optimize', IMAGE, '-o', `oci:${layout}:t`]), `oci:${layout}/${linked}: is a symlink; strata follows no link inside an output layout`);
    assertUnchanged(t, before, snapshot(join(s.work, '..')));
  }
});

test('a blob path the output will write, planted as a symlink to a victim, is refused before anything is written', async (t) => {
  const blobs = await blobsWritten(t);
  for (const hex of [blobs.config, blobs.layers[blobs.layers.length - 1]]) {
    const s = scene(t);
    const layout = join(s.work, 'layout');
    emptyLayout(layout);
    symlinkSync(s.file, join(layout, 'blobs', 'sha256', hex));
    const before = snapshot(join(s.work, '..'));
    t.regex(await refuses(t, ['optimize', IMAGE, '-o', `oci:${layout}:t`]), new RegExp(`^oci:${layout}/blobs/sha256/${hex.slice(0, 12)}…: is a symlink; strata follows no link`));
    assertUnchanged(t, before, snapshot(join(s.work, '..')));
  }
});

test('outputs under /proc and /sys, or onto a pipe, are one "cannot write" line, with nothing left behind', async (t) => {
  const s = scene(t);
  // beside the work directory: snapshot() would read the pipe, and wait on it forever
  const fifo = join(s.victims, '..', 'out.tar');
  execFileSync('mkfifo', [fifo]);
  const before = snapshot(s.work);
  t.is(await refuses(t, ['optimize', IMAGE, '-o', '/proc/x.tar']), 'cannot write /proc/x.tar: no such file or directory (ENOENT)');
  t.is(await refuses(t, ['optimize', IMAGE, '-o', `oci:/proc/x`]), 'cannot write /proc/x: no such file or directory (ENOENT)');
  t.is(await refuses(t, ['optimize', IMAGE, '-o', '/sys/out.tar']), 'cannot write /sys/out.tar: permission denied (EACCES)');
  t.is(await refuses(t, ['optimize', IMAGE, '-o', fifo]), `cannot write ${fifo}: exists and is not a regular file (a device, pipe or socket)`);
  t.is(await refuses(t, ['inspect', IMAGE, '--html', '/proc/x.html']), 'cannot write /proc/x.html: no such file or directory (ENOENT)');
  t.is(await refuses(t, ['ci', IMAGE, '--save-baseline', '/sys/base.json']), 'cannot write /sys/base.json: permission denied (EACCES)');
  assertUnchanged(t, before, snapshot(s.work));
  t.true(lstatSync(fifo).isFIFO());
});

/** A directory strata may not write in: read-only (a bind mount when run as root, who ignores modes), or mode 0500. */
function readOnlyDir(t: ExecutionContext, dir: string): { reason: string } | undefined {
  mkdirSync(dir);
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o500);
    t.teardown(() => chmodSync(dir, 0o700));
    return { reason: 'permission denied (EACCES)' };
  }
  try {
    execFileSync('mount', ['--bind', '-o', 'ro', dir, dir], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  t.teardown(() => execFileSync('umount', [dir]));
  return { reason: 'read-only file system (EROFS)' };
}

test('a read-only output directory: one "cannot write" line for every kind of output', async (t) => {
  const s = scene(t);
  const ro = join(s.work, 'ro');
  const how = readOnlyDir(t, ro);
  if (!how) {
    t.log('root without mount rights: no read-only directory to test with');
    t.pass();
    return;
  }
  const cases: [string[], string][] = [
    [['optimize', IMAGE, '-o', join(ro, 'o.tar')], join(ro, 'o.tar')],
    [['optimize', IMAGE, '-o', `oci:${join(ro, 'o')}`], join(ro, 'o')],
    [['inspect', IMAGE, '--html', join(ro, 'o.html')], join(ro, 'o.html')],
    [['ci', IMAGE, '--max-final-size', '1GB', '--output', join(ro, 'o.json')], join(ro, 'o.json')],
  ];
  for (const [args, out] of cases) t.is(await refuses(t, args), `cannot write ${out}: ${how.reason}`);
  t.deepEqual(readdirSync(ro), []);
});

/** A tmpfs of `size` mounted at a new `dir` for this test, or undefined without the rights to mount one. */
function smallDisk(t: ExecutionContext, dir: string, size: string): string | undefined {
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  t.teardown(() => execFileSync('umount', [dir]));
  return dir;
}

test('a full disk: the output fails as one line and leaves neither a temporary nor half an output', async (t) => {
  const s = scene(t);
  // 16 kB: the scratch copy of the base layer fails; 4 MB: the layers fit, the archive made of them does not
  const tiny = smallDisk(t, join(s.work, 'tiny'), '16k');
  const small = smallDisk(t, join(s.work, 'small'), '4m');
  if (!tiny || !small) {
    t.log('no rights to mount a tmpfs: no full disk to test with');
    t.pass();
    return;
  }
  for (const out of [join(tiny, 'o.tar'), join(small, 'o.tar'), join(tiny, 'o')]) {
    const arg = out.endsWith('.tar') ? out : `oci:${out}`;
    t.is(await refuses(t, ['optimize', IMAGE, '-o', arg]), `cannot write ${out}: no space left on device (ENOSPC)`);
  }
  t.deepEqual(readdirSync(tiny), []);
  t.deepEqual(readdirSync(small), []);
});

test('--html, ci --output and --save-baseline: planted temporaries are not followed, a symlink as the path is replaced, a symlinked parent is the user\'s', async (t) => {
  const s = scene(t);
  const real = join(s.work, 'real');
  mkdirSync(real);
  symlinkSync(real, join(s.work, 'via'));
  const outputs: [string, string[]][] = [
    ['r.html', ['inspect', IMAGE, '--html']],
    ['r.json', ['ci', IMAGE, '--max-final-size', '1GB', '--output']],
    ['b.json', ['ci', IMAGE, '--save-baseline']],
  ];
  for (const [name] of outputs) {
    for (const n of [`.${name}.strata-tmp`, `${name}.tmp`, `.${name}.tmp`, `${name}.${process.pid}.tmp`]) symlinkSync(s.file, join(s.work, n));
    symlinkSync(s.file, join(s.work, name));
  }
  const before = snapshot(s.victims);
  const planted = new Set(readdirSync(s.work));
  for (const [name, args] of outputs) {
    await succeeds(t, [...args, join(s.work, name)]);
    t.true(lstatSync(join(s.work, name)).isFile(), `${name}: the link is now the output`);
    await succeeds(t, [...args, join(s.work, 'via', name)]);
    t.true(lstatSync(join(real, name)).isFile(), `${name}: written where the user's symlinked directory points`);
  }
  assertUnchanged(t, before, snapshot(s.victims));
  t.deepEqual(readdirSync(s.work).filter((n) => !planted.has(n)), [], 'no temporary left');
  t.deepEqual(readdirSync(real).sort(), ['b.json', 'r.html', 'r.json']);
});
