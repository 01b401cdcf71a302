/**
 * Diff view benchmark: `strata diff IMAGE@0 IMAGE --tui` through ink-testing-library; reports the
 * diff, the tree build, the first screen and the keypress-to-frame time of each key.
 *   node dist/bench/tui-diff.js IMAGE [--from N]
 * IMAGE: any reference; `node dist/bench/tui.js --keep DIR` leaves its 500k-file image in DIR.
 */
import { performance } from 'node:perf_hooks';
import { openImage } from '../src/sources/resolve.js';
import { readImage } from '../src/model/read-image.js';
import { diffImages } from '../src/analyze/diff/diff.js';
import { buildKeymap } from '../src/tui/keymap.js';
import { DiffTree } from '../src/tui/diff-tree.js';

// React's development build records every render with its props: measure what users run.
process.env.NODE_ENV ??= 'production';
const { createElement } = await import('react');
const { render } = await import('ink-testing-library');
const { DiffApp } = await import('../src/tui/diff-app.js');

const ref = process.argv[2];
if (!ref || ref.startsWith('--')) {
  process.stderr.write('usage: node dist/bench/tui-diff.js IMAGE [--from N]\n');
  process.exit(2);
}
const fromArg = process.argv.indexOf('--from');
const timed = <T>(what: string, f: () => T): T => {
  const t = performance.now();
  const out = f();
  console.log(`${what.padEnd(30)} ${(performance.now() - t).toFixed(0).padStart(7)} ms`);
  return out;
};

const t0 = performance.now();
const model = await readImage(await openImage(ref));
console.log(`${'read the image'.padEnd(30)} ${(performance.now() - t0).toFixed(0).padStart(7)} ms  (${model.layers.length} layers)`);
const a = { model, layer: fromArg > 0 ? Number(process.argv[fromArg + 1]) : 0 };
const b = { model, layer: model.layers.length - 1 };
const report = timed(`diff: layers ${a.layer} vs ${b.layer}`, () => diffImages(a, b));
const tree = timed('tree', () => new DiffTree(a, b, report));
console.log(`${tree.count - 1} paths, ${report.files.length} changed`);

const t1 = performance.now();
const app = render(createElement(DiffApp, { report, tree, keymap: buildKeymap(), width: 80, height: 23 }));
while (!app.frames.length) await new Promise((r) => setTimeout(r, 1));
console.log(`${'first screen (80x24)'.padEnd(30)} ${(performance.now() - t1).toFixed(0).padStart(7)} ms\n`);

const keys: [string, string][] = [
  ['down', 'j'],
  ['page down', '\x1b[6~'],
  ['last row', 'G'],
  ['first row', 'g'],
  ['sort by |delta|', 's'],
  ['sort by name', 's'],
  ['show unchanged', 'U'],
  ['down', 'j'],
  ['hide unchanged', 'U'],
  ['collapse all', '\x00'],
  ['expand all', '\x00'],
  ['whole summary', '\t'],
  ['tree again', '\t'],
  ['filter: open', '/'],
  ['filter: type', 'f7'],
  ['filter: apply', '\r'],
];
const times: number[] = [];
for (const [name, k] of keys) {
  const n = app.frames.length;
  const t = performance.now();
  app.stdin.write(k);
  while (app.frames.length === n && performance.now() - t < 5000) await new Promise((r) => setTimeout(r, 0));
  const ms = performance.now() - t;
  times.push(ms);
  console.log(`${name.padEnd(30)} ${ms.toFixed(1).padStart(7)} ms`);
}
times.sort((x, y) => x - y);
console.log(`\nkeypress to frame over ${times.length} keys: median ${times[times.length >> 1].toFixed(1)} ms, max ${times[times.length - 1].toFixed(1)} ms`);
app.unmount();
process.exit(0);
