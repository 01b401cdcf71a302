/**
 * The dpkg and apk readers and the version ordering of every ecosystem.
 *
 * dpkg is checked against the real thing: this machine's own database (Debian) read through a
 * DocView and compared with dpkg-query, dpkg -L and apt-mark, and dpkg's and rpm's orderings with
 * `dpkg --compare-versions` and rpm's own rpm.vercmp on tricky and random versions. apk-tools is not
 * installed here: its database is written in the test in the format apk-tools documents and writes
 * (blocks of `X:value` lines, F directories then R files), and its ordering is checked on cases
 * from apk-tools' test/version.data; PEP 440 on packaging's tests/test_version.py; semver on the
 * precedence example of the semver 2.0.0 specification.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apkReader } from '../src/analyze/packages/apk.js';
import { dpkgReader } from '../src/analyze/packages/dpkg.js';
import { compareVersions } from '../src/analyze/packages/version-order.js';
import type { Ecosystem, PackageEntry } from '../src/analyze/packages/types.js';
import { docView } from './helpers/doc-view.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('dpkg', 'dpkg-query', 'apt-mark', 'rpm');

const STATUS = 'var/lib/dpkg/status';
const byName = (packages: PackageEntry[]) => new Map(packages.map((p) => [p.arch ? `${p.name}:${p.arch}` : p.name, p]));
const names = (packages: PackageEntry[]) => packages.map((p) => p.name);

/** A dpkg stanza from fields in order. */
const stanza = (fields: Record<string, string>) =>
  Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}\n`)
    .join('');
const pkg = (name: string, more: Record<string, string> = {}) => stanza({ Package: name, Status: 'install ok installed', Version: '1.0-1', Architecture: 'amd64', ...more });

// ---- dpkg against this machine's database -------------------------------------------------------

/** This machine's dpkg database as the scan would keep it, read at one instant. */
function snapshot(): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = { [STATUS]: readFileSync(`/${STATUS}`) };
  if (existsSync('/var/lib/apt/extended_states')) files['var/lib/apt/extended_states'] = readFileSync('/var/lib/apt/extended_states');
  for (const f of readdirSync('/var/lib/dpkg/info')) {
    if (!f.endsWith('.list')) continue;
    try {
      files[`var/lib/dpkg/info/${f}`] = readFileSync(`/var/lib/dpkg/info/${f}`);
    } catch {
      // removed meanwhile by a running apt-get: the status check below retries
    }
  }
  return files;
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

test("dpkg: this machine's database reads as dpkg-query, dpkg -L and apt-mark show it", (t) => {
  const native = run('dpkg', ['--print-architecture']).trim();
  const shown = ['libc6', 'dpkg', 'bash', 'coreutils'];
  let files: Record<string, Uint8Array> | undefined;
  let query = '';
  let auto = '';
  let lists: Record<string, string> = {};
  // an apt-get may be installing meanwhile: the copy counts when the database did not change
  // while dpkg was asked
  for (let attempt = 0; attempt < 5 && !files; attempt++) {
    const copy = snapshot();
    query = run('dpkg-query', ['-W', '-f', '${Package}\t${Version}\t${Architecture}\t${Installed-Size}\t${db:Status-Abbrev}\t${source:Package}\n']);
    auto = run('apt-mark', ['showauto']);
    lists = Object.fromEntries(shown.map((p) => [p, run('dpkg', ['-L', p])]));
    const now = snapshot();
    if (Buffer.compare(copy[STATUS], now[STATUS]) === 0 && Buffer.compare(copy['var/lib/apt/extended_states'] ?? Buffer.alloc(0), now['var/lib/apt/extended_states'] ?? Buffer.alloc(0)) === 0) files = copy;
  }
  if (!files) return t.fail('the dpkg database kept changing');
  t.truthy(files[`var/lib/dpkg/info/libc6:${native}.list`], 'libc6 is Multi-Arch: same: its list is libc6:ARCH.list');
  t.falsy(files['var/lib/dpkg/info/libc6.list']);

  const r = dpkgReader.read(docView(files));
  t.deepEqual(r.warnings, []);
  const expected = query
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'))
    .filter((f) => !'nc'.includes(f[4][1])) // not-installed, config-files: no files on disk
    .map(([name, version, arch, size, , source]) => [name, version, arch, size, source].join('\t'))
    .sort();
  const got = r.packages.map((p) => [p.name, p.version, p.arch ?? '', p.declaredSize === undefined ? '' : p.declaredSize / 1024, p.source ?? p.name].join('\t')).sort();
  t.true(got.length > 50, `${got.length} packages`);
  t.deepEqual(got, expected);

  const autoNames = r.packages.filter((p) => p.auto).map((p) => (p.arch && p.arch !== 'all' && p.arch !== native ? `${p.name}:${p.arch}` : p.name));
  t.deepEqual(autoNames.sort(), auto.split('\n').filter(Boolean).sort());
  t.true(r.packages.some((p) => p.auto === false));

  const entries = byName(r.packages);
  for (const name of shown) {
    const e = entries.get(`${name}:${native}`);
    const listed = lists[name].split('\n').filter((l) => l.startsWith('/') && l !== '/.');
    t.deepEqual(e?.files.map((f) => `/${f}`), listed, name);
    t.is(e?.path, STATUS);
  }
  t.true(entries.get(`libc6:${native}`)!.files.some((f) => f.endsWith('/libc.so.6')));
});

// ---- dpkg: synthetic databases ------------------------------------------------------------------

test('dpkg: installed means files on disk, whatever the selection; config-files and not-installed are not', (t) => {
  const states = {
    a: 'install ok installed',
    b: 'deinstall ok installed',
    c: 'deinstall ok config-files',
    d: 'purge ok not-installed',
    e: 'install ok half-installed',
    f: 'install ok unpacked',
    g: 'install ok half-configured',
    h: 'install reinstreq half-installed',
    i: 'install ok triggers-pending',
    j: 'hold ok installed',
    k: 'install ok sideways',
  };
  const status = Object.entries(states)
    .map(([name, s]) => pkg(name, { Status: s }))
    .concat(stanza({ Package: 'l', Version: '1' }))
    .join('\n');
  const r = dpkgReader.read(docView({ [STATUS]: status }, { [STATUS]: 2 }));
  t.deepEqual(names(r.packages), ['a', 'b', 'e', 'f', 'g', 'h', 'i', 'j', 'l']);
  t.deepEqual(r.warnings, ['layer 2 /var/lib/dpkg/status: line 51: package k has the status "install ok sideways", not dpkg\'s: skipped']);
});

test('dpkg: stanza syntax: CRLF, blank lines with spaces, continuation lines, duplicate fields, missing fields, Latin-1', (t) => {
  const latin1 = Buffer.from('Maintainer: Jos\xe9 Garc\xeda <j@example.org>\r\nSource: gr\xfcn\r\n', 'latin1');
  const status = Buffer.concat([
    Buffer.from(
      [
        'Package: one',
        'Status: install ok installed',
        'Version: 2:1.2-3',
        'Source: src-one (1.2-2)',
        'Installed-Size: 12',
        'Depends: libc6 (>= 2.36), debconf (>= 0.5) | debconf-2.0,',
        ' perl:any, libfoo [amd64] <!nocheck>,',
        '\tlibbar',
        'Pre-Depends: libc6, dpkg (>= 1.15)',
        'Description: the first',
        ' has a long description',
        ' .',
        ' Package: not-a-package',
        ' Version: 9',
        ' \t  ',
        'package: two',
        'VERSION: 0.1',
        'Version: 0.2',
        'Installed-Size: lots',
      ].join('\r\n') + '\r\n',
    ),
    latin1,
    Buffer.from('\n\t\n\nVersion: 3\nDescription: nameless\n\nPackage: three\nDescription: versionless\n\nnot a field\nPackage: four\nVersion: 4'),
  ]);
  const r = dpkgReader.read(docView({ [STATUS]: status }));
  t.deepEqual(r.packages, [
    { ecosystem: 'deb', name: 'one', version: '2:1.2-3', arch: undefined, source: 'src-one', declaredSize: 12 * 1024, depends: ['libc6', 'dpkg', 'debconf', 'perl', 'libfoo', 'libbar'], path: STATUS, files: [] },
    { ecosystem: 'deb', name: 'two', version: '0.1', source: 'grün', path: STATUS, files: [] },
    { ecosystem: 'deb', name: 'four', version: '4', path: STATUS, files: [] },
  ].map((e) => JSON.parse(JSON.stringify(e))));
  t.deepEqual(r.warnings, [
    'layer 0 /var/lib/dpkg/status: line 31: a line that is not a field: ignored',
    'layer 0 /var/lib/dpkg/status: line 16: package two gives version more than once: the first kept',
    'layer 0 /var/lib/dpkg/status: line 16: package two has the Installed-Size lots, not a number of KiB: left out',
    'layer 0 /var/lib/dpkg/status: line 25: a stanza without Package: skipped',
    'layer 0 /var/lib/dpkg/status: line 28: a stanza without Version: skipped',
  ]);
});

const LATIN1_NAME = Buffer.from('r\xe9sum\xe9', 'latin1');

test('dpkg: the files of a package come from info/NAME:ARCH.list or info/NAME.list, root-relative', (t) => {
  const status = [
    pkg('libfoo', { 'Multi-Arch': 'same' }),
    pkg('libfoo', { 'Multi-Arch': 'same', Architecture: 'i386' }),
    pkg('tool', { Architecture: 'all' }),
    pkg('bare'),
  ].join('\n');
  const r = dpkgReader.read(
    docView({
      [STATUS]: status,
      'var/lib/dpkg/info/libfoo:amd64.list': '/.\n/usr\n/usr/lib\n/usr/lib/x86_64-linux-gnu/libfoo.so.1\n',
      'var/lib/dpkg/info/libfoo:i386.list': '/.\n/usr/lib/i386-linux-gnu/libfoo.so.1',
      'var/lib/dpkg/info/tool.list': Buffer.concat([Buffer.from('/.\n/usr/bin/tool\n/usr/share/doc/tool/caf\xe9 cr\xe8me\n/usr/share/doc/tool/'), LATIN1_NAME, Buffer.from('\n')]),
      'var/lib/dpkg/info/gone.list': '/usr/bin/gone\n',
      'var/lib/dpkg/info/bare.md5sums': 'd41d8cd98f00b204e9800998ecf8427e  usr/bin/bare\n',
    }),
  );
  const e = byName(r.packages);
  t.deepEqual(e.get('libfoo:amd64')?.files, ['usr', 'usr/lib', 'usr/lib/x86_64-linux-gnu/libfoo.so.1']);
  t.deepEqual(e.get('libfoo:i386')?.files, ['usr/lib/i386-linux-gnu/libfoo.so.1']);
  // a name that is not UTF-8 reads as the tar parser reads the member's name, so the two meet
  t.deepEqual(e.get('tool:all')?.files, ['usr/bin/tool', 'usr/share/doc/tool/café crème', `usr/share/doc/tool/${LATIN1_NAME.toString('utf8')}`]);
  t.is(LATIN1_NAME.toString('utf8'), 'r\ufffdsum\ufffd');
  t.deepEqual(e.get('bare:amd64')?.files, [], 'info/*.md5sums are not read for the status file');
  t.deepEqual(r.warnings, []);
});

test("dpkg: apt's extended_states marks what was installed automatically, by name and architecture", (t) => {
  const status = [pkg('lib'), pkg('lib', { Architecture: 'i386' }), pkg('app'), pkg('data', { Architecture: 'all' }), pkg('manual'), pkg('zero')].join('\n');
  const states = [
    stanza({ Package: 'lib', Architecture: 'amd64', 'Auto-Installed': '1' }),
    stanza({ Package: 'data', Architecture: 'amd64', 'Auto-Installed': '1' }), // apt records "all" under the native architecture
    stanza({ Package: 'zero', Architecture: 'amd64', 'Auto-Installed': '0' }),
    stanza({ Package: 'removed', Architecture: 'amd64', 'Auto-Installed': '1' }),
  ].join('\n');
  const r = dpkgReader.read(docView({ [STATUS]: status, 'var/lib/apt/extended_states': states }));
  t.deepEqual(
    r.packages.map((p) => `${p.name}:${p.arch} ${p.auto}`),
    ['lib:amd64 true', 'lib:i386 false', 'app:amd64 false', 'data:all true', 'manual:amd64 false', 'zero:amd64 false'],
  );
  const without = dpkgReader.read(docView({ [STATUS]: status }));
  t.true(without.packages.every((p) => p.auto === undefined), 'no extended_states: not known');
});

test('dpkg: distroless status.d: one file per package, no Status, files from NAME.md5sums', (t) => {
  const D = 'var/lib/dpkg/status.d/';
  const r = dpkgReader.read(
    docView(
      {
        [`${D}base-files`]: stanza({ Package: 'base-files', Version: '12.4+deb12u7', Architecture: 'amd64', 'Installed-Size': '341' }),
        [`${D}base-files.md5sums`]: '8e2cf1ed8b9c0b5b4f28bf4b7d6a1b3f  etc/debian_version\n2b7e1a5c5d1f07a7d5c4b8f1f2a9e8d1 *usr/lib/os-release\n',
        [`${D}libc6`]: stanza({ Package: 'libc6', Version: '2.36-9+deb12u7', Architecture: 'amd64', 'Multi-Arch': 'same', Source: 'glibc' }),
        [`${D}libc6.md5sums`]: 'd5b9e0a0a8d0ffc5b6f5c5c8a8b2c3d1  usr/lib/x86_64-linux-gnu/libc.so.6\nnot a checksum line\n',
        [`${D}tzdata`]: stanza({ Package: 'tzdata', Version: '2024a-0+deb12u1', Architecture: 'all' }),
        [`${D}two`]: `${stanza({ Package: 'netbase', Version: '6.4', Architecture: 'all' })}\n${stanza({ Package: 'media-types', Version: '10.0.0', Architecture: 'all' })}`,
        [`${D}sub/dir`]: stanza({ Package: 'nested', Version: '1' }),
      },
      { [`${D}libc6.md5sums`]: 4 },
    ),
  );
  t.deepEqual(
    r.packages.map((p) => [p.name, p.version, p.path, p.files]),
    [
      ['base-files', '12.4+deb12u7', `${D}base-files`, ['etc/debian_version', 'usr/lib/os-release']],
      ['libc6', '2.36-9+deb12u7', `${D}libc6`, ['usr/lib/x86_64-linux-gnu/libc.so.6']],
      ['netbase', '6.4', `${D}two`, []],
      ['media-types', '10.0.0', `${D}two`, []],
      ['tzdata', '2024a-0+deb12u1', `${D}tzdata`, []],
    ],
  );
  t.is(byName(r.packages).get('base-files:amd64')?.declaredSize, 341 * 1024);
  t.deepEqual(r.warnings, ['layer 4 /var/lib/dpkg/status.d/libc6.md5sums: line 2: not "<md5>  <path>": ignored']);
});

test('dpkg: a package in both the status file and status.d, or twice in one, is read once', (t) => {
  const r = dpkgReader.read(
    docView({
      [STATUS]: [pkg('a', { Version: '1' }), pkg('a', { Version: '2' }), pkg('a', { Version: '3', Architecture: 'arm64' })].join('\n'),
      'var/lib/dpkg/status.d/a': pkg('a', { Version: '4' }),
    }),
  );
  t.deepEqual(
    r.packages.map((p) => `${p.name}:${p.arch}=${p.version}`),
    ['a:amd64=1', 'a:arm64=3'],
  );
  t.deepEqual(r.warnings, [
    'layer 0 /var/lib/dpkg/status: line 6: package a:amd64 is listed again: skipped',
    'layer 0 /var/lib/dpkg/status.d/a: line 1: package a:amd64 is listed again: skipped',
  ]);
});

test('dpkg: warnings are capped per file and show hostile text escaped', (t) => {
  const status = Array.from({ length: 100 }, (_, i) => `Package: p${i}\n`).join('\n') + '\n' + pkg('evil', { Status: 'install ok \x1b[31mred\x07' });
  const r = dpkgReader.read(docView({ [STATUS]: status }, { [STATUS]: 3 }));
  t.deepEqual(r.packages, []);
  t.is(r.warnings.length, 11);
  t.is(r.warnings[0], 'layer 3 /var/lib/dpkg/status: line 1: a stanza without Version: skipped');
  t.is(r.warnings[10], 'layer 3 /var/lib/dpkg/status: 91 more problems not listed');
  const evil = dpkgReader.read(docView({ [STATUS]: pkg('evil', { Status: 'install ok \x1b[31mred\x07' }) }));
  t.deepEqual(evil.warnings, ['layer 0 /var/lib/dpkg/status: line 1: package evil has the status "install ok \\u001b[31mred\\u0007", not dpkg\'s: skipped']);
});

// ---- hostile databases --------------------------------------------------------------------------

const MB = 1024 * 1024;

/** Runs f and checks it took less than `seconds` (a quadratic parse of these inputs takes hours). */
function bounded<T>(t: import('ava').ExecutionContext, seconds: number, f: () => T): T {
  const start = performance.now();
  const out = f();
  const took = (performance.now() - start) / 1000;
  t.true(took < seconds, `took ${took.toFixed(1)} s`);
  return out;
}

test('dpkg hostile: 50 MB of one continuation line, in an ignored field and in a kept one', (t) => {
  const endless = Buffer.alloc(50 * MB, 'a');
  endless[0] = 0x20;
  const head = (field: string) => Buffer.from(`Package: big\nStatus: install ok installed\nVersion: 1\n${field}: x\n`);
  const inDescription = bounded(t, 10, () => dpkgReader.read(docView({ [STATUS]: Buffer.concat([head('Description'), endless]) })));
  t.deepEqual(names(inDescription.packages), ['big']);
  t.deepEqual(inDescription.warnings, []);
  const inDepends = bounded(t, 10, () => dpkgReader.read(docView({ [STATUS]: Buffer.concat([head('Depends'), endless]) })));
  t.deepEqual(inDepends.packages, []);
  t.deepEqual(inDepends.warnings, ['layer 0 /var/lib/dpkg/status: line 1: its depends field is longer than 1 MiB: stanza skipped']);
  const noNewline = bounded(t, 10, () => dpkgReader.read(docView({ [STATUS]: Buffer.alloc(50 * MB, 'b') })));
  t.deepEqual(noNewline, { packages: [], warnings: ['layer 0 /var/lib/dpkg/status: line 1: a line that is not a field: ignored'] });
});

test('dpkg hostile: a stanza of a million fields, a million duplicates, a million lines without a colon', (t) => {
  const many = 'Package: wide\nVersion: 1\n' + Array.from({ length: 1_000_000 }, (_, i) => `X-F${i}: v\n`).join('');
  const wide = bounded(t, 20, () => dpkgReader.read(docView({ [STATUS]: many })));
  t.deepEqual(names(wide.packages), ['wide']);
  const dup = 'Package: dup\nVersion: 1\n' + 'Depends: a\n'.repeat(1_000_000);
  const dups = bounded(t, 20, () => dpkgReader.read(docView({ [STATUS]: dup })));
  t.deepEqual(dups.packages[0].depends, ['a']);
  t.deepEqual(dups.warnings, ['layer 0 /var/lib/dpkg/status: line 1: package dup gives depends more than once: the first kept']);
  const junk = bounded(t, 20, () => dpkgReader.read(docView({ [STATUS]: 'junk\n'.repeat(1_000_000) })));
  t.deepEqual(junk.packages, []);
  t.is(junk.warnings.length, 11);
});

// ---- apk ----------------------------------------------------------------------------------------

/** An installed database as apk-tools writes it (apk-tools doc and src/database.c: apk_db_write_fdb). */
const INSTALLED = `C:Q1AZ2bXm+6Ytyh3XxcS1HGIRWRTTk=
P:musl
V:1.2.5-r0
A:x86_64
S:411425
I:641024
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1712674398
c:b3d70e5c7fd0fcc0ad1a6f5cbb5b4b2ca7e1be42
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1OI2pLw4OrHxSUuUZSY4qO4VUGsQ=
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=

C:Q1W5Ac1+b8u9yTXJdPjj/pTX8fkTg=
P:busybox
V:1.36.1-r29
A:x86_64
S:510010
I:924350
T:Size optimized toolbox of many common UNIX utilities
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1717763224
c:1a1b5e1ddb0ba8bb71aa38d3a5ac6c0b3a16b1a8
D:so:libc.musl-x86_64.so.1 musl>=1.2 /bin/sh !busybox-extras cmd:ash pc:none scanelf<2 baz~1.0 qux@edge
p:/bin/sh cmd:busybox=1.36.1-r29 cmd:sh=1.36.1-r29
r:busybox-initscripts
F:bin
R:busybox
a:0:0:755
Z:Q1WUwBY0eOGgzgVxTZxJBZPyQUicI=
F:etc
R:securetty
Z:Q1mB95Hq2NUbqTUL4ZJpgj3Q7iyzQ=
M:0:0:755
F:etc/busybox-paths.d
R:busybox
F:
R:.rootfile
F:usr/share/udhcpc
R:default.script

P:alpine-baselayout-data
V:3.6.5-r0
A:x86_64
S:11235
I:77824
L:GPL-2.0-only
o:alpine-baselayout
`;

const APK_DB = 'lib/apk/db/installed';

test('apk: the installed database: names, versions, origin, license, sizes, depends, F/R files', (t) => {
  const r = apkReader.read(docView({ [APK_DB]: INSTALLED }, { [APK_DB]: 1 }));
  t.deepEqual(r.warnings, []);
  t.deepEqual(r.packages, [
    { ecosystem: 'apk', name: 'musl', version: '1.2.5-r0', arch: 'x86_64', source: 'musl', license: 'MIT', declaredSize: 641024, path: APK_DB, files: ['lib/ld-musl-x86_64.so.1', 'lib/libc.musl-x86_64.so.1'] },
    {
      ecosystem: 'apk',
      name: 'busybox',
      version: '1.36.1-r29',
      arch: 'x86_64',
      source: 'busybox',
      license: 'GPL-2.0-only',
      declaredSize: 924350,
      depends: ['musl', 'scanelf', 'baz', 'qux'],
      path: APK_DB,
      files: ['bin/busybox', 'etc/securetty', 'etc/busybox-paths.d/busybox', '.rootfile', 'usr/share/udhcpc/default.script'],
    },
    { ecosystem: 'apk', name: 'alpine-baselayout-data', version: '3.6.5-r0', arch: 'x86_64', source: 'alpine-baselayout', license: 'GPL-2.0-only', declaredSize: 77824, path: APK_DB, files: [] },
  ]);
});

test('apk: etc/apk/world names what was asked for; the others were installed automatically', (t) => {
  const r = apkReader.read(docView({ [APK_DB]: INSTALLED, 'etc/apk/world': 'busybox\nmusl>=1.2 !bad so:libz.so.1\n' }));
  t.deepEqual(
    r.packages.map((p) => [p.name, p.auto]),
    [
      ['musl', false],
      ['busybox', false],
      ['alpine-baselayout-data', true],
    ],
  );
  t.true(apkReader.read(docView({ [APK_DB]: INSTALLED })).packages.every((p) => p.auto === undefined), 'no world: not known');
});

test('apk: lib/apk/db wins over usr/lib/apk/db as apk-tools 3 decides; usr/lib alone is read (merged /usr)', (t) => {
  const other = 'P:other\nV:1-r0\n';
  const usr = apkReader.read(docView({ 'usr/lib/apk/db/installed': other }));
  t.deepEqual(names(usr.packages), ['other']);
  t.is(usr.packages[0].path, 'usr/lib/apk/db/installed');
  const both = apkReader.read(docView({ [APK_DB]: INSTALLED, 'usr/lib/apk/db/installed': other }, { 'usr/lib/apk/db/installed': 2 }));
  t.deepEqual(names(both.packages), ['musl', 'busybox', 'alpine-baselayout-data']);
  t.deepEqual(both.warnings, ['layer 2 /usr/lib/apk/db/installed: not read: apk uses /lib/apk/db/installed, which the image also has']);
  const oversized = apkReader.read(docView({ 'usr/lib/apk/db/installed': other }, {}, [APK_DB]));
  t.deepEqual(oversized, { packages: [], warnings: [] }, 'the one apk would read is over the cap: not the other instead');
  t.deepEqual(apkReader.read(docView({})), { packages: [], warnings: [] });
});

test('apk: malformed blocks: no version, a line that is no field, no blank line, files before a directory', (t) => {
  const db = ['P:nover', 'A:x86_64', '', 'P:good', 'V:1-r0', 'junk', 'P:next', 'V:2-r0', 'R:orphan', 'F:usr/bin', 'R:tool', '', 'V:3-r0', ''].join('\n');
  const r = apkReader.read(docView({ [APK_DB]: db }));
  t.deepEqual(
    r.packages.map((p) => [p.name, p.files]),
    [
      ['good', []],
      ['next', ['usr/bin/tool']],
    ],
  );
  t.deepEqual(r.warnings, [
    'layer 0 /lib/apk/db/installed: line 1: a package without V: (version): skipped',
    'layer 0 /lib/apk/db/installed: line 6: not a "X:value" line: ignored',
    'layer 0 /lib/apk/db/installed: line 7: a package starts without a blank line before it',
    'layer 0 /lib/apk/db/installed: line 9: package next lists files (R) before any directory (F): those left out',
    'layer 0 /lib/apk/db/installed: line 13: a package without P: (name): skipped',
  ]);
});

test('apk hostile: a 50 MB name line, a million files before any directory, a million packages of one name', (t) => {
  const long = Buffer.concat([Buffer.from('P:'), Buffer.alloc(50 * MB, 'n'), Buffer.from('\nV:1-r0\n\nP:fine\nV:1-r0\n')]);
  const r = bounded(t, 10, () => apkReader.read(docView({ [APK_DB]: long })));
  t.deepEqual(names(r.packages), ['fine']);
  t.deepEqual(r.warnings, ['layer 0 /lib/apk/db/installed: line 1: its P: line is longer than 1 MiB: package skipped']);
  const orphans = 'P:wide\nV:1-r0\n' + 'R:file\n'.repeat(1_000_000);
  const o = bounded(t, 20, () => apkReader.read(docView({ [APK_DB]: orphans })));
  t.deepEqual(o.packages[0].files, []);
  t.is(o.warnings.length, 1);
  const same = 'P:same\nV:1-r0\n\n'.repeat(1_000_000);
  const s = bounded(t, 20, () => apkReader.read(docView({ [APK_DB]: same })));
  t.is(s.packages.length, 1);
  t.is(s.warnings.length, 11);
});

// ---- version ordering: dpkg and rpm against the real tools ------------------------------------

/** A small seeded generator: the same "random" versions on every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = (r: () => number, chars: string, min: number, max: number) => Array.from({ length: min + Math.floor(r() * (max - min + 1)) }, () => chars[Math.floor(r() * chars.length)]).join('');

/** Every pair of `tricky`, and the `random` pairs. */
function pairs(tricky: string[], random: [string, string][]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < tricky.length; i++) for (let j = i; j < tricky.length; j++) out.push([tricky[i], tricky[j]]);
  return out.concat(random);
}

const DPKG_TRICKY = [
  '0', '00', '0.0', '1', '1.0', '1.00', '1.0-0', '1.0-1', '1.0-1.1', '1.0-2', '1.0-10', '1.0~rc1', '1.0~rc1-1', '1.0~~', '1.0~',
  '1.0~rc1~', '1.0+', '1.0+dfsg-1', '1.0.1', '1.0a', '1.0A', '1.0-a', '1:0.9', '1:1.0', '2:0', '0:1.0', '10:1', '01:1.0',
  '1.0-1~bpo12+1', '1.0-1+deb12u1', '1.0-1+b1', '1.0.0~beta.1', '2.36-9+deb12u7', '2.36-9+deb12u10', '1.2.3-4ubuntu0.1',
  '1.0-1-1', '9', '10', '1.01', '1.001', '1.0.', '1..0', '1:1.0:1', '1.0é', '1.0_1', 'a1.0', '99999999999999999999', '100000000000000000000',
];

test('version order deb: as `dpkg --compare-versions` on tricky and random versions', (t) => {
  const r = rng(1);
  const dpkgVersion = () => {
    const epoch = r() < 0.2 ? `${Math.floor(r() * 3)}:` : '';
    const upstream = pick(r, '0123456789', 1, 1) + pick(r, '0123456789.+~ab', 0, 6);
    const revision = r() < 0.5 ? `-${pick(r, '0123456789.+~a', 1, 4)}` : '';
    return epoch + upstream + revision;
  };
  const sorted = [...new Set([...DPKG_TRICKY, ...Array.from({ length: 400 }, dpkgVersion)])].sort((a, b) => compareVersions('deb', a, b));
  // strata's order is consistent: every pair compares as the sorted positions say (ties share a rank)
  const rank = [0];
  for (let i = 1; i < sorted.length; i++) rank.push(rank[i - 1] + (compareVersions('deb', sorted[i - 1], sorted[i]) < 0 ? 1 : 0));
  const inconsistent: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = 0; j < sorted.length; j++) if (compareVersions('deb', sorted[i], sorted[j]) !== Math.sign(rank[i] - rank[j])) inconsistent.push(`${sorted[i]} vs ${sorted[j]}`);
  }
  t.deepEqual(inconsistent, []);
  // and dpkg agrees with each step of it: by transitivity, with every pair
  const steps = sorted.slice(1).map((b, i): [string, string] => [sorted[i], b]);
  const script = 'while read -r a b; do dpkg --compare-versions "$a" lt "$b" 2>/dev/null; l=$?; dpkg --compare-versions "$a" gt "$b" 2>/dev/null; echo "$l$?"; done';
  const out = spawnSync('bash', ['-c', script], { input: steps.map((p) => p.join(' ')).join('\n') + '\n', encoding: 'utf8' });
  const answers = out.stdout.split('\n').filter(Boolean);
  t.is(answers.length, steps.length);
  const wrong = steps.flatMap(([a, b], i) => {
    const want = rank[i] < rank[i + 1] ? '01' : '11'; // lt, or neither lt nor gt
    return answers[i] === want ? [] : [`${a} vs ${b}: strata ${want === '01' ? '<' : '='}, dpkg lt/gt exit codes ${answers[i]}`];
  });
  t.deepEqual(wrong, []);
});

const RPM_TRICKY = [
  '0', '00', '1', '1.0', '1.0.0', '1.0-1', '1.0-2', '1.0-10', '1.0-1.1', '1.0~rc1', '1.0~rc1-1', '1.0~~', '1.0~', '1.0~^', '1.0^',
  '1.0^git1', '1.0^git1~rc', '1.0^^', '1.0a', '1.0.a', '1.a', '1.0.1', '1.01', '1.001', '0:1.0', '1:1.0', '2:0.1', ':1.0', '1:',
  '1.0-1.el9', '1.0-1.fc40', '2.0', '9', '10', 'a', 'b', 'A', 'abc-1', '1.0_1', '1.0+1', '1..0', '1.0.', '1.0-a', '1.0-1^1',
  '1.0--1', '1.0é', '99999999999999999999', '100000000000000000000',
];

test('version order rpm: as rpm.vercmp (rpm --eval) on tricky and random versions', (t) => {
  const r = rng(2);
  const rpmVersion = () => (r() < 0.2 ? `${Math.floor(r() * 3)}:` : '') + pick(r, '0123456789.ab~^_', 1, 7) + (r() < 0.5 ? `-${pick(r, '0123456789.a~^', 1, 4)}` : '');
  const all = pairs(RPM_TRICKY, Array.from({ length: 400 }, (): [string, string] => [rpmVersion(), rpmVersion()]));
  const dir = mkdtempSync(join(tmpdir(), 'strata-rpmvercmp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'pairs'), all.map((p) => p.join('\n')).join('\n') + '\n');
  writeFileSync(
    join(dir, 'cmp.lua'),
    'local v = {}\nfor line in io.lines(os.getenv("PAIRS")) do v[#v+1] = line end\nlocal out = {}\nfor i = 1, #v, 2 do out[#out+1] = tostring(rpm.vercmp(v[i], v[i+1])) end\nprint(table.concat(out, " "))\n',
  );
  const out = execFileSync('rpm', ['--eval', '%{lua: dofile(os.getenv("CMP"))}'], { encoding: 'utf8', env: { ...process.env, PAIRS: join(dir, 'pairs'), CMP: join(dir, 'cmp.lua') } });
  const answers = out.trim().split(' ').map(Number);
  t.is(answers.length, all.length);
  const wrong = all.flatMap(([a, b], i) => {
    const c = compareVersions('rpm', a, b);
    return c === answers[i] ? [] : [`${a} vs ${b}: rpm ${answers[i]}, strata ${c}`];
  });
  t.deepEqual(wrong, []);
});

// ---- version ordering: apk, PEP 440, semver from their projects' own test data ----------------

/** Lines of apk-tools' test/version.data (`a OP b`), the ones since apk-tools 3's tokenizer included. */
const APK_CASES = `2.34 > 0.1.0_alpha
23_foo > 4_beta
1.0 < 1.0bc
0.1.0_alpha = 0.1.0_alpha
0.1.0_alpha < 0.1.3_alpha
0.1.0_alpha2 > 0.1.0_alpha
0.1.0_alpha < 2.2.39-r1
1.0.4-r3 < 1.0.4-r4
1.1 > 1.1_alpha1
1.2.1 > 1.2
1.2 < 1.3_alpha
1.3_alpha2 < 1.3_alpha3
0.7.0 < 0.8_beta1
3.10.18-r1 > 2.3.0b-r1
2.3.0b-r1 < 2.3.0b-r2
0.12.3 > 0.12
0.12 < 0.13_beta1
0.13_beta5 > 0.9.12
1.2.11 < 1.2.12.1
0.2.0-r1 = 0.2.0-r1
3.1_p16 < 3.1_p17
1.06-r6 < 006
006 > 1.0.0
1.2.2-r1 > 1.2.2
9.3.4-r2 > 9.3.4
2.59 < 20050718-r1
3.9.8-r5 > 2.01.01_alpha10
1.0 > 0.99.3.20040818
1.39 > 1.00_beta2
4.2.52_p2-r1 < 4.2.52_p4-r2
9 > 2.18.3-r10
2.38 < 20050405
1.0.0 < 10-r1
20060720 > 3.0.20060720
2.5.1-r8 < 2.5.1a-r1
20040401 > 2.0.0_rc3-r1
0.99.163 < 2.6.15.20060110
3.0.0-r2 < 021109-r3
0.9.16-r1 < 3.9_pre20060124
1.1.7 < 6b-r7
0.10.0 < 0.10.1_rc1
2.0.2 > 1.1a
1.1a < 1.3a
1.0-r1 > 0.15.1b
0.15.1b-r2 > 0.15.1b
22.7.3-r1 > 22.7
22.7 > 2.1_pre20
2.1_pre20 < 2.1_pre26
2.10.1 > 02.08.01b
3.81 > 1.6d
1.2.07.8 < 1.2.12.04
1.07-r1 < 1.07.5
20061003 > 0.1_pre20060810
3.3.17 > 0.59s-r11
0.20070118 < 0.20070207_rc1
2.3.30-r2 < 3.7_p1
4.5_p1-r1 > 4.5_p1
0.9.8c-r1 < 0.9.8d
2.2.3-r2 < 013
013 < 014-r1
1.7 < 1.7b
1.8.5 < 1.8.5_p2
2.9.11_pre20051101-r2 < 2.9.11_pre20051101-r3
2.9.11_pre20051101-r3 > 2.9.11_pre20051101
1.6.8_p12-r1 > 1.6.8_p9-r2
0.40-r1 < 2.25b-r5
0.9.28.1 < 087-r1
104-r11 > 104-r9
20040406-r1 > 2.12r-r4
2.12r-r4 < 2.12r-r5
7.0.17 < 7.0.174
1.3-r0 < 1.3.1-r0
1.3_pre1-r1 < 1.3.2
1.0_p10-r0 > 1.0_p9-r0
0.1.0_alpha_pre2 < 0.1.0_alpha
1.0.0_pre20191002222144-r0 < 1.0.0_pre20210530193627-r0
6.0_pre1 < 6.0
6.1_pre1 < 6.1
6.0_p1 > 6.0
6.1_p1 > 6.1`;

test("version order apk: apk-tools' test/version.data", (t) => {
  const wrong: string[] = [];
  for (const line of APK_CASES.split('\n')) {
    const [a, op, b] = line.split(' ');
    const want = { '<': -1, '=': 0, '>': 1 }[op];
    if (compareVersions('apk', a, b) !== want) wrong.push(line);
    if (compareVersions('apk', b, a) !== -want!) wrong.push(`${line} (reversed)`);
  }
  t.deepEqual(wrong, []);
  // not in version.data: the commit hash apk-tools 3 allows before the revision, compared as a
  // string, and a version with one sorts after the same version without
  t.is(compareVersions('apk', '1.0~abc1-r0', '1.0~abc2-r0'), -1);
  t.is(compareVersions('apk', '1.0-r0', '1.0~abc-r0'), -1);
});

/** packaging's tests/test_version.py VERSIONS: "This list must be in the correct sorting order". */
const PEP440_SORTED = [
  '1.0.dev0', '1.0.dev456', '1.0.dev456+local', '1.0a0', '1.0a0.post0.dev0', '1.0a0.post0', '1.0a1.dev1', '1.0a1.dev1+local', '1.0a1',
  '1.0a1+local', '1.0b0', '1.0b1.dev456', '1.0b2', '1.0b2.post345.dev456', '1.0b2.post345', '1.0b2-346', '1.0rc0', '1.0rc1.dev1', '1.0c1',
  '1.0rc2', '1.0', '1.0.post0.dev0', '1.0.post0', '1.0.post456.dev34', '1.0.post456', '1.0.post456+local', '1.0.1.dev1', '1.0.1a1', '1.0.1',
  '1.0.1+local', '1.0.1.post1', '1.1.dev1', '1.2+a', '1.2+abc', '1.2+abcdef', '1.2+def', '1.2+0', '1.2+1', '1.2+1.abc', '1.2+1.1',
  '1.2+1.1.0', '1.2+2', '1.2+123', '1.2+123456', '1.2.r32+123456', '1.2.rev33+123456',
  '1!1.0.dev0', '1!1.0a1+local', '1!1.0b2-346', '1!1.0', '1!1.0.post456+local', '1!1.2+1.abc', '1!1.2.rev33+123456',
];

test("version order pypi: packaging's sorted versions, its normalizations, and invalid versions first", (t) => {
  const wrong: string[] = [];
  for (let i = 0; i < PEP440_SORTED.length; i++) {
    for (let j = 0; j < PEP440_SORTED.length; j++) {
      const c = compareVersions('pypi', PEP440_SORTED[i], PEP440_SORTED[j]);
      if (c !== Math.sign(i - j)) wrong.push(`${PEP440_SORTED[i]} vs ${PEP440_SORTED[j]}: ${c}`);
    }
  }
  t.deepEqual(wrong, []);
  const same = [
    ['1.0dev', '1.0.dev0'], ['1.0-DEV1', '1.0.dev1'], ['1.0.alpha1', '1.0a1'], ['1.0-B', '1.0b0'], ['1.0c1', '1.0rc1'], ['1.0.preview2', '1.0rc2'],
    ['1.0-5', '1.0.post5'], ['1.0rev', '1.0.post0'], ['1.0+AbC', '1.0+abc'], ['1.01', '1.1'], ['1.0a05', '1.0a5'], ['00!1.2', '1.2'],
    ['v1.0', '1.0'], ['   v1.0\t\n', '1.0'], ['\u202f1.0\t\u2029\n ', '1.0'], ['1.0', '1.0.0'], ['1.0+local-1', '1.0+local.1'],
  ];
  t.deepEqual(same.filter(([a, b]) => compareVersions('pypi', a, b) !== 0), []);
  for (const invalid of ['french toast', '1.0+a+', '1.0+_foobar', '1. 0', '٠١٢.٣٤٥.٦٧٨٩', '1..0', '1.0+\u0130']) {
    t.is(compareVersions('pypi', invalid, '0.0.dev0'), -1, invalid);
  }
  t.is(compareVersions('pypi', 'lolwat-2', 'lolwat-10'), -1, 'invalid ones among themselves: digit runs as numbers');
});

test('version order npm: the semver 2.0.0 precedence example, build metadata, npm prefixes', (t) => {
  const chain = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '2.0.0', '2.1.0', '2.1.1', '10.0.0'];
  for (let i = 0; i < chain.length; i++) for (let j = 0; j < chain.length; j++) t.is(compareVersions('npm', chain[i], chain[j]), Math.sign(i - j), `${chain[i]} vs ${chain[j]}`);
  t.is(compareVersions('npm', '1.0.0+build.1', '1.0.0+build.2'), 0);
  t.is(compareVersions('npm', 'v1.2.3', '=1.2.3'), 0);
  t.is(compareVersions('npm', '1.2.3-rc.9', '1.2.3-rc.10'), -1);
  t.is(compareVersions('npm', 'latest', '0.0.0-0'), -1, 'not a version: before every version');
});

test('version order: every ecosystem takes long and malformed strings in bounded time, without throwing', (t) => {
  const hostile = ['9'.repeat(MB), 'a'.repeat(MB), '1.'.repeat(MB / 2), '~'.repeat(MB), `1${'-r'.repeat(MB / 2)}`, '\u0000\uffff\ud800'];
  const ecosystems: Ecosystem[] = ['deb', 'rpm', 'apk', 'pypi', 'npm'];
  bounded(t, 20, () => {
    for (const e of ecosystems) {
      for (const a of hostile) {
        for (const b of [...hostile, '1.0']) {
          const c = compareVersions(e, a, b);
          if (![-1, 0, 1].includes(c)) t.fail(`${e}: ${c}`);
        }
      }
    }
  });
  t.is(compareVersions('deb', '9'.repeat(MB), `1${'0'.repeat(MB)}`), -1);
  t.is(compareVersions('apk', '18446744073709551617', '2'), -1, 'apk reads numbers modulo 2^64, as apk_blob_pull_uint');
});
