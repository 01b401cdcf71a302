/**
 * The umoci oracle: an independent implementation of layer application. Each fixture is converted
 * by skopeo to an OCI layout, unpacked by `umoci unpack`, and the root filesystem it writes is compared
 * with `strata ls --json` on the ORIGINAL fixture: paths, types, sizes, permission bits, owners,
 * symlink targets, hardlinks (shared inodes) and, through the API, file contents.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, readFile, readlink, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FileEntry } from '../src/layers/views.js';
import { fixture, hashedView, loadFixture, strata } from './support/fixtures.js';

const run = promisify(execFile);

interface DiskEntry {
  type: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';
  size: number;
  mode: number;
  uid: number;
  gid: number;
  ino: number;
  link?: string;
}
type Disk = Map<string, DiskEntry>;

/** Every path under root (not root itself), by lstat: what a container would see. */
async function walkDisk(root: string): Promise<Disk> {
  const out: Disk = new Map();
  const visit = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(root, rel))) {
      const p = `${rel}/${name}`;
      const st = await lstat(join(root, p));
      const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : st.isFIFO() ? 'fifo' : 'socket';
      out.set(p, { type, size: st.size, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, ino: st.ino, link: type === 'symlink' ? await readlink(join(root, p)) : undefined });
      if (type === 'dir') await visit(p);
    }
  };
  await visit('');
  return out;
}

/** Differences between strata's listing and the unpacked tree, one line each; [] when they agree. */
function compare(listing: FileEntry[], disk: Disk): string[] {
  const out: string[] = [];
  const listed = new Map(listing.map((e) => [e.path, e]));
  for (const e of listing) {
    const d = disk.get(e.path);
    if (!d) {
      out.push(`missing on disk: ${e.path}`);
      continue;
    }
    const want = e.type === 'hardlink' ? 'file' : e.type;
    if (d.type !== want) out.push(`${e.path}: type strata=${e.type} disk=${d.type}`);
    if (want === 'file' && d.size !== e.size) out.push(`${e.path}: size strata=${e.size} disk=${d.size}`);
    if (parseInt(e.mode, 8) !== d.mode) out.push(`${e.path}: mode strata=${e.mode} disk=${d.mode.toString(8).padStart(4, '0')}`);
    if (e.uid !== d.uid || e.gid !== d.gid) out.push(`${e.path}: owner strata=${e.uid}:${e.gid} disk=${d.uid}:${d.gid}`);
    if (e.type === 'symlink' && e.linkTarget !== d.link) out.push(`${e.path}: symlink strata=${e.linkTarget} disk=${d.link}`);
    if (e.type === 'hardlink') {
      const target = disk.get(e.linkTarget!);
      if (!target || target.ino !== d.ino) out.push(`${e.path}: not the same inode as ${e.linkTarget} on disk`);
    }
  }
  const paths = [...disk.keys()].sort();
  for (const p of paths) if (!listed.has(p)) out.push(`only on disk: ${p}`);
  // the converse of the hardlink check: files sharing an inode on disk are one hardlink group in strata
  const group = (e: FileEntry) => (e.type === 'hardlink' ? e.linkTarget! : e.path);
  const byIno = new Map<number, string>();
  for (const p of paths) {
    const d = disk.get(p)!;
    const e = listed.get(p);
    if (d.type !== 'file' || !e) continue;
    const first = byIno.get(d.ino);
    if (first === undefined) byIno.set(d.ino, p);
    else if (group(listed.get(first)!) !== group(e)) out.push(`${first} and ${p} share an inode on disk, not in strata`);
  }
  return out;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 32);

/** Files whose bytes on disk differ from the content hash strata recorded. */
async function compareContent(entries: { path: string; hash?: string }[], rootfs: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of entries) {
    if (e.hash === undefined) continue;
    const got = sha(await readFile(join(rootfs, e.path)).catch(() => Buffer.from('(unreadable)')));
    if (got !== e.hash) out.push(`${e.path}: content differs`);
  }
  return out;
}

interface Case {
  file: string;
  /** Multi-platform index: which image (skopeo --override-arch/--override-variant, strata --platform). */
  platform?: { arch: string; variant?: string; strata: string };
}

const cases: Case[] = [
  { file: 'tiny-dockerfile.docker.tar' },
  { file: 'tiny-dockerfile.docker25.tar' },
  { file: 'tiny-commit.docker.tar' },
  { file: 'tiny-overlay.oci.tar' },
  { file: 'tiny-overlay.skopeo-docker.tar' },
  { file: 'tiny-overlay-zstd.oci-layout.tar' },
  { file: 'tiny-commit-overlay.oci.tar' },
  { file: 'tiny-multiarch.oci-layout.tar', platform: { arch: 'amd64', strata: 'linux/amd64' } },
  { file: 'tiny-multiarch.oci-layout.tar', platform: { arch: 'arm64', variant: 'v8', strata: 'linux/arm64/v8' } },
];

/** skopeo copy FIXTURE -> oci:DIR:t, then umoci unpack; returns the rootfs path. */
async function unpack(c: Case, work: string): Promise<string> {
  const path = fixture(c.file);
  let src: string;
  if (c.file.endsWith('.oci-layout.tar')) {
    await mkdir(join(work, 'src'));
    await run('tar', ['-xf', path, '-C', join(work, 'src')]);
    src = `oci:${join(work, 'src')}`;
  } else {
    src = c.file.endsWith('.oci.tar') ? `oci-archive:${path}` : `docker-archive:${path}`;
  }
  const opts = ['--quiet'];
  if (c.platform) opts.push('--override-os', 'linux', '--override-arch', c.platform.arch, ...(c.platform.variant ? ['--override-variant', c.platform.variant] : []));
  // umoci 0.4 reads gzip and plain layers only: skopeo decompresses zstd and writes gzip (same diff_ids)
  if (c.file.includes('zstd')) opts.push('--dest-compress-format', 'gzip');
  await run('skopeo', ['copy', ...opts, src, `oci:${join(work, 'oci')}:t`]);
  await run('umoci', ['unpack', '--image', `${join(work, 'oci')}:t`, join(work, 'bundle')]);
  return join(work, 'bundle', 'rootfs');
}

async function withUnpacked<T>(c: Case, f: (rootfs: string) => Promise<T>): Promise<T> {
  const work = await mkdtemp(join(tmpdir(), 'strata-oracle-'));
  try {
    return await f(await unpack(c, work));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const listing = async (c: Case, layer?: number): Promise<FileEntry[]> => {
  const args = ['ls', '--json', fixture(c.file), ...(c.platform ? ['--platform', c.platform.strata] : []), ...(layer === undefined ? [] : ['--layer', String(layer)])];
  return (await strata(args)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as FileEntry);
};

const title = (c: Case) => `${c.file}${c.platform ? ` (${c.platform.strata})` : ''}`;

function registerOracle(): void {
  for (const c of cases) {
    test(`oracle: ${title(c)}: strata ls equals umoci's unpacked rootfs`, async (t) => {
      await withUnpacked(c, async (rootfs) => {
        const [entries, disk, model] = await Promise.all([listing(c), walkDisk(rootfs), loadFixture(c.file, c.platform?.strata)]);
        t.true(entries.length > 280, `strata listed ${entries.length} entries`);
        t.deepEqual(compare(entries, disk), []);
        t.deepEqual(await compareContent(hashedView(model), rootfs), []);
      });
    });
  }

  const overlay = cases.find((c) => c.file === 'tiny-overlay.oci.tar')!;

  test('oracle can fail: the view after layers 5 and 3 is not the unpacked final image', async (t) => {
    await withUnpacked(overlay, async (rootfs) => {
      const disk = await walkDisk(rootfs);
      t.deepEqual(compare(await listing(overlay, 5), disk), [
        'missing on disk: /etc/conf.d/one.conf',
        'missing on disk: /etc/conf.d/two.conf',
        '/etc/passwd: size strata=30 disk=31',
        'only on disk: /app/bundle-hardlink.js',
        'only on disk: /etc/conf.d/three.conf',
        'only on disk: /usr',
        'only on disk: /usr/local',
        'only on disk: /usr/local/bin',
        'only on disk: /usr/local/bin/app',
      ]);
      const after3 = compare(await listing(overlay, 3), disk);
      for (const line of ['/app/index.js: mode strata=0644 disk=0755', '/app/index.js: owner strata=0:0 disk=1000:1000', '/app: owner strata=0:0 disk=1000:1000']) {
        t.true(after3.includes(line), line);
      }
      const model = await loadFixture(overlay.file);
      t.deepEqual(await compareContent(hashedView(model, 5).filter((e) => e.path.startsWith('/etc/')), rootfs), ['/etc/conf.d/one.conf: content differs', '/etc/conf.d/two.conf: content differs', '/etc/passwd: content differs']);
    });
  });

  test('oracle can fail: each kind of wrong entry in a listing is reported', async (t) => {
    await withUnpacked(overlay, async (rootfs) => {
      const disk = await walkDisk(rootfs);
      const good = await listing(overlay);
      t.deepEqual(compare(good, disk), []);
      const mutate = (path: string, change: Partial<FileEntry>) => compare(good.map((e) => (e.path === path ? { ...e, ...change } : e)), disk);
      t.deepEqual(mutate('/bin/busybox', { type: 'dir' }), ['/bin/busybox: type strata=dir disk=file']);
      t.deepEqual(mutate('/bin/busybox', { size: 1 }), ['/bin/busybox: size strata=1 disk=1982256']);
      t.deepEqual(mutate('/tmp', { mode: '0777' }), ['/tmp: mode strata=0777 disk=1777']);
      t.deepEqual(mutate('/etc/passwd', { gid: 5 }), ['/etc/passwd: owner strata=0:5 disk=0:0']);
      t.deepEqual(mutate('/usr/local/bin/app', { linkTarget: '/app/bundle.js' }), ['/usr/local/bin/app: symlink strata=/app/bundle.js disk=/app/index.js']);
      t.deepEqual(mutate('/app/bundle.js', { linkTarget: '/app/index.js' }), ['/app/bundle.js: not the same inode as /app/index.js on disk', '/app/bundle-hardlink.js and /app/bundle.js share an inode on disk, not in strata']);
      t.deepEqual(mutate('/app/bundle.js', { type: 'file', linkTarget: undefined }), ['/app/bundle-hardlink.js and /app/bundle.js share an inode on disk, not in strata']);
    });
  });
}

const missing = ['umoci', 'skopeo'].filter((cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).error);
const why = missing.length
  ? `${missing.join(' and ')} not installed (apt-get install umoci skopeo)`
  : process.getuid?.() !== 0
    ? 'umoci unpack keeps file owners only when run as root'
    : undefined;

if (why === undefined) registerOracle();
else if (process.env.CI) test('oracle: umoci and skopeo must run on CI', (t: ExecutionContext) => t.fail(why));
else {
  process.stderr.write(`oracle tests skipped: ${why}\n`);
  test.skip(`oracle: skipped, ${why}`, () => {});
}
