/**
 * Every real image in testdata/, checked against values derived by hand from testdata/README.md and
 * from listing each layer with GNU tar (`tar --numeric-owner -tvf`), not copied from strata's output.
 *
 * What the tars hold (the numbers below follow from it):
 * - base layer: 9 entries (bin/, bin/busybox 1982256 B, etc/, etc/group 10 B, etc/passwd 30 B, root/,
 *   tmp/, var/, var/log/) + 268 busybox symlinks = 277 entries; docker's tar adds "./", the root itself.
 * - vfs (docker build) layers only hold what changed; buildah's overlay layers also re-store /run in every
 *   RUN layer and add dev/ proc/ sys/ run/ and empty etc/hostname, etc/hosts, etc/resolv.conf in the first.
 * - regular-file bytes per layer: 1982296 (busybox + group + passwd), 708893 (obj.o 250000 + index.db
 *   400000 + build.log 58893), 405282 (bundle.js 405264 + index.js 18), 0, 405282, 8, 35 (three.conf 4 +
 *   passwd 31), 405264 (bundle-hardlink.js; a hardlink entry holds no bytes).
 */
import { xxhash128 } from 'hash-wasm';
import test from 'ava';
import { readFileSync } from 'node:fs';
import { inspectReport } from '../src/analyze/report.js';
import { layerChanges } from '../src/model/views.js';
import { Kind } from '../src/scan/records.js';
import type { ImageModel } from '../src/model/read-image.js';
import { fixture, hashedView, loadFixture } from './helpers/fixtures.js';

type Counts = { added: number; modified: number; metadata: number; removed: number; unchanged: number };
const c = (added: number, modified: number, metadata: number, removed: number, unchanged: number): Counts => ({ added, modified, metadata, removed, unchanged });

interface Expected {
  file: string;
  platform?: string;
  source: string;
  tags: string[];
  reportedPlatform: string;
  size: number[];
  blobSize: number[];
  /** false: the layers are plain tars, so every compressedSize is null. */
  compressed: boolean;
  entries: number[];
  changes: Counts[];
  summary: { compressedSize: number | null; uncompressedSize: number; finalSize: number; finalEntries: number };
}

const APP_SIZES = [1982296, 708893, 405282, 0, 405282, 8, 35, 405264];
const APP_UNCOMPRESSED = APP_SIZES.reduce((a, b) => a + b); // 3907060

// docker build (vfs): layer 1 adds tmp/build, obj.o, var/cache, pkg, index.db, var/log/app, build.log and
// re-stores tmp, var, var/log; layer 3 re-stores tmp, var, var/cache, var/cache/pkg; layer 7 re-stores app/.
const VFS_CHANGES = [c(277, 0, 0, 0, 0), c(7, 0, 0, 0, 3), c(3, 0, 0, 0, 0), c(0, 0, 0, 3, 4), c(0, 0, 3, 0, 0), c(3, 0, 0, 0, 1), c(1, 1, 0, 2, 2), c(5, 0, 0, 0, 1)];
const VFS_ENTRIES = [277, 10, 3, 6, 3, 4, 6, 6];
// final view: 277 + 7 + 3 - 3 + 3 + (1 - 2) + 5 = 291 entries; files: busybox, group, passwd (31),
// build.log, bundle.js, index.js, three.conf and bundle-hardlink.js, a separate file in the vfs tar.
const VFS_FINAL = 1982256 + 10 + 31 + 58893 + 405264 + 18 + 4 + 405264; // 2851740
const VFS_BLOBS = [2129920, 716288, 408576, 4096, 408576, 4096, 5120, 409600];

// buildah (overlay): layer 1 also adds dev, proc, run, sys, etc/hostname, etc/hosts, etc/resolv.conf and
// re-stores etc; every later RUN layer re-stores run/; layer 7's bundle.js is a hardlink, unchanged.
const OVERLAY_CHANGES = [c(277, 0, 0, 0, 0), c(14, 0, 0, 0, 4), c(3, 0, 0, 0, 0), c(0, 0, 0, 3, 5), c(0, 0, 3, 0, 1), c(3, 0, 0, 0, 2), c(1, 1, 0, 2, 3), c(5, 0, 0, 0, 3)];
const OVERLAY_ENTRIES = [277, 18, 3, 7, 4, 5, 6, 8];
// 277 + 14 + 3 - 3 + 3 + (1 - 2) + 5 = 298; the hardlinked bundle is counted once.
const OVERLAY_FINAL = 1982256 + 10 + 31 + 58893 + 405264 + 18 + 4; // 2446476
const OVERLAY_TARS = [2126336, 720384, 408576, 4608, 409088, 4608, 5120, 410624];
const OVERLAY_GZIP = [1087689, 661559, 387702, 240, 387748, 198, 261, 387836]; // manifest descriptor sizes
const OVERLAY_ZSTD = [1092734, 655890, 371482, 224, 371518, 191, 257, 371559];
const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

// commit builds: one layer with app/, the temp files, cache and log (405282 + 708893 B), nothing removed.
const COMMIT_SIZES = [1982296, 1114175];
const COMMIT_FINAL = 1982256 + 10 + 30 + 405264 + 18 + 250000 + 400000 + 58893; // 3096471

const expected: Expected[] = [
  {
    file: 'tiny-dockerfile.docker.tar', source: 'docker-archive', tags: ['tiny-app:dockerfile'], reportedPlatform: 'linux/amd64',
    size: APP_SIZES, blobSize: VFS_BLOBS, compressed: false, entries: VFS_ENTRIES, changes: VFS_CHANGES,
    summary: { compressedSize: null, uncompressedSize: APP_UNCOMPRESSED, finalSize: VFS_FINAL, finalEntries: 291 },
  },
  {
    file: 'tiny-dockerfile.docker25.tar', source: 'docker-archive', tags: ['tiny-app:dockerfile'], reportedPlatform: 'linux/amd64',
    size: APP_SIZES, blobSize: VFS_BLOBS, compressed: false, entries: VFS_ENTRIES, changes: VFS_CHANGES,
    summary: { compressedSize: null, uncompressedSize: APP_UNCOMPRESSED, finalSize: VFS_FINAL, finalEntries: 291 },
  },
  {
    // buildah push oci-archive: writes no org.opencontainers.image.ref.name, so no tag
    file: 'tiny-overlay.oci.tar', source: 'oci-archive', tags: [], reportedPlatform: 'linux/amd64',
    size: APP_SIZES, blobSize: OVERLAY_GZIP, compressed: true, entries: OVERLAY_ENTRIES, changes: OVERLAY_CHANGES,
    summary: { compressedSize: sum(OVERLAY_GZIP), uncompressedSize: APP_UNCOMPRESSED, finalSize: OVERLAY_FINAL, finalEntries: 298 },
  },
  {
    file: 'tiny-overlay.skopeo-docker.tar', source: 'docker-archive', tags: ['docker.io/library/tiny-app:overlay'], reportedPlatform: 'linux/amd64',
    size: APP_SIZES, blobSize: OVERLAY_TARS, compressed: false, entries: OVERLAY_ENTRIES, changes: OVERLAY_CHANGES,
    summary: { compressedSize: null, uncompressedSize: APP_UNCOMPRESSED, finalSize: OVERLAY_FINAL, finalEntries: 298 },
  },
  {
    file: 'tiny-overlay-zstd.oci-layout.tar', source: 'oci-archive', tags: ['latest'], reportedPlatform: 'linux/amd64',
    size: APP_SIZES, blobSize: OVERLAY_ZSTD, compressed: true, entries: OVERLAY_ENTRIES, changes: OVERLAY_CHANGES,
    summary: { compressedSize: sum(OVERLAY_ZSTD), uncompressedSize: APP_UNCOMPRESSED, finalSize: OVERLAY_FINAL, finalEntries: 298 },
  },
  {
    // 277 + app, bundle.js, index.js, tmp/build, obj.o, var/cache, pkg, index.db, var/log/app, build.log
    file: 'tiny-commit.docker.tar', source: 'docker-archive', tags: ['tiny-app:commit'], reportedPlatform: 'linux/amd64',
    size: COMMIT_SIZES, blobSize: [2129920, 1123840], compressed: false, entries: [277, 13], changes: [c(277, 0, 0, 0, 0), c(10, 0, 0, 0, 3)],
    summary: { compressedSize: null, uncompressedSize: sum(COMMIT_SIZES), finalSize: COMMIT_FINAL, finalEntries: 287 },
  },
  {
    // the same plus buildah's dev, proc, run, sys, hostname, hosts, resolv.conf
    file: 'tiny-commit-overlay.oci.tar', source: 'oci-archive', tags: ['tiny-app:commit'], reportedPlatform: 'linux/amd64',
    size: COMMIT_SIZES, blobSize: [1087689, 1053304], compressed: true, entries: [277, 21], changes: [c(277, 0, 0, 0, 0), c(17, 0, 0, 0, 4)],
    summary: { compressedSize: 1087689 + 1053304, uncompressedSize: sum(COMMIT_SIZES), finalSize: COMMIT_FINAL, finalEntries: 294 },
  },
  ...['linux/amd64', 'linux/arm64/v8'].map(
    (platform): Expected => ({
      // layer 1: dev, etc/build-arch (10 B), hostname, hosts, resolv.conf, proc, run, sys; etc re-stored.
      // arm64/v8 is reported in its normalised form, linux/arm64 (v8 is arm64's only variant).
      file: 'tiny-multiarch.oci-layout.tar', platform, source: 'oci-archive', tags: ['latest'], reportedPlatform: platform === 'linux/amd64' ? platform : 'linux/arm64',
      size: [1982296, 10], blobSize: [1087689, 263], compressed: true, entries: [277, 9], changes: [c(277, 0, 0, 0, 0), c(8, 0, 0, 0, 1)],
      summary: { compressedSize: 1087689 + 263, uncompressedSize: 1982306, finalSize: 1982306, finalEntries: 285 },
    }),
  ),
];

const titleOf = (e: Expected) => `${e.file}${e.platform ? ` (${e.platform})` : ''}`;

for (const e of expected) {
  test(`${titleOf(e)}: layers, per-layer changes and sizes, summary, tags, platform`, async (t) => {
    const r = inspectReport(await loadFixture(e.file, e.platform));
    t.is(r.image.source, e.source);
    t.deepEqual(r.image.tags, e.tags);
    t.is(r.image.platform, e.reportedPlatform);
    t.is(r.summary.layerCount, e.size.length);
    t.deepEqual(r.layers.map((l) => l.size), e.size, 'size');
    t.deepEqual(r.layers.map((l) => l.blobSize), e.blobSize, 'blobSize');
    t.deepEqual(r.layers.map((l) => l.compressedSize), e.compressed ? e.blobSize : e.blobSize.map(() => null), 'compressedSize');
    t.deepEqual(r.layers.map((l) => l.entries), e.entries, 'entries');
    r.layers.forEach((l, i) => t.deepEqual(l.changes, e.changes[i], `changes of layer ${i}`));
    const { compressedSize, uncompressedSize, finalSize, finalEntries } = r.summary;
    t.deepEqual({ compressedSize, uncompressedSize, finalSize, finalEntries }, e.summary);
  });
}

// ---- the Dockerfile builds, layer by layer ---------------------------------------------------------

const VFS = ['tiny-dockerfile.docker.tar', 'tiny-dockerfile.docker25.tar'];
const OVERLAY = ['tiny-overlay.oci.tar', 'tiny-overlay.skopeo-docker.tar', 'tiny-overlay-zstd.oci-layout.tar'];
const isOverlay = (f: string) => OVERLAY.includes(f);

type Line = string;
/** One line per change entry: `change type mode uid:gid size path[ -> link]`. */
function changeLines(m: ImageModel, L: number): Line[] {
  return [...layerChanges(m, L)].map((e) => `${e.change} ${e.type} ${e.mode} ${e.uid}:${e.gid} ${e.size} ${e.path}${e.linkTarget ? ` -> ${e.linkTarget}` : ''}`);
}

/** buildah re-stores /run, unchanged, in every RUN layer; docker's vfs diff does not. */
const withRun = (file: string, lines: Line[]) => (isOverlay(file) ? [...lines, 'unchanged dir 0755 0:0 0 /run'].sort(byPath) : lines);
const byPath = (a: Line, b: Line) => {
  const pa = a.split(' ')[5], pb = b.split(' ')[5];
  return pa < pb ? -1 : pa > pb ? 1 : 0;
};

for (const file of [...VFS, ...OVERLAY]) {
  test(`${file}: layer 3 removes /tmp/build, its obj.o and /var/cache/pkg/index.db`, async (t) => {
    const m = await loadFixture(file);
    t.deepEqual(
      changeLines(m, 3),
      withRun(file, [
        'unchanged dir 1777 0:0 0 /tmp',
        'removed dir 0755 0:0 0 /tmp/build',
        'removed file 0644 0:0 250000 /tmp/build/obj.o',
        'unchanged dir 0755 0:0 0 /var',
        'unchanged dir 0755 0:0 0 /var/cache',
        'unchanged dir 0755 0:0 0 /var/cache/pkg',
        'removed file 0644 0:0 400000 /var/cache/pkg/index.db',
      ]),
    );
    // the two whiteouts are the layer's only content besides re-stored directories
    const r = m.layers[3].records;
    t.deepEqual(r.path.filter((_, i) => r.kind[i] === Kind.whiteout), ['tmp/build', 'var/cache/pkg/index.db']);
  });

  test(`${file}: layer 4 re-stores /app/index.js and /app/bundle.js as metadata-only (0755, 1000:1000)`, async (t) => {
    const m = await loadFixture(file);
    t.deepEqual(
      changeLines(m, 4),
      withRun(file, ['metadata dir 0755 1000:1000 0 /app', 'metadata file 0755 1000:1000 405264 /app/bundle.js', 'metadata file 0755 1000:1000 18 /app/index.js']),
    );
    // the bytes are the same as layer 2's: only the mode and owner changed (yet 405 kB were copied)
    const before = hashedView(m, 2).filter((e) => e.path.startsWith('/app/'));
    const after = hashedView(m, 4).filter((e) => e.path.startsWith('/app/'));
    t.deepEqual(after.map((e) => e.hash), before.map((e) => e.hash));
    t.deepEqual(before.map((e) => `${e.mode} ${e.uid}:${e.gid}`), ['0644 0:0', '0644 0:0']);
  });

  test(`${file}: layer 6 removes one.conf and two.conf, adds three.conf, modifies /etc/passwd`, async (t) => {
    const m = await loadFixture(file);
    t.deepEqual(
      changeLines(m, 6),
      withRun(file, [
        'unchanged dir 0755 0:0 0 /etc',
        'unchanged dir 0755 0:0 0 /etc/conf.d',
        'removed file 0644 0:0 4 /etc/conf.d/one.conf',
        'added file 0644 0:0 4 /etc/conf.d/three.conf',
        'removed file 0644 0:0 4 /etc/conf.d/two.conf',
        'modified file 0644 0:0 31 /etc/passwd',
      ]),
    );
    // the same result by two mechanisms: per-file whiteouts (vfs) or an opaque directory (overlay)
    const r = m.layers[6].records;
    const markers = r.path.map((p, i) => (r.kind[i] === Kind.whiteout ? `whiteout ${p}` : r.kind[i] === Kind.opaque ? `opaque ${p}` : '')).filter(Boolean);
    t.deepEqual(markers, isOverlay(file) ? ['opaque etc/conf.d'] : ['whiteout etc/conf.d/one.conf', 'whiteout etc/conf.d/two.conf']);
    const conf = hashedView(m, 6).filter((e) => e.path.startsWith('/etc/conf.d/') || e.path === '/etc/passwd');
    t.deepEqual(
      conf.map((e) => `${e.path} ${e.hash}`),
      [`/etc/conf.d/three.conf ${await contentHash('c=3\n')}`, `/etc/passwd ${await contentHash('root:x:0:0:root:/root:/bin/ash\n')}`],
    );
  });

  test(`${file}: layer 7 adds the /usr/local/bin/app symlink and the bundle hardlink`, async (t) => {
    const m = await loadFixture(file);
    const lines = changeLines(m, 7);
    t.true(lines.includes('added symlink 0777 0:0 0 /usr/local/bin/app -> /app/index.js'));
    t.true(lines.includes('added file 0755 1000:1000 405264 /app/bundle-hardlink.js'));
    const final = hashedView(m);
    const get = (p: string) => final.find((e) => e.path === p)!;
    t.is(get('/app/bundle.js').hash, get('/app/bundle-hardlink.js').hash);
    const u = m.union;
    const v = (p: string) => u.versionAt(u.nodeOf(p.slice(1))!, 7);
    if (isOverlay(file)) {
      // buildah's tar holds bundle-hardlink.js and then bundle.js as a hardlink to it: one inode,
      // and bundle.js is unchanged (same bytes, mode and owner as after layer 4)
      t.true(lines.includes('unchanged hardlink 0755 1000:1000 405264 /app/bundle.js -> /app/bundle-hardlink.js'));
      t.is(u.inodeOf(v('/app/bundle.js')), u.inodeOf(v('/app/bundle-hardlink.js')));
    } else {
      // docker's vfs diff has no hardlink entry at all: bundle-hardlink.js is a plain copy and
      // bundle.js is not in the layer, so the final view holds two separate 405264-byte files
      t.false(lines.some((l) => l.endsWith(' /app/bundle.js')));
      t.is(get('/app/bundle.js').type, 'file');
      t.is(get('/app/bundle.js').layer, 4);
      t.not(u.inodeOf(v('/app/bundle.js')), u.inodeOf(v('/app/bundle-hardlink.js')));
    }
  });
}

test('the commit builds keep the temp files, cache and log that the Dockerfile build deletes', async (t) => {
  for (const file of ['tiny-commit.docker.tar', 'tiny-commit-overlay.oci.tar']) {
    const paths = hashedView(await loadFixture(file)).map((e) => `${e.path} ${e.size} L${e.layer}`);
    for (const p of ['/tmp/build/obj.o 250000 L1', '/var/cache/pkg/index.db 400000 L1', '/var/log/app/build.log 58893 L1', '/app/bundle.js 405264 L1']) {
      t.true(paths.includes(p), `${file}: ${p}`);
    }
  }
  const built = hashedView(await loadFixture('tiny-dockerfile.docker.tar')).map((e) => e.path);
  t.false(built.includes('/tmp/build/obj.o'));
  t.false(built.includes('/var/cache/pkg/index.db'));
});

// ---- equivalent images give equal views -------------------------------------------------------------

/** The content hash strata records (XXH3-128), computed independently. */
function contentHash(s: string): Promise<string> {
  return xxhash128(s);
}

async function sameViews(t: import('ava').ExecutionContext, a: ImageModel, b: ImageModel): Promise<void> {
  t.deepEqual(b.layers.map((l) => l.diffId), a.layers.map((l) => l.diffId), 'diff_ids');
  for (let k = 0; k < a.layers.length; k++) {
    t.deepEqual(hashedView(b, k), hashedView(a, k), `view after layer ${k}`);
    t.deepEqual([...layerChanges(b, k)], [...layerChanges(a, k)], `changes of layer ${k}`);
  }
}

test('tiny-dockerfile.docker.tar and its Docker 25 repackaging give identical views', async (t) => {
  await sameViews(t, await loadFixture(VFS[0]), await loadFixture(VFS[1]));
});

test('the overlay build as OCI archive, skopeo docker-archive and zstd OCI layout gives identical views', async (t) => {
  const [a, b, z] = await Promise.all(OVERLAY.map((f) => loadFixture(f)));
  await sameViews(t, a, b);
  await sameViews(t, a, z);
  t.deepEqual([a, b, z].map((m) => m.layers[7].compression), ['gzip', 'none', 'zstd']);
});

test('multi-arch: amd64 and arm64 differ only in the content of /etc/build-arch', async (t) => {
  const amd = await loadFixture('tiny-multiarch.oci-layout.tar', 'linux/amd64');
  const arm = await loadFixture('tiny-multiarch.oci-layout.tar', 'linux/arm64/v8');
  t.is(amd.layers[0].diffId, arm.layers[0].diffId); // the shared base blob
  t.not(amd.layers[1].diffId, arm.layers[1].diffId);
  const va = hashedView(amd), vb = hashedView(arm);
  t.deepEqual(vb.map((e) => e.path), va.map((e) => e.path));
  const differ = va.filter((e, i) => JSON.stringify(e) !== JSON.stringify(vb[i])).map((e) => e.path);
  t.deepEqual(differ, ['/etc/build-arch']);
  const arch = (v: typeof va) => v.find((e) => e.path === '/etc/build-arch')!.hash;
  t.is(arch(va), await contentHash('amd-build\n'));
  t.is(arch(vb), await contentHash('arm-build\n'));
});

// ---- history and config, from the recipe ------------------------------------------------------------

test('the Dockerfile builds: each layer has its instruction from the recipe, and the recipe config', async (t) => {
  // the recipe's layer-making lines, in order: they made layers 1..7 (ENV, USER, WORKDIR, CMD made none)
  const recipe = readFileSync(fixture('tiny-app.Dockerfile'), 'utf8').split('\n').filter((l) => /^(RUN|COPY) /.test(l));
  t.is(recipe.length, 7);
  for (const file of [...VFS, ...OVERLAY]) {
    const r = inspectReport(await loadFixture(file));
    t.is(r.image.historyEntries, 12, file); // 8 layers + 4 empty_layer entries
    r.layers.slice(1).forEach((l, i) => {
      const line = recipe[i];
      if (line.startsWith('RUN ')) t.is(l.createdBy, `/bin/sh -c ${line.slice(4)}`, `${file} layer ${i + 1}`);
      else t.regex(l.createdBy ?? '', /^\/bin\/sh -c #\(nop\) COPY dir:[0-9a-f]{64} in \/app\/ $/, `${file} layer ${i + 1}`);
    });
    const cfg = r.image.config;
    t.deepEqual([cfg.user, cfg.workdir, cfg.cmd, cfg.env.at(-1)], ['1000', '/app', ['node', '/app/index.js'], 'NODE_ENV=production'], file);
  }
  // docker import names the base layer in a comment; buildah's base has created_by "/bin/sh"
  t.is((await loadFixture(VFS[0])).layers[0].history?.comment, 'Imported from -');
  t.is((await loadFixture(OVERLAY[0])).layers[0].history?.created_by, '/bin/sh');
});
