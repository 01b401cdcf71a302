/**
 * The umoci oracle: an independent implementation of layer application. Each fixture is converted
 * by skopeo to an OCI layout, unpacked by `umoci unpack`, and the root filesystem it writes is compared
 * with `strata ls --json` on the ORIGINAL fixture: paths, types, sizes, permission bits, owners,
 * symlink targets, hardlinks (shared inodes) and file contents. The same is done after every layer
 * (umoci unpacks images cut after layer k), and each layer's change list is checked against the
 * difference between the unpacked trees before and after it.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { layerChanges, type ChangeEntry, type FileEntry } from '../src/model/views.js';
import type { ImageModel } from '../src/model/read-image.js';
import { diffImages } from '../src/analyze/diff/diff.js';
import { writeOciArchive } from './helpers/image-builder.js';
import type { Entry } from './helpers/tar-writer.js';
import { compare, edgeImages, rootless, walkDisk, type Disk } from './helpers/unpacked.js';
import { FIXTURE_FILES, fixture, hashedView, loadFixture, strata, type HashedEntry } from './helpers/fixtures.js';
import { requireTools } from './helpers/system-tools.js';

const run = promisify(execFile);
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** What changed from one unpacked tree to the next, classified the way strata's docs define it. */
function diskChanges(before: Disk, after: Disk): string[] {
  const out: string[] = [];
  for (const [p, a] of after) {
    const b = before.get(p);
    if (!b) out.push(`added ${p}`);
    else if (a.type !== b.type || a.size !== b.size || a.hash !== b.hash || a.link !== b.link || a.rdev !== b.rdev) out.push(`modified ${p}`);
    else if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid) out.push(`metadata ${p}`);
  }
  for (const p of before.keys()) if (!after.has(p)) out.push(`removed ${p}`);
  return out.sort();
}

interface Case {
  file: string;
  /** Multi-platform index: which image (skopeo --override-arch/--override-variant, strata --platform). */
  platform?: { arch: string; variant?: string; strata: string };
  /** A generated image: its layers' entries (file is then a name under a temporary directory). */
  layers?: Entry[][];
}

const cases: Case[] = [
  ...FIXTURE_FILES.filter((f) => !f.includes('multiarch')).map((file) => ({ file })),
  { file: 'tiny-multiarch.oci-layout.tar', platform: { arch: 'amd64', strata: 'linux/amd64' } },
  { file: 'tiny-multiarch.oci-layout.tar', platform: { arch: 'arm64', variant: 'v8', strata: 'linux/arm64/v8' } },
];
/** Edge cases generated in code, not found in the real fixtures, applied by umoci too (helpers/unpacked.ts). */
const generated: Case[] = edgeImages.map((c) => ({ ...c }));
let generatedDir: string | undefined;

/** The generated image's archive, written once per test process. */
async function generate(c: Case): Promise<void> {
  generatedDir ??= await mkdtemp(join(tmpdir(), 'strata-oracle-gen-'));
  workDirs.push(generatedDir);
  c.file = join(generatedDir, c.file);
  await writeOciArchive(c.file, { images: [{ layers: c.layers!.map((entries) => ({ entries })) }] });
}

const title = (c: Case) => `${basename(c.file)}${c.platform ? ` (${c.platform.strata})` : ''}`;

const workDirs: string[] = [];

/** skopeo copy FIXTURE -> an OCI layout holding it as tag `t`, plus tags L0..Ln-1 cut after each layer. */
async function convert(c: Case): Promise<{ layout: string; work: string; layers: number }> {
  const work = await mkdtemp(join(tmpdir(), 'strata-oracle-'));
  workDirs.push(work);
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
  const layout = join(work, 'oci');
  await run('skopeo', ['copy', ...opts, src, `oci:${layout}:t`]);
  return { layout, work, layers: await addPrefixTags(layout) };
}

/** Write, beside tag `t`, images holding only its first k+1 layers (config diff_ids cut to match). */
async function addPrefixTags(layout: string): Promise<number> {
  const blob = async (digest: string) => JSON.parse(await readFile(join(layout, 'blobs', ...digest.split(':')), 'utf8'));
  const put = async (mediaType: string, value: unknown) => {
    const bytes = JSON.stringify(value);
    const hex = sha(bytes);
    await writeFile(join(layout, 'blobs', 'sha256', hex), bytes);
    return { mediaType, digest: `sha256:${hex}`, size: Buffer.byteLength(bytes) };
  };
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  const top = index.manifests.find((m: { annotations?: Record<string, string> }) => m.annotations?.['org.opencontainers.image.ref.name'] === 't');
  const manifest = await blob(top.digest);
  const config = await blob(manifest.config.digest);
  const n: number = manifest.layers.length;
  for (let k = 0; k < n; k++) {
    const { history: _history, ...rest } = config; // history would name layers the cut image lacks
    const cfg = await put(manifest.config.mediaType, { ...rest, rootfs: { type: 'layers', diff_ids: config.rootfs.diff_ids.slice(0, k + 1) } });
    const man = await put(top.mediaType, { ...manifest, config: cfg, layers: manifest.layers.slice(0, k + 1) });
    index.manifests.push({ ...man, annotations: { 'org.opencontainers.image.ref.name': `L${k}` } });
  }
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  return n;
}

const converted = new Map<Case, ReturnType<typeof convert>>();
const convertOnce = (c: Case) => {
  if (!converted.has(c)) converted.set(c, convert(c));
  return converted.get(c)!;
};

let bundles = 0;
/** umoci unpack of a tag; returns the tree it wrote. */
async function unpackTag(c: Case, tag: string): Promise<{ disk: Disk }> {
  const { layout, work } = await convertOnce(c);
  const bundle = join(work, `bundle-${tag}-${bundles++}`);
  await run('umoci', ['unpack', ...(rootless ? ['--rootless'] : []), '--image', `${layout}:${tag}`, bundle]);
  return { disk: await walkDisk(join(bundle, 'rootfs')) };
}

const listing = async (c: Case, layer?: number): Promise<FileEntry[]> => {
  const args = ['ls', '--json', fixture(c.file), ...(c.platform ? ['--platform', c.platform.strata] : []), ...(layer === undefined ? [] : ['--layer', String(layer)])];
  return (await strata(args)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as FileEntry);
};

function registerOracle(): void {
  test.after.always(async () => {
    await Promise.all(workDirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  for (const c of cases) {
    test(`oracle: ${title(c)}: strata ls equals umoci's unpacked rootfs`, async (t) => {
      const [entries, { disk }, model] = await Promise.all([listing(c), unpackTag(c, 't'), loadFixture(c.file, c.platform?.strata)]);
      t.true(entries.length > 280, `strata listed ${entries.length} entries`);
      t.deepEqual(compare(entries, disk), []);
      // the CLI listing has no contents: check them through the API's content hashes
      t.deepEqual(compare(hashedView(model), disk), []);
    });

    test(`oracle: ${title(c)}: the view after every layer and each layer's changes match umoci`, (t) => perLayer(t, c));
  }
  for (const c of generated) {
    test(`oracle: generated ${title(c)}: the view after every layer and each layer's changes match umoci`, async (t) => {
      await generate(c);
      const model = await perLayer(t, c);
      if (c.file.endsWith('hardlink-edges.oci.tar')) t.is(model.union.linkedCopies[0].size, 1, 'a hardlink to a path written again in its layer');
    });
  }

  async function perLayer(t: ExecutionContext, c: Case): Promise<ImageModel> {
    const model = await loadFixture(c.file, c.platform?.strata);
    const { layers } = await convertOnce(c);
    t.is(layers, model.layers.length);
    let before: Disk = new Map();
    let prevView = new Map<string, HashedEntry>();
    for (let k = 0; k < layers; k++) {
      const { disk } = await unpackTag(c, `L${k}`);
      const view = hashedView(model, k);
      t.deepEqual(compare(view, disk), [], `view after layer ${k}`);
      // rootless, every file is the caller's: a change of owner alone cannot show on disk
      const ownerOnly = (e: ChangeEntry) => e.change === 'metadata' && rootless && prevView.get(e.path)?.mode === e.mode;
      const changes = [...layerChanges(model, k)].filter((e) => e.change !== 'unchanged' && !ownerOnly(e)).map((e) => `${e.change} ${e.path}`);
      t.deepEqual(changes.sort(), diskChanges(before, disk), `changes of layer ${k}`);
      before = disk;
      prevView = new Map(view.map((e) => [e.path, e]));
    }
    return model;
  }

  // Image against image: strata diff's file list against the difference of two unpacked trees.
  const pairs: [string, string][] = [
    ['tiny-commit.docker.tar', 'tiny-dockerfile.docker.tar'],
    ['tiny-overlay.oci.tar', 'tiny-dockerfile.docker.tar'],
    ['tiny-dockerfile.docker.tar', 'tiny-overlay-zstd.oci-layout.tar'],
  ];
  for (const [fa, fb] of pairs) {
    test(`oracle: strata diff ${fa} ${fb} lists what differs between umoci's two unpacked trees`, async (t) => {
      const byFile = (f: string) => cases.find((c) => c.file === f)!;
      const [ma, mb, da, db] = await Promise.all([loadFixture(fa), loadFixture(fb), unpackTag(byFile(fa), 't'), unpackTag(byFile(fb), 't')]);
      const report = diffImages({ model: ma, layer: ma.layers.length - 1 }, { model: mb, layer: mb.layers.length - 1 });
      // what a tree on disk can show: a type or target change is a modification; hardlink counts and xattrs are not read
      const seen = report.files.flatMap((f) => {
        if (f.change !== 'metadata') return [`${f.change === 'added' || f.change === 'removed' ? f.change : 'modified'} ${f.path}`];
        return f.metadata!.some((m) => m === 'mode' || m === 'uid' || m === 'gid') ? [`metadata ${f.path}`] : [];
      });
      t.true(seen.length >= 5, `${seen.length} differences`);
      t.deepEqual(seen.sort(), diskChanges(da.disk, db.disk));
    });
  }

  const overlay = cases.find((c) => c.file === 'tiny-overlay.oci.tar')!;

  test('oracle can fail: the view after layers 5 and 3 is not the unpacked final image', async (t) => {
    const { disk } = await unpackTag(overlay, 't');
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
    const owners = rootless ? [] : ['/app/index.js: owner strata=0:0 disk=1000:1000', '/app: owner strata=0:0 disk=1000:1000'];
    for (const line of ['/app/index.js: mode strata=0644 disk=0755', ...owners]) {
      t.true(after3.includes(line), line);
    }
    const model = await loadFixture(overlay.file);
    t.true(compare(hashedView(model, 5), disk).includes('/etc/passwd: content differs'));
    // and a layer's changes are not the difference across another layer
    const [d5, d6] = [(await unpackTag(overlay, 'L5')).disk, (await unpackTag(overlay, 'L6')).disk];
    t.deepEqual(diskChanges(d5, d6), ['added /etc/conf.d/three.conf', 'modified /etc/passwd', 'removed /etc/conf.d/one.conf', 'removed /etc/conf.d/two.conf']);
    t.notDeepEqual(diskChanges(d5, d6), diskChanges(d5, disk));
  });

  test('oracle can fail: each kind of wrong entry in a listing is reported', async (t) => {
    const { disk } = await unpackTag(overlay, 't');
    const good = await listing(overlay);
    t.deepEqual(compare(good, disk), []);
    const mutate = (path: string, change: Partial<HashedEntry>) => compare(good.map((e) => (e.path === path ? { ...e, ...change } : e)), disk);
    t.deepEqual(mutate('/bin/busybox', { type: 'dir' }), ['/bin/busybox: type strata=dir disk=file']);
    t.deepEqual(mutate('/bin/busybox', { size: 1 }), ['/bin/busybox: size strata=1 disk=1982256']);
    t.deepEqual(mutate('/bin/busybox', { hash: '0'.repeat(32) }), ['/bin/busybox: content differs']);
    t.deepEqual(mutate('/tmp', { mode: '0777' }), ['/tmp: mode strata=0777 disk=1777']);
    t.deepEqual(mutate('/etc/passwd', { gid: 5 }), rootless ? [] : ['/etc/passwd: owner strata=0:5 disk=0:0']);
    t.deepEqual(mutate('/usr/local/bin/app', { linkTarget: '/app/bundle.js' }), ['/usr/local/bin/app: symlink strata=/app/bundle.js disk=/app/index.js']);
    t.deepEqual(mutate('/app/bundle.js', { linkTarget: '/app/index.js' }), [
      '/app/bundle.js: not the same inode as /app/index.js on disk',
      '/app/bundle-hardlink.js and /app/bundle.js share an inode on disk, not in strata',
    ]);
    t.deepEqual(mutate('/app/bundle.js', { type: 'file', linkTarget: undefined }), ['/app/bundle-hardlink.js and /app/bundle.js share an inode on disk, not in strata']);
  });
}

requireTools('umoci', 'skopeo');
if (rootless) process.stderr.write('oracle: not root, so umoci unpacks --rootless and owners are not compared\n');
registerOracle();
