/**
 * The Python and npm readers (src/analyze/packages/pypi.ts, npm.ts) against the real tools: a wheel
 * installed by pip, read back by importlib.metadata and pip; Debian's own dist-packages; a tree
 * installed by npm from the registry, listed by `npm ls`. The views hold what the scan keeps of
 * those trees (scan/package-files.ts). Then hostile and odd databases, built by hand.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { docView } from './helpers/doc-view.js';
import { requireTools } from './helpers/system-tools.js';
import { packageFileCap } from '../src/scan/package-files.js';
import { csvRecords, pypiReader } from '../src/analyze/packages/pypi.js';
import { npmReader } from '../src/analyze/packages/npm.js';
import type { DocView } from '../src/analyze/packages/types.js';

requireTools('python3');

const run = promisify(execFile);
const TOOL_ENV = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1', PIP_ROOT_USER_ACTION: 'ignore' };
const python = (args: string[], env: NodeJS.ProcessEnv = TOOL_ENV) => run('python3', args, { env, maxBuffer: 64 << 20, timeout: 120_000 }).then((r) => r.stdout);

// ---- views --------------------------------------------------------------------------------------

/** What the scan keeps of the tree under `root/dir` (its paths root-relative, as in an image). */
function viewOfTree(root: string, dir = ''): DocView {
  const files: Record<string, Uint8Array> = {};
  const oversized: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const p = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(join(root, p));
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && packageFileCap(p) > 0) {
        if (st.size > packageFileCap(p)) oversized.push(p);
        else files[p] = readFileSync(join(root, p));
      }
    }
  };
  walk(dir);
  return docView(files, {}, oversized);
}

const temps: string[] = [];
test.after.always(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});
function tempRoot(): string {
  const d = mkdtempSync(join(tmpdir(), 'packages-lang-'));
  temps.push(d);
  return d;
}

function write(root: string, files: Record<string, string>): void {
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), content);
  }
}

/** Started by the first test that needs it, shared by the rest. */
function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}

/** Linear work takes well under a second here; a quadratic one would take minutes. Generous: CI machines are busy. */
const BOUND_MS = 10_000;

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

// ---- pip and importlib.metadata -----------------------------------------------------------------

/**
 * A wheel made by hand (zipfile): an odd name (`Strata.Demo`, a dot and capitals), a data file
 * whose name holds a comma and quotes (RECORD must quote it), a script in the .data directory and a
 * console script (RECORD lists both through `../../../bin`), License-Expression, and Requires-Dist
 * with an environment marker (kept) and an extra's (left out).
 */
const MAKE_WHEELS = String.raw`
import base64, csv, hashlib, io, sys, zipfile
def wheel(out, name, version, metadata, files):
    di = f'{name}-{version}.dist-info'
    files = dict(files)
    files[f'{di}/METADATA'] = metadata.encode()
    files[f'{di}/WHEEL'] = b'Wheel-Version: 1.0\nGenerator: strata-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n'
    record = io.StringIO()
    w = csv.writer(record)
    with zipfile.ZipFile(f'{out}/{name}-{version}-py3-none-any.whl', 'w') as z:
        for path, data in files.items():
            z.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
            w.writerow([path, 'sha256=' + digest, len(data)])
        w.writerow([f'{di}/RECORD', '', ''])
        z.writestr(f'{di}/RECORD', record.getvalue())
wheel(sys.argv[1], 'strata_demo', '1.2.3',
      'Metadata-Version: 2.4\nName: Strata.Demo\nVersion: 1.2.3\nLicense-Expression: MIT OR Apache-2.0\n'
      'Requires-Dist: plain-dep (>=0.1)\nRequires-Dist: Typing_Extensions; python_version >= "3"\n'
      'Requires-Dist: pytest[cov]>=7; extra == "test"\nProvides-Extra: test\n\nThe long description.\nName: Not-This\n',
      {'strata_demo/__init__.py': b'def main():\n    return 0\n',
       'strata_demo/data,with "quotes".txt': b'seven b',
       'strata_demo-1.2.3.data/scripts/demo-tool': b'#!python\nprint(1)\n',
       'strata_demo-1.2.3.dist-info/entry_points.txt': b'[console_scripts]\nstrata-demo = strata_demo:main\n'})
wheel(sys.argv[1], 'plain_dep', '0.1', 'Metadata-Version: 2.1\nName: plain-dep\nVersion: 0.1\nLicense: BSD-3-Clause\n',
      {'plain_dep.py': b'X = 1\n'})
`;

/** What importlib.metadata sees in each directory: the distributions, their metadata and RECORD files (root-relative). */
const IMPORTLIB = String.raw`
import importlib.metadata as m, json, os, sys
root, sites = sys.argv[1], sys.argv[2:]
rel = lambda p: os.path.relpath(os.path.normpath(p), root)
out = []
for site in sites:
    for d in m.distributions(path=[site]):
        files = d.files
        out.append({'path': rel(str(d._path)), 'name': d.metadata['Name'], 'version': d.version, 'requires': d.requires or [],
                    'files': None if files is None else sorted({rel(os.path.join(site, str(f))) for f in files}),
                    'sizes': {} if files is None else {rel(os.path.join(site, str(f))): f.size for f in files if f.size is not None}})
print(json.dumps(out))
`;

interface Seen {
  path: string;
  name: string;
  version: string;
  requires: string[];
  files: string[] | null;
  sizes: Record<string, number>;
}

const importlibSees = async (root: string, sites: string[]): Promise<Seen[]> => (JSON.parse(await python(['-c', IMPORTLIB, root, ...sites])) as Seen[]).sort(byPath);

/** `pip show -f NAME` on a directory: Location, Requires and the files, root-relative. */
async function pipShow(root: string, site: string, name: string): Promise<{ requires: string[]; files: string[]; license: string }> {
  const out = await python(['-m', 'pip', 'show', '-f', name], { ...TOOL_ENV, PYTHONPATH: site });
  const field = (k: string) => /^(.*)$/m.exec(out.slice(out.indexOf(`\n${k}: `) + k.length + 3))![1].trim();
  const location = field('Location');
  const files = out.slice(out.indexOf('\nFiles:\n') + 8).split('\n').filter((l) => l.startsWith('  ')).map((l) => relative(root, join(location, l.trim())));
  return { requires: field('Requires').split(', ').filter(Boolean), files: files.sort(), license: field('License') };
}

/**
 * An image-like tree: the wheels installed by pip with --prefix ROOT/usr (Debian's pip puts them in
 * usr/local/lib/python3.X/dist-packages, another in usr/lib/python3.X/site-packages) and with
 * --target ROOT/opt/deps (a plain directory, as for PYTHONPATH), then legacy and odd metadata added.
 */
const pipTree = once(async () => {
  try {
    await python(['-m', 'pip', '--version']);
  } catch {
    throw new Error('python3 -m pip not found: apt-get install python3-pip');
  }
  const root = tempRoot();
  const wheels = join(root, '..', `${root.split('/').pop()}-wheels`);
  mkdirSync(wheels);
  temps.push(wheels);
  await python(['-c', MAKE_WHEELS, wheels]);
  const whls = readdirSync(wheels).map((w) => join(wheels, w));
  const pip = ['-m', 'pip', 'install', '--no-index', '--no-deps', '--no-cache-dir', '--quiet'];
  await python([...pip, '--prefix', join(root, 'usr'), ...whls]);
  await python([...pip, '--target', join(root, 'opt/deps'), whls.find((w) => w.includes('plain_dep'))!]);
  const sites: string[] = [];
  const find = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      if (e.name === 'site-packages' || e.name === 'dist-packages') sites.push(join(dir, e.name));
      else find(join(dir, e.name));
    }
  };
  find(join(root, 'usr'));
  if (sites.length !== 1) throw new Error(`pip installed into ${sites.length} site directories`);
  const site = relative(root, sites[0]);
  write(root, {
    // setuptools' `install --record` (an egg-info directory and installed-files.txt) and distutils' single file
    [`${site}/legacy_pkg-0.9-py3.11.egg-info/PKG-INFO`]: 'Metadata-Version: 1.1\nName: legacy-pkg\nVersion: 0.9\nLicense: BSD\n',
    [`${site}/legacy_pkg-0.9-py3.11.egg-info/installed-files.txt`]: '../legacy_pkg/__init__.py\nPKG-INFO\ninstalled-files.txt\n../../../../bin/legacy\n',
    [`${site}/legacy_pkg/__init__.py`]: '',
    [`${site.split('/').slice(0, -3).join('/')}/bin/legacy`]: '#!/bin/sh\n', // PREFIX/lib/python3.X/site-packages -> PREFIX/bin
    [`${site}/old_single-0.1.egg-info`]: 'Metadata-Version: 1.0\nName: old-single\nVersion: 0.1\n',
    // a distribution vendored inside another: importlib does not see it on the site directory
    [`${site}/strata_demo/_vendor/inner-1.0.dist-info/METADATA`]: 'Name: inner\nVersion: 1.0\n',
    [`${site}/strata_demo/_vendor/inner-1.0.dist-info/RECORD`]: 'inner/__init__.py,,\n',
  });
  return { root, site, target: 'opt/deps' };
});

test('pip-installed wheels, egg-info and a single-file egg-info: what importlib.metadata sees, with the same names, versions and RECORD files', async (t) => {
  const { root, site, target } = await pipTree();
  const seen = await importlibSees(root, [join(root, site), join(root, target)]);
  const read = pypiReader.read(viewOfTree(root));
  t.deepEqual(read.warnings, []);
  const mine = read.packages.sort(byPath);
  t.deepEqual(
    mine.map((e) => [e.path, e.name, e.version]),
    seen.map((s) => [s.path, s.name, s.version]),
  );
  t.is(mine.length, 5, 'Strata.Demo and plain-dep twice (prefix and target), legacy-pkg, old-single');
  for (const s of seen.filter((x) => x.path.endsWith('.dist-info'))) {
    const e = mine.find((m) => m.path === s.path)!;
    t.deepEqual([...e.files].sort(), s.files, s.path);
  }
  // the files named by RECORD are the installed ones: each exists with the size RECORD gives
  const demo = mine.find((e) => e.name === 'Strata.Demo')!;
  const demoSeen = seen.find((s) => s.name === 'Strata.Demo')!;
  t.true(demo.files.includes(`${site}/strata_demo/data,with "quotes".txt`));
  t.true(demo.files.some((f) => /^usr\/(local\/)?bin\/demo-tool$/.test(f)), 'the .data script, through ../../../bin');
  t.true(demo.files.some((f) => /^usr\/(local\/)?bin\/strata-demo$/.test(f)), 'the console script pip wrote');
  for (const f of demo.files) {
    t.true(existsSync(join(root, f)), f);
    if (demoSeen.sizes[f] !== undefined) t.is(statSync(join(root, f)).size, demoSeen.sizes[f], f);
  }
  t.is(Object.keys(demoSeen.sizes).length, demo.files.length - 2, 'sizes for all but RECORD and the .pyc pip compiled');
  t.is(demo.license, 'MIT OR Apache-2.0');
});

test('pip show: the same files for an egg-info (installed-files.txt), the same Requires (extras left out) and License', async (t) => {
  const { root, site } = await pipTree();
  const mine = pypiReader.read(viewOfTree(root)).packages;
  const legacy = await pipShow(root, join(root, site), 'legacy-pkg');
  const legacyMine = mine.find((e) => e.name === 'legacy-pkg')!;
  t.deepEqual([...legacyMine.files].sort(), legacy.files);
  t.true(legacy.files.includes(`${site.split('/').slice(0, -3).join('/')}/bin/legacy`));
  t.is(legacyMine.license, legacy.license);
  const demo = await pipShow(root, join(root, site), 'Strata.Demo');
  const demoMine = mine.find((e) => e.name === 'Strata.Demo' && e.path.startsWith(site))!;
  t.deepEqual([...demoMine.depends!].sort(), [...demo.requires].sort());
  t.deepEqual(demoMine.depends, ['plain-dep', 'Typing_Extensions']);
  t.deepEqual(mine.find((e) => e.name === 'old-single')!.files, []);
});

test('Debian\'s own /usr/lib/python3/dist-packages: every distribution importlib.metadata sees, dist-info files as RECORD says', async (t) => {
  const dir = '/usr/lib/python3/dist-packages';
  if (!existsSync(dir)) return t.fail(`no ${dir}: apt-get install python3-pip`);
  const seen = await importlibSees('/', [dir]);
  const read = pypiReader.read(viewOfTree('/', dir.slice(1)));
  const mine = read.packages.sort(byPath);
  t.true(mine.length > 0, `no distribution in ${dir}`);
  t.deepEqual(
    mine.map((e) => [e.path, e.name, e.version]),
    seen.map((s) => [s.path, s.name, s.version]),
  );
  for (const s of seen.filter((x) => x.path.endsWith('.dist-info') && x.files !== null)) {
    t.deepEqual([...mine.find((m) => m.path === s.path)!.files].sort(), s.files, s.path);
  }
});

test('RECORD as Python\'s csv module reads it: quotes, commas, line breaks in quotes, CR, LF and CRLF, blank lines', async (t) => {
  const texts = [
    'a,b\r\nc,d',
    'a,b\n\nc',
    '"a,""b""\nc",2\n',
    'x\ry\r',
    'a,\n',
    '"ab"c,d',
    '"abc',
    ',\n',
    '""\n',
    'a\r\n\r\nb',
    'ab"c"d,e',
    '"x\r\ny",1\r\n"",,\r\n',
    '',
  ];
  const py = JSON.parse(await python(['-c', 'import csv, io, json, sys\nprint(json.dumps([list(csv.reader(io.StringIO(s, newline=""))) for s in json.loads(sys.argv[1])]))', JSON.stringify(texts)])) as string[][][];
  t.deepEqual(texts.map((s) => [...csvRecords(s)]), py);
});

// ---- Python: odd and hostile metadata -----------------------------------------------------------

const SITE = 'usr/lib/python3.11/site-packages';
const meta = (name: string, version: string, extra = '') => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n${extra}`;

test('RECORD paths: quoted, absolute, with .. (kept inside the root), and climbing above the root (dropped)', (t) => {
  const view = docView({
    [`${SITE}/a-1.dist-info/METADATA`]: meta('a', '1'),
    [`${SITE}/a-1.dist-info/RECORD`]: [
      'a/__init__.py,sha256=x,1',
      '"a/one, two.txt",,',
      '"a/say ""hi"".txt",,',
      '"a/line\nbreak",,',
      '/usr/bin/a-tool,,',
      '../../../bin/a,,',
      './a/./b/../c.py,,',
      '../../../../../../../../etc/passwd,,',
      '/../../etc/shadow,,',
      '/opt/../opt/a.conf,,',
      '',
      'a/__init__.py,sha256=x,1',
    ].join('\r\n'),
  });
  const [a] = pypiReader.read(view).packages;
  t.deepEqual(a.files, [
    `${SITE}/a/__init__.py`,
    `${SITE}/a/one, two.txt`,
    `${SITE}/a/say "hi".txt`,
    `${SITE}/a/line\nbreak`,
    'usr/bin/a-tool',
    'usr/bin/a',
    `${SITE}/a/c.py`,
    'opt/a.conf',
  ]);
});

test('installed-files.txt is relative to the egg-info directory; a line above the root is dropped', (t) => {
  const view = docView({
    [`${SITE}/b-2.egg-info/PKG-INFO`]: meta('b', '2'),
    [`${SITE}/b-2.egg-info/installed-files.txt`]: '../b/__init__.py\r\nPKG-INFO\n../../../../../../../x\n\n/opt/b.conf\n',
  });
  t.deepEqual(pypiReader.read(view).packages[0].files, [`${SITE}/b/__init__.py`, `${SITE}/b-2.egg-info/PKG-INFO`, 'opt/b.conf']);
});

test('METADATA: headers up to the first blank line (CRLF, any case, folded values); the license as named, else the classifiers', (t) => {
  const view = docView({
    [`${SITE}/c-1.dist-info/METADATA`]: 'Metadata-Version: 2.1\r\nname: c\r\nVERSION: 1.0\r\nLicense: MIT\r\n\r\nName: body\r\nVersion: 9\r\n',
    [`${SITE}/d-1.dist-info/METADATA`]: meta('d', '1', 'License: Copyright (c) 2024 D\n        Permission is hereby granted\nClassifier: License :: OSI Approved :: BSD License\nClassifier: License :: OSI Approved\n'),
    [`${SITE}/e-1.dist-info/METADATA`]: meta('e', '1', 'License: UNKNOWN\nClassifier: Programming Language :: Python\n'),
    [`${SITE}/f-1.dist-info/METADATA`]: meta('f', '1', `License: ${'x'.repeat(101)}\nClassifier: License :: Public Domain\n`),
    [`${SITE}/g-1.dist-info/METADATA`]: meta('g', '1', 'Requires-Dist: h[x] (>=1); extra == "fast"\nRequires-Dist: i ; sys_platform == "win32"\nRequires-Dist: j@ https://example.com/j.whl\nRequires-Dist: k>=1;extra=="a" or python_version<"3"\nRequires-Dist: ~bad\n'),
  });
  const r = pypiReader.read(view);
  t.deepEqual(r.warnings, []);
  const got = Object.fromEntries(r.packages.map((e) => [e.name, e]));
  t.is(got.c.version, '1.0');
  t.is(got.c.license, 'MIT');
  t.is(got.d.license, 'BSD License');
  t.is(got.e.license, undefined);
  t.is(got.f.license, 'Public Domain');
  t.deepEqual(got.g.depends, ['i', 'j']);
});

test('non-UTF-8 metadata: read with replacement characters; a Name holding one is refused with an escaped excerpt', (t) => {
  const latin1 = (s: string) => Buffer.from(s, 'latin1');
  const view = docView(
    {
      [`${SITE}/ok-1.dist-info/METADATA`]: latin1('Name: ok\nVersion: 1\nAuthor: Jos\xe9\n\nD\xe9scription \xff\xfe'),
      [`${SITE}/bad-1.dist-info/METADATA`]: latin1('Name: b\xe9d\x1b[2J\nVersion: 1\n'),
    },
    { [`${SITE}/bad-1.dist-info/METADATA`]: 3 },
  );
  const r = pypiReader.read(view);
  t.deepEqual(r.packages.map((e) => e.name), ['ok']);
  t.deepEqual(r.warnings, [`layer 3 /${SITE}/bad-1.dist-info/METADATA: Name "b\uFFFDd\\u001b[2J" is not a distribution name: not listed`]);
});

test('no METADATA, no Name or no Version: a warning naming the layer and file; METADATA over its cap: left to the caller\'s warning', (t) => {
  const view = docView(
    {
      [`${SITE}/gone-1.dist-info/RECORD`]: 'gone/__init__.py,,\n',
      [`${SITE}/noname-1.dist-info/METADATA`]: 'Version: 1\n',
      [`${SITE}/nover-1.egg-info/PKG-INFO`]: 'Name: nover\nVersion:   \n',
      [`${SITE}/big-1.dist-info/RECORD`]: 'big/__init__.py,,\n',
    },
    { [`${SITE}/gone-1.dist-info/RECORD`]: 2, [`${SITE}/noname-1.dist-info/METADATA`]: 4, [`${SITE}/nover-1.egg-info/PKG-INFO`]: 5 },
    [`${SITE}/big-1.dist-info/METADATA`],
  );
  const r = pypiReader.read(view);
  t.deepEqual(r.packages, []);
  t.deepEqual(r.warnings, [
    `layer 2 /${SITE}/gone-1.dist-info: no METADATA: not listed`,
    `layer 4 /${SITE}/noname-1.dist-info/METADATA: no Name: not listed`,
    `layer 5 /${SITE}/nover-1.egg-info/PKG-INFO: no Version: not listed`,
  ]);
});

test('where a distribution counts: site and dist directories; elsewhere only with an installer\'s file list; never vendored inside another', (t) => {
  const view = docView({
    // Debian's python3-* packages: no RECORD, or an egg-info directory without installed-files.txt: listed, files left to dpkg
    'usr/lib/python3/dist-packages/deb_dist-1.0.dist-info/METADATA': meta('deb-dist', '1.0'),
    'usr/lib/python3/dist-packages/deb_dist-1.0.dist-info/INSTALLER': 'debian\n',
    'usr/lib/python3/dist-packages/deb_egg-2.0.egg-info/PKG-INFO': meta('deb-egg', '2.0'),
    'usr/lib/python3/dist-packages/single-3.egg-info': meta('single', '3'),
    'root/.local/lib/python3.11/site-packages/user-1.dist-info/METADATA': meta('user', '1'),
    // pip install --target /opt/python (a Lambda layer, PYTHONPATH): an installer wrote RECORD
    'opt/python/tgt-1.dist-info/METADATA': meta('tgt', '1'),
    'opt/python/tgt-1.dist-info/RECORD': 'tgt.py,,\n',
    'tgt_root-1.dist-info/METADATA': meta('tgt-root', '1'),
    'tgt_root-1.dist-info/RECORD': 'tgt_root.py,,\n',
    'srv/legacy/old-1.egg-info/PKG-INFO': meta('old', '1'),
    'srv/legacy/old-1.egg-info/installed-files.txt': '../old.py\n',
    // a source tree's build leftovers, a bare dist-info, a stray single file: no installer's list
    'app/src/proj.egg-info/PKG-INFO': meta('proj', '0.1'),
    'app/build/lib/proj-0.1.dist-info/METADATA': meta('proj', '0.1'),
    'app/stray-1.egg-info': meta('stray', '1'),
    // vendored: setuptools/_vendor, a package's own copy
    'usr/lib/python3.11/site-packages/setuptools/_vendor/packaging-24.0.dist-info/METADATA': meta('packaging', '24.0'),
    'usr/lib/python3.11/site-packages/setuptools/_vendor/packaging-24.0.dist-info/RECORD': 'packaging/__init__.py,,\n',
    // look-alikes: not a metadata file, an empty stem
    'usr/lib/python3.11/site-packages/x.dist-info/top_level.txt': 'x\n',
    'usr/lib/python3.11/site-packages/.dist-info/METADATA': meta('nameless', '1'),
    'usr/lib/python3.11/site-packages/.egg-info': meta('dot', '1'),
  });
  const r = pypiReader.read(view);
  t.deepEqual(r.warnings, []);
  t.deepEqual(
    r.packages.map((e) => [e.name, e.path, e.files]),
    [
      ['tgt', 'opt/python/tgt-1.dist-info', ['opt/python/tgt.py']],
      ['user', 'root/.local/lib/python3.11/site-packages/user-1.dist-info', []],
      ['old', 'srv/legacy/old-1.egg-info', ['srv/legacy/old.py']],
      ['tgt-root', 'tgt_root-1.dist-info', ['tgt_root.py']],
      ['deb-dist', 'usr/lib/python3/dist-packages/deb_dist-1.0.dist-info', []],
      ['deb-egg', 'usr/lib/python3/dist-packages/deb_egg-2.0.egg-info', []],
      ['single', 'usr/lib/python3/dist-packages/single-3.egg-info', []],
    ],
  );
});

test('10,000 distributions and a RECORD of 300,000 rows: read in bounded time', (t) => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 10_000; i++) {
    files[`${SITE}/p${i}-1.0.dist-info/METADATA`] = meta(`p${i}`, '1.0', 'Requires-Dist: six\n');
    files[`${SITE}/p${i}-1.0.dist-info/RECORD`] = `p${i}/__init__.py,sha256=abc,10\np${i}-1.0.dist-info/METADATA,,\n`;
  }
  files[`${SITE}/huge-1.dist-info/METADATA`] = meta('huge', '1');
  files[`${SITE}/huge-1.dist-info/RECORD`] = Array.from({ length: 300_000 }, (_, i) => `"huge/d${i % 100}/f${i}.py",sha256=0123456789abcdef,${i}`).join('\r\n');
  const view = docView(files);
  const started = performance.now();
  const r = pypiReader.read(view);
  const ms = performance.now() - started;
  t.is(r.packages.length, 10_001);
  t.is(r.packages.find((e) => e.name === 'huge')!.files.length, 300_000);
  t.true(ms < BOUND_MS, `${ms.toFixed(0)} ms`);
  // a view that sees the same copies reads the same (parsed once: the lists are kept by their bytes)
  t.deepEqual(pypiReader.read(view), r);
});

test('the same bytes at two paths (a copied venv) are read for each path', (t) => {
  const record = Buffer.from('x/__init__.py,,\n../../../bin/x,,\n');
  const metadata = Buffer.from(meta('x', '1'));
  const view = docView({
    'a/lib/python3.11/site-packages/x-1.dist-info/METADATA': metadata,
    'a/lib/python3.11/site-packages/x-1.dist-info/RECORD': record,
    'b/lib/python3.11/site-packages/x-1.dist-info/METADATA': metadata,
    'b/lib/python3.11/site-packages/x-1.dist-info/RECORD': record,
  });
  for (let i = 0; i < 2; i++) {
    t.deepEqual(
      pypiReader.read(view).packages.map((e) => e.files),
      [
        ['a/lib/python3.11/site-packages/x/__init__.py', 'a/bin/x'],
        ['b/lib/python3.11/site-packages/x/__init__.py', 'b/bin/x'],
      ],
    );
  }
});

// ---- npm ----------------------------------------------------------------------------------------

/**
 * A real tree from the registry: is-odd@3 needs is-number@^6 while the app asks for is-number@7, so
 * npm nests 6.0.0 under is-odd; @types/ms is scoped; ms2 is an alias of ms (folder ms2, package ms).
 */
const npmTree = once(async () => {
  const root = tempRoot();
  const app = join(root, 'srv/app');
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const npm = (args: string[]) => run('npm', args, { cwd: app, env: { ...process.env, npm_config_update_notifier: 'false' }, maxBuffer: 64 << 20, timeout: 120_000 });
  await npm(['install', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline', 'is-number@7.0.0', 'is-odd@3.0.1', '@types/ms@2.1.0', 'ms2@npm:ms@2.1.3']);
  const ls = (await npm(['ls', '--all', '--parseable', '--long'])).stdout;
  return { root, app, ls };
});

test('npm install from the registry: the packages `npm ls --all` lists, nested and scoped, the alias as the package it is', async (t) => {
  const { root, app, ls } = await npmTree();
  // `PATH:NAME@VERSION` or `PATH:FOLDER@npm:NAME@VERSION`, then flags; the first line is the app itself
  const listed = ls
    .split('\n')
    .filter((l) => l.startsWith(`${app}/`))
    .map((l) => {
      const [path, ...rest] = l.split(':');
      const m = /^(?:[^@]+@npm:)?(@?[^@]+)@([^:]*)/.exec(rest.join(':'))!;
      return [relative(root, path), m[1], m[2]];
    })
    .sort();
  const read = npmReader.read(viewOfTree(root));
  t.deepEqual(read.warnings, []);
  t.deepEqual(read.packages.map((e) => [e.dir, e.name, e.version]).sort(), listed);
  t.is(listed.length, 5);
  t.true(existsSync(join(app, 'node_modules/.package-lock.json')), 'npm wrote its hidden lockfile: not a package');
  const at = (dir: string) => read.packages.find((e) => e.dir === `srv/app/node_modules/${dir}`)!;
  t.deepEqual(at('is-odd').depends, ['is-number']);
  t.is(at('is-odd/node_modules/is-number').version, '6.0.0');
  t.is(at('is-number').license, 'MIT');
  t.is(at('ms2').name, 'ms');
  t.is(at('@types/ms').path, 'srv/app/node_modules/@types/ms/package.json');
  t.deepEqual(at('@types/ms').files, []);
});

const pkg = (o: unknown) => JSON.stringify(o);

test('what npm ls leaves out is left out: dot folders, retired scoped folders, a scope\'s own package.json; pnpm\'s store is listed', (t) => {
  const view = docView({
    'app/node_modules/a/package.json': pkg({ name: 'a', version: '1.0.0' }),
    'app/node_modules/.bin/package.json': pkg({ name: 'bin', version: '1.0.0' }),
    'app/node_modules/.cache/x/package.json': pkg({ name: 'x', version: '1.0.0' }),
    'app/node_modules/@s/.b-retired/package.json': pkg({ name: '@s/b', version: '1.0.0' }),
    'app/node_modules/@s/package.json': pkg({ name: '@s', version: '1.0.0' }),
    'app/node_modules/@/b/package.json': pkg({ name: 'b', version: '1.0.0' }),
    'app/node_modules/a/lib/package.json': pkg({ type: 'module' }),
    'app/node_modules/a/node_modules/@s/c/package.json': pkg({ name: '@s/c', version: '2.0.0' }),
    'app/node_modules/.pnpm/d@3.0.0/node_modules/d/package.json': pkg({ name: 'd', version: '3.0.0' }),
    'node_modules/top/package.json': pkg({ name: 'top', version: '0.0.1' }),
    'app/package.json': pkg({ name: 'app', version: '1.0.0' }),
    'app/node_modules/package.json': pkg({ name: 'nm', version: '1.0.0' }),
  });
  const r = npmReader.read(view);
  t.deepEqual(r.warnings, []);
  t.deepEqual(
    r.packages.map((e) => [e.name, e.version, e.dir]),
    [
      ['d', '3.0.0', 'app/node_modules/.pnpm/d@3.0.0/node_modules/d'],
      ['@s/c', '2.0.0', 'app/node_modules/a/node_modules/@s/c'],
      ['a', '1.0.0', 'app/node_modules/a'],
      ['top', '0.0.1', 'node_modules/top'],
    ],
  );
});

test('bad JSON, not an object: a warning naming the layer and file, the rest still read', (t) => {
  const view = docView(
    {
      'app/node_modules/bad/package.json': '{"name": "bad", "version": "1.0.0",,}',
      'app/node_modules/arr/package.json': '[1, 2]',
      'app/node_modules/str/package.json': '"just a string"',
      'app/node_modules/empty/package.json': '',
      'app/node_modules/ok/package.json': pkg({ name: 'ok', version: '1.0.0' }),
    },
    { 'app/node_modules/bad/package.json': 4, 'app/node_modules/arr/package.json': 1 },
  );
  const r = npmReader.read(view);
  t.deepEqual(r.packages.map((e) => e.name), ['ok']);
  t.deepEqual(r.warnings, [
    'layer 1 /app/node_modules/arr/package.json: not a JSON object: not listed',
    'layer 4 /app/node_modules/bad/package.json: not valid JSON at byte 35 (",}"): not listed',
    'layer 0 /app/node_modules/empty/package.json: not valid JSON at byte 0 (end of input): not listed',
    'layer 0 /app/node_modules/str/package.json: not a JSON object: not listed',
  ]);
});

test('hostile package.json: a number or a sentence for a name, __proto__ keys, huge numbers, nesting 200,000 deep (not read), a BOM and Latin-1', (t) => {
  const proto = '{"__proto__": {"polluted": true}, "name": "p", "version": "1.0.0", "dependencies": {"__proto__": "1", "constructor": "2", "q": "3"}}';
  const view = docView({
    'n/node_modules/num/package.json': pkg({ name: 5, version: '1.0.0' }),
    'n/node_modules/esc/package.json': pkg({ name: '\u001b]52;c;AAAA\u0007 evil', version: '1.0.0' }),
    'n/node_modules/p/package.json': proto,
    'n/node_modules/big/package.json': '{"name": "big", "version": 1e999, "dependencies": [1, 2]}',
    'n/node_modules/deep/package.json': `{"name": "deep", "version": "1.0.0", "x": ${'['.repeat(200_000)}${']'.repeat(200_000)}}`,
    'n/node_modules/bom/package.json': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"name":"bom","version":"1.0.0","description":"caf\xe9"}', 'latin1')]),
    'n/node_modules/nothing/package.json': '{}',
  });
  const r = npmReader.read(view);
  t.is(({} as Record<string, unknown>).polluted, undefined);
  const got = Object.fromEntries(r.packages.map((e) => [e.dir!.slice('n/node_modules/'.length), e]));
  // nested deeper than any JSON document strata reads (256 levels): not read, with a warning
  t.deepEqual(Object.keys(got).sort(), ['big', 'bom', 'esc', 'nothing', 'num', 'p']);
  t.is(got.num.name, 'num');
  t.is(got.esc.name, 'esc');
  t.deepEqual(got.p.depends, ['constructor', 'q']);
  t.is(got.big.version, '');
  t.deepEqual(got.big.depends, []);
  t.is(got.bom.name, 'bom');
  t.deepEqual([got.nothing.name, got.nothing.version], ['nothing', '']);
  t.deepEqual(r.warnings, [
    'layer 0 /n/node_modules/big/package.json: version a number is not a string',
    'layer 0 /n/node_modules/deep/package.json: nested deeper than 256 levels at byte 297: not listed',
    'layer 0 /n/node_modules/esc/package.json: name "\\u001b]52;c;AAAA\\u0007 evil" is not a package name: the folder name is used',
    'layer 0 /n/node_modules/num/package.json: name a number is not a package name: the folder name is used',
  ]);
});

test('licenses: an SPDX string, the legacy { type } object and licenses list; dependencies and optionalDependencies', (t) => {
  const view = docView({
    'node_modules/a/package.json': pkg({ name: 'a', version: '1', license: '(MIT OR Apache-2.0)' }),
    'node_modules/b/package.json': pkg({ name: 'b', version: '1', license: { type: 'BSD', url: 'x' } }),
    'node_modules/c/package.json': pkg({ name: 'c', version: '1', licenses: [{ type: 'MIT' }, 'GPL-2.0', { url: 'only' }] }),
    'node_modules/d/package.json': pkg({ name: 'd', version: '1', license: 7, licenses: { type: 'ISC' } }),
    'node_modules/e/package.json': pkg({ name: 'e', version: '1', dependencies: { x: '1', y: '2' }, optionalDependencies: { '@esbuild/linux-x64': '1', x: '1' } }),
  });
  const got = Object.fromEntries(npmReader.read(view).packages.map((e) => [e.name, e]));
  t.is(got.a.license, '(MIT OR Apache-2.0)');
  t.is(got.b.license, 'BSD');
  t.is(got.c.license, 'MIT OR GPL-2.0');
  t.is(got.d.license, 'ISC');
  t.is(got.e.license, undefined);
  t.deepEqual(got.e.depends, ['x', 'y', '@esbuild/linux-x64']);
});

test('10,000 package.json files: read in bounded time', (t) => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 10_000; i++) files[`app/node_modules/p${i}/node_modules/@s/q${i}/package.json`] = pkg({ name: `@s/q${i}`, version: '1.0.0', license: 'MIT', dependencies: { a: '1', b: '2' } });
  const view = docView(files);
  const started = performance.now();
  const r = npmReader.read(view);
  const ms = performance.now() - started;
  t.is(r.packages.length, 10_000);
  t.true(ms < BOUND_MS, `${ms.toFixed(0)} ms`);
  t.deepEqual(npmReader.read(view), r);
});

test('the same package.json bytes at two paths and layers: each read with its own path, folder and layer', (t) => {
  const bytes = Buffer.from('{"name": 5, "version": "1.0.0"}');
  const view = docView({ 'a/node_modules/x/package.json': bytes, 'b/node_modules/y/package.json': bytes }, { 'b/node_modules/y/package.json': 2 });
  for (let i = 0; i < 2; i++) {
    const r = npmReader.read(view);
    t.deepEqual(r.packages.map((e) => [e.name, e.path]), [['x', 'a/node_modules/x/package.json'], ['y', 'b/node_modules/y/package.json']]);
    t.deepEqual(r.warnings, [
      'layer 0 /a/node_modules/x/package.json: name a number is not a package name: the folder name is used',
      'layer 2 /b/node_modules/y/package.json: name a number is not a package name: the folder name is used',
    ]);
  }
});
