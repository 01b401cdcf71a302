/**
 * Explorer benchmark: a generated image of about 500k files (4 gzip layers, one directory of 60k
 * entries), opened in the explorer through ink-testing-library; reports the load time, the time
 * to the first screen and the keypress-to-frame time of each key.
 *   node dist/bench/tui.js [--keep DIR] [--width 80 --height 24] [--idle MS]
 * --idle: pause after the first screen, as a user reading it (the explorer uses idle time to
 * compute directory sizes per layer); default 1000, 0 for keys right after the first frame.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openImage } from '../src/sources/resolve.js';
import { readImage } from '../src/model/read-image.js';
import { buildKeymap } from '../src/tui/keymap.js';
import { writeOciLayout, type Entry } from './tui-image.js';

// React's development build records every render with its props: measure what users run.
process.env.NODE_ENV ??= 'production';
const { createElement } = await import('react');
const { render } = await import('ink-testing-library');
const { ExplorerApp } = await import('../src/tui/app.js');

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};

function* dirsOf(paths: string[]): Generator<Entry> {
  for (const p of paths) yield { path: p, type: 'dir' };
}

// Layer 0: /usr/share/pkg{0..199}/d{0..19}/f{0..99}: 400k files, one in eight with 700 bytes.
function* base(): Generator<Entry> {
  yield* dirsOf(['usr', 'usr/share']);
  let i = 0;
  for (let p = 0; p < 200; p++) {
    yield { path: `usr/share/pkg${p}`, type: 'dir' };
    for (let d = 0; d < 20; d++) {
      yield { path: `usr/share/pkg${p}/d${d}`, type: 'dir' };
      for (let f = 0; f < 100; f++, i++) yield { path: `usr/share/pkg${p}/d${d}/f${f}`, type: 'file', size: i % 8 === 0 ? 700 : 0 };
    }
  }
}

// Layer 1: one wide directory of 60k files.
function* wide(): Generator<Entry> {
  yield* dirsOf(['opt', 'opt/big']);
  for (let f = 0; f < 60000; f++) yield { path: `opt/big/f${String(f).padStart(6, '0')}`, type: 'file', size: f % 16 === 0 ? 1500 : 0 };
}

// Layer 2: rewrite 20k files, delete a package (2000 files), add 40k under /var/lib.
function* churn(): Generator<Entry> {
  for (let p = 0; p < 10; p++) for (let d = 0; d < 20; d++) for (let f = 0; f < 100; f++) yield { path: `usr/share/pkg${p}/d${d}/f${f}`, type: 'file', size: 300 };
  yield { path: 'usr/share/.wh.pkg199', type: 'file' };
  yield* dirsOf(['var', 'var/lib']);
  for (let d = 0; d < 400; d++) {
    yield { path: `var/lib/x${d}`, type: 'dir' };
    for (let f = 0; f < 100; f++) yield { path: `var/lib/x${d}/g${f}`, type: 'file', size: f === 0 ? 4000 : 0 };
  }
}

// Layer 3: chmod 5k files (metadata only), add 5k under /home/app, and a few symlinks.
function* finish(): Generator<Entry> {
  for (let d = 0; d < 20; d++) for (let f = 0; f < 100; f++) yield { path: `usr/share/pkg50/d${d}/f${f}`, type: 'file', size: (d * 100 + f + 50 * 2000) % 8 === 0 ? 700 : 0, mode: 0o600 };
  yield* dirsOf(['home', 'home/app']);
  for (let f = 0; f < 5000; f++) yield { path: `home/app/m${f}.js`, type: 'file', size: 120 };
  for (let f = 0; f < 10; f++) yield { path: `home/app/link${f}`, type: 'symlink', link: `m${f}.js` };
}

async function main(): Promise<void> {
  const width = Number(arg('width') ?? 80);
  const height = Number(arg('height') ?? 24) - 1;
  const keep = arg('keep');
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'strata-bench-tui-'));
  let t = performance.now();
  if (!existsSync(join(dir, 'index.json'))) {
    await writeOciLayout(dir, [base, wide, churn, finish], ['base: 400k files', 'COPY big/ /opt/big/', 'RUN rewrite + rm -rf pkg199 + /var/lib', 'RUN chmod + /home/app']);
    console.log(`generated ${dir} in ${ms(performance.now() - t)}`);
  }
  t = performance.now();
  const model = await readImage(await openImage(dir));
  const loaded = performance.now() - t;
  const files = model.union.nodeCount;
  console.log(`read the image (${model.layers.length} layers, ${files} paths) in ${ms(loaded)}`);

  t = performance.now();
  const app = render(createElement(ExplorerApp, { model, keymap: buildKeymap(), width, height }));
  await frameAfter(app, 0);
  console.log(`first screen (${width}x${height + 1}) in ${ms(performance.now() - t)}`);
  const idle = Number(arg('idle') ?? 1000);
  await new Promise((r) => setTimeout(r, idle));
  console.log(`keys after ${idle} ms idle`);

  const keys: [string, string][] = [
    ['down (layer 1)', 'j'],
    ['down (layer 2)', 'j'],
    ['down (layer 3)', 'j'],
    ['up (layer 2)', 'k'],
    ['top (layer 0)', 'g'],
    ['bottom (layer 3)', 'G'],
    ['Tab to the tree', '\t'],
    ...Array.from({ length: 10 }, (): [string, string] => ['tree down', 'j']),
    ['page down', '\x1b[6~'],
    ['page down', '\x1b[6~'],
    ['page up', '\x1b[5~'],
    ['last row', 'G'],
    ['first row', 'g'],
    ['collapse dir', ' '],
    ['expand dir', ' '],
    ['collapse all', '\x00'],
    ['expand all', '\x00'],
    ['next layer (tree)', ']'],
    ['prev layer (tree)', '['],
    ['prev layer (tree)', '['],
    ['sort by size', 's'],
    ['sort by name', 's'],
    ['hide unchanged', 'U'],
    ['next layer, hidden unchanged', ']'],
    ['show unchanged', 'U'],
    ['aggregate 0..layer', 'a'],
    ['aggregate off', 'a'],
    ['attributes off', 'c'],
    ['attributes on', 'c'],
    ['jump to finding', 'w'],
    ['next finding', 'w'],
    ['filter: open', '/'],
    ['filter: type', 'f7'],
    ['filter: apply /f7/', '\r'],
    ['tree down (filtered)', 'j'],
    ['next layer (filtered)', ']'],
    ['filter: open', '/'],
    ['filter: clear', '\x7f\x7f'],
    ['filter: apply empty', '\r'],
  ];
  const times: number[] = [];
  const cpus: number[] = [];
  // Wall time suffers from other processes on a busy machine; CPU time of this process does less.
  console.log('\nkey                             wall ms  cpu ms');
  for (const [name, seq] of keys) {
    const before = app.frames.length;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    app.stdin.write(seq);
    await frameAfter(app, before);
    const dt = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1000;
    times.push(dt);
    cpus.push(cpu);
    console.log(`${name.padEnd(32)} ${dt.toFixed(1).padStart(7)} ${cpu.toFixed(1).padStart(7)}`);
  }
  const summary = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const pct = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    return `median ${ms(pct(0.5))}, p90 ${ms(pct(0.9))}, max ${ms(s[s.length - 1])}`;
  };
  console.log(`\nkeypress to frame over ${times.length} keys (goal: < 50 ms)\n  wall: ${summary(times)}\n  cpu:  ${summary(cpus)}`);
  app.unmount();
  if (!keep) rmSync(dir, { recursive: true, force: true });
}

/** Resolve when ink has written a frame beyond `count`. */
async function frameAfter(app: { frames: string[] }, count: number): Promise<void> {
  const start = performance.now();
  while (app.frames.length <= count) {
    if (performance.now() - start > 30000) throw new Error('no frame within 30 s');
    await new Promise((r) => setImmediate(r));
  }
}

function ms(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`;
}

await main();
