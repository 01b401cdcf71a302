/**
 * Layer tar features, each written by the test tar writer and read back through openImage +
 * readImage: names, sizes, modes, owners, link targets, devices, xattr bytes, sparse files, and
 * the three layer compressions.
 */
import test from 'ava';
import type { LayerRecords } from '../src/scan/records.js';
import { Kind } from '../src/scan/records.js';
import { StrataError } from '../src/util/errors.js';
import { scanLayer } from '../src/scan/scan-layer.js';
import { Union } from '../src/model/union.js';
import { TarWriter, dir, file, hardlink, paxData, symlink, tar, type Entry } from './helpers/tar-writer.js';
import { modelOf, viewAt } from './helpers/model.js';
import { compressLayer } from './helpers/image-builder.js';

function row(r: LayerRecords, path: string): number {
  const i = r.path.indexOf(path);
  if (i < 0) throw new Error(`no row for ${path} in ${JSON.stringify(r.path)}`);
  return i;
}

const long = (n: number, seg = 'segment-name') => Array.from({ length: n }, (_, i) => `${seg}${i}`).join('/');

test('ustar prefix field joins prefix and name', async (t) => {
  const name = `${long(9)}/file-in-deep-dir.txt`;
  t.true(name.length > 100 && name.length < 255);
  const m = await modelOf([[{ ...file(name, 'deep'), prefix: true }]]);
  const e = viewAt(m).get(`/${name}`);
  t.is(e?.type, 'file');
  t.is(e?.size, 4);
});

test('PAX path, linkpath, size and mtime override the header fields', async (t) => {
  const path = `${long(20)}/pax-named.bin`;
  const target = `/${long(15, 'target')}/dest`;
  const w = new TarWriter();
  w.entry({ ...file('short-name-ignored', 'hello pax'), headerSize: 0, pax: { path, size: '9', mtime: '1700000123.5' } });
  w.entry({ ...symlink('link-ignored', 'x'), pax: { path: 'etc/pax-link', linkpath: target } });
  w.end();
  const m = await modelOf([{ tar: w.toBuffer() }]);
  const v = viewAt(m);
  t.is(v.get(`/${path}`)?.size, 9);
  t.is(v.get('/short-name-ignored'), undefined);
  t.is(v.get('/etc/pax-link')?.linkTarget, target);
  const r = m.layers[0].records;
  t.is(r.mtime[row(r, path)], 1700000123.5);
  t.is(r.fileBytes, 9);
});

test('binary PAX xattr values keep their exact bytes', async (t) => {
  // a security.capability-like value: bytes >= 0x80, NUL, and a newline, '=' and space inside
  const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x0a, 0x3d, 0x20, 0x00, 0xff, 0x80, 0xfe, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
  const m = await modelOf([[{
    ...file('usr/bin/ping', 'ELF'),
    pax: { 'SCHILY.xattr.security.capability': cap, 'SCHILY.xattr.user.note': 'héllo' },
  }]]);
  const r = m.layers[0].records;
  const x = r.xattrs[row(r, 'usr/bin/ping')];
  t.deepEqual(Buffer.from(x['security.capability'], 'base64'), cap);
  t.is(Buffer.from(x['user.note'], 'base64').toString('utf8'), 'héllo');
  t.is(viewAt(m).get('/usr/bin/ping')?.size, 3);
});

test('a PAX global header does not rename or drop the entries after it', async (t) => {
  const w = new TarWriter();
  w.pax({ comment: 'git archive commit 0123abcd' }, true, 'pax_global_header');
  w.entry(file('a.txt', 'A'));
  w.entry(file('b.txt', 'BB'));
  w.end();
  const m = await modelOf([{ tar: w.toBuffer() }]);
  t.deepEqual([...viewAt(m)].map(([p, e]) => [p, e.size]), [['/a.txt', 1], ['/b.txt', 2]]);
});

test('GNU long name (L) and long link (K) records', async (t) => {
  const name = `${long(25)}/gnu-long.txt`;
  const target = `${long(20, 'hardlink-target')}/orig`;
  const sym = `../${long(18, 'updir')}/far-away`;
  t.true(name.length > 255 && target.length > 100 && sym.length > 100);
  const m = await modelOf([[
    { ...file(target, 'original'), gnuLongName: true },
    { ...file(name, 'xyz'), gnuLongName: true },
    { ...hardlink('hl', target), gnuLongLink: true },
    { ...symlink(`${long(12)}/sym`, sym), gnuLongName: true, gnuLongLink: true },
  ]]);
  const v = viewAt(m);
  t.is(v.get(`/${name}`)?.size, 3);
  t.is(v.get('/hl')?.linkTarget, `/${target}`);
  t.is(v.get('/hl')?.size, 8);
  t.is(v.get(`/${long(12)}/sym`)?.linkTarget, sym);
});

test('base-256 numeric fields: uid, gid, size, negative mtime', async (t) => {
  const m = await modelOf([[
    { ...file('big-ids', 'five!'), uid: 4_000_000_000, gid: 3_000_000, base256: ['uid', 'gid', 'size'] },
    { ...file('old', ''), mtime: -86400, base256: ['mtime'] },
  ]]);
  const e = viewAt(m).get('/big-ids');
  t.is(e?.uid, 4_000_000_000);
  t.is(e?.gid, 3_000_000);
  t.is(e?.size, 5);
  const r = m.layers[0].records;
  t.is(r.mtime[row(r, 'old')], -86400);
});

test('PAX uid and gid beyond the octal range', async (t) => {
  const m = await modelOf([[file('nfs-owned', 'n', { pax: { uid: '3000000000', gid: '4294967294' } })]]);
  t.like(viewAt(m).get('/nfs-owned'), { uid: 3_000_000_000, gid: 4_294_967_294, size: 1 });
});

test('old GNU sparse entries, with and without extension blocks, keep their apparent size', async (t) => {
  const seg = (offset: number, s: string) => ({ offset, data: Buffer.from(s.repeat(512)) });
  const w = new TarWriter();
  w.oldGnuSparse('var/sparse-small', 1 << 20, [seg(0, 'a'), seg(65536, 'b')]);
  // 6 extents: 4 in the header, 2 in one extension block
  w.oldGnuSparse('var/sparse-ext', 10 << 20, Array.from({ length: 6 }, (_, i) => seg(i * (1 << 20), String(i))), { mode: 0o600 });
  w.entry(file('after', 'still aligned'));
  w.end();
  const m = await modelOf([{ tar: w.toBuffer() }]);
  const v = viewAt(m);
  t.like(v.get('/var/sparse-small'), { type: 'file', size: 1 << 20, sparse: true });
  t.like(v.get('/var/sparse-ext'), { type: 'file', size: 10 << 20, sparse: true, mode: '0600' });
  t.like(v.get('/after'), { type: 'file', size: 13 });
  t.is(v.get('/after')?.sparse, undefined);
  t.is(m.layers[0].size, (1 << 20) + (10 << 20) + 13); // apparent sizes, as the union counts files: ratios stay within 100 %
});

test('PAX GNU.sparse 1.0 entries take their real name and size', async (t) => {
  const w = new TarWriter();
  w.paxSparse('opt/db/data.img', 5_000_000, [{ offset: 4096, data: Buffer.alloc(1024, 7) }]);
  w.entry(file('opt/db/next', 'n'));
  w.end();
  const m = await modelOf([{ tar: w.toBuffer() }]);
  const v = viewAt(m);
  t.like(v.get('/opt/db/data.img'), { type: 'file', size: 5_000_000, sparse: true });
  t.false([...v.keys()].some((p) => p.includes('GNUSparseFile')));
  t.is(v.get('/opt/db/next')?.size, 1);
});

test('PAX GNU.sparse 0.1 entries (map in a record, real name in the header) take their real size', async (t) => {
  const w = new TarWriter();
  w.raw({ name: 'PaxHeader', typeflag: 'x' }, paxData({ 'GNU.sparse.size': '2000000', 'GNU.sparse.numblocks': '1', 'GNU.sparse.map': '8192,1024' }));
  w.raw({ name: 'var/lib/sparse01', typeflag: '0', mtime: 1 }, Buffer.alloc(1024, 3));
  w.end();
  const m = await modelOf([{ tar: w.toBuffer() }]);
  t.like(viewAt(m).get('/var/lib/sparse01'), { type: 'file', size: 2_000_000, sparse: true });
  t.is(m.layers[0].size, 2_000_000);
});

test('every entry type round-trips with mode, owner, link target and device numbers', async (t) => {
  const entries: Entry[] = [
    dir('bin', { mode: 0o755 }),
    file('bin/su', 'su binary', { mode: 0o4755, uid: 0, gid: 0 }),
    file('home/user/notes', 'n', { mode: 0o640, uid: 1000, gid: 100 }),
    hardlink('bin/su-again', 'bin/su'),
    symlink('bin/sh', 'busybox'),
    { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/sda', type: 'block', devmajor: 8, devminor: 0, mode: 0o660, gid: 6 },
    { name: 'run/fifo', type: 'fifo', mode: 0o600 },
    { name: 'srv/old-style-dir/', typeflag: '\0', mode: 0o750 },
    { name: 'srv/old-style-file', typeflag: '\0', data: 'v7' },
    file('tmp/sticky/x', 'x'),
    dir('tmp/sticky', { mode: 0o1777 }),
  ];
  const m = await modelOf([entries]);
  const v = viewAt(m);
  const pick = (p: string) => {
    const e = v.get(p)!;
    return [e.type, e.size, e.mode, e.uid, e.gid, e.linkTarget];
  };
  t.deepEqual(pick('/bin'), ['dir', 0, '0755', 0, 0, undefined]);
  t.deepEqual(pick('/bin/su'), ['file', 9, '4755', 0, 0, undefined]);
  t.deepEqual(pick('/home/user/notes'), ['file', 1, '0640', 1000, 100, undefined]);
  // a hardlink is its inode: the setuid binary's mode, whatever its own header says (0644 here)
  t.deepEqual(pick('/bin/su-again'), ['hardlink', 9, '4755', 0, 0, '/bin/su']);
  t.deepEqual(pick('/bin/sh'), ['symlink', 0, '0644', 0, 0, 'busybox']);
  t.deepEqual(pick('/dev/null'), ['char', 0, '0666', 0, 0, undefined]);
  t.deepEqual(pick('/dev/sda'), ['block', 0, '0660', 0, 6, undefined]);
  t.deepEqual(pick('/run/fifo'), ['fifo', 0, '0600', 0, 0, undefined]);
  t.deepEqual(pick('/srv/old-style-dir'), ['dir', 0, '0750', 0, 0, undefined]);
  t.deepEqual(pick('/srv/old-style-file'), ['file', 2, '0644', 0, 0, undefined]);
  t.deepEqual(pick('/tmp/sticky'), ['dir', 0, '1777', 0, 0, undefined]);
  // implicit parents (no entry of their own) are directories 0755 root
  t.deepEqual(pick('/home'), ['dir', 0, '0755', 0, 0, undefined]);
  const r = m.layers[0].records;
  t.deepEqual(r.dev[row(r, 'dev/null')], [1, 3]);
  t.deepEqual(r.dev[row(r, 'dev/sda')], [8, 0]);
  t.is(r.kind[row(r, 'run/fifo')], Kind.fifo);
});

test('"./" and leading "/" prefixes normalise to the same paths; "./" itself is the root', async (t) => {
  const m = await modelOf([[
    dir('./'),
    dir('./etc'),
    file('./etc/hosts', '127.0.0.1 localhost\n'),
    file('/etc/abs', 'abs'),
    file('.//etc//double', 'd'),
    hardlink('./etc/hosts-link', '/etc/hosts'),
  ]]);
  t.deepEqual([...viewAt(m).keys()], ['/etc', '/etc/abs', '/etc/double', '/etc/hosts', '/etc/hosts-link']);
  t.is(viewAt(m).get('/etc/hosts-link')?.size, 20);
});

const sample: Entry[] = [dir('data'), file('data/blob', Buffer.alloc(300_000, 0x5a)), file('data/small', 'small'), symlink('data/l', 'blob')];

for (const compression of ['gzip-multi', 'zstd', 'none', 'gzip'] as const) {
  test(`${compression} layer: same entries, compression sniffed, digests verified`, async (t) => {
    const m = await modelOf([{ entries: sample, compression }]);
    t.is(m.layers[0].compression, compression === 'gzip-multi' ? 'gzip' : compression);
    t.deepEqual([...viewAt(m)].map(([p, e]) => [p, e.type, e.size]), [
      ['/data', 'dir', 0], ['/data/blob', 'file', 300_000], ['/data/l', 'symlink', 0], ['/data/small', 'file', 5],
    ]);
    t.is(m.layers[0].size, 300_005);
    t.is(m.layers[0].compressedSize === null, compression === 'none');
  });
}

test('a multi-member gzip layer is read past its first member', async (t) => {
  // the second member holds the last entries: losing it would drop them or fail the diff_id
  const entries = Array.from({ length: 40 }, (_, i) => file(`f/${String(i).padStart(2, '0')}`, `content ${i}`.repeat(50)));
  const m = await modelOf([{ entries, compression: 'gzip-multi' }]);
  t.is([...viewAt(m).keys()].filter((p) => p.startsWith('/f/')).length, 40);
  t.is(viewAt(m).get('/f/39')?.size, 'content 39'.length * 50);
});

test('a layer without end-of-archive blocks is complete', async (t) => {
  const w = new TarWriter();
  w.entry(file('only', 'no trailer'));
  const m = await modelOf([{ tar: w.toBuffer() }]);
  t.is(viewAt(m).get('/only')?.size, 10);
});

test('old GNU sparse map spread over two extension blocks', async (t) => {
  const w = new TarWriter();
  // 4 in the header + 21 in the first extension block + 5 in the second
  const segments = Array.from({ length: 30 }, (_, i) => ({ offset: i * 8192, data: Buffer.alloc(512, i) }));
  w.oldGnuSparse('big.sparse', 30 * 8192, segments);
  w.entry(file('next', 'after the map'));
  w.end();
  const m = await modelOf([{ tar: w.toBuffer() }]);
  t.like(viewAt(m).get('/big.sparse'), { size: 30 * 8192, sparse: true });
  t.like(viewAt(m).get('/next'), { size: 13 });
  t.is(m.layers[0].size, 30 * 8192 + 13);
});

test('LIBARCHIVE.xattr records (URL-encoded name, base64 value) decode to the same bytes', async (t) => {
  const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0xc0, 0xff, 0x00, 0x80]);
  const m = await modelOf([[
    file('a', 'x', { pax: { 'LIBARCHIVE.xattr.security.capability': cap.toString('base64'), 'LIBARCHIVE.xattr.user.with%3Dequals': Buffer.from('v').toString('base64') } }),
  ]]);
  const r = m.layers[0].records;
  const x = r.xattrs[row(r, 'a')];
  t.deepEqual(Buffer.from(x['security.capability'], 'base64'), cap);
  t.is(Buffer.from(x['user.with=equals'], 'base64').toString(), 'v');
});

test('end-of-archive variants: one zero block, and padding to a 10240-byte record', async (t) => {
  const one = new TarWriter().entry(file('a', 'a')).end(1).toBuffer();
  t.deepEqual(pathsOf(await modelOf([{ tar: one }])), ['/a']);
  const w = new TarWriter().entry(file('b', 'b')).end().toBuffer();
  const record = Buffer.concat([w, Buffer.alloc(10240 - w.length)]);
  const m = await modelOf([{ tar: record }]);
  t.deepEqual(pathsOf(m), ['/b']);
  t.is(m.layers[0].tarSize, 10240);
});

function pathsOf(m: Awaited<ReturnType<typeof modelOf>>): string[] {
  return [...viewAt(m).keys()];
}

test('every truncation and many single-byte corruptions of a feature-rich layer are read or refused cleanly', async (t) => {
  const deep = (n: number) => long(n, 'seg');
  const w = new TarWriter();
  w.entry({ ...file(`${deep(30)}/a`, 'x'.repeat(700)), gnuLongName: true });
  w.entry({ ...file('p', 'pax'), pax: { path: `${deep(40)}/pax`, 'SCHILY.xattr.security.capability': Buffer.from([1, 0, 0x80, 0xff]) } });
  w.oldGnuSparse('sp', 1 << 20, Array.from({ length: 6 }, (_, i) => ({ offset: i * 4096, data: Buffer.alloc(512, i) })));
  w.paxSparse('ps', 100_000, [{ offset: 0, data: Buffer.alloc(600, 1) }]);
  w.entry(symlink('l', 'a'));
  w.entry({ ...hardlink('h', `${deep(40)}/pax`), gnuLongLink: true });
  w.entry({ ...file('b256', 'zz'), uid: 3e9, base256: ['uid', 'size', 'mtime'] }); // uid_t is 32-bit
  const good = w.end().toBuffer();
  // a failure must be a StrataError (a one-line message), never a crash or a hang
  const outcome = async (bytes: Buffer): Promise<string> => {
    try {
      new Union().addLayer((await scanLayer((async function* () {
        yield bytes;
      })())).records);
      return 'read';
    } catch (e) {
      return e instanceof StrataError ? 'refused' : `crashed: ${(e as Error).stack}`;
    }
  };
  t.is(await outcome(good), 'read');
  const seen = new Map<string, number>();
  const note = (o: string) => seen.set(o, (seen.get(o) ?? 0) + 1);
  for (let cut = 0; cut < good.length; cut += 11) note(await outcome(good.subarray(0, cut)));
  for (let i = 0; i < good.length; i += 5) {
    for (const mask of [0xff, 0x80]) {
      const b = Buffer.from(good);
      b[i] ^= mask;
      note(await outcome(b));
    }
  }
  t.deepEqual([...seen.keys()].filter((k) => k.startsWith('crashed')), []);
  t.true((seen.get('read') ?? 0) > 0 && (seen.get('refused') ?? 0) > 0);
});

test('zstd layers: several frames, and a leading skippable frame', async (t) => {
  const whole = tar(sample);
  const cut = 512 * 3 + 100;
  const frames = Buffer.concat([compressLayer(whole.subarray(0, cut), 'zstd'), compressLayer(whole.subarray(cut), 'zstd')]);
  const skippable = Buffer.alloc(8 + 16, 0x5a);
  skippable.writeUInt32LE(0x184d2a50, 0);
  skippable.writeUInt32LE(16, 4);
  for (const mangle of [() => frames, (b: Buffer) => Buffer.concat([skippable, b])]) {
    const m = await modelOf([{ tar: whole, compression: 'zstd', mangle }]);
    t.is(m.layers[0].compression, 'zstd');
    t.deepEqual([...viewAt(m).keys()], ['/data', '/data/blob', '/data/l', '/data/small']);
  }
});
