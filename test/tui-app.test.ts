import test from 'ava';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createElement } from 'react';
import { openImage } from '../src/sources/resolve.js';
import { readImage, type ImageModel } from '../src/model/read-image.js';
import { StrataError } from '../src/util/errors.js';
import { buildKeymap, keyNames, keymapOf, type Keymap } from '../src/tui/keymap.js';
import { loadConfig } from '../src/commands/config-file.js';

const loadKeymap = (dir: string) => keymapOf(loadConfig({ cwd: dir }).keys, '.strata.yml');
import type { Finding } from '../src/tui/waste.js';

import chalk from 'chalk';
import { render as inkRender, type Instance } from 'ink';
import { render } from 'ink-testing-library';
import { ExplorerApp } from '../src/tui/app.js';
import { Root } from '../src/tui/root.js';

// Colours are part of what is asserted: ink's chalk would turn them off without a terminal.
chalk.level = 1;

const models = new Map<string, Promise<ImageModel>>();
const load = (f: string) => {
  if (!models.has(f)) models.set(f, openImage(`testdata/${f}`).then((i) => readImage(i)));
  return models.get(f)!;
};

const ESC = '\x1b';
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').replace(/ +$/gm, '');
const tick = () => new Promise((r) => setTimeout(r, 25));
/** Wait for a new frame (renders are asynchronous), then a little longer for follow-up renders. */
async function settled(drawn: () => boolean, limit = 10_000): Promise<void> {
  const start = Date.now();
  while (!drawn() && Date.now() - start < limit) await new Promise((r) => setTimeout(r, 2));
  await tick();
}

/** ink's own render on fake streams (as ink-testing-library does), for its waitUntilExit. */
function renderExiting(tree: Parameters<typeof inkRender>[0]): { instance: Instance; write: (s: string) => void; frame: () => string; rawModes: boolean[] } {
  const frames: string[] = [];
  const rawModes: boolean[] = [];
  const stdout = Object.assign(new EventEmitter(), { columns: 100, write: (f: string) => frames.push(f) > 0 });
  let data: string | null = null;
  const stdin = Object.assign(new EventEmitter(), {
    isTTY: true,
    setEncoding() {},
    setRawMode: (on: boolean) => rawModes.push(on),
    resume() {},
    pause() {},
    ref() {},
    unref() {},
    read: () => {
      const d = data;
      data = null;
      return d;
    },
  });
  const write = (d: string) => {
    data = d;
    stdin.emit('readable');
    stdin.emit('data', d);
  };
  const instance = inkRender(tree, { stdout: stdout as never, stderr: stdout as never, stdin: stdin as never, debug: true, exitOnCtrlC: false, patchConsole: false });
  return { instance, write, frame: () => plain(frames[frames.length - 1] ?? ''), rawModes };
}

async function open(file: string, opts: { keymap?: Keymap; findings?: Finding[]; width?: number; height?: number } = {}) {
  const model = await load(file);
  const app = render(createElement(ExplorerApp, { model, keymap: opts.keymap ?? buildKeymap(), findings: opts.findings, width: opts.width ?? 80, height: opts.height ?? 23 }));
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
  /** The raw (coloured) tree row holding `text`. */
  const rawLine = (text: string) => (app.lastFrame() ?? '').split('\n').find((l) => /[├└]─/.test(l) && plain(l).includes(text)) ?? '';
  return { app, press, screen, lines, rawLine, model };
}

const green = '\x1b[32m';
const yellow = '\x1b[33m';
const red = '\x1b[31m';
const cyan = '\x1b[36m';

test.serial('first screen at 80x23: layer list, details, tree; nothing wider than 80 columns', async (t) => {
  const { screen, lines, app } = await open('tiny-overlay.oci.tar');
  const s = screen();
  t.regex(s, /Layers \(8\)/);
  t.regex(s, /^ 0 +2\.0 MB {2}\/bin\/sh/m);
  t.regex(s, /^ 1 +709 kB {2}RUN mkdir -p \/var\/cache\/pkg/m);
  t.regex(s, /Layer 0 changes/);
  t.regex(s, /Digest sha256:[0-9a-f]{10}/);
  t.regex(s, /Efficiency \d+\.\d%/);
  t.regex(s, /A drwxr-xr-x +0:0 +2\.0 MB ├─▾ bin\//);
  t.is(lines().length, 23);
  t.true(lines().every((l) => [...l].length <= 80), lines().find((l) => [...l].length > 80));
  app.unmount();
});

test.serial('layer 3: removed entries in red under their unchanged parents', async (t) => {
  const { press, screen, rawLine, app } = await open('tiny-overlay.oci.tar');
  await press('j', 'j', 'j', '\t', 'U');
  const s = screen();
  t.regex(s, /Layer 3 changes {2}\[hide: unchanged\]/);
  t.regex(s, /D drwxr-xr-x +0:0 +250 kB +│ └─▾ build\//);
  t.regex(s, /D -rw-r--r-- +0:0 +250 kB +│ {3}└── obj\.o/);
  t.regex(s, /D -rw-r--r-- +0:0 +400 kB +.*└── index\.db/);
  t.true(rawLine('obj.o').includes(red));
  t.false(rawLine('tmp/').includes(red));
  app.unmount();
});

test.serial('status colours: added green, metadata-only cyan, modified yellow', async (t) => {
  const { press, rawLine, screen, app } = await open('tiny-overlay.oci.tar');
  await press('G', 'k', 'k', 'k'); // layer 4: chmod/chown of /app
  await press('\t', 'U');
  t.regex(screen(), /m -rwxr-xr-x 1000:1000 +405 kB .*bundle\.js/);
  t.true(rawLine('bundle.js').includes(cyan));
  await press('\t', ']', ']'); // layer 6: /etc/passwd rewritten, three.conf added
  t.true(rawLine('passwd').includes(yellow), screen());
  t.true(rawLine('three.conf').includes(green));
  t.true(rawLine('one.conf').includes(red));
  app.unmount();
});

test.serial('filter: regex keeps matches with their ancestors; Esc cancels; empty clears', async (t) => {
  const { press, screen, lines, app } = await open('tiny-overlay.oci.tar');
  await press('j', 'j', 'j', '/', '/tmp', '\r');
  const s = screen();
  t.regex(s, /\[filter: \/tmp\]/);
  const tree = lines().filter((l) => /[├└]─/.test(l));
  t.deepEqual(tree.map((l) => l.replace(/^.*[├└]─. /, '')), ['tmp/', 'build/', 'obj.o']);
  await press('/', '*.db', ESC);
  t.regex(screen(), /\[filter: \/tmp\]/);
  await press('/', '\x7f\x7f\x7f\x7f', '*.db', '\r');
  t.deepEqual(lines().filter((l) => /[├└]─/.test(l)).map((l) => l.replace(/^.*[├└]─. /, '')), ['var/', 'cache/', 'pkg/', 'index.db']);
  await press('/', '\x7f\x7f\x7f\x7f', '\r');
  t.notRegex(screen(), /filter:/);
  await press('/', 'a(', '\r');
  t.regex(screen(), /filter: Invalid regular expression/);
  app.unmount();
});

test.serial('collapse one directory with Space, every directory with Ctrl+Space', async (t) => {
  const { press, screen, app } = await open('tiny-overlay.oci.tar');
  await press('\t');
  t.regex(screen(), /├── \[ -> busybox/);
  await press(' ');
  t.regex(screen(), /├─▸ bin\//);
  t.notRegex(screen(), /busybox/);
  await press(' ', '\x00');
  const tops = screen().split('\n').filter((l) => /[├└]─/.test(l));
  t.true(tops.length >= 5);
  t.true(tops.every((l) => /^. .* [├└]─[▸─] /.test(l)), tops.join('\n'));
  await press('\x00');
  t.regex(screen(), /├── \[ -> busybox/);
  app.unmount();
});

test.serial('hide toggles for added and removed; attributes off; sort by size', async (t) => {
  const { press, screen, app } = await open('tiny-overlay.oci.tar');
  await press('A');
  t.regex(screen(), /\(nothing to show/);
  await press('A', ']', ']', ']', 'U');
  t.regex(screen(), /obj\.o/);
  await press('R');
  t.notRegex(screen(), /obj\.o/);
  await press('R', 'U');
  t.regex(screen(), /bin\//);
  await press('c');
  t.notRegex(screen(), /drwx/);
  t.regex(screen(), /^ {2}├─▾ bin\//m);
  await press('s');
  t.regex(screen(), /\[sort: size\]/);
  const first = screen().split('\n').find((l) => /[├└]─/.test(l));
  t.regex(first ?? '', /bin\//); // 2 MB of busybox beats everything else
  app.unmount();
});

test.serial('aggregate (a) and range mark (m) show changes over several layers', async (t) => {
  const { press, screen, app } = await open('tiny-overlay.oci.tar');
  await press('j', 'm'); // range starts at layer 1
  t.regex(screen(), /range starts at layer 1/);
  await press('j', 'j', 'j'); // selected 4
  t.regex(screen(), /Layers 1\.\.4 aggregated/);
  t.regex(screen(), /Layers \(8\) {2}aggregated 1\.\.4/);
  await press('\t', 'U');
  const s = screen();
  t.regex(s, /A -rwxr-xr-x 1000:1000 +405 kB .*bundle\.js/); // added in 2, chmod in 4: added over the range
  t.notRegex(s, /obj\.o/); // created in 1 and removed in 3
  await press('a');
  t.regex(screen(), /Layer 4 changes/);
  app.unmount();
});

test.serial('w jumps through findings: the layer that stored the bytes, cursor on the file', async (t) => {
  const findings: Finding[] = [
    { path: '/var/cache/pkg/index.db', bytes: 400000, layer: 1, category: 'deleted', kind: 'waste', remedy: 'rm in the same RUN' },
    { path: '/etc/passwd', bytes: 30, layer: 0, category: 'overwritten', kind: 'waste', remedy: 'fine' },
  ];
  const { press, screen, rawLine, app } = await open('tiny-overlay.oci.tar', { findings });
  t.regex(screen(), /400 kB L1 deleted +\/var\/cache\/pkg\//);
  await press('A', 'w'); // hiding added entries would hide index.db (added in layer 1): the jump clears it
  t.regex(screen(), /waste 1\/2: \/var\/cache\/pkg\/index\.db \(deleted, layer 1\): rm in the same RUN/);
  t.regex(screen(), /Layer 1 changes/);
  t.notRegex(screen(), /hide:/);
  t.true(rawLine('index.db').includes('\x1b[7m'), rawLine('index.db')); // inverse: the cursor row
  await press('U');
  await press('w');
  t.regex(screen(), /waste 2\/2: \/etc\/passwd/);
  t.regex(screen(), /Layer 0 changes {2}\[hide: unchanged\]/); // /etc/passwd is added in layer 0: the toggle stays
  t.true(rawLine('passwd').includes('\x1b[7m'));
  await press('w');
  t.regex(screen(), /waste 1\/2/);
  app.unmount();
});

test.serial('w with the built-in analysis visits the largest waste finding first', async (t) => {
  const { press, screen, app } = await open('tiny-dockerfile.docker.tar');
  await press('w');
  // the duplicate bundle.js (bloat) is larger than the second waste finding, but w skips it
  t.regex(screen(), /waste 1\/4: \/var\/cache\/pkg\/index\.db \(deleted, layer 1\)/);
  await press('w');
  t.regex(screen(), /waste 2\/4: \/app\/bundle\.js \(metadata-copy, layer 2\)/);
  app.unmount();
});

test.serial('? shows every action and its keys; Esc closes', async (t) => {
  const { press, screen, app } = await open('tiny-overlay.oci.tar', { keymap: buildKeymap({ quit: ['x'], sort: ['q'] }) });
  await press('?');
  const s = screen();
  for (const re of [/x +quit/, /\? +show\/hide this help/, /Tab +switch pane/, /Ctrl\+Space +collapse\/expand all/, /q +sort by name\/size/, /w +next wasted-bytes finding/, /A Ctrl\+A +hide\/show added/, /U Ctrl\+U +hide\/show unchanged/, /\/ +filter/]) t.regex(s, re);
  t.notRegex(s, /q Ctrl\+C +quit/);
  await press(ESC);
  t.regex(screen(), /Layers \(8\)/);
  t.regex(screen(), /Tab pane · a aggregate · m mark · \/ filter · w waste · \? keys · x quit$/); // hints follow the bindings
  app.unmount();
});

test.serial('q quits (and a rebound key does not)', async (t) => {
  const model = await load('tiny-overlay.oci.tar');
  const a = renderExiting(createElement(ExplorerApp, { model, keymap: buildKeymap(), width: 80, height: 23 }));
  await settled(() => /Layers \(8\)/.test(a.frame()));
  t.regex(a.frame(), /Layers \(8\)/);
  a.write('q');
  await a.instance.waitUntilExit();
  const b = await open('tiny-overlay.oci.tar', { keymap: buildKeymap({ sort: ['q'] }) });
  await b.press('q');
  t.regex(b.screen(), /\[sort: size\]/);
  b.app.unmount();
});

test.serial('narrow and wide layouts fit their size', async (t) => {
  for (const [w, h] of [[60, 15], [140, 40]]) {
    const { lines, screen, app } = await open('tiny-dockerfile.docker.tar', { width: w, height: h });
    t.is(lines().length, h, screen());
    t.true(lines().every((l) => [...l].length <= w), `${w}x${h}`);
    t.regex(screen(), /Layers \(8\)/);
    app.unmount();
  }
  const small = await open('tiny-dockerfile.docker.tar', { width: 39, height: 12 });
  t.is(small.screen(), 'terminal too small: 39x13, needs 40x14');
  small.app.unmount();
  // wide: the selected layer's whole instruction, wrapped in the layer pane
  const { press, lines, model, app } = await open('tiny-dockerfile.docker.tar', { width: 140, height: 40 });
  await press('j');
  const command = lines().map((l) => l.slice(0, 55)).join('').replace(/ {2,}/g, ' ');
  const full = (model.layers[1].history?.created_by ?? '').replace('/bin/sh -c ', 'RUN ');
  t.true(full.length > 100);
  t.true(command.includes(full.slice(-40)), command);
  app.unmount();
});

test.serial('left at the top of the tree goes back to the layers pane, right comes back', async (t) => {
  const { press, screen, app } = await open('tiny-overlay.oci.tar');
  await press('\t', 'h'); // collapse bin/
  t.regex(screen(), /├─▸ bin\//);
  await press('h', 'j');
  t.regex(screen(), /Layer 1 changes/);
  await press('l', 'j');
  t.regex(screen(), /Layer 1 changes/); // j moved in the tree this time
  app.unmount();
});

test.serial('loading shows progress, then the explorer; a failure shows the message and exits with it', async (t) => {
  let release: () => void = () => {};
  const model = await load('tiny-overlay.oci.tar');
  const analyze = () => ({ findings: [{ path: '/etc/passwd', bytes: 1234, layer: 0, category: 'test-category', kind: 'bloat' as const, remedy: 'none' }], wastedBytes: 1234, efficiency: 0.5 });
  const ok = render(createElement(Root, { keymap: buildKeymap(), width: 80, height: 23, analyze, load: (p) => new Promise((res) => { p(3, 8); release = () => res(model); }) }));
  await settled(() => /3\/8/.test(ok.lastFrame() ?? ''));
  t.regex(plain(ok.lastFrame() ?? ''), /reading layers █+░+ 3\/8 layers/);
  release();
  await settled(() => /Layers/.test(ok.lastFrame() ?? ''));
  t.regex(plain(ok.lastFrame() ?? ''), /Layers \(8\)/);
  // an analysis given to the explorer replaces its own waste list
  t.regex(plain(ok.lastFrame() ?? ''), /Efficiency 50\.0% {2}wasted 1\.2 kB {2}1 find/);
  t.regex(plain(ok.lastFrame() ?? ''), /1\.2 kB L0 test-category \/etc\/passwd/);
  ok.unmount();

  const bad = renderExiting(createElement(Root, { keymap: buildKeymap(), load: () => Promise.reject(new StrataError('testdata/nope.tar: no such file')) }));
  await settled(() => /strata:/.test(bad.frame()));
  t.regex(bad.frame(), /strata: testdata\/nope\.tar: no such file/);
  t.regex(bad.frame(), /press any key to quit/);
  bad.write('x');
  await t.throwsAsync(bad.instance.waitUntilExit(), { instanceOf: StrataError, message: 'testdata/nope.tar: no such file' });
});

test.serial('the terminal stays raw from the loading screen to the explorer: Ctrl+C is a key throughout, never SIGINT', async (t) => {
  let release: () => void = () => {};
  const model = await load('tiny-overlay.oci.tar');
  const app = renderExiting(createElement(Root, { keymap: buildKeymap(), width: 80, height: 23, load: () => new Promise<ImageModel>((res) => { release = () => res(model); }) }));
  await settled(() => /reading layers/.test(app.frame()));
  release();
  await settled(() => /Layers \(8\)/.test(app.frame()));
  t.deepEqual(app.rawModes, [true], 'raw mode was switched off between the two screens');
  app.write('\x03');
  await app.instance.waitUntilExit();
  t.deepEqual(app.rawModes, [true, false]);
});

test.serial('keymap: .strata.yml keys override defaults; bad entries name the file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-keys-'));
  t.deepEqual(loadKeymap(dir).keys.quit, ['q', 'ctrl+c']);
  writeFileSync(join(dir, '.strata.yml'), 'keys:\n  quit: x\n  hideAdded: [q, ctrl+e]\n');
  const k = loadKeymap(dir);
  t.is(k.byKey.get('x'), 'quit');
  t.is(k.byKey.get('q'), 'hideAdded');
  t.is(k.byKey.get('ctrl+e'), 'hideAdded');
  t.is(k.byKey.get('ctrl+c'), undefined);
  writeFileSync(join(dir, '.strata.yml'), 'keys:\n  fly: x\n');
  t.throws(() => loadKeymap(dir), { message: /\.strata\.yml: keys: unknown action "fly"/ });
  writeFileSync(join(dir, '.strata.yml'), 'keys:\n  quit: ctrl+F1\n');
  t.throws(() => loadKeymap(dir), { message: /keys\.quit: "ctrl\+F1" is not a key name/ });
  rmSync(dir, { recursive: true });
});

test.serial('a run of characters in one input event is one key press each', (t) => {
  const none = { upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false, capsLock: false, numLock: false };
  t.deepEqual(keyNames('jj/tmp\r', none), ['j', 'j', '/', 't', 'm', 'p', 'enter']);
  t.deepEqual(keyNames('G \t\x7f\x00\x01', none), ['G', 'space', 'tab', 'backspace', 'ctrl+space', 'ctrl+a']);
  t.deepEqual(keyNames('`', { ...none, ctrl: true }), ['ctrl+space']);
  t.deepEqual(keyNames('', { ...none, pageDown: true }), ['pagedown']);
});
