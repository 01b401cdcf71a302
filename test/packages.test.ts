/**
 * The package view on synthetic images: which database copy each view reads, ownership (through
 * merged-/usr symlinks, hardlinks once, npm minus nested node_modules, OS before language), bytes
 * that add up to the final view, per-layer changes, whiteouts of a database, the capture caps, the
 * cache round trip, and what builds on it (bloat, shipped secrets, CI rules, diff, the CLI).
 */
import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { modelOf } from './helpers/model.js';
import { runStrata } from './helpers/cli.js';
import { tempDir, writeOciLayout } from './helpers/image-builder.js';
import { csvLine } from '../src/render/text.js';
import { dir, file, tar, type Entry } from './helpers/tar-writer.js';
import { analyzePackages, packagesReport } from '../src/analyze/packages/packages.js';
import { packageFileCap, MAX_PACKAGE_META_BYTES } from '../src/scan/package-files.js';
import { imageSizes } from '../src/model/views.js';
import { diffPackages } from '../src/analyze/diff/packages.js';
import { inspectReport } from '../src/analyze/report.js';
import { decodeScan, encodeScan } from '../src/cache/layer-cache.js';
import { scanLayer } from '../src/scan/scan-layer.js';
import { evaluateGate } from '../src/analyze/gate/gate.js';
import { defaultBloatConfig } from '../src/analyze/bloat/section.js';
import { parseRuleSection, mergeRules } from '../src/analyze/gate/rules.js';

const bytes = (n: number, c = 'x') => c.repeat(n);

function stanza(name: string, version: string, more: Record<string, string> = {}): string {
  const fields = { Package: name, Status: 'install ok installed', Architecture: 'amd64', Version: version, 'Installed-Size': '4', ...more };
  return Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('\n');
}
const status = (...stanzas: string[]) => file('var/lib/dpkg/status', `${stanzas.join('\n\n')}\n`);

const base: Entry[] = [
  dir('usr'), dir('usr/bin'), dir('usr/lib'), dir('usr/lib/x86_64-linux-gnu'), dir('usr/share'), dir('usr/share/doc'), dir('usr/share/doc/bash'),
  { name: 'bin', type: 'symlink', linkname: 'usr/bin' },
  file('usr/bin/bash', bytes(1000)),
  { name: 'usr/bin/sh', type: 'hardlink', linkname: 'usr/bin/bash' },
  file('usr/share/doc/bash/README', bytes(300)),
  file('usr/share/doc/bash/copyright', bytes(50)),
  file('usr/lib/x86_64-linux-gnu/libc.so.6', bytes(5000)),
  dir('etc'), file('etc/os-release', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'),
  dir('var'), dir('var/lib'), dir('var/lib/dpkg'), dir('var/lib/dpkg/info'),
  status(stanza('bash', '5.2.15-2+b2'), stanza('libc6', '2.36-9+deb12u4', { 'Multi-Arch': 'same' })),
  // dpkg names files by the path it unpacked them to: /bin/bash reaches usr/bin/bash through the merged-/usr link
  file('var/lib/dpkg/info/bash.list', '/.\n/bin\n/bin/bash\n/usr/bin/sh\n/usr/share/doc/bash\n/usr/share/doc/bash/README\n/usr/share/doc/bash/copyright\n'),
  file('var/lib/dpkg/info/libc6:amd64.list', '/.\n/usr/lib/x86_64-linux-gnu/libc.so.6\n'),
];
const curl1: Entry[] = [
  status(stanza('bash', '5.2.15-2+b2'), stanza('libc6', '2.36-9+deb12u4', { 'Multi-Arch': 'same' }), stanza('curl', '7.88.1-10')),
  file('var/lib/dpkg/info/curl.list', '/usr/bin/curl\n'),
  file('usr/bin/curl', bytes(2000)),
];
const site = 'usr/local/lib/python3.11/site-packages';
const record = `six.py,sha256=x,500\nsix-1.16.0.dist-info/METADATA,,\nsix-1.16.0.dist-info/RECORD,,\n`;
const app: Entry[] = [
  status(stanza('bash', '5.2.15-2+b2'), stanza('libc6', '2.36-9+deb12u4', { 'Multi-Arch': 'same' }), stanza('curl', '7.88.1-10+deb12u5')),
  file('usr/bin/curl', bytes(2100)),
  dir('app'), file('app/main.js', bytes(700)),
  dir('app/node_modules'), dir('app/node_modules/left-pad'),
  file('app/node_modules/left-pad/package.json', '{"name":"left-pad","version":"1.3.0","license":"WTFPL"}'),
  file('app/node_modules/left-pad/index.js', bytes(400)),
  dir('app/node_modules/left-pad/node_modules'), dir('app/node_modules/left-pad/node_modules/dep'),
  file('app/node_modules/left-pad/node_modules/dep/package.json', '{"name":"dep","version":"2.0.0"}'),
  file('app/node_modules/left-pad/node_modules/dep/x.js', bytes(100)),
  dir('usr/local'), dir('usr/local/lib'), dir('usr/local/lib/python3.11'), dir(site), dir(`${site}/six-1.16.0.dist-info`),
  file(`${site}/six-1.16.0.dist-info/METADATA`, 'Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n\nSix is a Python 2 and 3 compatibility library.\n'),
  file(`${site}/six-1.16.0.dist-info/RECORD`, record),
  file(`${site}/six.py`, bytes(500)),
];
const removeCurl: Entry[] = [
  status(stanza('bash', '5.2.15-2+b2'), stanza('libc6', '2.36-9+deb12u4', { 'Multi-Arch': 'same' })),
  file('usr/bin/.wh.curl', ''),
  file('var/lib/dpkg/info/.wh.curl.list', ''),
];
const history = ['FROM debian:12', 'RUN apt-get install -y curl', 'COPY app /app', 'RUN apt-get purge -y curl'];
const layers = [base, curl1, app, removeCurl].map((entries, i) => ({ entries, createdBy: history[i] }));

test('the final view: each package with its version, layers, files and bytes; the rest by directory; all of it adds up to the view', async (t) => {
  const model = await modelOf(layers);
  const p = analyzePackages(model);
  const row = (eco: string, name: string) => p.rows.find((r) => r.ecosystem === eco && r.name === name)!;
  t.deepEqual(p.rows.map((r) => `${r.ecosystem} ${r.name} ${r.version}`).sort(), ['deb bash 5.2.15-2+b2', 'deb libc6 2.36-9+deb12u4', 'npm dep 2.0.0', 'npm left-pad 1.3.0', 'pypi six 1.16.0']);
  // bash: /bin/bash through the link, its hardlink sh once, README and copyright
  t.like(row('deb', 'bash'), { bytes: 1350, files: 4, layer: 0, changedLayer: 0, path: '/var/lib/dpkg/status', declaredSize: 4096, arch: 'amd64' });
  t.like(row('deb', 'libc6'), { bytes: 5000, files: 1 });
  // left-pad owns its directory minus the nested node_modules, which is dep's
  const leftPadJson = '{"name":"left-pad","version":"1.3.0","license":"WTFPL"}'.length;
  t.like(row('npm', 'left-pad'), { bytes: leftPadJson + 400, files: 2, layer: 2, license: 'WTFPL', path: '/app/node_modules/left-pad/package.json' });
  t.like(row('npm', 'dep'), { bytes: '{"name":"dep","version":"2.0.0"}'.length + 100, files: 2 });
  t.like(row('pypi', 'six'), { files: 3, layer: 2 });
  t.is(row('pypi', 'six').bytes, 500 + record.length + (app.find((e) => e.name.endsWith('METADATA'))!.data as string).length);
  t.is(row('deb', 'bash').purl, 'pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12');
  t.deepEqual(p.distro, { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' });
  // largest first
  t.deepEqual(p.rows.map((r) => r.bytes), [...p.rows.map((r) => r.bytes)].sort((a, b) => b - a));
  // what no package owns: the app, the databases themselves, os-release
  t.true(p.unowned.dirs.some((d) => d.path === '/app' && d.bytes === 700 && d.files === 1));
  t.true(p.unowned.dirs.some((d) => d.path === '/var/lib'));
  const r = packagesReport(model);
  t.is(r.finalSize, imageSizes(model).final);
  t.is(r.packages.reduce((s, x) => s + x.bytes, 0) + r.unowned.bytes, imageSizes(model).final);
  t.is(p.ownerOf(model.union.nodeOf('usr/bin/bash')!)?.name, 'bash');
  t.is(p.ownerOf(model.union.nodeOf('app/main.js')!), undefined);
  t.deepEqual(r.warnings, []);
});

test('per layer: added, upgraded and removed packages with versions and bytes; a layer without a database carries the state', async (t) => {
  const model = await modelOf([...layers.slice(0, 3), { entries: [file('app/extra.txt', 'x')], createdBy: 'COPY extra /app' }, layers[3]]);
  const L = analyzePackages(model).layers;
  const names = (cs: { ecosystem: string; name: string }[]) => cs.map((c) => `${c.ecosystem} ${c.name}`).sort();
  t.deepEqual(names(L[0].added), ['deb bash', 'deb libc6']);
  t.deepEqual(L[1].added.map((c) => [c.name, c.to, c.bytes]), [['curl', '7.88.1-10', 2000]]);
  t.is(L[1].createdBy, 'RUN apt-get install -y curl');
  t.deepEqual(L[2].changed.map((c) => [c.name, c.from, c.to, c.direction, c.bytes]), [['curl', '7.88.1-10', '7.88.1-10+deb12u5', 'upgrade', 2100]]);
  t.deepEqual(names(L[2].added), ['npm dep', 'npm left-pad', 'pypi six']);
  t.like(L[3], { database: false, added: [], removed: [], changed: [] });
  t.deepEqual(L[4].removed.map((c) => [c.name, c.from, c.to, c.bytes]), [['curl', '7.88.1-10+deb12u5', null, 2100]]);
});

test('a whiteout of the whole database in a later layer: no deb package in the view, all listed as removed by that layer', async (t) => {
  const model = await modelOf([{ entries: base }, { entries: [file('var/lib/.wh.dpkg', '')], createdBy: 'RUN rm -rf /var/lib/dpkg' }]);
  const p = analyzePackages(model);
  t.deepEqual(p.rows, []);
  t.deepEqual(p.layers[1].removed.map((c) => c.name).sort(), ['bash', 'libc6']);
  // an opaque directory hides it the same way
  const opaque = await modelOf([{ entries: base }, { entries: [dir('var/lib/dpkg'), file('var/lib/dpkg/.wh..wh..opq', '')] }]);
  t.deepEqual(analyzePackages(opaque).rows, []);
});

test('a Python module installed by dpkg: listed as a Python distribution, marked as installed by the deb package, which owns its bytes', async (t) => {
  const dist = 'usr/lib/python3/dist-packages';
  const model = await modelOf([
    [
      dir('usr'), dir('usr/lib'), dir('usr/lib/python3'), dir(dist), dir(`${dist}/six-1.16.0.dist-info`), dir('var'), dir('var/lib'), dir('var/lib/dpkg'), dir('var/lib/dpkg/info'),
      file(`${dist}/six-1.16.0.dist-info/METADATA`, 'Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n'),
      file(`${dist}/six.py`, bytes(900)),
      status(stanza('python3-six', '1.16.0-4', { Architecture: 'all' })),
      file('var/lib/dpkg/info/python3-six.list', `/${dist}/six.py\n/${dist}/six-1.16.0.dist-info\n/${dist}/six-1.16.0.dist-info/METADATA\n`),
    ],
  ]);
  const p = analyzePackages(model);
  const six = p.rows.find((r) => r.ecosystem === 'pypi')!;
  const deb = p.rows.find((r) => r.ecosystem === 'deb')!;
  t.is(six.installedBy, deb.purl);
  t.is(six.bytes, 0);
  t.is(deb.bytes, 900 + 'Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n'.length);
});

test('capture: which paths are package database files, and the caps', (t) => {
  const kept = [
    'var/lib/dpkg/status', 'var/lib/dpkg/status.d/base', 'var/lib/dpkg/info/libc6:amd64.list', 'var/lib/apt/extended_states',
    'lib/apk/db/installed', 'usr/lib/apk/db/installed', 'etc/apk/world', 'var/lib/rpm/rpmdb.sqlite', 'usr/lib/sysimage/rpm/Packages.db', 'var/lib/rpm/Packages',
    'app/node_modules/x/package.json', 'node_modules/@s/x/package.json', 'a/node_modules/b/node_modules/@s/c/package.json',
    'usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA', 'x/y.dist-info/RECORD', 'x/y.egg-info/PKG-INFO', 'x/y.egg-info/installed-files.txt', 'x/y-1.0.egg-info',
    'etc/os-release', 'usr/lib/os-release',
  ];
  const not = [
    'app/package.json', 'node_modules/package.json', 'app/node_modules/x/lib/package.json', 'node_modules/@s/package.json', 'var/lib/dpkg/info/x.md5sums',
    'var/lib/dpkg/statusx', 'var/lib/dpkg/info/sub/x.list', 'x/METADATA', 'x/y.egg/PKG-INFO', 'etc/os-release.d/x', 'var/lib/rpm/Packages.bak',
  ];
  t.deepEqual(kept.filter((p) => packageFileCap(p) === 0), []);
  t.deepEqual(not.filter((p) => packageFileCap(p) !== 0), []);
});

test('a package file over its cap is not kept: a warning names the layer and file, the rest is read', async (t) => {
  const big = `{"name":"big","version":"1.0.0","x":"${bytes(MAX_PACKAGE_META_BYTES)}"}`;
  const model = await modelOf([[...base], [dir('app'), dir('app/node_modules'), dir('app/node_modules/big'), file('app/node_modules/big/package.json', big)]]);
  const p = analyzePackages(model);
  t.deepEqual(p.rows.map((r) => r.name).sort(), ['bash', 'libc6']);
  t.deepEqual(p.warnings, ['layer 1 /app/node_modules/big/package.json: larger than the 1.0 MB kept of a package database file: not read']);
});

test('kept package files survive the layer cache round trip', async (t) => {
  const bytesOfTar = tar(base);
  const scan = await scanLayer((async function* () {
    yield bytesOfTar;
  })());
  const kept = Object.values(scan.records.packageFiles).map((b) => Buffer.from(b).toString());
  t.is(kept.length, 4); // os-release, status, two .list files
  const back = decodeScan(encodeScan(scan, scan.diffId), scan.diffId)!;
  t.deepEqual(Object.fromEntries(Object.entries(back.records.packageFiles).map(([k, v]) => [k, Buffer.from(v).toString()])), Object.fromEntries(Object.entries(scan.records.packageFiles).map(([k, v]) => [k, Buffer.from(v).toString()])));
  t.deepEqual(back.records.path, scan.records.path);
});

test('bloat from packages: a toolchain left in the image and package documentation (copyright kept), each with its layer and remedy', async (t) => {
  const model = await modelOf([
    { entries: base },
    {
      entries: [
        status(stanza('bash', '5.2.15-2+b2'), stanza('libc6', '2.36-9+deb12u4'), stanza('gcc-12', '12.2.0-14'), stanza('libc6-dev', '2.36-9'), stanza('gcc-12-base', '12.2.0-14')),
        file('var/lib/dpkg/info/gcc-12.list', '/usr/bin/gcc-12\n'),
        file('var/lib/dpkg/info/libc6-dev:amd64.list', '/usr/lib/x86_64-linux-gnu/libc.a\n'),
        file('var/lib/dpkg/info/gcc-12-base:amd64.list', '/usr/share/doc/gcc-12-base/changelog.gz\n'),
        dir('usr/share/doc/gcc-12-base'), file('usr/share/doc/gcc-12-base/changelog.gz', bytes(800)),
        file('usr/bin/gcc-12', bytes(30000)), file('usr/lib/x86_64-linux-gnu/libc.a', bytes(20000)),
      ],
      createdBy: 'RUN apt-get install -y gcc-12',
    },
  ]);
  const r = inspectReport(model);
  const toolchain = r.findings.find((f) => f.category === 'toolchain')!;
  t.like(toolchain, { bytes: 50000, files: 2, layer: 1 });
  t.regex(toolchain.title, /gcc-12, libc6-dev/);
  t.regex(toolchain.remedy, /multi-stage/);
  const docs = r.findings.filter((f) => f.category === 'docs');
  t.deepEqual(docs.map((f) => [f.layer, f.bytes]).sort(), [[0, 300], [1, 800]]);
  t.regex(docs[0].remedy, /path-exclude \/usr\/share\/doc/);
  t.is(r.summary.bloat.toolchain, 50000);
  t.is(r.summary.bloat.docs, 1100);
  t.false(r.findings.some((f) => f.items.some((i) => i.path.endsWith('/copyright'))));
});

test('a secret in a file an OS package lists is shipped (informational), with the package named', async (t) => {
  const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const model = await modelOf([
    [
      ...base,
      dir('usr/share/ssl-cert'), file('usr/share/ssl-cert/snakeoil.key', key),
      file('var/lib/dpkg/info/ssl-cert.list', '/usr/share/ssl-cert/snakeoil.key\n'),
      status(stanza('bash', '5.2.15-2+b2'), stanza('libc6', '2.36-9+deb12u4'), stanza('ssl-cert', '1.1.2')),
      dir('root'), file('root/id_ed25519.pem', key),
    ],
  ]);
  const risks = inspectReport(model).risks;
  t.deepEqual(risks.secrets.map((s) => s.path), ['/root/id_ed25519.pem']);
  t.deepEqual(risks.shipped.map((s) => [s.path, s.shippedBy.source, s.shippedBy.reason]), [['/usr/share/ssl-cert/snakeoil.key', 'package-database', 'a file of the deb package ssl-cert 1.1.2 (its database lists it)']]);
});

test('CI rules: forbid-packages by glob, max-package-size, max-package-growth against a baseline', async (t) => {
  const model = await modelOf(layers);
  const report = inspectReport(model);
  const rules = (yaml: Record<string, unknown>) =>
    mergeRules(parseRuleSection(yaml, 'test', (k, m) => {
      throw new Error(`${k}: ${m}`);
    }), {});
  const gate = (yaml: Record<string, unknown>, baseline: string[] | null = null) =>
    evaluateGate({ report, model, bloat: defaultBloatConfig(), baseline: { ref: 'base', summary: report.summary, packages: baseline } }, rules(yaml)).rules[0];
  t.like(gate({ 'forbid-packages': ['deb:lib*', 'gcc*'] }), { status: 'fail', measured: 5000, message: '1 package, 5.0 kB (5000 B), matching deb:lib*' });
  // one title per package, whichever rule names it: the report lists it once
  t.deepEqual(gate({ 'forbid-packages': ['deb:lib*'] }).offenders.map((o) => [o.category, o.title, o.layer]), [['package', 'deb libc6 2.36-9+deb12u4 (1 file), installed by layer 0', 0]]);
  t.like(gate({ 'forbid-packages': ['curl'] }), { status: 'pass' });
  t.like(gate({ 'max-package-size': '4kB' }), { status: 'fail', measured: 5000 });
  t.regex(gate({ 'max-package-size': '4kB' }).message, /largest package \(deb libc6\)/);
  t.like(gate({ 'max-package-growth': 1 }, ['deb:bash', 'deb:libc6']), { status: 'fail', measured: 3 });
  t.like(gate({ 'max-package-growth': 3 }, ['deb:bash', 'deb:libc6']), { status: 'pass', measured: 3 });
  t.like(gate({ 'max-package-growth': 3 }, null), { status: 'error' });
  t.throws(() => rules({ 'forbid-packages': ['bad name!'] }), { message: /not a package name glob/ });
});

test('diff: packages added, removed and at another version between two views, with bytes each way', (t) => {
  return modelOf(layers).then((model) => {
    const d = diffPackages({ model, layer: 1 }, { model, layer: 3 });
    t.deepEqual(d.rows.filter((r) => r.change !== 'size').map((r) => [r.change, r.name, r.a, r.b]).sort(), [
      ['added', 'dep', null, '2.0.0'],
      ['added', 'left-pad', null, '1.3.0'],
      ['added', 'six', null, '1.16.0'],
      ['removed', 'curl', '7.88.1-10', null],
    ]);
    t.like(d, { added: 3, removed: 1, changed: 0 });
    const up = diffPackages({ model, layer: 1 }, { model, layer: 2 });
    t.deepEqual(up.rows.filter((r) => r.name === 'curl').map((r) => [r.change, r.bytesA, r.bytesB, r.delta]), [['upgrade', 2000, 2100, 100]]);
  });
});

test('the CLI: text, --json, --csv and inspect; names from the image reach the terminal escaped', async (t) => {
  const { dir: d, cleanup } = tempDir();
  t.teardown(cleanup);
  const evil = [...layers.slice(0, 3), { entries: [dir('srv'), dir('srv/node_modules'), dir('srv/node_modules/x'), file('srv/node_modules/x/package.json', '{"name":"x\\u001b[31m","version":"1.0.0\\u0007"}')] }];
  writeOciLayout(d, { images: [{ layers: evil }] });
  const text = await runStrata(['packages', d]);
  t.is(text.code, 0, text.stderr);
  t.regex(text.stdout, /^ECOSYSTEM\s+NAME\s+VERSION\s+ADDED\s+CHANGED\s+FILES\s+SIZE$/m);
  t.regex(text.stdout, /\(no package\)/);
  t.regex(text.stdout, /L1 RUN apt-get install -y curl: \+1/);
  t.false(text.stdout.includes('\x1b'));
  t.true(text.stdout.includes('1.0.0\\x07'));
  t.regex(text.stderr, /^strata: layer 3 \/srv\/node_modules\/x\/package.json: .*x\\u001b\[31m/m);
  const json = await runStrata(['packages', d, '--json']);
  const r = JSON.parse(json.stdout);
  t.is(r.packages.length, 7);
  t.true(r.packages.some((p: { version: string }) => p.version === '1.0.0\x07'));
  const csv = await runStrata(['packages', d, '--csv']);
  t.is(csv.stdout.split('\r\n')[0], 'ecosystem,name,version,arch,layer,changed_layer,bytes,files,declared_size,purl,path,installed_by');
  t.true(csv.stdout.includes('deb,curl,7.88.1-10+deb12u5,amd64,1,2,2100,1,4096,'));
  const inspect = await runStrata(['inspect', d]);
  t.regex(inspect.stdout, /^Packages \(7: deb 3 .*; strata packages lists them all\)$/m);
  t.is(JSON.parse((await runStrata(['inspect', d, '--json'])).stdout).packages.count, 7);
  const out = join(d, 'p.json');
  t.is((await runStrata(['packages', d, '--json', '-o', out])).code, 0);
  const bad = await runStrata(['packages', d, '--json', '--csv']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /give one output format/);
});

test('CSV cells from an image: a formula prefix defused, quotes and commas quoted, control bytes shown, numbers as they are', (t) => {
  t.is(csvLine(['=HYPERLINK("x")', '+1', '-2', '@SUM(A1)', 'a,b', 'x"y', 'ok', '\x1b[31m', -3, 0, null]), `"'=HYPERLINK(""x"")",'+1,'-2,'@SUM(A1),"a,b","x""y",ok,\\x1b[31m,-3,0,`);
});

test('CSV in a locale that separates with ;: a cell holding ; is quoted, and a formula after a ; gets its \' too', (t) => {
  t.is(csvLine(["x;=cmd|' /C calc'!A0;", '1;+1', 'a;b', '/srv;@x;-y']), `"x;'=cmd|' /C calc'!A0;","1;'+1","a;b","/srv;'@x;'-y"`);
});
