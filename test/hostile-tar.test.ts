/**
 * Hostile tar input (issue 29, classes 1-4 for tar), through the real CLI: crashes (a bad
 * percent-encoding, a path 20,000 levels deep, a GNU long name of hundreds of MB), hangs (a negative
 * base-256 size, endless inputs), unbounded memory (declared metadata sizes), nonsense accepted
 * (negative, fractional and huge numbers, sparse sizes). Each case must end in one `strata:` line
 * saying what was expected, within a time and peak-RSS bound; honest limits must still pass.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import {
  dockerArchiveFiles, noise, ociLayoutFiles, tempDir, writeDir, writeTar, type LayerSpec,
} from './helpers/image-builder.js';
import { refuses, succeeds } from './helpers/hostile.js';
import { TarWriter, base256, file, symlink, whiteout, type Entry } from './helpers/tar-writer.js';
import { MAX_PAX_BYTES, MAX_TRAILING_BYTES } from '../src/scan/tar-parser.js';
import { MAX_PATH_LENGTH } from '../src/util/paths.js';
import { KEEP_BYTES, MAX_KEPT_BYTES } from '../src/sources/stream-archive.js';

function tmp(t: ExecutionContext): string {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  return dir;
}

/** An OCI layout of one image whose layers are given as raw tars (after a harmless first layer). */
function layout(t: ExecutionContext, ...tars: Buffer[]): string {
  const layers: LayerSpec[] = [{ entries: [file('etc/motd', 'hi\n')] }, ...tars.map((tar) => ({ tar }))];
  return writeDir(join(tmp(t), 'layout'), ociLayoutFiles({ images: [{ layers }] }).files);
}

const layerTar = (build: (w: TarWriter) => void): Buffer => {
  const w = new TarWriter();
  build(w);
  return w.end().toBuffer();
};

/** The message of a refused layer: `layer 1 (blobs/…): WHAT`; returns WHAT. */
function layerMessage(t: ExecutionContext, message: string): string {
  t.regex(message, /^layer 1 \(blobs\/sha256\/[0-9a-f]+…?\): /);
  return message.replace(/^layer 1 \([^)]*\): /, '');
}

const deepPath = (levels: number) => `${'d/'.repeat(levels - 1)}f`;

// ---- 1. crashes -------------------------------------------------------------------------------------

test('a LIBARCHIVE.xattr PAX key with malformed percent-encoding is refused, not a URIError', async (t) => {
  const dir = layout(t, layerTar((w) => w.entry({ name: 'bin/x', data: 'x', pax: { 'LIBARCHIVE.xattr.%zz': 'AAAA' } })));
  const m = layerMessage(t, await refuses(t, ['inspect', dir], { ms: 15_000 }));
  t.is(m, 'tar header at byte 1024: PAX LIBARCHIVE.xattr name "%zz" is not valid percent-encoding');
});

test('a path 20,000 levels deep is refused by every command, not a stack overflow', async (t) => {
  const dir = layout(t, layerTar((w) => w.pax({ path: deepPath(20_000) }).entry({ name: 'deep', data: 'x' })));
  const shallow = layout(t);
  const expected = `tar entry at byte 40960: path "d/d/d/d/d/d/d/d/d/d/…" is 39999 characters long, more than the ${MAX_PATH_LENGTH} a path may have (Linux PATH_MAX)`;
  for (const args of [['inspect', dir], ['inspect', '--json', dir], ['inspect', dir, '--html', join(tmp(t), 'r.html')], ['ls', dir], ['diff', shallow, dir]]) {
    t.is(layerMessage(t, await refuses(t, args, { ms: 15_000 })), expected, args.join(' '));
  }
});

test('a path at the length limit (2048 levels) works in every command, a deep whiteout too', async (t) => {
  const deep = `${'d/'.repeat(MAX_PATH_LENGTH / 2 - 1)}ff`;
  t.is(deep.length, MAX_PATH_LENGTH);
  const gone = `${'d/'.repeat(2040)}gone`; // its whiteout's name, `.wh.gone`, must fit too
  // names this long travel in PAX records, the header holding a placeholder
  const deepTar = (...entries: Entry[]) => layerTar((w) => entries.forEach((e) => w.pax({ path: e.name }).entry({ ...e, name: 'x' })));
  const dir = layout(t, deepTar(file(deep, 'deep\n'), file(gone, 'x')), deepTar(whiteout(gone)));
  const shallow = layout(t);
  const out = tmp(t);
  // generous bounds: diff lists each of the 2048 implicit directories by its path (8 MB of text)
  t.true((await succeeds(t, ['ls', dir], { ms: 60_000 })).stdout.includes(`/${deep}\n`));
  await succeeds(t, ['inspect', dir, '--html', join(out, 'r.html')], { ms: 60_000 });
  await succeeds(t, ['inspect', '--json', dir], { ms: 60_000 });
  await succeeds(t, ['diff', shallow, dir], { ms: 60_000 });
});

test('symlinks whose targets join up into a path deeper than the limit are refused', async (t) => {
  // x -> x/x/…/x: each hop through x makes the path longer
  const target = `${'x/'.repeat(1500)}x`;
  const dir = layout(t, layerTar((w) => w.pax({ linkpath: target }).entry(symlink('x', 'x')).entry(file('x/f', 'f'))));
  const m = layerMessage(t, await refuses(t, ['inspect', dir], { ms: 15_000 }));
  t.regex(m, new RegExp(`^path "x/x/x/x/x/x/x/x/x/x/…" is \\d+ characters long, more than the ${MAX_PATH_LENGTH} a path may have \\(Linux PATH_MAX\\)$`));
});

test('a GNU long name of hundreds of MB is refused at its header, before it is read', async (t) => {
  const tar = layerTar((w) => w.raw({ name: '././@LongLink', typeflag: 'L', magic: 'gnu', size: 300 * 1024 * 1024 }, noise(1 << 20)));
  const m = layerMessage(t, await refuses(t, ['inspect', layout(t, tar)], { ms: 15_000, rssMb: 300 }));
  t.is(m, 'tar header at byte 0: GNU long name of 314572800 bytes, more than the 16384 a path may take');
});

// ---- 2. hangs -------------------------------------------------------------------------------------

test('a negative base-256 size is refused, not read backwards for ever', async (t) => {
  const tar = layerTar((w) => w.entry({ name: 'a', data: '', headerSize: -1024, base256: ['size'] }).entry(file('b', 'b')));
  const m = layerMessage(t, await refuses(t, ['inspect', layout(t, tar)], { ms: 15_000, rssMb: 300 }));
  t.is(m, `tar header at byte 0: size -1024 out of range (0 to ${Number.MAX_SAFE_INTEGER})`);
});

test('endless inputs end: /dev/zero as the image, and an endless pipe', async (t) => {
  const what = `not a readable tar archive (more than ${MAX_TRAILING_BYTES} bytes after the end-of-archive marker at byte 0: not tar padding (an endless input?))`;
  t.is(await refuses(t, ['inspect', '/dev/zero'], { ms: 15_000, rssMb: 300 }), `/dev/zero: ${what}`);
  t.regex(await refuses(t, ['inspect'], { pipeFrom: '/dev/zero', ms: 15_000, rssMb: 300 }), new RegExp(`^/dev/fd/\\d+: ${what.replace(/[()?]/g, '\\$&')}$`));
});

test('an endless pipe after a valid docker save ends', async (t) => {
  const dir = tmp(t);
  const save = await writeTar(join(dir, 'save.tar'), dockerArchiveFiles({ images: [{ layers: [{ entries: [file('etc/motd', 'hi\n')] }] }] }).files, { dirs: true });
  const fifo = join(dir, 'pipe');
  execFileSync('mkfifo', [fifo]);
  const writer = spawn('bash', ['-c', 'cat "$0" /dev/zero > "$1"', save, fifo], { stdio: 'ignore' });
  t.teardown(() => {
    writer.kill('SIGKILL');
  });
  t.regex(await refuses(t, ['inspect', fifo], { ms: 15_000, rssMb: 300 }), /: not a readable tar archive \(more than 1048576 bytes after the end-of-archive marker at byte \d+: not tar padding \(an endless input\?\)\)$/);
});

test('a layer followed by more than the trailing bound is refused; record padding up to 1 MiB is not', async (t) => {
  const body = new TarWriter().entry(file('a', 'a')).end().toBuffer();
  const padded = (n: number) => Buffer.concat([body, Buffer.alloc(n - body.length)]);
  const m = layerMessage(t, await refuses(t, ['inspect', layout(t, Buffer.concat([body, Buffer.alloc(2 * MAX_TRAILING_BYTES)]))], { ms: 15_000 }));
  t.is(m, `more than ${MAX_TRAILING_BYTES} bytes after the end-of-archive marker at byte 1024: not tar padding (an endless input?)`);
  await succeeds(t, ['inspect', layout(t, padded(10 * 1024), padded(1024 * 1024))], { ms: 15_000 });
});

// ---- 3. unbounded memory --------------------------------------------------------------------------

/** A 2 MB archive whose first header, a PAX one, declares 2 GiB. */
const paxBomb = () => new TarWriter().raw({ name: 'PaxHeader', typeflag: 'x', size: 2 ** 31 }, noise(2_000_000)).toBuffer();
const bombMessage = `tar header at byte 0: PAX extended header of ${2 ** 31} bytes, more than the ${MAX_PAX_BYTES} allowed`;

test('a PAX header declaring 2 GiB is refused in a layer, an outer archive file and on stdin, in bounded memory', async (t) => {
  t.is(layerMessage(t, await refuses(t, ['inspect', layout(t, paxBomb())], { ms: 15_000, rssMb: 300 })), bombMessage);
  const outer = join(tmp(t), 'outer.tar');
  writeFileSync(outer, paxBomb());
  t.is(await refuses(t, ['inspect', outer], { ms: 15_000, rssMb: 300 }), `${outer}: ${bombMessage}`);
  t.is(await refuses(t, ['inspect', '-'], { stdin: paxBomb(), ms: 15_000, rssMb: 300 }), `stdin: not a readable tar archive (${bombMessage})`);
});

test('PAX headers that add up past the cap before one entry are refused', async (t) => {
  const half = { 'SCHILY.xattr.user.a': Buffer.alloc(MAX_PAX_BYTES / 2 + 1, 0x61) };
  const tar = layerTar((w) => w.pax(half).pax({ 'SCHILY.xattr.user.b': half['SCHILY.xattr.user.a'] }).entry(file('a', 'a')));
  const m = layerMessage(t, await refuses(t, ['inspect', layout(t, tar)], { ms: 15_000 }));
  t.regex(m, new RegExp(`^tar header at byte \\d+: PAX extended header of \\d+ bytes, more than the ${MAX_PAX_BYTES} allowed$`));
});

test('a GNU long link target declared huge is refused', async (t) => {
  const tar = layerTar((w) => w.raw({ name: '././@LongLink', typeflag: 'K', magic: 'gnu', size: 2 ** 40, base256: ['size'] }));
  t.is(layerMessage(t, await refuses(t, ['inspect', layout(t, tar)], { ms: 15_000 })), `tar header at byte 0: GNU long link target of ${2 ** 40} bytes, more than the 16384 a path may take`);
});

// ---- 4. nonsense accepted -------------------------------------------------------------------------

test('negative, fractional and out-of-range sizes, ids and device numbers are refused', async (t) => {
  const cases: [Entry | ((w: TarWriter) => void), string][] = [
    [{ name: 'a', data: 'x', pax: { size: '-1' } }, 'PAX size "-1" is not an integer from 0 to 9007199254740991'],
    [{ name: 'a', data: 'x', pax: { size: '1.5' } }, 'PAX size "1.5" is not an integer from 0 to 9007199254740991'],
    [{ name: 'a', data: 'x', pax: { uid: '-1' } }, 'PAX uid "-1" is not an integer from 0 to 4294967295'],
    [{ name: 'a', data: 'x', pax: { gid: '4294967296' } }, 'PAX gid "4294967296" is not an integer from 0 to 4294967295'],
    [{ name: 'a', data: 'x', pax: { mtime: 'soon' } }, 'PAX mtime "soon" is not a decimal time'],
    [{ name: 'a', data: 'x', uid: -5, base256: ['uid'] }, 'uid -5 out of range (0 to 4294967295)'],
    [(w) => w.raw({ name: 'dev/x', typeflag: '3', raw: [[329, base256(-1, 8)]] }), 'device major -1 out of range (0 to 9007199254740991)'],
  ];
  for (const [spec, what] of cases) {
    const tar = layerTar((w) => (typeof spec === 'function' ? spec(w) : w.entry(spec)));
    const m = layerMessage(t, await refuses(t, ['ls', layout(t, tar)], { ms: 15_000 }));
    t.regex(m, new RegExp(`^tar header at byte \\d+: ${what.replace(/[()."]/g, '\\$&')}$`), what);
  }
});

test('negative and fractional mtimes are accepted (POSIX allows them)', async (t) => {
  const tar = layerTar((w) => w.entry({ name: 'old', data: 'x', pax: { mtime: '-1.5' } }));
  const r = await succeeds(t, ['ls', '--json', layout(t, tar)], { ms: 15_000 });
  t.true(r.stdout.includes('"/old"'), r.stdout);
});

test('a sparse file of "1000000 TB" is refused', async (t) => {
  const huge = layerTar((w) => {
    w.pax({ 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'var/huge', 'GNU.sparse.realsize': '1000000000000000000' });
    w.raw({ name: 'var/GNUSparseFile.0/huge', typeflag: '0' }, Buffer.from('1\n0\n1\n'.padEnd(512, '\0') + 'x'));
  });
  const m = layerMessage(t, await refuses(t, ['inspect', layout(t, huge)], { ms: 15_000 }));
  t.is(m, 'tar header at byte 1024: PAX GNU.sparse.realsize "1000000000000000000" is not an integer from 0 to 9007199254740991');
});

test('a sparse file of 1 PB counts at its apparent size: efficiency and dive score stay within 100 %', async (t) => {
  const PB = 10 ** 15;
  const sparse = layerTar((w) => w.paxSparse('var/big', PB, [{ offset: 0, data: Buffer.from('x') }]).entry(file('etc/x', 'x')));
  const again = layerTar((w) => w.paxSparse('var/big', PB, [{ offset: 0, data: Buffer.from('y') }]));
  const dir = layout(t, sparse, again);
  const r = await succeeds(t, ['inspect', '--json', dir], { ms: 15_000 });
  const s = (JSON.parse(r.stdout) as { summary: { efficiency: number; diveEfficiency: number; wastedBytes: number; uncompressedSize: number; finalSize: number } }).summary;
  t.true(s.efficiency >= 0 && s.efficiency <= 1, `efficiency ${s.efficiency}`);
  t.true(s.diveEfficiency >= 0 && s.diveEfficiency <= 1, `dive ${s.diveEfficiency}`);
  t.is(s.wastedBytes, PB); // the first copy, replaced by the second
  t.is(s.uncompressedSize, 2 * PB + 4);
  t.is(s.finalSize, PB + 4);
  const text = await succeeds(t, ['inspect', dir], { ms: 15_000 });
  t.regex(text.stdout, /efficiency +50\.0 ?%/);
});

test('an archive on stdin of endless small members is refused once they pass the cap on what is kept, in bounded memory', async (t) => {
  // 260 members of 1 MiB (the most a member may be to be kept in memory): past the 256 MiB cap
  const w = new TarWriter();
  const member = Buffer.alloc(KEEP_BYTES, 0x61);
  for (let i = 0; i < 260; i++) w.entry(file(`m${i}.json`, member));
  const msg = await refuses(t, ['inspect', '-'], { stdin: w.end().toBuffer(), ms: 30_000, rssMb: 600 });
  t.is(msg, `stdin: more than ${MAX_KEPT_BYTES} bytes of small members (up to ${KEEP_BYTES} bytes each) to keep: not an image archive`);
});
