/**
 * Bad input, through the real binary: each case must exit 2 with exactly one stderr line
 * `strata: …` naming the file or layer, no stack trace, nothing on stdout, and no hang.
 */
import test, { type ExecutionContext } from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import {
  blobPath, noise, dockerArchiveFiles, ociLayoutFiles, sha256, tarFiles, tempDir, writeDir, writeTar,
  type BuiltLayout, type ImageSpec, type LayerSpec,
} from './helpers/image-builder.js';
import { runStrata } from './helpers/cli.js';
import { TarWriter, file, tar } from './helpers/tar-writer.js';

function tmp(t: ExecutionContext): string {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  return dir;
}

/** Run `strata inspect ARGS` and check the one-line failure; returns the message after `strata: `. */
async function fails(t: ExecutionContext, ref: string, opts: { stdin?: Buffer; pipeFrom?: string } = {}): Promise<string> {
  const r = await runStrata(opts.pipeFrom === undefined ? ['inspect', ref] : ['inspect'], { ...opts, timeoutMs: 60_000 });
  t.false(r.timedOut, 'strata hung');
  t.is(r.code, 2);
  t.is(r.stdout, '');
  t.true(r.stderr.endsWith('\n'), r.stderr);
  const lines = r.stderr.slice(0, -1).split('\n');
  t.is(lines.length, 1, r.stderr);
  t.true(lines[0].startsWith('strata: '), r.stderr);
  t.false(lines[0].includes('internal error'), r.stderr);
  t.false(/\n\s+at /.test(r.stderr), r.stderr);
  return lines[0].slice('strata: '.length);
}

const okLayer = (): LayerSpec => ({ entries: [file('etc/motd', 'hello\n')] });
const where = (path: string) => (path.length > 40 ? `${path.slice(0, 37)}…` : path);
const layerAt = (i: number, digest: string) => `layer ${i} (${where(blobPath(digest))})`;

/** Store a manifest blob under its digest and make index.json list only it. */
function pointIndexAt(b: BuiltLayout, manifest: Buffer): void {
  b.files.set(blobPath(sha256(manifest)), manifest);
  b.files.set('index.json', Buffer.from(JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length }],
  })));
}

function layout(t: ExecutionContext, spec: ImageSpec, mutate?: (b: BuiltLayout) => void): { dir: string; built: BuiltLayout } {
  const built = ociLayoutFiles({ images: [spec] });
  mutate?.(built);
  const dir = writeDir(`${tmp(t)}/layout`, built.files);
  return { dir, built };
}

// ---- layers --------------------------------------------------------------------------------------

test('truncated tar layer (gzip, cut inside file data)', async (t) => {
  const whole = tar([file('etc/passwd', 'x'.repeat(900)), file('etc/group', 'g')]);
  const { dir, built } = layout(t, { layers: [okLayer(), { tar: whole.subarray(0, 700) }] });
  t.is(await fails(t, dir), `${layerAt(1, built.images[0].layers[1].digest)}: truncated tar: stream ended at byte 700 inside an entry`);
});

test('truncated tar layer (plain, cut inside a header) in a docker save', async (t) => {
  const whole = tar([file('a', 'a'), file('b', 'b')]);
  const built = dockerArchiveFiles({ images: [{ layers: [{ tar: whole.subarray(0, 1024 + 300) }] }] });
  const path = await writeTar(`${tmp(t)}/save.tar`, built.files, { dirs: true });
  t.is(await fails(t, path), `layer 0 (${where(built.layerPaths[0][0])}): truncated tar: stream ended at byte 1324 inside an entry`);
});

test('truncated tar layer larger than 1 MiB, read from stdin while streaming', async (t) => {
  const whole = tar([file('big', noise(1_500_000, 1)), file('after', 'a')]);
  const built = dockerArchiveFiles({ images: [{ layers: [okLayer(), { tar: whole.subarray(0, 1_200_000) }] }] });
  const archive = await tarFiles(built.files, { dirs: true });
  t.is(await fails(t, '-', { stdin: archive }), `layer 1 (${where(built.layerPaths[0][1])}): truncated tar: stream ended at byte 1200000 inside an entry`);
});

test('corrupt gzip layer', async (t) => {
  const mangle = (b: Buffer) => {
    const c = Buffer.from(b);
    for (let i = 20; i < 60; i++) c[i] ^= 0x5a;
    return c;
  };
  const { dir, built } = layout(t, { layers: [{ entries: [file('data', noise(4000, 2).toString('hex'))], mangle }] });
  const msg = await fails(t, dir);
  t.true(msg.startsWith(`${layerAt(0, built.images[0].layers[0].digest)}: corrupt gzip data: `), msg);
});

test('gzip layer with a bad CRC trailer', async (t) => {
  const mangle = (b: Buffer) => {
    const c = Buffer.from(b);
    c[c.length - 6] ^= 0xff;
    return c;
  };
  const { dir, built } = layout(t, { layers: [{ entries: [file('data', 'crc')], mangle }] });
  const msg = await fails(t, dir);
  t.true(msg.startsWith(`${layerAt(0, built.images[0].layers[0].digest)}: corrupt gzip data: `), msg);
});

test('corrupt zstd layer', async (t) => {
  const mangle = (b: Buffer) => {
    const c = Buffer.from(b);
    for (let i = 12; i < c.length - 8; i++) c[i] ^= 0xa5;
    return c;
  };
  const { dir, built } = layout(t, { layers: [{ entries: [file('data', noise(3000, 3).toString('base64'))], compression: 'zstd', mangle }] });
  const msg = await fails(t, dir);
  t.true(msg.startsWith(`${layerAt(0, built.images[0].layers[0].digest)}: corrupt zstd data: `), msg);
});

test('truncated zstd layer', async (t) => {
  const mangle = (b: Buffer) => b.subarray(0, Math.floor(b.length / 2));
  const { dir, built } = layout(t, { layers: [{ entries: [file('data', noise(30000, 4))], compression: 'zstd', mangle }] });
  t.is(await fails(t, dir), `${layerAt(0, built.images[0].layers[0].digest)}: corrupt zstd data: Stream ended in middle of compressed data frame`);
});

test('truncated gzip layer', async (t) => {
  const mangle = (b: Buffer) => b.subarray(0, Math.floor(b.length / 2));
  const { dir, built } = layout(t, { layers: [okLayer(), { entries: [file('data', noise(30000, 5))], mangle }] });
  t.is(await fails(t, dir), `${layerAt(1, built.images[0].layers[1].digest)}: corrupt gzip data: unexpected end of file`);
});

test('blob digest mismatch', async (t) => {
  const other = ociLayoutFiles({ images: [{ layers: [{ entries: [file('etc/motd', 'HELLO\n')] }] }] }).images[0].layers[0].blob;
  const { dir, built } = layout(t, { layers: [okLayer()] }, (b) => b.files.set(blobPath(b.images[0].layers[0].digest), other));
  const d = built.images[0].layers[0].digest;
  t.is(await fails(t, dir), `${layerAt(0, d)}: blob digest mismatch: expected ${d}, got ${sha256(other)}`);
});

test('blob size differs from the descriptor', async (t) => {
  const { dir, built } = layout(t, { layers: [okLayer()] }, (b) => {
    const m = JSON.parse(b.images[0].manifest.toString());
    m.layers[0].size += 1;
    pointIndexAt(b, Buffer.from(JSON.stringify(m)));
  });
  const l = built.images[0].layers[0];
  t.is(await fails(t, dir), `${layerAt(0, l.digest)}: size mismatch: manifest says ${l.blob.length + 1} bytes, blob has ${l.blob.length}`);
});

test('diff_id mismatch (OCI layout and docker save)', async (t) => {
  const wrong = `sha256:${'0'.repeat(64)}`;
  const spec: ImageSpec = { layers: [okLayer()], config: { rootfs: { type: 'layers', diff_ids: [wrong] } } };
  const { dir, built } = layout(t, spec);
  const l = built.images[0].layers[0];
  t.is(await fails(t, dir), `${layerAt(0, l.digest)}: diff_id (sha256 of the uncompressed layer) mismatch: expected ${wrong}, got ${l.diffId}`);
  const save = dockerArchiveFiles({ images: [spec] });
  const path = await writeTar(`${tmp(t)}/save.tar`, save.files);
  t.is(await fails(t, path), `layer 0 (${where(save.layerPaths[0][0])}): diff_id (sha256 of the uncompressed layer) mismatch: expected ${wrong}, got ${l.diffId}`);
});

test('missing layer blob, missing config blob, missing docker layer.tar', async (t) => {
  const a = layout(t, { layers: [okLayer()] }, (b) => b.files.delete(blobPath(b.images[0].layers[0].digest)));
  t.is(await fails(t, a.dir), `${a.dir}: missing blob ${a.built.images[0].layers[0].digest} (layer 0)`);
  const b = layout(t, { layers: [okLayer()] }, (x) => x.files.delete(blobPath(x.images[0].configDigest)));
  t.is(await fails(t, b.dir), `${b.dir}: missing blob ${b.built.images[0].configDigest} (config)`);
  const save = dockerArchiveFiles({ images: [{ layers: [okLayer(), { entries: [file('x', 'x')] }] }] });
  save.files.delete(save.layerPaths[0][1]);
  const path = await writeTar(`${tmp(t)}/save.tar`, save.files);
  t.is(await fails(t, path), `${path}: missing layer 1 (${save.layerPaths[0][1]})`);
});

test('malformed JSON: index.json, manifest, config, manifest.json', async (t) => {
  const garbage = Buffer.from('{"schemaVersion": 2, "manifests": [');
  const idx = layout(t, { layers: [okLayer()] }, (b) => b.files.set('index.json', garbage));
  t.is(await fails(t, idx.dir), `${idx.dir}/index.json: not valid JSON at byte ${garbage.length} (end of input)`);
  // the parser's message quotes the input, here with its line break: still one line
  const text = layout(t, { layers: [okLayer()] }, (b) => b.files.set('index.json', Buffer.from('nope\n')));
  t.is(await fails(t, text.dir), `${text.dir}/index.json: not valid JSON at byte 0 ("nope\\n")`);
  // blobs are content-addressed: the malformed ones are stored under their own digest
  const man = layout(t, { layers: [okLayer()] }, (b) => pointIndexAt(b, garbage));
  t.is(await fails(t, man.dir), `${man.dir} manifest ${sha256(garbage)}: not valid JSON at byte ${garbage.length} (end of input)`);
  const cfg = layout(t, { layers: [okLayer()] }, (b) => {
    b.files.set(blobPath(sha256(garbage)), garbage);
    const m = JSON.parse(b.images[0].manifest.toString());
    m.config = { ...m.config, digest: sha256(garbage), size: garbage.length };
    pointIndexAt(b, Buffer.from(JSON.stringify(m)));
  });
  t.is(await fails(t, cfg.dir), `${cfg.dir} config ${sha256(garbage)}: not valid JSON at byte ${garbage.length} (end of input)`);
  const save = dockerArchiveFiles({ images: [{ layers: [okLayer()] }] });
  save.files.set('manifest.json', Buffer.from('[{"Config": '));
  const path = await writeTar(`${tmp(t)}/save.tar`, save.files);
  t.is(await fails(t, path), `${path}: manifest.json: not valid JSON at byte 12 (end of input)`);
});

test('well-formed JSON of the wrong shape', async (t) => {
  const idx = layout(t, { layers: [okLayer()] }, (b) => b.files.set('index.json', Buffer.from('{"schemaVersion": 2}')));
  t.is(await fails(t, idx.dir), `${idx.dir}/index.json: manifests is missing (expected an array)`);
  const cfg = layout(t, { layers: [okLayer()], config: { rootfs: undefined } });
  t.is(await fails(t, cfg.dir), `${cfg.dir} config ${cfg.built.images[0].configDigest}: rootfs is missing (expected an object)`);
  const save = dockerArchiveFiles({ images: [{ layers: [okLayer()] }] });
  save.files.set('manifest.json', Buffer.from('{"Config": "x.json"}'));
  const path = await writeTar(`${tmp(t)}/save.tar`, save.files);
  t.is(await fails(t, path), `${path}: manifest.json: must be an array, not an object`);
});

test('an image config whose fields strata reads have the wrong JSON type', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ history: 'x' }, 'history must be an array, not a string'],
    [{ history: [null] }, 'history[0] must be an object, not null'],
    [{ history: [{ created_by: 7 }] }, 'history[0].created_by must be a string, not a number'],
    [{ history: [{ empty_layer: 'yes' }] }, 'history[0].empty_layer must be true or false, not a string'],
    [{ created: 5 }, 'created must be a string, not a number'],
    [{ config: { Env: 'notarray' } }, 'config.Env must be an array, not a string'],
    [{ config: { Env: [1, 2] } }, 'config.Env[0] must be a string, not a number'],
    [{ config: { User: 1000 } }, 'config.User must be a string, not a number'],
    [{ config: { ExposedPorts: '80' } }, 'config.ExposedPorts must be an object, not a string'],
    [{ config: { Labels: { a: 1 } } }, 'config.Labels.a must be a string, not a number'],
  ];
  for (const [config, message] of cases) {
    const { dir, built } = layout(t, { layers: [okLayer()], config });
    t.is(await fails(t, dir), `${dir} config ${built.images[0].configDigest}: ${message}`);
  }
  // null stands for absent, as Docker writes it
  const { dir } = layout(t, { layers: [okLayer()], config: { history: null, config: { Env: null, Cmd: null, Labels: null, ExposedPorts: null } } });
  t.is((await runStrata(['inspect', '--no-cache', dir])).code, 0);
});

test('unknown layer media type', async (t) => {
  const mt = 'application/vnd.example.layer.v1.squashfs';
  const { dir, built } = layout(t, { layers: [{ ...okLayer(), mediaType: mt }] });
  t.is(await fails(t, dir), `${dir} manifest ${built.images[0].manifestDigest}: layer 0 has unknown media type ${mt}`);
});

test('an artifact (config media type not an image config)', async (t) => {
  const mt = 'application/vnd.cncf.helm.config.v1+json';
  const { dir, built } = layout(t, { layers: [okLayer()], configMediaType: mt });
  t.is(await fails(t, dir), `${dir} manifest ${built.images[0].manifestDigest}: an artifact, not a container image (config media type ${mt})`);
});

test('a Docker schema 1 manifest', async (t) => {
  const schema1 = Buffer.from(JSON.stringify({
    schemaVersion: 1, name: 'library/old', tag: 'latest', architecture: 'amd64',
    fsLayers: [{ blobSum: `sha256:${'a'.repeat(64)}` }], history: [{ v1Compatibility: '{}' }],
  }));
  const d = sha256(schema1);
  const { dir } = layout(t, { layers: [okLayer()] }, (b) => {
    b.files.set(blobPath(d), schema1);
    b.files.set('index.json', Buffer.from(JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws', digest: d, size: schema1.length }],
    })));
  });
  t.is(await fails(t, dir), `${dir} manifest ${d}: Docker schema 1 manifests are not supported (deprecated since 2017); re-push the image with a current client`);
});

// ---- not images ----------------------------------------------------------------------------------

test('not an image: random bytes, an empty file, a text file', async (t) => {
  const d = tmp(t);
  const rnd = noise(100_000, 6);
  rnd[0] = 0x42; // not a gzip or zstd magic
  writeFileSync(`${d}/random.bin`, rnd);
  writeFileSync(`${d}/empty`, Buffer.alloc(0));
  writeFileSync(`${d}/notes.txt`, 'FROM alpine\nRUN echo hello\n'.repeat(50));
  for (const f of ['random.bin', 'empty', 'notes.txt']) {
    t.is(await fails(t, `${d}/${f}`), `${d}/${f}: not an image (expected a tar archive or an OCI layout directory)`);
  }
});

test('not an image: a tar of ordinary files, gzip of text, zstd-looking garbage', async (t) => {
  const d = tmp(t);
  writeFileSync(`${d}/files.tar`, tar([file('README', 'hi'), file('src/main.c', 'int main(){}')]));
  t.is(await fails(t, `${d}/files.tar`), `${d}/files.tar: not an image archive (no manifest.json or index.json)`);
  writeFileSync(`${d}/text.gz`, gzipSync('just some text, not a tar\n'.repeat(40)));
  t.regex(await fails(t, `${d}/text.gz`), new RegExp(`^${escape(d)}/text.gz: not a readable tar archive \\(.+\\)$`));
  const zstdish = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), noise(2000, 7)]);
  writeFileSync(`${d}/junk.zst`, zstdish);
  t.regex(await fails(t, `${d}/junk.zst`), new RegExp(`^${escape(d)}/junk.zst: `));
});

test('not an image on stdin: empty input, random bytes, a tar of ordinary files', async (t) => {
  t.is(await fails(t, '-', { stdin: Buffer.alloc(0) }), 'stdin: empty input, expected an image archive');
  const rnd = noise(50_000, 8);
  rnd[0] = 0x42;
  t.regex(await fails(t, '-', { stdin: rnd }), /^stdin: not a readable tar archive \(.+\)$/);
  t.is(await fails(t, '-', { stdin: tar([file('README', 'hi')]) }), 'stdin: not an image archive (no manifest.json or index.json)');
});

test('unreadable paths: nonexistent, a directory without index.json', async (t) => {
  const d = tmp(t);
  t.is(await fails(t, `${d}/nope.tar`), `${d}/nope.tar: no such file or directory`);
  mkdirSync(`${d}/empty-dir`);
  writeFileSync(`${d}/empty-dir/manifest.json`, '[]');
  t.is(await fails(t, `${d}/empty-dir`), `${d}/empty-dir: not an OCI image layout (no index.json)`);
});

// ---- archives ------------------------------------------------------------------------------------

test('truncated outer archive: file and stdin', async (t) => {
  const built = dockerArchiveFiles({ images: [{ layers: [{ entries: [file('blob', noise(200_000, 9))] }] }] });
  const archive = await tarFiles(built.files, { dirs: true });
  const start = archive.indexOf(built.images[0].layers[0].blob.subarray(0, 512));
  const cut = archive.subarray(0, start + 100_000);
  const d = tmp(t);
  writeFileSync(`${d}/cut.tar`, cut);
  t.is(await fails(t, `${d}/cut.tar`), `${d}/cut.tar: truncated tar: ${built.layerPaths[0][0]} needs ${built.images[0].layers[0].blob.length} bytes, the file ends 100000 bytes in`);
  t.regex(await fails(t, '-', { stdin: cut }), /^stdin: not a readable tar archive \(.+\)$/);
  // cut inside the fourth header: <id>/ dir, <id>/VERSION + its data block, then <id>/json
  writeFileSync(`${d}/cut-header.tar`, archive.subarray(0, 3 * 512 + 100));
  t.is(await fails(t, `${d}/cut-header.tar`), `${d}/cut-header.tar: truncated tar (header at byte 1536 cut short)`);
});

test('path traversal: an outer archive entry and a layer entry', async (t) => {
  const d = tmp(t);
  const outer = new TarWriter().entry(file('manifest.json', '[]')).entry(file('../../etc/cron.d/evil', 'x')).end().toBuffer();
  writeFileSync(`${d}/evil.tar`, outer);
  t.is(await fails(t, `${d}/evil.tar`), `${d}/evil.tar: entry "../../etc/cron.d/evi…" has a ".." component; strata refuses those`);
  t.is(await fails(t, '-', { stdin: outer }), 'stdin: entry "../../etc/cron.d/evi…" has a ".." component; strata refuses those');
  const { dir, built } = layout(t, { layers: [{ entries: [file('ok', 'ok'), file('../../../root/.ssh/authorized_keys', 'key')] }] });
  t.is(await fails(t, dir), `${layerAt(0, built.images[0].layers[0].digest)}: tar entry at byte 1024: entry "../../../root/.ssh/a…" has a ".." component; strata refuses those`);
});

test('a layer blob that is an empty file', async (t) => {
  const { dir, built } = layout(t, { layers: [{ tar: Buffer.alloc(0), compression: 'none' }] });
  t.is(await fails(t, dir), `${layerAt(0, built.images[0].layers[0].digest)}: empty stream, expected a tar archive`);
});

test('a layer that is not a tar (checksum mismatch)', async (t) => {
  const { dir, built } = layout(t, { layers: [{ tar: Buffer.from('not a tar at all '.repeat(100)) }] });
  t.is(await fails(t, dir), `${layerAt(0, built.images[0].layers[0].digest)}: invalid tar header at byte 0 (checksum mismatch): not a tar stream or corrupt`);
});

test('a docker save whose layer file was removed from the stream (stdin)', async (t) => {
  const save = dockerArchiveFiles({ images: [{ layers: [okLayer()] }] });
  save.files.delete(save.layerPaths[0][0]);
  t.is(await fails(t, '-', { stdin: await tarFiles(save.files) }), `stdin: missing layer 0 (${save.layerPaths[0][0]})`);
  // the same archive with the layer present reads fine
  const good = dockerArchiveFiles({ images: [{ layers: [okLayer()] }] });
  const r = await runStrata(['ls', '-'], { stdin: await tarFiles(good.files) });
  t.is(r.code, 0, r.stderr);
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('a symlink loop in a docker save is a missing layer, not a hang (file and stdin)', async (t) => {
  const save = dockerArchiveFiles({ images: [{ layers: [okLayer()] }] });
  const p = save.layerPaths[0][0];
  const id = p.split('/')[0];
  save.files.set(p, { symlink: `../${id}/other.tar` });
  save.files.set(`${id}/other.tar`, { symlink: 'layer.tar' });
  const path = await writeTar(`${tmp(t)}/loop.tar`, save.files);
  t.is(await fails(t, path), `${path}: missing layer 0 (${p})`);
  t.is(await fails(t, '-', { stdin: await tarFiles(save.files) }), `stdin: missing layer 0 (${p})`);
});

test('path traversal through a digest or a manifest.json path stays inside the archive', async (t) => {
  const evil = 'sha256:../../../../etc/passwd';
  const { dir } = layout(t, { layers: [okLayer()] }, (b) => {
    b.files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: evil, size: 10 }] })));
  });
  t.is(await fails(t, dir), `${dir}/index.json: manifests[0].digest must be a digest like sha256:<64 hex digits>, not "sha256:../../../../e"…`);
  const save = dockerArchiveFiles({ images: [{ layers: [okLayer()] }] });
  const m = JSON.parse((save.files.get('manifest.json') as Buffer).toString());
  m[0].Layers[0] = '../../../../etc/passwd';
  save.files.set('manifest.json', Buffer.from(JSON.stringify(m)));
  const path = await writeTar(`${tmp(t)}/save.tar`, save.files);
  t.is(await fails(t, path), `${path}: missing layer 0 (../../../../etc/passwd)`);
});

test('diff_id mismatch of a layer scanned while streaming from stdin', async (t) => {
  const wrong = `sha256:${'1'.repeat(64)}`;
  const save = dockerArchiveFiles({
    images: [{ layers: [{ entries: [file('big', noise(1_100_000, 10))] }], config: { rootfs: { type: 'layers', diff_ids: [wrong] } } }],
  });
  const real = save.images[0].layers[0].diffId;
  t.is(await fails(t, '-', { stdin: await tarFiles(save.files) }), `layer 0 (${where(save.layerPaths[0][0])}): diff_id (sha256 of the uncompressed layer) mismatch: expected ${wrong}, got ${real}`);
});

test('a malformed --platform and a malformed PAX header', async (t) => {
  const { dir } = layout(t, { layers: [okLayer()] });
  const r = await runStrata(['inspect', dir, '--platform', 'linux']);
  t.deepEqual([r.code, r.stdout, r.stderr], [2, '', 'strata: --platform "linux": expected os/arch[/variant], e.g. linux/arm64\n']);
  const w = new TarWriter();
  w.raw({ name: 'PaxHeader', typeflag: 'x' }, Buffer.from('99 path=too-long-a-length\n'));
  w.entry(file('a', 'a')).end();
  const bad = layout(t, { layers: [{ tar: w.toBuffer() }] });
  t.is(await fails(t, bad.dir), `${layerAt(0, bad.built.images[0].layers[0].digest)}: malformed PAX extended header`);
});

test('layers over 4 MiB (scanned in worker threads): truncated, corrupt and mismatched', async (t) => {
  const big = tar([file('big', noise(5 * 1024 * 1024, 11)), file('after', 'a')]);
  const cut = layout(t, { layers: [{ tar: big.subarray(0, 4_500_000), compression: 'none' }] });
  t.is(await fails(t, cut.dir), `${layerAt(0, cut.built.images[0].layers[0].digest)}: truncated tar: stream ended at byte 4500000 inside an entry`);
  const mangle = (b: Buffer) => b.subarray(0, b.length - 1000);
  const gz = layout(t, { layers: [{ tar: big, mangle }] });
  t.is(await fails(t, gz.dir), `${layerAt(0, gz.built.images[0].layers[0].digest)}: corrupt gzip data: unexpected end of file`);
  const wrong = `sha256:${'2'.repeat(64)}`;
  const diff = layout(t, { layers: [{ tar: big, compression: 'zstd' }], config: { rootfs: { type: 'layers', diff_ids: [wrong] } } });
  const l = diff.built.images[0].layers[0];
  t.is(await fails(t, diff.dir), `${layerAt(0, l.digest)}: diff_id (sha256 of the uncompressed layer) mismatch: expected ${wrong}, got ${l.diffId}`);
});

test('a plain-tar layer over 4 MiB: its blob digest is its diffID, whole (worker threads)', async (t) => {
  // gzip magic at every 64 KiB of the blob: a chunk of it must not be taken for a compressed blob
  const data = noise(5 * 1024 * 1024, 12);
  for (let off = 65536 - 512; off < data.length; off += 65536) data.set([0x1f, 0x8b], off);
  const big = tar([file('big', data), file('after', 'a')]);
  const good = layout(t, { layers: [{ tar: big, compression: 'none' }] });
  t.is((await runStrata(['inspect', good.dir])).code, 0);
  // one byte of file data changed: still a valid tar, so only the digests can tell
  const l = good.built.images[0].layers[0];
  const tampered = Buffer.from(big);
  tampered[4096] ^= 1;
  const bad = layout(t, { layers: [{ tar: big, compression: 'none' }] }, (b) => b.files.set(blobPath(l.digest), tampered));
  t.is(await fails(t, bad.dir), `${layerAt(0, l.digest)}: blob digest mismatch: expected ${l.digest}, got ${sha256(tampered)}`);
});

test('a nested index blob that is missing; an index holding only an attestation', async (t) => {
  const nested = ociLayoutFiles({ images: [{ layers: [okLayer()] }], multiPlatform: { nested: true } });
  nested.files.delete(blobPath(nested.indexDigest!));
  const a = writeDir(`${tmp(t)}/nested`, nested.files);
  t.is(await fails(t, a), `${a}: missing blob ${nested.indexDigest} (image index)`);
  const only = ociLayoutFiles({ images: [{ layers: [okLayer()] }], multiPlatform: { attestation: true } });
  const index = JSON.parse((only.files.get('index.json') as Buffer).toString()) as { manifests: { platform?: { os: string } }[] };
  index.manifests = index.manifests.filter((m) => m.platform?.os === 'unknown');
  only.files.set('index.json', Buffer.from(JSON.stringify(index)));
  const b = writeDir(`${tmp(t)}/only-attestation`, only.files);
  t.is(await fails(t, b), `${b}: the index lists no image manifests`);
});

test('a config or manifest whose bytes do not match their digest (tampered after the fact)', async (t) => {
  const tamper = (b: Buffer) => Buffer.from(b.toString().replace('/bin/sh', '/bin/xx'));
  const cfg = layout(t, { layers: [okLayer()] }, (b) => b.files.set(blobPath(b.images[0].configDigest), tamper(b.images[0].config)));
  const c = cfg.built.images[0];
  t.is(await fails(t, cfg.dir), `${cfg.dir} config ${c.configDigest}: content does not match its digest (got ${sha256(tamper(c.config))})`);
  const man = layout(t, { layers: [okLayer()] }, (b) => {
    const m = Buffer.from(b.images[0].manifest.toString().replace('"schemaVersion":2', '"schemaVersion":2 '));
    b.files.set(blobPath(b.images[0].manifestDigest), m);
  });
  const md = man.built.images[0].manifestDigest;
  t.regex(await fails(t, man.dir), new RegExp(`^${escape(man.dir)} manifest ${md}: content does not match its digest \\(got sha256:[0-9a-f]{64}\\)$`));
  const save = dockerArchiveFiles({ images: [{ layers: [okLayer()] }] });
  const name = `${save.images[0].configDigest.slice(7)}.json`;
  save.files.set(name, tamper(save.images[0].config));
  const path = await writeTar(`${tmp(t)}/save.tar`, save.files);
  t.is(await fails(t, path), `${path}: ${name}: content does not match its digest (got ${sha256(tamper(save.images[0].config))})`);
});

test('not an image through a pipe path: text, an empty pipe', async (t) => {
  const d = tmp(t);
  writeFileSync(`${d}/notes.txt`, 'just text\n'.repeat(100));
  t.regex(await fails(t, '', { pipeFrom: `${d}/notes.txt` }), /^\/dev\/fd\/\d+: not a readable tar archive \(.+\)$/);
  writeFileSync(`${d}/empty`, '');
  t.regex(await fails(t, '', { pipeFrom: `${d}/empty` }), /^\/dev\/fd\/\d+: empty input, expected an image archive$/);
});
