/**
 * Issue 29, class 4: nothing outside an OCI layout directory is read. The root the user names is
 * trusted (it may be a link); below it no symbolic link is followed, in any component, and nothing
 * that is not a regular file is opened as one (a FIFO would hang). Victim files outside the layout
 * hold a marker that must appear in no output, and the run changes nothing outside its own dirs.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blobPath, ociLayoutFiles, tempDir, writeDir, type BuiltLayout } from './helpers/image-builder.js';
import { assertUnchanged, refuses, snapshot, succeeds } from './helpers/hostile.js';
import { file } from './helpers/tar-writer.js';

const BOUNDS = { ms: 20_000, rssMb: 300 };
const MARKER = 'VICTIM-MARKER-c41d07';

/** A layout and, beside it, a victim directory: a JSON-looking secret file and a full copy of the layout's blobs. */
function setup(t: ExecutionContext): { root: string; dir: string; victim: string; built: BuiltLayout } {
  const { dir: root, cleanup } = tempDir();
  t.teardown(cleanup);
  const built = ociLayoutFiles({ images: [{ layers: [{ entries: [file('etc/motd', 'hello\n')] }] }] });
  const dir = writeDir(join(root, 'layout'), built.files);
  const victim = join(root, 'victim');
  mkdirSync(victim);
  // valid JSON of the right shape: only the refusal to follow the link keeps it unread
  writeFileSync(join(victim, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [], annotations: { secret: MARKER } }));
  writeFileSync(join(victim, 'passwd'), `root:x:0:0:${MARKER}:/root:/bin/bash\n`);
  writeDir(join(victim, 'blobs-copy'), new Map([...built.files].filter(([p]) => p.startsWith('blobs/sha256/')).map(([p, c]) => [p.slice('blobs/sha256/'.length), c])));
  return { root, dir, victim, built };
}

/** Refused with `message`, no marker in the output, nothing changed outside the layout. */
async function refusedUntouched(t: ExecutionContext, s: { root: string; dir: string }, message: string, watch = s.root): Promise<void> {
  const before = snapshot(watch);
  t.is(await refuses(t, ['inspect', s.dir], { ...BOUNDS, secrets: [MARKER] }), message);
  assertUnchanged(t, before, snapshot(watch));
}

const linkNote = 'strata follows no link in an OCI layout';

test('index.json that is a symlink to a file outside the layout', async (t) => {
  const s = setup(t);
  rmSync(join(s.dir, 'index.json'));
  symlinkSync(join(s.victim, 'index.json'), join(s.dir, 'index.json'));
  await refusedUntouched(t, s, `${s.dir}/index.json: is a symbolic link; ${linkNote}`);
  // a relative link that climbs out is the same
  rmSync(join(s.dir, 'index.json'));
  symlinkSync('../victim/passwd', join(s.dir, 'index.json'));
  await refusedUntouched(t, s, `${s.dir}/index.json: is a symbolic link; ${linkNote}`);
});

test('a config blob that is a symlink to a file outside the layout', async (t) => {
  const s = setup(t);
  const p = blobPath(s.built.images[0].configDigest);
  rmSync(join(s.dir, p));
  symlinkSync(join(s.victim, 'passwd'), join(s.dir, p));
  await refusedUntouched(t, s, `${join(s.dir, p)}: is a symbolic link; ${linkNote}`);
});

test('the blobs/sha256 directory that is a symlink to a directory outside the layout', async (t) => {
  const s = setup(t);
  rmSync(join(s.dir, 'blobs/sha256'), { recursive: true });
  // the target holds exactly the right blobs: reading through the link would succeed
  symlinkSync(join(s.victim, 'blobs-copy'), join(s.dir, 'blobs/sha256'));
  await refusedUntouched(t, s, `${s.dir}/blobs/sha256: is a symbolic link; ${linkNote}`);
  // the blobs directory itself as the link: blobs/sha256 is then reached through it
  rmSync(join(s.dir, 'blobs'), { recursive: true });
  mkdirSync(join(s.victim, 'outer-blobs'));
  renameSync(join(s.victim, 'blobs-copy'), join(s.victim, 'outer-blobs/sha256'));
  symlinkSync(join(s.victim, 'outer-blobs'), join(s.dir, 'blobs'));
  await refusedUntouched(t, s, `${s.dir}/blobs/sha256: is reached through a symbolic link; ${linkNote}`);
});

test('a FIFO planted as a layer blob is refused at once, not waited on', async (t) => {
  const s = setup(t);
  const p = blobPath(s.built.images[0].layers[0].digest);
  rmSync(join(s.dir, p));
  execFileSync('mkfifo', [join(s.dir, p)]);
  // snapshot() would itself wait on the FIFO: watch the victim directory alone
  await refusedUntouched(t, s, `layer 0 (${p.slice(0, 37)}…): ${join(s.dir, p)}: is not a regular file`, s.victim);
});

test('the root itself may be named through a symlink (the user chose it)', async (t) => {
  const s = setup(t);
  const alias = join(s.root, 'alias');
  symlinkSync(s.dir, alias);
  const before = snapshot(s.root);
  const r = await succeeds(t, ['inspect', '--no-cache', alias], BOUNDS);
  t.false(r.stdout.includes(MARKER));
  assertUnchanged(t, before, snapshot(s.root));
});
