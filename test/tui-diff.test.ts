/**
 * The diff view (`strata diff A B --tui`): frames of DiffApp on the commit-based vs Dockerfile builds
 * (testdata/README.md says what each layer holds), and the DiffTree on a synthetic pair with every
 * change kind.
 */
import test from 'ava';
import { createElement } from 'react';
import chalk from 'chalk';
import { render } from 'ink-testing-library';
import { openImage } from '../src/sources/resolve.js';
import { readImage, type ImageModel } from '../src/model/read-image.js';
import { diffImages } from '../src/analyze/diff/diff.js';
import { type DiffSide } from '../src/analyze/diff/side.js';
import { buildKeymap } from '../src/tui/keymap.js';
import { DiffTree } from '../src/tui/diff-tree.js';
import { DiffApp } from '../src/tui/diff-app.js';
import { DiffExplorer, initialDiffState } from '../src/tui/diff-state.js';
import { removeTemp, writeImage, type Entry } from './helpers/diff-images.js';

// Colours are part of what is asserted: ink's chalk would turn them off without a terminal.
chalk.level = 1;
test.after.always(removeTemp);

const models = new Map<string, Promise<ImageModel>>();
const load = (ref: string) => {
  if (!models.has(ref)) models.set(ref, openImage(ref).then((i) => readImage(i)));
  return models.get(ref)!;
};
const top = (m: ImageModel): DiffSide => ({ model: m, layer: m.layers.length - 1 });

const ESC = '\x1b';
const CTRL_SPACE = '\x00';
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').replace(/ +$/gm, '');
const tick = () => new Promise((r) => setTimeout(r, 25));
async function settled(drawn: () => boolean, limit = 10_000): Promise<void> {
  const start = Date.now();
  while (!drawn() && Date.now() - start < limit) await new Promise((r) => setTimeout(r, 2));
  await tick();
}

async function open(a: string, b: string, size: { width?: number; height?: number } = {}) {
  const sa = top(await load(a)), sb = top(await load(b));
  const report = diffImages(sa, sb);
  const tree = new DiffTree(sa, sb, report);
  const app = render(createElement(DiffApp, { report, tree, keymap: buildKeymap(), width: size.width ?? 80, height: size.height ?? 23 }));
  await settled(() => app.frames.length > 0);
  const press = async (...keys: string[]) => {
    for (const k of keys) {
      const before = app.frames.length;
      app.stdin.write(k);
      await settled(() => app.frames.length > before);
    }
  };
  const screen = () => plain(app.lastFrame() ?? '');
  const lines = () => screen().split('\n');
  /** Tree rows as their names (guides and columns cut off). */
  const names = () => lines().filter((l) => /[├└]─/.test(l)).map((l) => l.replace(/^.*[├└]─. /, ''));
  /** The raw (coloured) tree row holding `text`. */
  const rawLine = (text: string) => (app.lastFrame() ?? '').split('\n').find((l) => /[├└]─/.test(l) && plain(l).includes(text)) ?? '';
  return { app, press, screen, lines, names, rawLine, report, tree };
}

const COMMIT = 'testdata/tiny-commit.docker.tar';
const DOCKERFILE = 'testdata/tiny-dockerfile.docker.tar';

const red = '\x1b[31m';
const green = '\x1b[32m';
const yellow = '\x1b[33m';
const magenta = '\x1b[35m';
const cyan = '\x1b[36m';

test.serial('commit vs Dockerfile build at 80x23: summary, changed paths only, removed obj.o red, /app rolled up', async (t) => {
  const { screen, lines, names, rawLine, report, app } = await open(COMMIT, DOCKERFILE);
  const s = screen();
  t.regex(s, /^Diff summary \(Tab: all of it\)$/m);
  t.regex(s, /^A testdata\/tiny-commit\.docker\.tar@1 \(linux\/amd64\)/m);
  t.regex(s, /^B testdata\/tiny-dockerfile\.docker\.tar@7 \(linux\/amd64\)/m);
  t.regex(s, /^Size -245 kB {2}compressed n\/a {2}wasted \+1\.1 MB$/m);
  t.regex(s, new RegExp(`^Files ${report.summary.files.total} changed: A 7 added, D 3 removed, M 1 modified, m 3 metadata$`, 'm'));
  t.regex(s, /^Changes A→B$/m);
  t.regex(s, /^ +Size A +Size B +Delta Name$/m);
  // /tmp/build/obj.o (250000 B) is gone in the Dockerfile build, with its directories
  t.regex(s, /^D +250 kB +— +-250 kB │ {3}└── obj\.o$/m);
  t.regex(s, /^D +250 kB +— +-250 kB │ └─▾ build\/$/m);
  t.regex(s, /^ +250 kB +0 B +-250 kB ├─▾ tmp\/$/m);
  t.true(rawLine('obj.o').includes(red));
  t.false(rawLine('tmp/').includes(red), 'an unchanged directory holding changes has no status colour');
  // /app: owner changed (metadata), and the hardlink added next to bundle.js counts its 405 kB
  t.regex(s, /^m +405 kB +811 kB +\+405 kB ├─▾ app\/$/m);
  t.regex(s, /^A +— +405 kB +\+405 kB │ ├── bundle-hardlink\.js$/m);
  t.true(rawLine('app/').includes(cyan));
  t.true(rawLine('bundle-hardlink.js').includes(green));
  t.true(rawLine('passwd').includes(yellow));
  // unchanged entries are not rows: /bin, /etc/group
  t.false(names().includes('bin/'));
  t.false(names().includes('group'));
  t.is(lines().length, 23);
  t.true(lines().every((l) => [...l].length <= 80), lines().find((l) => [...l].length > 80));
  app.unmount();
});

test.serial('Tab shows the whole summary (config and per-category bloat deltas) in place of the tree, and back', async (t) => {
  const { press, screen, names, report, app } = await open(COMMIT, DOCKERFILE);
  t.notRegex(screen(), /Bloat and waste by category/);
  const rows = names();
  await press('\t');
  const s = screen();
  t.regex(s, /^Diff summary$/m);
  // a long value wraps within the pane, indented, rather than being cut
  t.regex(s, /^ {2}env PATH: \(unset\) →\n {6}\/usr\/local\/sbin:/m);
  t.regex(s, /^Bloat and waste by category$/m);
  // the report's categories that changed, biggest change first
  const changed = report.bloat.categories.filter((c) => c.delta !== 0);
  t.true(changed.length > 0);
  const shown = s.split('\n').filter((l) => /^ +[-+][\d.]+ k?B \S+ \((bloat|waste)\)$/.test(l));
  t.deepEqual(shown.map((l) => l.trim().split(' ')[2]), changed.map((c) => c.category));
  t.regex(s, /^ +-250 kB temp \(bloat\)$/m);
  t.regex(s, /^ +-400 kB cache \(bloat\)$/m);
  t.deepEqual(names(), []);
  await press('\t');
  t.deepEqual(names(), rows);
  app.unmount();
});

test.serial('from 120 columns the summary sits beside the tree, whole', async (t) => {
  const { screen, lines, app } = await open(COMMIT, DOCKERFILE, { width: 130, height: 30 });
  t.regex(screen(), /^Diff summary +Changes A→B$/m);
  t.regex(screen(), /^ +-250 kB temp \(bloat\) {2,}\S/m);
  t.regex(screen(), /^ {2}env PATH: \(unset\) → +\S/m);
  t.regex(screen(), /^ {6}\/usr\/local\/sbin:\/usr\/local\/bin:/m);
  t.regex(screen(), / D +250 kB +— +-250 kB │ {3}└── obj\.o$/m);
  t.true(lines().every((l) => [...l].length <= 130));
  app.unmount();
});

test.serial('U shows unchanged entries too (uncoloured), and hides them again', async (t) => {
  const { press, screen, names, rawLine, app } = await open(COMMIT, DOCKERFILE);
  const before = names();
  await press('U');
  t.regex(screen(), /^All entries A→B$/m);
  t.true(names().includes('bin/'), screen());
  // /etc/group is the same on both sides
  await press('/', '/etc/group', '\r');
  t.deepEqual(names(), ['etc/', 'group']);
  t.regex(screen(), /^ +10 B +10 B +└── group$/m);
  t.false(rawLine('group').includes(`${ESC}[3`), 'unchanged rows have no status colour');
  await press('U');
  t.regex(screen(), /^Changes A→B {2}\[filter: \/etc\/group\]$/m);
  t.deepEqual(names(), []);
  t.regex(screen(), /\(nothing to show: change the filter or the hide toggles\)/);
  await press('/', ...Array(10).fill('\x7f'), '\r');
  t.deepEqual(names(), before);
  app.unmount();
});

test.serial('filter: / pattern Enter keeps matches and their directories; Esc cancels; an empty filter clears', async (t) => {
  const { press, screen, names, app } = await open(COMMIT, DOCKERFILE);
  const all = names();
  await press('/');
  t.regex(screen(), /Filter \(glob or regex\): █/);
  await press('obj', '\r');
  t.regex(screen(), /^Changes A→B {2}\[filter: obj\]$/m);
  t.deepEqual(names(), ['tmp/', 'build/', 'obj.o']);
  await press('/', '*.conf', ESC);
  t.deepEqual(names(), ['tmp/', 'build/', 'obj.o']);
  await press('/', '\x7f', '\x7f', '\x7f', '\r');
  t.deepEqual(names(), all);
  await press('/', '(', '\r');
  t.regex(screen(), /filter: Invalid regular expression/);
  app.unmount();
});

test.serial('sort by |delta|, collapse with Space and Ctrl+Space, move with the explorer keys', async (t) => {
  const { press, screen, names, tree, app } = await open(COMMIT, DOCKERFILE, { height: 40 });
  const topLevel = () => screen().split('\n').filter((l) => /^.{30}[├└]─/.test(l)).map((l) => l.slice(30).replace(/^[├└]─. /, ''));
  t.deepEqual(topLevel(), ['app/', 'etc/', 'tmp/', 'usr/', 'var/']);
  await press('s');
  t.regex(screen(), /\[sort: \|delta\|\]/);
  const deltaOf = (name: string) => Math.abs(tree.delta[tree.paths.indexOf(name.replace(/\/$/, ''))]);
  const sorted = topLevel();
  t.deepEqual(sorted.slice(0, 3), ['app/', 'var/', 'tmp/']);
  for (let i = 1; i < sorted.length; i++) t.true(deltaOf(sorted[i - 1]) >= deltaOf(sorted[i]), sorted.join(' '));
  await press('s');
  // the cursor starts on app/: Space collapses it
  await press(' ');
  t.regex(screen(), /├─▸ app\/$/m);
  t.false(names().includes('bundle.js'));
  await press(' ', 'j', 'j');
  t.true(names().includes('bundle.js'));
  await press('h', ' '); // from bundle.js, left goes to app/, which Space collapses
  t.regex(screen(), /├─▸ app\/$/m);
  await press(CTRL_SPACE);
  t.deepEqual(names(), ['app/', 'etc/', 'tmp/', 'usr/', 'var/']);
  await press('G', 'l');
  t.deepEqual(names().slice(-2), ['var/', 'cache/']);
  await press('g', CTRL_SPACE);
  t.true(names().includes('obj.o'));
  app.unmount();
});

test.serial('? shows the diff keys (not the layer ones); ? or Esc closes; q and Ctrl+C quit', async (t) => {
  const { press, screen, tree, app } = await open(COMMIT, DOCKERFILE);
  await press('?');
  const s = screen();
  t.regex(s, /^Keys/m);
  t.regex(s, /U Ctrl\+U +show\/hide unchanged/);
  t.regex(s, /s +sort by name\/\|delta\|/);
  t.regex(s, /Ctrl\+Space +collapse\/expand all/);
  t.notRegex(s, /wasted-bytes finding|aggregated changes/);
  await press(ESC);
  t.regex(screen(), /^Changes A→B$/m);
  await press('?', '?');
  t.regex(screen(), /^Changes A→B$/m);
  app.unmount();
  const reducer = new DiffExplorer(tree, buildKeymap());
  for (const name of ['q', 'ctrl+c']) t.true(reducer.reduce(initialDiffState(tree), { type: 'key', name, page: 10 }).quit, name);
});

test.serial('an image against itself: no rows, a hint that U shows the entries', async (t) => {
  const { screen, press, names, app } = await open(COMMIT, COMMIT);
  t.regex(screen(), /\(no differences: U shows unchanged entries\)/);
  t.regex(screen(), /no file differences/);
  t.deepEqual(names(), []);
  await press('U');
  t.true(names().includes('app/'), screen());
  app.unmount();
});

test('DiffTree on synthetic images: statuses, sides, rolled-up deltas, type changes keep their entries', async (t) => {
  const base: Entry[] = [
    { path: 'etc', type: 'dir' },
    { path: 'etc/f2dir', content: '0123456789' },
    { path: 'etc/link', type: 'symlink', link: 'one' },
    { path: 'etc/mode', content: 'x' },
    { path: 'etc/same', content: 'same' },
    { path: 'etc/sub', type: 'dir' },
    { path: 'etc/sub/gone', content: 'abc' },
    { path: 'lib', type: 'dir' },
    { path: 'lib/big', content: Buffer.alloc(1000) },
  ];
  const changed: Entry[] = [
    { path: 'etc', type: 'dir' },
    { path: 'etc/f2dir', type: 'dir' },
    { path: 'etc/f2dir/inside', content: 'i' },
    { path: 'etc/link', type: 'symlink', link: 'two' },
    { path: 'etc/mode', content: 'x', mode: 0o755 },
    { path: 'etc/same', content: 'same' },
    { path: 'etc/sub', type: 'dir' },
    { path: 'lib', type: 'dir' },
    { path: 'lib/big', content: Buffer.alloc(3000) },
    { path: 'new', content: 'hello' },
  ];
  const a = top(await readImage(await openImage(writeImage({ layers: [{ entries: base }] }))));
  const b = top(await readImage(await openImage(writeImage({ layers: [{ entries: changed }] }))));
  const report = diffImages(a, b);
  const tree = new DiffTree(a, b, report);
  const node = (p: string) => tree.paths.indexOf(p);
  const row = (p: string) => [tree.status(node(p)), tree.size(node(p), 'a'), tree.size(node(p), 'b'), tree.delta[node(p)]];
  t.deepEqual(tree.paths.slice(1), ['etc', 'etc/f2dir', 'etc/f2dir/inside', 'etc/link', 'etc/mode', 'etc/same', 'etc/sub', 'etc/sub/gone', 'lib', 'lib/big', 'new']);
  t.deepEqual(row('etc/f2dir'), ['type', 10, 1, -9]);
  t.deepEqual(row('etc/f2dir/inside'), ['added', null, 1, 1]);
  t.deepEqual(row('etc/link'), ['retarget', 0, 0, 0]); // a symlink's size is 0, as in the tar
  t.deepEqual(row('etc/mode'), ['metadata', 1, 1, 0]);
  t.deepEqual(row('etc/same'), ['unchanged', 4, 4, 0]);
  t.deepEqual(row('etc/sub'), ['unchanged', 3, 0, -3]);
  t.deepEqual(row('etc/sub/gone'), ['removed', 3, null, -3]);
  t.deepEqual(row('lib'), ['unchanged', 1000, 3000, 2000]);
  t.deepEqual(row('new'), ['added', null, 5, 5]);
  t.is(tree.parent[node('etc/f2dir/inside')], node('etc/f2dir'));
  t.true(tree.isDir(node('etc/f2dir')));
  // an ignored path is no change in the tree either; the changes after it keep their statuses
  const lessTree = new DiffTree(a, b, diffImages(a, b, { ignore: ['/etc/link', '/etc/mode'] }));
  t.deepEqual(['etc/link', 'etc/mode', 'etc/sub/gone', 'new'].map((p) => lessTree.status(lessTree.paths.indexOf(p))), ['unchanged', 'unchanged', 'removed', 'added']);
  // a directory's delta is the report's roll-up
  for (const d of report.directories) t.is(tree.delta[node(d.path.slice(1))], d.sizeDelta + (report.files.find((f) => f.path === d.path)?.sizeDelta ?? 0));

  const app = render(createElement(DiffApp, { report, tree, keymap: buildKeymap(), width: 100, height: 30 }));
  await settled(() => app.frames.length > 0);
  const raw = (name: string) => (app.lastFrame() ?? '').split('\n').find((l) => plain(l).includes(name)) ?? '';
  t.regex(plain(raw('link')), /^L +0 B +0 B +.*link -> one ⇒ two$/);
  t.true(raw('link').includes(magenta));
  t.regex(plain(raw('f2dir')), /^T +10 B +1 B +-9 B .*f2dir\/$/);
  t.true(raw('f2dir').includes(magenta));
  t.true(raw('mode').includes(cyan));
  t.false(plain(app.lastFrame() ?? '').includes('same'));
  app.unmount();
});
