/**
 * `strata optimize` round trips: every fixture and generated edge case optimized in each layer mode
 * has the same final view as its input (strata's own reading of the output, and umoci's unpack of
 * it), keeps its base layers' blobs and diffIDs, and stores no wasted byte above the base.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openImage } from '../src/sources/resolve.js';
import { readImage, type ImageModel } from '../src/model/read-image.js';
import { analyzeWaste } from '../src/analyze/waste.js';
import { historyBaseLayers } from '../src/analyze/optimize/base.js';
import { hashHex, Kind, kindName } from '../src/scan/records.js';
import { IMPLICIT } from '../src/model/union.js';
import { parsePlatform } from '../src/image/platform.js';
import { runStrata, jsonLines } from './helpers/cli.js';
import { FIXTURE_FILES, fixture } from './helpers/fixtures.js';
import { writeOciArchive } from './helpers/image-builder.js';
import { dir, file, hardlink, whiteout, type Entry } from './helpers/tar-writer.js';
import { compare, edgeImages, rootless, walkDisk } from './helpers/unpacked.js';
import { hashedView } from './helpers/fixtures.js';
import { push, startProxy, startRegistry } from './helpers/registry-harness.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('umoci', 'skopeo', 'docker-registry');

const run = promisify(execFile);
let work = '';
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'strata-optimize-'));
});
test.after.always(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});
let outs = 0;
const out = (name: string) => join(work, `${outs++}-${name}`);

const read = async (ref: string, platform?: string) => readImage(await openImage(ref, { platform: platform ? parsePlatform(platform) : undefined }));

/**
 * The final view as a filesystem holds it: per path its type on disk (a hardlink is what it links
 * to), metadata, xattrs, device numbers, symlink target, content hash, and hardlink group (named by
 * its first path), so two images that write the same tree differently compare equal.
 */
function diskView(model: ImageModel): Record<string, unknown>[] {
  const u = model.union;
  const group = new Map<number, string>();
  const out: Record<string, unknown>[] = [];
  for (const { node, version: v } of u.walk(model.layers.length - 1)) {
    const m = u.metaOf(v);
    const kind = u.inodeKindOf(v);
    const path = u.nodePath[node];
    const e: Record<string, unknown> = { path, type: kindName[kind], mode: u.modeOf(v), uid: u.uidOf(v), gid: u.gidOf(v), size: u.sizeOf(v) };
    const row = u.rowOf(m);
    if (row !== IMPLICIT && u.layers[u.layerOf(m)].xattrs[row]) e.xattrs = u.layers[u.layerOf(m)].xattrs[row];
    if (kind === Kind.symlink) e.link = u.linkOf(m);
    if (kind === Kind.char || kind === Kind.block) e.dev = u.devOf(v);
    const ino = u.inodeOf(v);
    if (ino >= 0) e.hash = hashHex(u.layers[u.layerOf(ino)], u.rowOf(ino));
    if (kind !== Kind.dir) {
      if (!group.has(m)) group.set(m, path);
      e.group = group.get(m);
    }
    out.push(e);
  }
  return out;
}

/** Wasted bytes the output stores above its base: must be none. */
function wasteAbove(model: ImageModel, base: number): string[] {
  return analyzeWaste(model).items.filter((w) => w.layer >= base).map((w) => `${w.path} (${w.reason}, layer ${w.layer})`);
}

async function optimize(t: ExecutionContext, args: string[]): Promise<Record<string, any>> {
  const r = await runStrata(['optimize', ...args, '--json'], { timeoutMs: 120_000 });
  t.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Input and output agree, as strata reads them and as umoci unpacks the output. */
async function checkRoundTrip(t: ExecutionContext, input: ImageModel, layout: string, base: number, platform?: string): Promise<ImageModel> {
  const output = await read(`oci:${layout}:t`);
  t.deepEqual(diskView(output), diskView(input));
  t.deepEqual(output.image.config.rootfs.diff_ids.slice(0, base), input.image.config.rootfs.diff_ids.slice(0, base), 'base diffIDs kept');
  t.deepEqual(output.layers.slice(0, base).map((l) => l.digest), input.layers.slice(0, base).map((l) => l.digest), 'base blobs kept');
  t.deepEqual(wasteAbove(output, base), []);
  const bundle = join(work, `bundle-${outs++}`);
  let unpackFrom = layout;
  if (output.layers.some((l) => l.compression === 'zstd')) {
    // umoci 0.4 reads gzip and plain layers only: skopeo recompresses the kept zstd base (same diffIDs)
    unpackFrom = out('gzip');
    await run('skopeo', ['copy', '--quiet', '--dest-compress-format', 'gzip', `oci:${layout}:t`, `oci:${unpackFrom}:t`]);
  }
  await run('umoci', ['unpack', ...(rootless ? ['--rootless'] : []), '--image', `${unpackFrom}:t`, bundle]);
  t.deepEqual(compare(hashedView(input), await walkDisk(join(bundle, 'rootfs'))), [], `umoci unpack of the output${platform ? ` (${platform})` : ''}`);
  await rm(bundle, { recursive: true, force: true });
  return output;
}

// the multi-platform layout as its second image: the one not already like another fixture
const fixtures = FIXTURE_FILES.map((file) => ({ file, platform: file.includes('multiarch') ? 'linux/arm64/v8' : undefined }));

for (const f of fixtures) {
  test(`optimize ${f.file}${f.platform ? ` (${f.platform})` : ''}: same view (strata ls, umoci), base kept, no waste above it`, async (t) => {
    const input = await read(fixture(f.file), f.platform);
    const layout = out('oci');
    const plat = f.platform ? ['--platform', f.platform] : [];
    const summary = await optimize(t, [fixture(f.file), ...plat, '-o', `oci:${layout}:t`]);
    t.is(summary.baseLayers, 1);
    await checkRoundTrip(t, input, layout, 1, f.platform);
    // what a user compares: `strata ls --json` of both, layer numbers aside
    const ls = async (ref: string, p: string[]) => jsonLines((await runStrata(['ls', '--json', ref, ...p])).stdout).map(({ layer: _l, ...e }) => e);
    t.deepEqual(await ls(`oci:${layout}:t`, []), await ls(fixture(f.file), plat));
    // and what `strata inspect` says of the output: no waste finding stored above the base
    const report = JSON.parse((await runStrata(['inspect', '--json', `oci:${layout}:t`])).stdout);
    t.deepEqual(report.findings.filter((x: { kind: string; layer: number }) => x.kind === 'waste' && x.layer >= 1), []);
    t.true(summary.saved.fileBytes >= input.layers.reduce((s, l) => s + l.records.fileBytes, 0) - analyzeWaste(input).finalBytes - summary.after.wastedBytes);
  });
}

test('optimize tiny-overlay.oci.tar: the saving equals the waste above the base, measured on the output', async (t) => {
  const input = await read(fixture('tiny-overlay.oci.tar'));
  const layout = out('oci');
  const s = await optimize(t, [fixture('tiny-overlay.oci.tar'), '-o', `oci:${layout}:t`]);
  const output = await read(`oci:${layout}:t`);
  const waste = analyzeWaste(input);
  const above = waste.items.filter((w) => w.layer >= 1).reduce((n, w) => n + w.bytes, 0);
  t.is(s.before.fileBytes - s.after.fileBytes, above);
  t.is(s.after.fileBytes, output.layers.reduce((n, l) => n + l.records.fileBytes, 0));
  t.is(s.after.blobBytes, output.layers.reduce((n, l) => n + l.blobSize, 0));
  t.is(s.after.layers, output.layers.length);
  t.true(s.saved.blobBytes > 1_000_000, `${s.saved.blobBytes} bytes saved`);
});

/** Edge cases beyond the oracle's: binary xattrs, devices, a path deleted and re-added, base paths removed and retyped, a base directory emptied. */
const moreEdges: { file: string; layers: Entry[][] }[] = [
  {
    file: 'base-edits.oci.tar',
    layers: [
      [
        dir('etc'), file('etc/keep', 'k'), file('etc/gone', 'g'), dir('lib'), file('lib/a', 'a'), file('lib/b', 'b'), dir('lib/sub'), file('lib/sub/c', 'c'),
        file('bin/ping', 'ping', { mode: 0o755, pax: { 'SCHILY.xattr.security.capability': Buffer.from([1, 0, 0, 2, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) } }),
        file('retype', 'file in the base'), dir('redir'), file('redir/x', 'x'), file('shared', 'base content'), hardlink('shared-link', 'shared'),
      ],
      [whiteout('etc/gone'), file('tmp/big', Buffer.alloc(50_000, 1)), whiteout('retype'), dir('retype'), file('retype/inside', 'now a dir')],
      [whiteout('lib'), dir('lib', { mode: 0o700 }), file('lib/fresh', 'fresh'), whiteout('tmp/big'), file('again', 'first')],
      [whiteout('again'), file('again', 'second', { mode: 0o600 }), { name: 'dev/zero', type: 'char', devmajor: 1, devminor: 5, mode: 0o666 }, { name: 'dev/loop0', type: 'block', devmajor: 7, devminor: 0, mode: 0o660 }, { name: 'run/fifo', type: 'fifo', mode: 0o600 }],
      [file('redir', 'a file replaces a base directory'), hardlink('shared-link2', 'shared'), file('bin/ping', 'ping', { mode: 0o4755, pax: { 'user.note': Buffer.from([0xff, 0xfe, 0]) } })],
    ],
  },
];

for (const c of [...edgeImages, ...moreEdges]) {
  for (const mode of ['auto', '1', 'keep']) {
    test(`optimize generated ${c.file} --layers ${mode}: same view, base kept, no waste above it`, async (t) => {
      const src = out(c.file);
      await writeOciArchive(src, { images: [{ layers: c.layers.map((entries) => ({ entries })) }] });
      const input = await read(src);
      const layout = out('oci');
      const s = await optimize(t, [src, '--base-layers', '1', '--layers', mode, '-o', `oci:${layout}:t`]);
      const output = await checkRoundTrip(t, input, layout, 1);
      t.is(output.layers.length, mode === '1' ? 2 : mode === 'keep' ? input.layers.length : s.after.layers);
    });
  }
}

test('the base-edits case uses the markers it needs: an opaque marker for the emptied directory, whiteouts for removed base paths', async (t) => {
  const c = moreEdges[0];
  const src = out(c.file);
  await writeOciArchive(src, { images: [{ layers: c.layers.map((entries) => ({ entries })) }] });
  const layout = out('oci');
  await optimize(t, [src, '--base-layers', '1', '--layers', '1', '-o', `oci:${layout}:t`]);
  const output = await read(`oci:${layout}:t`);
  const r = output.layers[1].records;
  const markers = r.path.filter((_, i) => r.kind[i] === Kind.whiteout || r.kind[i] === Kind.opaque);
  const kinds = r.path.map((p, i) => [p, kindName[r.kind[i]]] as const).filter(([, k]) => k === 'whiteout' || k === 'opaque');
  t.deepEqual(Object.fromEntries(kinds), { 'etc/gone': 'whiteout', lib: 'opaque', redir: 'whiteout', retype: 'whiteout' });
  t.is(markers.length, 4);
  // nothing that was deleted above the base is stored: the 50 kB of tmp/big are gone
  t.false(r.path.includes('tmp/big'));
});

test('--layers keep mirrors the layer count and places each path in the layer that made its final version', async (t) => {
  const input = await read(fixture('tiny-overlay.oci.tar'));
  const layout = out('oci');
  await optimize(t, [fixture('tiny-overlay.oci.tar'), '--layers', 'keep', '-o', `oci:${layout}:t`]);
  const output = await read(`oci:${layout}:t`);
  t.is(output.layers.length, input.layers.length);
  const where = (m: ImageModel) => new Map([...m.union.walk(m.layers.length - 1)].filter(({ version }) => m.union.kindOf(version) !== Kind.dir).map(({ node, version }) => [m.union.nodePath[node], m.union.layerOf(version)]));
  t.deepEqual(where(output), where(input));
  t.deepEqual(output.image.config.history?.filter((h) => !h.empty_layer).map((h) => h.created_by), input.image.config.history?.filter((h) => !h.empty_layer).map((h) => h.created_by));
});

test('--layers 1: one layer above the base, its history entry says what was merged; config otherwise the same', async (t) => {
  const input = await read(fixture('tiny-overlay.oci.tar'));
  const layout = out('oci');
  await optimize(t, [fixture('tiny-overlay.oci.tar'), '--layers', '1', '-o', `oci:${layout}:t`]);
  const output = await read(`oci:${layout}:t`);
  t.is(output.layers.length, 2);
  const made = output.image.config.history!.filter((h) => !h.empty_layer);
  t.is(made[1].created_by, 'strata optimize: layers 1-7 merged');
  t.deepEqual(output.image.config.config, input.image.config.config);
  t.is(output.layers[1].mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
});

test('--compression zstd and none: OCI media types, same view', async (t) => {
  for (const [compression, type] of [['zstd', 'application/vnd.oci.image.layer.v1.tar+zstd'], ['none', 'application/vnd.oci.image.layer.v1.tar']]) {
    const layout = out('oci');
    await optimize(t, [fixture('tiny-overlay.oci.tar'), '--compression', compression, '-o', `oci:${layout}:t`]);
    const m = await read(`oci:${layout}:t`);
    t.is(m.layers[1].mediaType, type);
    t.is(m.layers[1].compression, compression as never);
    t.deepEqual(diskView(m), diskView(await read(fixture('tiny-overlay.oci.tar'))));
  }
});

test('every output format reads back with the same view: docker-archive (also a bare .tar), oci-archive, an existing oci layout', async (t) => {
  const input = diskView(await read(fixture('tiny-commit.docker.tar')));
  const tarPath = out('plain.tar');
  await optimize(t, [fixture('tiny-commit.docker.tar'), '-o', tarPath]);
  t.deepEqual(diskView(await read(tarPath)), input);
  const da = out('named.tar');
  await optimize(t, [fixture('tiny-commit.docker.tar'), '-o', `docker-archive:${da}:app:slim`]);
  const img = await openImage(`docker-archive:${da}:app:slim`);
  t.deepEqual(img.tags, ['app:slim']);
  const oa = out('img.oci.tar');
  await optimize(t, [fixture('tiny-commit.docker.tar'), '-o', `oci-archive:${oa}:slim`]);
  t.deepEqual(diskView(await read(`oci-archive:${oa}:slim`)), input);
  // a second tag into the same layout keeps the first
  const layout = out('oci');
  await optimize(t, [fixture('tiny-commit.docker.tar'), '-o', `oci:${layout}:one`]);
  await optimize(t, [fixture('tiny-overlay.oci.tar'), '-o', `oci:${layout}:two`]);
  t.deepEqual(diskView(await read(`oci:${layout}:one`)), input);
  t.deepEqual(diskView(await read(`oci:${layout}:two`)), diskView(await read(fixture('tiny-overlay.oci.tar'))));
  t.deepEqual(readdirSync(work).filter((n) => n.includes('strata')), [], 'no temporary files left');
});

test('--drop leaves out visible bloat above the base, lists every dropped path, and says the view changed', async (t) => {
  const layout = out('oci');
  const s = await optimize(t, [fixture('tiny-commit.docker.tar'), '--drop', 'temp,cache', '--drop', 'log', '-o', `oci:${layout}:t`]);
  t.deepEqual(s.dropped.map((d: { path: string }) => d.path), ['/tmp/build/obj.o', '/var/cache/pkg/index.db', '/var/log/app/build.log']);
  const before = diskView(await read(fixture('tiny-commit.docker.tar')));
  const after = diskView(await read(`oci:${layout}:t`));
  const droppedPaths = new Set(s.dropped.map((d: { path: string }) => d.path.slice(1)));
  t.deepEqual(after, before.filter((e) => !droppedPaths.has(e.path as string)));
  const text = await runStrata(['optimize', fixture('tiny-commit.docker.tar'), '--drop', 'log', '--dry-run']);
  t.regex(text.stdout, /Dropped \(--drop: the final view changes\): 1 file, 58\.9 kB\n  log +58\.9 kB  L1  \/var\/log\/app\/build\.log/);
  const bad = await runStrata(['optimize', fixture('tiny-commit.docker.tar'), '--drop', 'deleted', '--dry-run']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^strata: --drop: "deleted" is not a category of visible bloat \(known: temp, log, cache, vcs, build, history, core-dump\)\n$/);
});

test('--dry-run prints the plan and the saving and writes nothing', async (t) => {
  const target = out('never.tar');
  const r = await runStrata(['optimize', fixture('tiny-overlay.oci.tar'), '--dry-run', '-o', target]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^Would write .*never\.tar\n/);
  t.regex(r.stdout, /files stored +3\.9 MB +2\.4 MB +1\.5 MB \(37\.4%\)/);
  t.false(existsSync(target));
  const j = await optimize(t, [fixture('tiny-overlay.oci.tar'), '--dry-run']);
  t.false(j.written);
  t.is(j.layers.length, 5);
});

test('base layers: from the history, --base-layers N, or --base IMAGE', async (t) => {
  t.is(historyBaseLayers([{ created_by: 'ADD rootfs' }, { created_by: 'CMD ["sh"]', empty_layer: true }, { created_by: 'RUN a' }, { created_by: 'RUN b' }, { created_by: 'CMD ["app"]', empty_layer: true }], 3), 1);
  t.is(historyBaseLayers([{ created_by: 'ADD a' }, { created_by: 'RUN b' }, { created_by: '/bin/sh -c #(nop)  CMD ["bash"]', empty_layer: true }, { created_by: 'COPY x' }], 3), 2);
  t.is(historyBaseLayers([{ created_by: 'ADD a' }, { created_by: 'RUN b' }], 2), 1, 'no CMD: the first layer');
  t.is(historyBaseLayers(undefined, 1), 0);
  const three = await optimize(t, [fixture('tiny-overlay.oci.tar'), '--base-layers', '3', '--dry-run']);
  t.is(three.baseLayers, 3);
  t.is(three.after.layers, 3 + three.layers.length);
  // --base: the image whose layers this one starts with
  const l0 = [dir('etc'), file('etc/os', 'base os')];
  const l1 = [dir('etc'), file('etc/more', 'still base')];
  const base = out('base.oci.tar');
  const app = out('app.oci.tar');
  await writeOciArchive(base, { images: [{ layers: [{ entries: l0 }, { entries: l1 }] }] });
  await writeOciArchive(app, { images: [{ layers: [{ entries: l0 }, { entries: l1 }, { entries: [file('tmp/x', 'x')] }, { entries: [whiteout('tmp/x'), file('app', 'a')] }] }] });
  const viaBase = await optimize(t, [app, '--base', base, '--dry-run']);
  t.is(viaBase.baseLayers, 2);
  const other = out('other.oci.tar');
  await writeOciArchive(other, { images: [{ layers: [{ entries: [file('x', 'x')] }] }] });
  const wrong = await runStrata(['optimize', app, '--base', other, '--dry-run']);
  t.is(wrong.code, 2);
  t.regex(wrong.stderr, /^strata: --base .*other\.oci\.tar: .*app\.oci\.tar does not start with its 1 layers\n$/);
});

test('bad output: the input itself, an unwritable directory, a bare name, no -o; one line, exit 2, nothing written', async (t) => {
  const cases: [string[], RegExp][] = [
    [[fixture('tiny-commit.docker.tar'), '-o', fixture('tiny-commit.docker.tar')], /^strata: -o .*tiny-commit\.docker\.tar: is the input image; write the optimized image elsewhere\n$/],
    [[fixture('tiny-commit.docker.tar'), '-o', '/proc/nope/out.tar'], /^strata: cannot write \/proc\/nope\/out\.tar: no such file or directory \(ENOENT\)\n$/],
    [[fixture('tiny-commit.docker.tar'), '-o', 'out-without-format'], /^strata: -o out-without-format: name the output as docker-archive:PATH/],
    [[fixture('tiny-commit.docker.tar')], /^strata: optimize: name the output with -o \(or use --dry-run\)\n$/],
    [['/nonexistent/image.tar', '-o', out('x.tar')], /^strata: \/nonexistent\/image\.tar: no such file or directory\n$/],
  ];
  for (const [args, message] of cases) {
    const r = await runStrata(['optimize', ...args]);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, message);
  }
  if (process.getuid?.() === 0) return; // root writes anywhere: the permission case needs a user
  const ro = out('ro');
  await mkdir(ro);
  await chmod(ro, 0o500);
  const r = await runStrata(['optimize', fixture('tiny-commit.docker.tar'), '-o', join(ro, 'o.tar')]);
  t.is(r.code, 2);
  t.regex(r.stderr, /^strata: cannot write .*ro\/o\.tar: permission denied \(EACCES\)\n$/);
});

test('the input reached through a symlinked directory, or an OCI layout through a link to it, is the input too: refused, the input untouched', async (t) => {
  const real = out('alias-real');
  await mkdir(real);
  const input = join(real, 'app.tar');
  await copyFile(fixture('tiny-commit.docker.tar'), input);
  const link = out('alias-link');
  await symlink(real, link);
  const before = await readFile(input);
  const r = await runStrata(['optimize', input, '-o', join(link, 'app.tar')]);
  t.is(r.code, 2);
  t.is(r.stderr, `strata: -o ${join(link, 'app.tar')}: is the input image; write the optimized image elsewhere\n`);
  t.deepEqual(await readFile(input), before);
  // a link named as the output file is replaced, not followed: that is not the input
  const asFile = join(real, 'named-link.tar');
  await symlink(input, asFile);
  t.is((await runStrata(['optimize', input, '-o', asFile])).code, 0);
  t.deepEqual(await readFile(input), before);
  // an OCI layout is written into, through a link to it
  const layout = out('alias-layout');
  t.is((await runStrata(['optimize', input, '-o', `oci:${layout}`])).code, 0);
  await symlink(layout, `${layout}-link`);
  const again = await runStrata(['optimize', layout, '-o', `oci:${layout}-link`]);
  t.is(again.code, 2);
  t.regex(again.stderr, /is the input image/);
});

test('an image that fails to read leaves no output and no temporary file', async (t) => {
  const src = out('cut.oci');
  await mkdir(src);
  const c = moreEdges[0];
  const archive = out('cut.oci.tar');
  await writeOciArchive(archive, { images: [{ layers: c.layers.map((entries) => ({ entries })) }] });
  await run('tar', ['-xf', archive, '-C', src]);
  const model = await read(`oci:${src}`);
  const { truncate } = await import('node:fs/promises');
  const blob = join(src, 'blobs', 'sha256', model.layers[4].digest.slice(7));
  await truncate(blob, 40);
  // a directory of its own: the other tests write (and clean up) their temporary files beside their outputs in `work`
  const alone = out('cut-result');
  await mkdir(alone);
  const target = join(alone, 'cut-result.tar');
  const r = await runStrata(['optimize', `oci:${src}`, '--base-layers', '1', '-o', target]);
  t.is(r.code, 2);
  t.regex(r.stderr, /^strata: .*layer 4.*\n$/);
  t.false(existsSync(target));
  t.deepEqual(readdirSync(alone), []);
});

test('push to a registry: blobs first, manifest last; skopeo pulls back the same image', async (t) => {
  const reg = await startRegistry();
  t.teardown(() => reg.stop());
  const s = await optimize(t, [fixture('tiny-overlay.oci.tar'), '-o', `docker://${reg.host}/slim/app:v1`]);
  t.is(s.after.layers, 6);
  const layout = out('pulled');
  await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${reg.host}/slim/app:v1`, `oci:${layout}:t`]);
  t.deepEqual(diskView(await read(`oci:${layout}:t`)), diskView(await read(fixture('tiny-overlay.oci.tar'))));
  // and strata reads it straight from the registry
  t.deepEqual(diskView(await read(`docker://${reg.host}/slim/app:v1`)), diskView(await read(fixture('tiny-overlay.oci.tar'))));
  // Docker media types in, Docker media types out; the kept base blob is not uploaded again
  await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--format', 'v2s2', `docker-archive:${fixture('tiny-overlay.skopeo-docker.tar')}`, `docker://${reg.host}/docker/app:v1`]);
  await optimize(t, [`docker://${reg.host}/docker/app:v1`, '-o', `docker://${reg.host}/docker/app:slim`]);
  const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/docker/app:slim`]);
  const manifest = JSON.parse(stdout);
  t.is(manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  t.deepEqual([...new Set(manifest.layers.map((l: { mediaType: string }) => l.mediaType))], ['application/vnd.docker.image.rootfs.diff.tar.gzip']);
  t.deepEqual(diskView(await read(`docker://${reg.host}/docker/app:slim`)), diskView(await read(fixture('tiny-overlay.skopeo-docker.tar'))));
});

test('a push that fails part way leaves the registry without the manifest: one line, exit 2', async (t) => {
  const reg = await startRegistry();
  t.teardown(() => reg.stop());
  const proxy = await startProxy(reg);
  t.teardown(() => proxy.stop());
  let posts = 0; // the registry's upload URLs name itself, not the proxy: the third upload is refused at its start
  proxy.fault = (req) => (req.method === 'POST' && req.path.includes('/blobs/uploads/') && ++posts === 3 ? { kind: 'status', status: 400, body: '{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"injected"}]}' } : undefined);
  const r = await runStrata(['optimize', fixture('tiny-overlay.oci.tar'), '-o', `docker://${proxy.host}/slim/app:v1`]);
  t.is(r.code, 2);
  // (buildah wrote a base annotation naming its local `localhost/tiny-base:1`: a note says it is not looked up)
  t.regex(r.stderr, /^strata: the base annotation names localhost\/tiny-base:1@sha256:[0-9a-f]{64}, not fetched \(--base-from-registry pulls it\); the base is read from the history\n/);
  t.regex(r.stderr, /\nstrata: 127\.0\.0\.1:\d+\/slim\/app: upload of blob sha256:[0-9a-f]{64}: HTTP 400 \(BLOB_UPLOAD_INVALID: injected\)\n$/);
  t.false(proxy.seen.some((q) => q.method === 'PUT' && q.path.includes('/manifests/')), 'no manifest was sent');
  const inspect = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/slim/app:v1`]).then(() => 'found', (e: Error) => e.message);
  t.regex(inspect, /manifest unknown|not found/i);
});

test("the base from the manifest's annotation (org.opencontainers.image.base.name/digest), pulled with --base-from-registry to count its layers; else the history, with a note", async (t) => {
  const reg = await startRegistry();
  t.teardown(() => reg.stop());
  const l0 = [dir('etc'), file('etc/os', 'base os')];
  const l1 = [dir('usr'), file('usr/tool', 'base tool')];
  const base = out('base.oci.tar');
  await writeOciArchive(base, { images: [{ layers: [{ entries: l0 }, { entries: l1 }] }] });
  await push(`oci-archive:${base}`, `${reg.host}/base:1`);
  const digest = JSON.parse((await run('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/base:1`])).stdout).Digest as string;
  const appArchive = out('app.oci.tar');
  await writeOciArchive(appArchive, { images: [{ layers: [{ entries: l0 }, { entries: l1 }, { entries: [file('tmp/x', 'x')] }, { entries: [whiteout('tmp/x'), file('app', 'a')] }] }] });
  const annotated = async (annotations: Record<string, string>) => {
    const layout = out('app');
    await mkdir(layout);
    await run('tar', ['-xf', appArchive, '-C', layout]);
    const blob = (d: string) => join(layout, 'blobs', 'sha256', d.slice(7));
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    const manifest = Buffer.from(JSON.stringify({ ...JSON.parse(readFileSync(blob(index.manifests[0].digest), 'utf8')), annotations }));
    const d = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    writeFileSync(blob(d), manifest);
    index.manifests[0] = { ...index.manifests[0], digest: d, size: manifest.length };
    writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
    return `oci:${layout}`;
  };
  const good = await runStrata(['optimize', await annotated({ 'org.opencontainers.image.base.name': `${reg.host}/base:1`, 'org.opencontainers.image.base.digest': digest }), '--base-from-registry', '--dry-run', '--json']);
  t.is(good.code, 0, good.stderr);
  t.like(JSON.parse(good.stdout), { baseLayers: 2, baseFrom: 'annotation' });
  const gone = await runStrata(['optimize', await annotated({ 'org.opencontainers.image.base.name': `${reg.host}/nowhere:1` }), '--base-from-registry', '--dry-run']);
  t.is(gone.code, 0, gone.stderr);
  t.regex(gone.stdout, /Kept base {3}layers 0-0 byte for byte \(read from the history\)/);
  t.regex(gone.stderr, /^strata: the base annotation names 127\.0\.0\.1:\d+\/nowhere:1, not usable \(.*not found.*\); the base is read from the history\n$/);
});
