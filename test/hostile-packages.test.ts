/**
 * Package databases built to attack the reader, through the CLI: a database over its cap, one
 * endless line, tens of thousands of package.json files, file lists that climb out of the root or
 * name a million paths, an rpm database of garbage, small databases whose paths multiply (one per
 * ecosystem: the view's path budget). Each is a warning naming the layer and file (or
 * a plain result), in bounded time and memory; the rest of the report goes on.
 */
import test from 'ava';
import { join } from 'node:path';
import { tempDir, writeOciLayout } from './helpers/image-builder.js';
import { dir, file, type Entry } from './helpers/tar-writer.js';
import { succeeds } from './helpers/hostile.js';
import { MAX_PACKAGE_DB_BYTES } from '../src/scan/package-files.js';
import { ndbFile } from './helpers/rpm-root.js';

const status = (body: string): Entry => file('var/lib/dpkg/status', body);
const stanza = (name: string) => `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-1\n`;
const dpkgDirs = [dir('var'), dir('var/lib'), dir('var/lib/dpkg'), dir('var/lib/dpkg/info')];

function image(t: import('ava').ExecutionContext, layers: Entry[][]): string {
  const { dir: d, cleanup } = tempDir();
  t.teardown(cleanup);
  const at = join(d, 'img');
  writeOciLayout(at, { images: [{ layers: layers.map((entries) => ({ entries })) }] });
  return at;
}

async function packages(t: import('ava').ExecutionContext, at: string, bounds: { ms?: number; rssMb?: number } = {}) {
  const r = await succeeds(t, ['packages', at, '--json'], { ms: 60_000, ...bounds });
  return { report: JSON.parse(r.stdout) as { packages: { name: string; files: number; bytes: number }[]; warnings: string[] }, stderr: r.stderr };
}

test('a dpkg status over its cap: not kept, one warning naming layer and file; the layer above is still read', async (t) => {
  const big = `${stanza('a')}\nDescription: x\n ${'y'.repeat(MAX_PACKAGE_DB_BYTES)}\n`;
  const at = image(t, [[...dpkgDirs, status(big)], [dir('app'), dir('app/node_modules'), dir('app/node_modules/x'), file('app/node_modules/x/package.json', '{"name":"x","version":"1.0.0"}')]]);
  const { report, stderr } = await packages(t, at, { rssMb: 500 });
  t.deepEqual(report.packages.map((p) => p.name), ['x']);
  t.deepEqual(report.warnings, ['layer 0 /var/lib/dpkg/status: larger than the 67.1 MB kept of a package database file: not read']);
  t.regex(stderr, /^strata: layer 0 \/var\/lib\/dpkg\/status: larger than/m);
});

test('one endless line and a stanza of 200,000 fields: bounded, the good stanzas read', async (t) => {
  const fields = Array.from({ length: 200_000 }, (_, i) => `X-F${i}: v`).join('\n');
  const body = [stanza('good'), `Package: long\nStatus: install ok installed\nVersion: 1\nDescription: ${'z'.repeat(40 << 20)}`, `${stanza('many')}${fields}`, stanza('after')].join('\n\n');
  const at = image(t, [[...dpkgDirs, status(body)]]);
  const { report } = await packages(t, at, { rssMb: 700 });
  t.true(['good', 'many', 'after'].every((n) => report.packages.some((p) => p.name === n)), JSON.stringify(report.packages.map((p) => p.name)));
});

test('30,000 package.json files in one layer: every one listed, in bounded time and memory', async (t) => {
  const entries: Entry[] = [dir('app'), dir('app/node_modules')];
  for (let i = 0; i < 30_000; i++) entries.push(dir(`app/node_modules/p${i}`), file(`app/node_modules/p${i}/package.json`, `{"name":"p${i}","version":"1.0.${i}"}`));
  const at = image(t, [entries]);
  const { report } = await packages(t, at, { ms: 60_000, rssMb: 500 });
  t.is(report.packages.length, 30_000);
});

test('file lists that climb out of the root, or name a million paths that are not there: nothing outside, nothing invented', async (t) => {
  const climb = ['/../../../etc/passwd', '/./../etc/shadow', '/usr/../../../root/x', ...Array.from({ length: 1_000_000 }, (_, i) => `/nowhere/${i}`)].join('\n');
  const at = image(t, [[
    ...dpkgDirs, dir('etc'), file('etc/passwd', 'root:x:0:0::/root:/bin/sh\n'),
    status(stanza('evil')),
    file('var/lib/dpkg/info/evil.list', `${climb}\n`),
  ]]);
  const { report } = await packages(t, at, { rssMb: 600 });
  // `..` never leaves the root: /../../../etc/passwd is the image's own /etc/passwd, and only it exists
  t.like(report.packages.find((p) => p.name === 'evil'), { files: 1, bytes: 'root:x:0:0::/root:/bin/sh\n'.length });
});

test('an rpm database of garbage, and one cut short: a warning naming layer and file, the other ecosystems read', async (t) => {
  const garbage = Buffer.alloc(3 << 20, 0xa5);
  const sqliteHead = Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(84, 0xff)]);
  const at = image(t, [
    [dir('var'), dir('var/lib'), dir('var/lib/rpm'), file('var/lib/rpm/Packages', garbage)],
    [dir('usr'), dir('usr/lib'), dir('usr/lib/sysimage'), dir('usr/lib/sysimage/rpm'), file('usr/lib/sysimage/rpm/rpmdb.sqlite', sqliteHead), ...dpkgDirs, status(stanza('deb-one'))],
  ]);
  const { report } = await packages(t, at);
  t.deepEqual(report.packages.map((p) => p.name), ['deb-one']);
  t.true(report.warnings.length >= 1 && report.warnings.every((w) => /^layer \d \/(?:var\/lib\/rpm\/Packages|usr\/lib\/sysimage\/rpm\/rpmdb\.sqlite): /.test(w)), JSON.stringify(report.warnings));
});

// Small databases whose paths multiply: a long directory joined to many short names, a list every
// stanza falls back to, empty rpm names pointing at one zero-filled area. Before the view's path
// budget (src/analyze/packages/path-budget.ts) each made gigabytes of heap and killed Node.
const budgetWarning = /^layer 0 \/.+: expected the file lists of one view's packages to cost at most 268 MB \(64 bytes a path and its length\): the paths from here on not read, their files owned by no package$/;

test('apk: one F line of a 400 KB directory, then 20,000 R lines: no path longer than PATH_MAX is made', async (t) => {
  const db = `P:a\nV:1\nF:${'d'.repeat(400_000)}\n${Array.from({ length: 20_000 }, (_, i) => `R:${i.toString(36)}\n`).join('')}\nP:b\nV:2\nF:etc\nR:b.conf\n\n`;
  const at = image(t, [[dir('etc'), file('etc/b.conf', 'x'), dir('lib'), dir('lib/apk'), dir('lib/apk/db'), file('lib/apk/db/installed', db)]]);
  const { report } = await packages(t, at, { ms: 20_000, rssMb: 300 });
  t.like(report.packages.find((p) => p.name === 'a'), { files: 0 });
  t.like(report.packages.find((p) => p.name === 'b'), { files: 1 });
});

test('dpkg: 50 stanzas of one name, each architecture falling back to one 2-million-line a.list: parsed once, within the budget', async (t) => {
  const stanzas = Array.from({ length: 50 }, (_, i) => `Package: a\nStatus: install ok installed\nArchitecture: arch${i}\nVersion: 1\n`).join('\n');
  const at = image(t, [[...dpkgDirs, status(stanzas), file('var/lib/dpkg/info/a.list', '/x\n'.repeat(2_000_000))]]);
  const { report } = await packages(t, at, { ms: 30_000, rssMb: 500 });
  t.is(report.packages.length, 50);
  t.true(report.warnings.some((w) => budgetWarning.test(w) && w.startsWith('layer 0 /var/lib/dpkg/info/a.list: ')), JSON.stringify(report.warnings));
});

test('pypi: a RECORD of 200,000 rows under a 3,000-character directory: bounded by the budget', async (t) => {
  const parts = [...Array.from({ length: 15 }, () => 'x'.repeat(200)), 'site-packages'];
  const dirs: Entry[] = [];
  for (let i = 1; i <= parts.length; i++) dirs.push(dir(parts.slice(0, i).join('/'), { gnuLongName: true }));
  const info = `${parts.join('/')}/p-1.dist-info`;
  const record = Array.from({ length: 200_000 }, (_, i) => `${i.toString(36)},,`).join('\n');
  const at = image(t, [[...dirs, dir(info, { gnuLongName: true }), file(`${info}/METADATA`, 'Metadata-Version: 2.1\nName: p\nVersion: 1\n', { gnuLongName: true }), file(`${info}/RECORD`, record, { gnuLongName: true })]]);
  const { report } = await packages(t, at, { ms: 30_000, rssMb: 500 });
  t.deepEqual(report.packages.map((p) => p.name), ['p']);
  t.true(report.warnings.some((w) => budgetWarning.test(w) && w.startsWith(`layer 0 /${info}/RECORD: `)), JSON.stringify(report.warnings.map((w) => w.slice(-200))));
});

test('rpm: 16 million empty file names pointing at one zero-filled area: each name costs its share, the package still listed', async (t) => {
  const n = 16_000_000;
  const strings = Buffer.from('n\x001\x001\x00usr/share/\x00', 'latin1');
  const zeros = strings.length + ((4 - (strings.length % 4)) % 4);
  const tags = [[1000, 6, 0, 1], [1001, 6, 2, 1], [1002, 6, 4, 1], [1118, 8, 6, 1], [1117, 8, zeros, n], [1116, 4, zeros, n]];
  const blob = Buffer.alloc(8 + 16 * tags.length + zeros + 4 * n);
  blob.writeUInt32BE(tags.length, 0);
  blob.writeUInt32BE(zeros + 4 * n, 4);
  tags.forEach((v, i) => v.forEach((x, j) => blob.writeUInt32BE(x, 8 + 16 * i + 4 * j)));
  strings.copy(blob, 8 + 16 * tags.length);
  const at = image(t, [[dir('var'), dir('var/lib'), dir('var/lib/rpm'), file('var/lib/rpm/Packages.db', Buffer.from(ndbFile([blob])))]]);
  const { report } = await packages(t, at, { ms: 30_000, rssMb: 600 });
  t.deepEqual(report.packages.map((p) => p.name), ['n']);
  t.true(report.warnings.some((w) => budgetWarning.test(w) && w.startsWith('layer 0 /var/lib/rpm/Packages.db: ')), JSON.stringify(report.warnings));
});
