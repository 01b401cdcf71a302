/**
 * The view's path budget (src/analyze/packages/path-budget.ts), shared by every reader: what a path
 * costs, where it runs out, lists reused by the next view, paths no file can have, and the
 * os-release name cut on a character boundary.
 */
import test from 'ava';
import { apkReader } from '../src/analyze/packages/apk.js';
import { dpkgReader } from '../src/analyze/packages/dpkg.js';
import { distroOf } from '../src/analyze/packages/os-release.js';
import { PATH_COST, PathBudget } from '../src/analyze/packages/path-budget.js';
import { pypiReader } from '../src/analyze/packages/pypi.js';
import { docView } from './helpers/doc-view.js';

const stanza = (name: string, arch: string) => `Package: ${name}\nStatus: install ok installed\nArchitecture: ${arch}\nVersion: 1\n`;
const APK = 'lib/apk/db/installed';

test('one budget for every reader of a view: it runs out in the file that passes it, one warning names it, packages stay listed', (t) => {
  const view = docView({
    'var/lib/dpkg/status': stanza('a', 'amd64'),
    'var/lib/dpkg/info/a.list': '/usr/a1\n/usr/a2\n',
    [APK]: 'P:b\nV:1\nF:usr\nR:b1\nR:b2\n\n',
  }, { [APK]: 3 });
  // room for the two dpkg paths (7 characters each) and one of apk's
  const paths = new PathBudget(undefined, 3 * PATH_COST + 7 + 7 + 6);
  t.deepEqual(dpkgReader.read(view, paths).packages[0].files, ['usr/a1', 'usr/a2']);
  const apk = apkReader.read(view, paths).packages;
  t.deepEqual(apk.map((p) => [p.name, p.files]), [['b', ['usr/b1']]]);
  t.is(paths.warning(), `layer 3 /${APK}: expected the file lists of one view's packages to cost at most 212 B (64 bytes a path and its length): the paths from here on not read, their files owned by no package`);
  t.is(new PathBudget().warning(), undefined);
});

test('a dpkg list every stanza falls back to is parsed once, and charged for each', (t) => {
  const view = docView({
    'var/lib/dpkg/status': [stanza('a', 'amd64'), stanza('a', 'i386'), stanza('a', 'arm64')].join('\n'),
    'var/lib/dpkg/info/a.list': '/usr/x\n',
  });
  const paths = new PathBudget(undefined, 2 * (PATH_COST + 5));
  const [one, two, three] = dpkgReader.read(view, paths).packages;
  t.is(one.files, two.files);
  t.deepEqual(one.files, ['usr/x']);
  t.deepEqual(three.files, []);
  t.regex(paths.warning() ?? '', /^layer 0 \/var\/lib\/dpkg\/info\/a\.list: /);
});

test('a list is reused by the next view only, and charged in each', (t) => {
  const bytes = Buffer.from('x');
  let parsed = 0;
  const parse = (take: (p: string) => boolean) => (parsed++, take('usr/x') ? ['usr/x'] : []);
  const first = new PathBudget(undefined, PATH_COST + 5);
  const files = first.list(bytes, 'l', 0, parse);
  const second = new PathBudget(first, PATH_COST + 5);
  t.is(second.list(bytes, 'l', 0, parse), files);
  t.is(parsed, 1);
  t.deepEqual(second.list(bytes, 'l', 0, parse), [], 'charged again: the budget is spent');
  const third = new PathBudget(new PathBudget(second));
  t.deepEqual(third.list(bytes, 'l', 0, parse), ['usr/x']);
  t.is(parsed, 2, 'two views later: parsed again');
});

test('a path longer than PATH_MAX names no file: apk and pip lists leave it out', (t) => {
  const long = 'd'.repeat(5000);
  const apk = apkReader.read(docView({ [APK]: `P:a\nV:1\nF:${long}\nR:x\nF:usr\nR:y\n\n` })).packages;
  t.deepEqual(apk[0].files, ['usr/y']);
  const site = 'usr/lib/python3/site-packages';
  const pypi = pypiReader.read(docView({
    [`${site}/p-1.dist-info/METADATA`]: 'Metadata-Version: 2.1\nName: p\nVersion: 1\n',
    [`${site}/p-1.dist-info/RECORD`]: `${'x'.repeat(2500)}/${'y'.repeat(2500)},,\np/__init__.py,,\n`,
  })).packages;
  t.deepEqual(pypi[0].files, [`${site}/p/__init__.py`]);
});

test('pip lists: rows that climb, are absolute or repeat resolve as before, each row costing its own length', (t) => {
  const site = 'usr/lib/python3/site-packages';
  const rows = ['../../../bin/p', '/etc/p.conf', './p/./a.py', 'p/../q.py', '../../../../../../x', '..', 'p/a.py', 'p/a.py'];
  const [p] = pypiReader.read(docView({
    [`${site}/p-1.dist-info/METADATA`]: 'Metadata-Version: 2.1\nName: p\nVersion: 1\n',
    [`${site}/p-1.dist-info/RECORD`]: rows.map((r) => `${r},,`).join('\n'),
  })).packages;
  t.deepEqual(p.files, ['usr/bin/p', 'etc/p.conf', `${site}/p/a.py`, `${site}/q.py`, 'usr/lib/python3']);
  // a million rows that climb one level under a deep directory: linear, not a split of it each row
  const deep = Array.from({ length: 1000 }, () => 'd').join('/');
  const started = Date.now();
  pypiReader.read(docView({
    [`${deep}/site-packages/q-1.dist-info/METADATA`]: 'Metadata-Version: 2.1\nName: q\nVersion: 1\n',
    [`${deep}/site-packages/q-1.dist-info/RECORD`]: '../x,,\n'.repeat(1_000_000),
  }));
  t.true(Date.now() - started < 3000, `${Date.now() - started} ms`);
});

test('os-release: a long PRETTY_NAME is cut before a surrogate pair, never through it', (t) => {
  const name = `${'a'.repeat(199)}\u{1F600}x`;
  const distro = distroOf(docView({ 'etc/os-release': `ID=debian\nPRETTY_NAME="${name}"\n` }));
  t.is(distro?.prettyName, 'a'.repeat(199));
  t.is(distroOf(docView({ 'etc/os-release': `ID=debian\nPRETTY_NAME="${'b'.repeat(198)}\u{1F600}x"\n` }))?.prettyName, `${'b'.repeat(198)}\u{1F600}`);
});
