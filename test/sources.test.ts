/**
 * Image sources on synthetic images: detection by content, forcing prefixes, tag selection,
 * stdin streaming, compressed `docker save` files, and platform selection.
 */
import test from 'ava';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { openImage } from '../src/sources/resolve.js';
import { readImage } from '../src/model/read-image.js';
import { listView } from '../src/model/views.js';
import { readRows } from '../src/scan/extract.js';
import { parsePlatform } from '../src/image/platform.js';
import {
  compressLayer, noise, docker25ArchiveFiles, dockerArchiveFiles, ociLayoutFiles, tarFiles, tempDir, writeDir, writeDockerArchive, writeOciArchive, writeOciLayout, writeTar,
  type ImageSpec,
} from './helpers/image-builder.js';
import { jsonLines, runStrata } from './helpers/cli.js';
import { TarWriter, dir, file, symlink, whiteout } from './helpers/tar-writer.js';

const app = (tag?: string, marker = 'x'): ImageSpec => ({
  tags: tag ? [tag] : undefined,
  layers: [
    { entries: [dir('etc'), file('etc/os-release', 'ID=synthetic\n'), symlink('etc/alias', 'os-release')] },
    { entries: [file('app/marker', marker), whiteout('etc/alias')] },
  ],
});

const listing = async (ref: string, platform?: string) => {
  const m = await readImage(await openImage(ref, { platform: platform ? parsePlatform(platform) : undefined }));
  return { image: m.image, view: [...listView(m)].map((e) => `${e.type} ${e.path} ${e.size}`) };
};

const expectedView = (marker = 'x') => ['dir /app 0', `file /app/marker ${marker.length}`, 'dir /etc 0', 'file /etc/os-release 13'];

function tmp(t: { teardown(fn: () => void): void }): string {
  const { dir: d, cleanup } = tempDir();
  t.teardown(cleanup);
  return d;
}

test('each format is detected by content, whatever the file is called', async (t) => {
  const d = tmp(t);
  writeOciLayout(`${d}/layout`, { images: [app()] });
  await writeOciArchive(`${d}/archive.bin`, { images: [app()] });
  await writeDockerArchive(`${d}/save.oci`, { images: [app('app:1')] });
  const layout = await listing(`${d}/layout`);
  const archive = await listing(`${d}/archive.bin`);
  const save = await listing(`${d}/save.oci`);
  t.is(layout.image.source, 'oci');
  t.is(archive.image.source, 'oci-archive');
  t.is(save.image.source, 'docker-archive');
  t.deepEqual(layout.view, expectedView());
  t.deepEqual(archive.view, expectedView());
  t.deepEqual(save.view, expectedView());
  t.deepEqual(save.image.tags, ['app:1']);
  // the legacy layers are plain tar, the OCI ones gzip
  t.is(save.image.layers[0].mediaType, undefined);
  t.is(layout.image.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
});

test('prefixes force a kind, and a wrong kind is an error naming the path', async (t) => {
  const d = tmp(t);
  writeOciLayout(`${d}/layout`, { images: [app()] });
  await writeOciArchive(`${d}/archive.tar`, { images: [app()] });
  await writeDockerArchive(`${d}/save.tar`, { images: [app()] });
  t.is((await listing(`oci:${d}/layout`)).image.source, 'oci');
  t.is((await listing(`oci-archive:${d}/archive.tar`)).image.source, 'oci-archive');
  t.is((await listing(`docker-archive:${d}/save.tar`)).image.source, 'docker-archive');
  await t.throwsAsync(openImage(`oci-archive:${d}/save.tar`), {
    message: `${d}/save.tar: not an OCI archive (no index.json): a docker save (manifest.json); use docker-archive: or no prefix`,
  });
  await t.throwsAsync(openImage(`docker-archive:${d}/archive.tar`), {
    message: `${d}/archive.tar: not a docker save (no manifest.json): an OCI archive (index.json); use oci-archive: or no prefix`,
  });
  // the same read as a stream (gzip-compressed)
  writeFileSync(`${d}/archive.tar.gz`, gzipSync(readFileSync(`${d}/archive.tar`)));
  await t.throwsAsync(openImage(`docker-archive:${d}/archive.tar.gz`), { message: /^.*archive\.tar\.gz: not a docker save \(no manifest\.json\): an OCI archive/ });
  await t.throwsAsync(openImage(`oci:${d}/archive.tar`), { message: `${d}/archive.tar: oci: expects a directory (use oci-archive: for a tar)` });
  await t.throwsAsync(openImage(`docker-archive:${d}/layout`), { message: `${d}/layout: is a directory, docker-archive: expects a file` });
});

test('PATH:tag and docker-archive:PATH:repo:tag select among several images', async (t) => {
  const d = tmp(t);
  await writeDockerArchive(`${d}/multi.tar`, { images: [app('app:v1', 'one'), app('app:v2', 'two!'), app('tools:latest', 'three')] });
  t.deepEqual((await listing(`${d}/multi.tar:app:v2`)).view, expectedView('two!'));
  t.deepEqual((await listing(`docker-archive:${d}/multi.tar:app:v1`)).view, expectedView('one'));
  t.deepEqual((await listing(`${d}/multi.tar:v1`)).view, expectedView('one'));
  t.deepEqual((await listing(`${d}/multi.tar:tools`)).view, expectedView('three'));
  t.deepEqual((await listing(`${d}/multi.tar:docker.io/library/tools:latest`)).view, expectedView('three'));
  await t.throwsAsync(openImage(`${d}/multi.tar`), {
    message: `${d}/multi.tar: holds 3 images, choose one by tag: app:v1, app:v2, tools:latest`,
  });
  await t.throwsAsync(openImage(`${d}/multi.tar:v3`), {
    message: `${d}/multi.tar: no image tagged "v3"; tags present: app:v1, app:v2, tools:latest`,
  });
});

test('a bare tag matching two repositories is ambiguous and the error lists the tags', async (t) => {
  const d = tmp(t);
  await writeDockerArchive(`${d}/two.tar`, { images: [app('app:latest', 'a'), app('tools:latest', 'b')] });
  await t.throwsAsync(openImage(`${d}/two.tar:latest`), {
    message: `${d}/two.tar: tag "latest" matches 2 images: app:latest, tools:latest`,
  });
  const r = await runStrata(['inspect', `${d}/two.tar`]);
  t.is(r.code, 2);
  t.is(r.stderr, `strata: ${d}/two.tar: holds 2 images, choose one by tag: app:latest, tools:latest\n`);
});

test('an OCI layout with several named images: DIR:name selects, no name lists them', async (t) => {
  const d = tmp(t);
  writeOciLayout(`${d}/layout`, { images: [app('v1', 'one'), app('v2', 'two!')] });
  t.deepEqual((await listing(`${d}/layout:v2`)).view, expectedView('two!'));
  t.deepEqual((await listing(`oci:${d}/layout:v1`)).view, expectedView('one'));
  await t.throwsAsync(openImage(`${d}/layout`), { message: `${d}/layout: holds 2 images, choose one by tag: v1, v2` });
});

/** A docker save whose two layers are > 1 MiB (scanned while streaming), the second repeated via symlink. */
function bigSave(manifestFirst = false) {
  const a = noise(1_200_000, 1);
  const b = noise(1_200_000, 2);
  return dockerArchiveFiles({
    manifestFirst,
    images: [{
      tags: ['big:1'],
      layers: [
        { entries: [file('opt/blob-a', a), file('opt/small', 's')] },
        { entries: [file('opt/blob-b', b), whiteout('opt/small')] },
        { entries: [file('opt/blob-a', a), file('opt/small', 's')] }, // same bytes as layer 0
      ],
    }],
  });
}

test('- reads a docker save from stdin with manifest.json last, large layers scanned while streaming (CLI)', async (t) => {
  const built = bigSave();
  const names = [...built.files.keys()];
  t.is(names[names.length - 2], 'manifest.json');
  t.deepEqual(built.files.get(built.layerPaths[0][2]), { symlink: `../${built.layerPaths[0][0].split('/')[0]}/layer.tar` });
  const archive = await tarFiles(built.files, { dirs: true });
  const d = tmp(t);
  writeFileSync(`${d}/big.tar`, archive);
  const fromStdin = await runStrata(['ls', '-', '--json'], { stdin: archive, timeoutMs: 60_000 });
  t.is(fromStdin.stderr, '');
  t.is(fromStdin.code, 0);
  const fromFile = await runStrata(['ls', `${d}/big.tar`, '--json']);
  t.is(fromFile.code, 0, fromFile.stderr);
  t.is(fromStdin.stdout, fromFile.stdout);
  t.deepEqual(jsonLines(fromStdin.stdout).map((e) => [e.path, e.size, e.layer]), [
    ['/opt', 0, 0], ['/opt/blob-a', 1_200_000, 2], ['/opt/blob-b', 1_200_000, 1], ['/opt/small', 1, 2],
  ]);
  const inspect = await runStrata(['inspect', '-', '--json'], { stdin: archive, timeoutMs: 60_000 });
  t.is(inspect.code, 0, inspect.stderr);
  const report = JSON.parse(inspect.stdout) as { image: { source: string; tags: string[] }; layers: { diffId: string }[] };
  t.is(report.image.source, 'docker-archive-stdin');
  t.deepEqual(report.image.tags, ['big:1']);
  t.deepEqual(report.layers.map((l) => l.diffId), built.images[0].layers.map((l) => l.diffId));
});

test('- with manifest.json first, through the API with a substituted stdin', async (t) => {
  const archive = await tarFiles(bigSave(true).files, { dirs: true });
  const chunks = async function* () {
    for (let i = 0; i < archive.length; i += 65536) yield archive.subarray(i, i + 65536);
  };
  const m = await readImage(await openImage('-', { stdin: chunks() }));
  t.deepEqual([...listView(m)].map((e) => e.path), ['/opt', '/opt/blob-a', '/opt/blob-b', '/opt/small']);
  t.is(m.layers[2].diffId, m.layers[0].diffId);
});

test('a gzip-compressed docker save file is read as a stream', async (t) => {
  const d = tmp(t);
  const built = dockerArchiveFiles({ images: [app('app:gz')] });
  writeFileSync(`${d}/app.tar.gz`, gzipSync(await tarFiles(built.files, { dirs: true })));
  const { image, view } = await listing(`${d}/app.tar.gz`);
  t.is(image.source, 'docker-archive');
  t.deepEqual(image.tags, ['app:gz']);
  t.deepEqual(view, expectedView());
  // and from stdin through the binary
  const r = await runStrata(['ls', '-', '--json'], { stdin: gzipSync(await tarFiles(built.files)) });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(jsonLines(r.stdout).map((e) => e.path), ['/app', '/app/marker', '/etc', '/etc/os-release']);
});

test('content of a large layer of a gzip-compressed save: read again from the file; from stdin it cannot be', async (t) => {
  const d = tmp(t);
  const archive = gzipSync(await tarFiles(bigSave().files, { dirs: true }));
  writeFileSync(`${d}/big.tar.gz`, archive);
  const m = await readImage(await openImage(`${d}/big.tar.gz`));
  const rowOf = (L: number, path: string) => m.layers[L].records.path.indexOf(path);
  // layer 1 (blob-b) and layer 2 (the same blob as layer 0, stored once in the archive)
  const b = await readRows(m.image, 1, [rowOf(1, 'opt/blob-b')]);
  t.deepEqual(b.get(rowOf(1, 'opt/blob-b')), noise(1_200_000, 2));
  const a = await readRows(m.image, 2, [rowOf(2, 'opt/blob-a')]);
  t.deepEqual(a.get(rowOf(2, 'opt/blob-a')), noise(1_200_000, 1));
  // the CLI: a content diff between the compressed save and itself read as stdin is not possible...
  const r = await runStrata(['diff', '-', `${d}/big.tar.gz`, '--file', '/opt/blob-b', '--file', '/opt/small'], { stdin: archive, timeoutMs: 60_000 });
  t.is(r.code, 0, r.stderr); // ... unless both sides hold the same content (nothing to read)
  const s = await readImage(await openImage('-', { stdin: (async function* () { yield archive; })() }));
  await t.throwsAsync(readRows(s.image, 1, [0]), {
    message: /^layer 1 \([0-9a-f]+…\): stdin: [0-9a-f]{64}\/layer\.tar passed once and was not kept \(a stream cannot be read again: save the image to a file for file contents\)$/,
  });
});

const arch = (architecture: string, variant?: string): ImageSpec => ({
  platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  layers: [{ entries: [file('etc/build-arch', `${architecture}${variant ? `/${variant}` : ''}`)] }],
});

async function archOf(ref: string, platform?: string): Promise<string> {
  const m = await readImage(await openImage(ref, { platform: platform ? parsePlatform(platform) : undefined }));
  return `${m.image.platform.architecture}${m.image.platform.variant ? `/${m.image.platform.variant}` : ''} ${m.layers[0].records.size[0]}`;
}

for (const nested of [false, true]) {
  test(`--platform picks from a multi-platform index${nested ? ' nested in index.json' : ''}, skipping the attestation`, async (t) => {
    const d = tmp(t);
    const built = writeOciLayout(`${d}/multi`, {
      images: [arch('amd64'), arch('arm64', 'v8'), arch('arm', 'v7')],
      multiPlatform: { nested, attestation: true },
    });
    t.is(built.indexDigest !== undefined, nested);
    const ref = `${d}/multi`;
    t.is(await archOf(ref), 'amd64 5');
    t.is(await archOf(ref, 'linux/amd64'), 'amd64 5');
    t.is(await archOf(ref, 'linux/arm64'), 'arm64 8'); // the descriptor says arm64/v8: normalised alike
    t.is(await archOf(ref, 'linux/arm64/v8'), 'arm64 8');
    t.is(await archOf(ref, 'linux/aarch64'), 'arm64 8');
    t.is(await archOf(ref, 'linux/arm'), 'arm/v7 6');
    await t.throwsAsync(openImage(ref, { platform: parsePlatform('linux/s390x') }), {
      message: `${ref}: no image for platform linux/s390x; available: linux/amd64, linux/arm64, linux/arm/v7 (choose with --platform)`,
    });
    const r = await runStrata(['ls', ref, '--platform', 'linux/riscv64', '--json']);
    t.is(r.code, 2);
    t.is(r.stderr, `strata: ${ref}: no image for platform linux/riscv64; available: linux/amd64, linux/arm64, linux/arm/v7 (choose with --platform)\n`);
    const ok = await runStrata(['ls', ref, '--platform', 'linux/arm64/v8', '--json']);
    t.is(ok.code, 0, ok.stderr);
    t.deepEqual(jsonLines(ok.stdout).map((e) => [e.path, e.size]), [['/etc', 0], ['/etc/build-arch', 8]]);
  });
}

test('an index of one image plus its attestation: the image is used whatever its platform, unless --platform says otherwise', async (t) => {
  const d = tmp(t);
  writeOciLayout(`${d}/one`, { images: [arch('arm64', 'v8')], multiPlatform: { attestation: true } });
  t.is(await archOf(`${d}/one`), 'arm64 8');
  await t.throwsAsync(openImage(`${d}/one`, { platform: parsePlatform('linux/amd64') }), {
    message: `${d}/one: no image for platform linux/amd64; available: linux/arm64 (choose with --platform)`,
  });
});

test('--platform on a single-platform docker save: a mismatch is an error, a match (after normalising) is fine', async (t) => {
  const d = tmp(t);
  await writeDockerArchive(`${d}/arm.tar`, { images: [arch('arm64', 'v8')] });
  t.is(await archOf(`${d}/arm.tar`, 'linux/arm64'), 'arm64 8');
  await t.throwsAsync(openImage(`${d}/arm.tar`, { platform: parsePlatform('linux/amd64') }), {
    message: `${d}/arm.tar: the image is linux/arm64, not linux/amd64`,
  });
});

test('a layout directory whose name holds a colon: the existing path wins, the rest is the tag', async (t) => {
  const d = tmp(t);
  const built = ociLayoutFiles({ images: [app('v1')] });
  writeDir(`${d}/with:colon`, built.files);
  t.deepEqual((await listing(`${d}/with:colon`)).view, expectedView());
  t.deepEqual((await listing(`${d}/with:colon:v1`)).view, expectedView());
  renameSync(`${d}/with:colon`, `${d}/plain`);
  await t.throwsAsync(openImage(`${d}/with:colon`), { message: `${d}/with:colon: no such file or directory` });
});

test('a Docker 25+ save (OCI layout plus manifest.json) is a docker-archive with the OCI manifest digest and media types', async (t) => {
  const d = tmp(t);
  const built = docker25ArchiveFiles({ images: [app('app:25')] });
  await writeTar(`${d}/save25.tar`, built.files);
  const { image, view } = await listing(`${d}/save25.tar`);
  t.is(image.source, 'docker-archive');
  t.deepEqual(image.tags, ['app:25']);
  t.is(image.manifestDigest, built.images[0].manifestDigest);
  t.is(image.configDigest, built.images[0].configDigest);
  t.deepEqual(image.layers.map((l) => l.mediaType), ['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar+gzip']);
  t.deepEqual(view, expectedView());
});

test('- reads an OCI archive from stdin too, large gzip layers scanned while streaming', async (t) => {
  const spec = app();
  spec.layers.push({ entries: [file('opt/big', noise(1_300_000, 3))] });
  const built = ociLayoutFiles({ images: [spec] });
  t.true(built.images[0].layers[2].blob.length > 1024 * 1024);
  const r = await runStrata(['ls', '-', '--json'], { stdin: await tarFiles(built.files) });
  t.is(r.stderr, '');
  t.is(r.code, 0);
  t.deepEqual(jsonLines(r.stdout).map((e) => [e.path, e.size]), [
    ['/app', 0], ['/app/marker', 1], ['/etc', 0], ['/etc/os-release', 13], ['/opt', 0], ['/opt/big', 1_300_000],
  ]);
});

test('a gzip-compressed OCI archive file is detected by content too', async (t) => {
  const d = tmp(t);
  writeFileSync(`${d}/oci.tar.gz`, gzipSync(await tarFiles(ociLayoutFiles({ images: [app()] }).files)));
  const { image, view } = await listing(`${d}/oci.tar.gz`);
  t.is(image.source, 'oci-archive');
  t.deepEqual(view, expectedView());
});

test('an OCI archive made by `tar -C layout -cf x.tar .`: "./" names and directory entries', async (t) => {
  const d = tmp(t);
  const w = new TarWriter().entry(dir('./')).entry(dir('./blobs')).entry(dir('./blobs/sha256'));
  for (const [p, c] of ociLayoutFiles({ images: [app()] }).files) w.entry(file(`./${p}`, c as Buffer));
  writeFileSync(`${d}/dot.tar`, w.end().toBuffer());
  const { image, view } = await listing(`${d}/dot.tar`);
  t.is(image.source, 'oci-archive');
  t.deepEqual(view, expectedView());
});

test('an image without layers: inspect works, ls is empty, ls --layer is refused', async (t) => {
  const d = tmp(t);
  await writeDockerArchive(`${d}/scratch.tar`, { images: [{ layers: [], tags: ['scratch:1'] }] });
  const inspect = await runStrata(['inspect', `${d}/scratch.tar`, '--json']);
  t.is(inspect.code, 0, inspect.stderr);
  const report = JSON.parse(inspect.stdout) as { layers: unknown[]; summary: { finalEntries: number; finalSize: number } };
  t.deepEqual([report.layers.length, report.summary.finalEntries, report.summary.finalSize], [0, 0, 0]);
  const ls = await runStrata(['ls', `${d}/scratch.tar`]);
  t.deepEqual([ls.code, ls.stdout, ls.stderr], [0, '', '']);
  const bad = await runStrata(['ls', `${d}/scratch.tar`, '--layer', '0']);
  t.deepEqual([bad.code, bad.stderr], [2, 'strata: --layer 0: the image has no layers\n']);
});

test('a zstd-compressed docker save, as a file and on stdin', async (t) => {
  const d = tmp(t);
  const zst = compressLayer(await tarFiles(dockerArchiveFiles({ images: [app('app:zst')] }).files, { dirs: true }), 'zstd');
  writeFileSync(`${d}/app.tar.zst`, zst);
  const { image, view } = await listing(`${d}/app.tar.zst`);
  t.deepEqual([image.source, image.tags], ['docker-archive', ['app:zst']]);
  t.deepEqual(view, expectedView());
  const r = await runStrata(['ls', '-', '--json'], { stdin: zst });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(jsonLines(r.stdout).map((e) => e.path), ['/app', '/app/marker', '/etc', '/etc/os-release']);
});

test('a tagged multi-platform index beside another tagged image: DIR:tag then --platform', async (t) => {
  const d = tmp(t);
  const multi = ociLayoutFiles({ images: [arch('amd64'), arch('arm64', 'v8')], multiPlatform: { nested: true, attestation: true, tag: 'multi' } });
  const single = ociLayoutFiles({ images: [{ ...arch('riscv64'), tags: ['single'] }] });
  const files = new Map([...multi.files, ...single.files]);
  const index = (b: typeof multi) => JSON.parse((b.files.get('index.json') as Buffer).toString()) as { manifests: object[] };
  files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [...index(multi).manifests, ...index(single).manifests] })));
  writeDir(`${d}/both`, files);
  t.is(await archOf(`${d}/both:multi`, 'linux/arm64'), 'arm64 8');
  t.is(await archOf(`${d}/both:multi`), 'amd64 5');
  t.is(await archOf(`${d}/both:single`), 'riscv64 7');
  await t.throwsAsync(openImage(`${d}/both`), { message: `${d}/both: holds 2 images, choose one by tag: multi, single` });
  await t.throwsAsync(openImage(`${d}/both:multi`, { platform: parsePlatform('linux/riscv64') }), {
    message: `${d}/both: no image for platform linux/riscv64; available: linux/amd64, linux/arm64 (choose with --platform)`,
  });
});

test('tags with a registry host and port select by full name or bare tag', async (t) => {
  const d = tmp(t);
  await writeDockerArchive(`${d}/reg.tar`, { images: [app('localhost:5000/team/app:v1', 'one'), app('localhost:5000/team/app:v2', 'two!')] });
  t.deepEqual((await listing(`${d}/reg.tar:localhost:5000/team/app:v2`)).view, expectedView('two!'));
  t.deepEqual((await listing(`docker-archive:${d}/reg.tar:v1`)).view, expectedView('one'));
});

test('an outer archive whose member names come from GNU long-name and PAX path records', async (t) => {
  const d = tmp(t);
  const w = new TarWriter();
  let n = 0;
  for (const [p, c] of ociLayoutFiles({ images: [app()] }).files) {
    const deep = `./${p}`;
    w.entry(n++ % 2 ? { ...file(deep, c as Buffer), gnuLongName: true } : { ...file('x', c as Buffer), pax: { path: deep, mtime: '1700000000.25' } });
  }
  writeFileSync(`${d}/long.tar`, w.end().toBuffer());
  const { image, view } = await listing(`${d}/long.tar`);
  t.is(image.source, 'oci-archive');
  t.deepEqual(view, expectedView());
  const r = await runStrata(['ls', '-', '--json'], { stdin: w.toBuffer() });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(jsonLines(r.stdout).map((e) => e.path), ['/app', '/app/marker', '/etc', '/etc/os-release']);
});

test('docker-archive:-:TAG picks one image of a multi-image archive on stdin', async (t) => {
  const archive = await tarFiles(dockerArchiveFiles({ images: [app('app:v1', 'one'), app('app:v2', 'two!')] }).files);
  const r = await runStrata(['ls', 'docker-archive:-:app:v2', '--json'], { stdin: archive });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(jsonLines(r.stdout).map((e) => [e.path, e.size]), [['/app', 0], ['/app/marker', 4], ['/etc', 0], ['/etc/os-release', 13]]);
  const none = await runStrata(['ls', '-'], { stdin: archive });
  t.deepEqual([none.code, none.stderr], [2, 'strata: stdin: holds 2 images, choose one by tag: app:v1, app:v2\n']);
  const oci = await tarFiles(ociLayoutFiles({ images: [app('v1', 'one'), app('v2', 'two!')] }).files);
  const m = await readImage(await openImage('oci-archive:-:v1', { stdin: (async function* () { yield oci; })() }));
  t.deepEqual([...listView(m)].map((e) => `${e.type} ${e.path} ${e.size}`), expectedView('one'));
});

test('a pipe path (bash process substitution) is read as a stream: docker save, gzip-compressed OCI archive', async (t) => {
  const d = tmp(t);
  await writeDockerArchive(`${d}/save.tar`, { images: [app('app:pipe')] });
  const r = await runStrata(['ls', '--json'], { pipeFrom: `${d}/save.tar` });
  t.is(r.stderr, '');
  t.is(r.code, 0);
  t.deepEqual(jsonLines(r.stdout).map((e) => e.path), ['/app', '/app/marker', '/etc', '/etc/os-release']);
  writeFileSync(`${d}/oci.tar.gz`, gzipSync(await tarFiles(ociLayoutFiles({ images: [app()] }).files)));
  const i = await runStrata(['inspect', '--json'], { pipeFrom: `${d}/oci.tar.gz` });
  t.is(i.code, 0, i.stderr);
  t.is((JSON.parse(i.stdout) as { image: { source: string } }).image.source, 'oci-archive');
});
