/**
 * The rpm database reader against the real tool: packages built with rpmbuild and installed with
 * Debian's rpm (sqlite), the same headers in a Berkeley DB hash file written by libdb and read back
 * by rpm's bdb_ro, and in an NDB file laid out as rpm's rpmpkg.c writes it; the database rpm would
 * open when several are there; and hostile databases (truncated, looping pages, counts and offsets
 * out of range, fuzzed bytes), each a warning, never an exception, quickly.
 * Replay a fuzz failure with STRATA_FUZZ_SEED=<seed printed by the test>.
 */
import test from 'ava';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { rpmReader } from '../src/analyze/packages/rpm/reader.js';
import type { PackageEntry, ReadResult } from '../src/analyze/packages/types.js';
import { docView } from './helpers/doc-view.js';
import { berkeleyDb, buildPackages, exportedHeaders, inRoot, installRoot, ndbFile, rpmTool } from './helpers/rpm-root.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('rpm', 'rpmbuild', 'rpmdb', 'db5.3_load');

const spec = (head: string, install: string, files: string) =>
  `${head}\nSummary: strata test\nBuildArch: noarch\n%description\nstrata test package\n%install\n${install}\n%files\n${files}\n`;

const SPECS = [
  // an epoch, nested directories, a symlink, and requirements of every kind
  spec(
    'Name: alpha\nVersion: 1.2\nRelease: 3\nEpoch: 2\nLicense: MIT\nRequires: beta >= 1.0, /bin/sh, (beta or gamma)',
    'mkdir -p %{buildroot}/usr/share/alpha/sub/deeper %{buildroot}/usr/bin\necho hello > %{buildroot}/usr/share/alpha/sub/deeper/f.txt\necho bin > %{buildroot}/usr/bin/alpha\nln -s ../share/alpha/sub/deeper/f.txt %{buildroot}/usr/bin/alpha-link',
    '/usr/share/alpha\n/usr/bin/alpha\n/usr/bin/alpha-link',
  ),
  // 300 files: a header larger than a page of any backend, so it lives on overflow pages
  spec(
    'Name: beta\nVersion: 1.0\nRelease: 1\nLicense: GPL-2.0-or-later\nRequires: gamma',
    'for d in $(seq 1 20); do mkdir -p %{buildroot}/usr/lib/beta/d$d; for f in $(seq 1 15); do echo $d$f > %{buildroot}/usr/lib/beta/d$d/file-$f; done; done\nmkdir -p %{buildroot}/var/lib/beta',
    '/usr/lib/beta\n%dir /var/lib/beta',
  ),
  // epoch 0 stated, no files
  spec('Name: gamma\nVersion: 3\nRelease: 4.fc39\nEpoch: 0\nLicense: Public Domain', '', ''),
];

interface Fixture {
  root: string;
  sqlite: Uint8Array;
  headers: Uint8Array[];
}

let fixture: Fixture;
/** The fixture's headers in a BerkeleyDB of 512-byte pages: every header on a chain of overflow pages. */
let bdb512: Uint8Array;
const work = mkdtempSync(join(tmpdir(), 'strata-rpm-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

test.before(async () => {
  const root = join(work, 'root');
  await installRoot(work, root, await buildPackages(work, SPECS));
  await rpmTool(work, 'rpm', [...inRoot(root), '-qa']); // a clean close: nothing left in a WAL
  fixture = { root, sqlite: new Uint8Array(readFileSync(join(root, 'var/lib/rpm/rpmdb.sqlite'))), headers: await exportedHeaders(work, root) };
  bdb512 = await berkeleyDb(work, fixture.headers, BDB_LAYOUTS[0]);
});

async function rpmLines(root: string, args: string[]): Promise<string[]> {
  return (await rpmTool(work, 'rpm', [...inRoot(root), ...args])).toString().split('\n').filter(Boolean);
}

const read = (files: Record<string, Uint8Array>, opts: { oversized?: string[]; layer?: number } = {}): ReadResult =>
  rpmReader.read(docView(files, Object.fromEntries(Object.keys(files).map((p) => [p, opts.layer ?? 0])), opts.oversized));

const byName = (r: ReadResult) => new Map(r.packages.map((p) => [p.name, p]));
const withoutPath = (ps: PackageEntry[]) => ps.map(({ path: _path, ...rest }) => rest).sort((a, b) => a.name.localeCompare(b.name));

test('sqlite: every package rpm -qa lists but gpg-pubkey, as rpm prints it, with the files of rpm -ql', async (t) => {
  const r = read({ 'var/lib/rpm/rpmdb.sqlite': fixture.sqlite });
  t.deepEqual(r.warnings, []);
  const qa = (await rpmLines(fixture.root, ['-qa', '--qf', '%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SIZE}\t%{EVR}\t%{SOURCERPM}\t%{LICENSE}\n'])).map((l) => l.split('\t'));
  t.true(qa.some(([name]) => name === 'gpg-pubkey'), 'rpm -qa lists the imported key as a package');
  const listed = qa.filter(([name]) => name !== 'gpg-pubkey');
  t.deepEqual(r.packages.map((p) => p.name).sort(), listed.map(([name]) => name).sort());
  const got = byName(r);
  for (const [name, epoch, version, release, arch, size, evr, source, license] of listed) {
    const p = got.get(name)!;
    t.is(p.version, evr);
    t.true(p.version.endsWith(`${version}-${release}`) && (epoch === '0' || p.version.startsWith(`${epoch}:`)));
    t.is(p.arch, arch);
    t.is(p.declaredSize, Number(size));
    t.is(p.source, source);
    t.is(p.license, license);
    t.is(p.path, 'var/lib/rpm/rpmdb.sqlite');
    const ql = await rpmLines(fixture.root, ['-ql', name]);
    t.deepEqual(p.files, ql[0] === '(contains no files)' ? [] : ql.map((f) => f.slice(1)), name);
  }
  t.is(got.get('gamma')!.version, '0:3-4.fc39', 'a stated epoch 0 is kept, as rpm %{EVR} does');
  t.true(got.get('alpha')!.files.includes('usr/bin/alpha-link'));
  t.is(got.get('beta')!.files.length, 1 + 20 + 300 + 1);
  // requirements: rpmlib features, file paths and rich dependencies dropped
  const requires = await rpmLines(fixture.root, ['-q', '--qf', '[%{REQUIRENAME}\n]', 'alpha']);
  t.true(['/bin/sh', '(beta or gamma)', 'rpmlib(CompressedFileNames)'].every((r) => requires.includes(r)), requires.join(' '));
  t.deepEqual(got.get('alpha')!.depends, ['beta']);
  t.deepEqual(got.get('beta')!.depends, ['gamma']);
  t.deepEqual(got.get('gamma')!.depends, []);
});

const BDB_LAYOUTS = [
  { pageSize: 512, bigEndian: false },
  { pageSize: 4096, bigEndian: true },
  { pageSize: 8192, bigEndian: false },
  { pageSize: 65536, bigEndian: true },
];

test('BerkeleyDB written by libdb, either byte order, small and large pages: what rpm bdb_ro reads from the same file', async (t) => {
  const sqlite = withoutPath(read({ 'var/lib/rpm/rpmdb.sqlite': fixture.sqlite }).packages);
  for (const layout of BDB_LAYOUTS) {
    const what = `${layout.pageSize} ${layout.bigEndian ? 'big' : 'little'}-endian`;
    const bdb = await berkeleyDb(work, fixture.headers, layout);
    // headers longer than a quarter page go on overflow pages: with 64 KiB pages alpha's stays on its hash page
    const alphaPage = Math.floor(offsetOf(bdb, 'alpha', 0) / layout.pageSize) * layout.pageSize;
    t.is(bdb[alphaPage + 25], layout.pageSize === 65536 ? 13 : 7, what);
    const root = join(work, `bdb-root-${layout.pageSize}`);
    mkdirSync(join(root, 'var/lib/rpm'), { recursive: true });
    writeFileSync(join(root, 'var/lib/rpm/Packages'), bdb);
    const rpmSays = (await rpmLines(root, ['-qa', '--qf', '%{NAME}\t%{EVR}\t%{ARCH}\t%{SIZE}\n'])).filter((l) => !l.startsWith('gpg-pubkey\t')).sort();
    const rpmFiles = await rpmLines(root, ['-qa', '--qf', '[%{=NAME}\t%{FILENAMES}\n]']);

    const r = read({ 'var/lib/rpm/Packages': bdb });
    t.deepEqual(r.warnings, [], what);
    t.deepEqual(r.packages.map((p) => `${p.name}\t${p.version}\t${p.arch}\t${p.declaredSize}`).sort(), rpmSays, what);
    t.deepEqual(r.packages.flatMap((p) => p.files.map((f) => `${p.name}\t/${f}`)).sort(), rpmFiles.sort(), what);
    t.deepEqual(withoutPath(r.packages), sqlite, what);
  }
});

test('NDB laid out as rpmpkg.c writes it: the packages of the sqlite database', (t) => {
  const r = read({ 'usr/lib/sysimage/rpm/Packages.db': ndbFile(fixture.headers) });
  t.deepEqual(r.warnings, []);
  t.true(r.packages.every((p) => p.path === 'usr/lib/sysimage/rpm/Packages.db'));
  t.deepEqual(withoutPath(r.packages), withoutPath(read({ 'var/lib/rpm/rpmdb.sqlite': fixture.sqlite }).packages));
});

test('the database rpm would open: usr/lib/sysimage/rpm before var/lib/rpm, then sqlite, NDB, BerkeleyDB', async (t) => {
  const bdb = await berkeleyDb(work, fixture.headers, BDB_LAYOUTS[0]);
  const ndb = ndbFile(fixture.headers);
  const chosen = (files: Record<string, Uint8Array>, oversized?: string[]) => [...new Set(read(files, { oversized }).packages.map((p) => p.path))];
  t.deepEqual(chosen({ 'var/lib/rpm/rpmdb.sqlite': fixture.sqlite, 'usr/lib/sysimage/rpm/Packages': bdb }), ['usr/lib/sysimage/rpm/Packages']);
  t.deepEqual(chosen({ 'var/lib/rpm/Packages': bdb, 'var/lib/rpm/Packages.db': ndb, 'var/lib/rpm/rpmdb.sqlite': fixture.sqlite }), ['var/lib/rpm/rpmdb.sqlite']);
  t.deepEqual(chosen({ 'var/lib/rpm/Packages': bdb, 'var/lib/rpm/Packages.db': ndb }), ['var/lib/rpm/Packages.db']);
  t.deepEqual(chosen({ 'usr/lib/sysimage/rpm/rpmdb.sqlite': fixture.sqlite, 'usr/lib/sysimage/rpm/Packages.db': ndb }), ['usr/lib/sysimage/rpm/rpmdb.sqlite']);
  // the one rpm would open is over the scan's cap: nothing, and the caller's warning says why
  t.deepEqual(read({ 'var/lib/rpm/Packages': bdb }, { oversized: ['var/lib/rpm/rpmdb.sqlite'] }), { packages: [], warnings: [] });
  t.deepEqual(read({}), { packages: [], warnings: [] });
});

// ---- hostile databases ------------------------------------------------------------------------

const copy = (b: Uint8Array) => Buffer.from(b);

/** Set field `field` (1 type, 2 offset, 3 count) of tag `tag`'s index entry in a header blob. */
function setEntry(blob: Uint8Array, tag: number, field: 1 | 2 | 3, value: number): Buffer {
  const h = copy(blob);
  for (let i = 0; i < h.readUInt32BE(0); i++) {
    if (h.readUInt32BE(8 + 16 * i) === tag) {
      h.writeUInt32BE(value, 8 + 16 * i + 4 * field);
      return h;
    }
  }
  throw new Error(`no tag ${tag}`);
}

/** The byte offset in `file` of the header of the package named `name` (a piece of its blob at `at`). */
function offsetOf(file: Uint8Array, name: string, at: number): number {
  const blob = fixture.headers.find((h) => Buffer.from(h).includes(`\0${name}\0`))!;
  const off = Buffer.from(file).indexOf(blob.subarray(at, at + 64));
  if (off < 0) throw new Error(`${name} at ${at} not found`);
  return off;
}

interface Case {
  what: string;
  files: () => Record<string, Uint8Array>;
  warning: RegExp;
  /** Packages still read. */
  packages: string[];
}

const BASENAMES = 1117;
const DIRINDEXES = 1116;

const CASES: Case[] = [
  {
    what: 'sqlite cut short inside an overflow chain',
    files: () => {
      const pageSize = Buffer.from(fixture.sqlite).readUInt16BE(16);
      return { 'var/lib/rpm/rpmdb.sqlite': fixture.sqlite.subarray(0, Math.floor(offsetOf(fixture.sqlite, 'beta', 6000) / pageSize) * pageSize) };
    },
    warning: /^layer 3 \/var\/lib\/rpm\/rpmdb\.sqlite: expected page \d+ among the \d+ pages of the file: /,
    packages: [],
  },
  {
    what: 'not an sqlite file',
    files: () => ({ 'var/lib/rpm/rpmdb.sqlite': new Uint8Array(4096).fill(0x41) }),
    warning: /: expected an SQLite 3 database \("SQLite format 3" at its start\): no package read$/,
    packages: [],
  },
  {
    what: 'sqlite page pointing at itself',
    files: () => {
      const b = copy(fixture.sqlite);
      const pageSize = b.readUInt16BE(16);
      const page = Math.floor(offsetOf(b, 'alpha', 0) / pageSize); // the Packages table's only leaf, 0-based
      b[page * pageSize] = 0x05; // an interior page now, of no cells
      b.writeUInt16BE(0, page * pageSize + 3);
      b.writeUInt32BE(page + 1, page * pageSize + 8); // its right-most child: itself
      return { 'var/lib/rpm/rpmdb.sqlite': b };
    },
    warning: /: expected each page to be reached once, page \d+ is reached again: nothing read after package record 2$/,
    packages: ['beta', 'gamma'],
  },
  {
    what: 'sqlite overflow chain looping',
    files: () => {
      const b = copy(fixture.sqlite);
      const pageSize = b.readUInt16BE(16);
      const page = Math.floor(offsetOf(b, 'beta', 6000) / pageSize);
      b.writeUInt32BE(page + 1, page * pageSize); // next overflow page: itself
      return { 'var/lib/rpm/rpmdb.sqlite': b };
    },
    warning: /: expected each page to be reached once, page \d+ is reached again: nothing read after package record 1$/,
    packages: ['gamma'],
  },
  {
    what: 'BerkeleyDB overflow page pointing at itself',
    files: () => {
      const b = copy(bdb512);
      const page = Math.floor(offsetOf(b, 'beta', 3000) / 512);
      b.writeUInt32LE(page, page * 512 + 16);
      return { 'var/lib/rpm/Packages': b };
    },
    warning: /: expected \d+ more bytes of a value on overflow page \d+, which is used already: /,
    packages: [],
  },
  {
    what: 'BerkeleyDB declaring 2^32 pages',
    files: () => {
      const b = copy(bdb512);
      b.writeUInt32LE(0xffffffff - 1, 32);
      return { 'var/lib/rpm/Packages': b };
    },
    warning: /: expected 4294967295 pages as the metadata says, the file holds \d+: nothing read after package record 4$/,
    packages: ['alpha', 'beta', 'gamma'],
  },
  {
    what: 'BerkeleyDB cut short',
    files: () => ({ 'var/lib/rpm/Packages': bdb512.subarray(0, 300) }),
    warning: /: expected a Berkeley DB file of at least one 512-byte page, found 300 bytes: no package read$/,
    packages: [],
  },
  {
    what: 'NDB slot naming 2^32 blocks',
    files: () => {
      const b = copy(ndbFile(fixture.headers));
      b.writeUInt32LE(0xffffffff, 32 + 12);
      return { 'var/lib/rpm/Packages.db': b };
    },
    warning: /: expected the blob of slot 1 \(blocks 256 to 4294967551\) after the slot pages and within the file's \d+ bytes: no package read$/,
    packages: [],
  },
  {
    what: 'NDB declaring 2^32 - 1 slot pages',
    files: () => {
      const b = copy(ndbFile(fixture.headers));
      b.writeUInt32LE(0xffffffff, 12);
      return { 'var/lib/rpm/Packages.db': b };
    },
    warning: /: expected the blob of slot 1 \(blocks 256 to \d+\) after the slot pages and within the file's \d+ bytes: no package read$/,
    packages: [],
  },
  ...(
    [
      ['a header declaring 2^32 - 1 index entries', (h: Uint8Array) => Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), h.subarray(4)]), /expected a header of 4294967295 index entries and \d+ bytes of data to fit in its \d+ bytes/],
      ['a header declaring 2^32 - 1 bytes of data', (h: Uint8Array) => Buffer.concat([h.subarray(0, 4), Buffer.from([0xff, 0xff, 0xff, 0xff]), h.subarray(8)]), /to fit in its \d+ bytes/],
      ['file names at an offset past the data', (h: Uint8Array) => setEntry(h, BASENAMES, 2, 0x7fffffff), /expected tag 1117: \d+ strings at offset 2147483647 of \d+ bytes of data/],
      ['2^32 - 1 file names', (h: Uint8Array) => setEntry(h, BASENAMES, 3, 0xffffffff), /expected tag 1117: 4294967295 strings at offset/],
      ['directory indexes of the wrong type', (h: Uint8Array) => setEntry(h, DIRINDEXES, 1, 6), /expected tag 1116 to be a number, found type 6/],
      ['fewer directory indexes than file names', (h: Uint8Array) => setEntry(h, DIRINDEXES, 3, 1), /expected a directory index for each of the 6 file names, found 1/],
    ] as const
  ).map(([what, corrupt, warning]): Case => ({
    what,
    files: () => ({ 'var/lib/rpm/Packages.db': ndbFile(fixture.headers.map((h) => (Buffer.from(h).includes('\0alpha\0') ? corrupt(h) : h))) }),
    warning: new RegExp(`^layer 3 /var/lib/rpm/Packages\\.db: package record \\d: .*${warning.source}.*: skipped$`),
    packages: ['beta', 'gamma'],
  })),
];

for (const c of CASES) {
  test(`hostile: ${c.what} is a warning, the packages read before it kept`, (t) => {
    const files = c.files();
    const start = performance.now();
    const r = read(files, { layer: 3 });
    const ms = performance.now() - start;
    t.true(ms < 500, `${ms.toFixed(0)} ms`);
    t.is(r.warnings.length, 1, r.warnings.join('\n'));
    t.regex(r.warnings[0], c.warning);
    t.regex(r.warnings[0], /^layer 3 \/var\/lib\/rpm\//);
    t.deepEqual(r.packages.map((p) => p.name).sort(), c.packages);
  });
}

test('hostile: one blob named by thousands of NDB slots is read once, then a warning', (t) => {
  // a header of 200 000 index entries, which a reader without the cap would walk 4000 times
  const blob = Buffer.alloc(8 + 200_000 * 16);
  blob.writeUInt32BE(200_000, 0);
  const b = copy(ndbFile([blob, ...Array(4000).fill(new Uint8Array(0))]));
  for (let slot = 1; slot < 4001; slot++) b.copy(b, 32 + 16 * slot, 32, 48); // every slot: the first one
  const start = performance.now();
  const r = read({ 'var/lib/rpm/Packages.db': b });
  t.true(performance.now() - start < 500, `${(performance.now() - start).toFixed(0)} ms`);
  t.regex(r.warnings.at(-1)!, /expected blobs that add up to at most the size of the file \(some are named by more than one slot\)/);
});

test('fuzz: bytes flipped or cut anywhere in each kind of database: warnings, never an exception', async (t) => {
  const seed = Number(process.env.STRATA_FUZZ_SEED ?? (Date.now() ^ (Math.random() * 0x7fffffff)));
  t.log(`STRATA_FUZZ_SEED=${seed}`);
  const dbs: [string, Uint8Array][] = [
    ['var/lib/rpm/rpmdb.sqlite', fixture.sqlite],
    ['var/lib/rpm/Packages', bdb512],
    ['var/lib/rpm/Packages', await berkeleyDb(work, fixture.headers, BDB_LAYOUTS[1])],
    ['var/lib/rpm/Packages.db', ndbFile(fixture.headers)],
  ];
  const mutation = fc.record({
    db: fc.nat(dbs.length - 1),
    writes: fc.array(fc.tuple(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
  });
  let slowest = 0;
  fc.assert(
    fc.property(mutation, ({ db, writes, cut }) => {
      const [path, bytes] = dbs[db];
      const b = copy(bytes);
      for (const [at, v] of writes) b[Math.floor(at * b.length)] = v;
      const start = performance.now();
      const r = read({ [path]: cut === undefined ? b : b.subarray(0, Math.floor(cut * b.length)) });
      slowest = Math.max(slowest, performance.now() - start);
      return r.warnings.every((w) => w.startsWith(`layer 0 /${path}: `));
    }),
    { seed, numRuns: 2000 },
  );
  t.true(slowest < 500, `slowest read ${slowest.toFixed(0)} ms`);
});
