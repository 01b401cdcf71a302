import test from 'ava';
import { ProgressBars } from '../src/commands/progress.js';

test('progress bars: a line per layer being fetched, a total over all layers, erased at the end', (t) => {
  let out = '';
  let now = 1000;
  const bars = new ProgressBars({ write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream, () => now);
  bars.expect([{ blobSize: 1000 }, { blobSize: 3000 }]);
  const a = `sha256:${'a'.repeat(64)}`;
  const b = `sha256:${'b'.repeat(64)}`;
  bars.update({ layer: -1, digest: `sha256:${'c'.repeat(64)}`, done: 10, total: 10, cached: false });
  t.is(out, '', 'the config gets no line');
  bars.update({ layer: 0, digest: a, done: 500, total: 1000, cached: false });
  t.is(out, [
    `  layer  0 aaaaaaaaaaaa [############............] 500 B / 1.0 kB\x1b[K\n`,
    `  total                 [###.....................] 500 B / 4.0 kB  (0/2 layers)\x1b[K\n`,
  ].join(''));
  out = '';
  bars.update({ layer: 1, digest: b, done: 1000, total: 3000, cached: true });
  t.is(out, '', 'throttled: less than 100 ms since the last draw');
  now += 100;
  bars.update({ layer: 1, digest: b, done: 1500, total: 3000, cached: true });
  t.true(out.includes(`  layer  1 bbbbbbbbbbbb [############............] 1.5 kB / 3.0 kB (cache)\x1b[K\n`), JSON.stringify(out));
  out = '';
  bars.update({ layer: 1, digest: b, done: 3000, total: 3000, cached: true });
  // Redrawn in place: up over the three lines drawn before; the finished layer leaves the list.
  t.true(out.startsWith('\x1b[3A'), JSON.stringify(out));
  t.true(out.includes('3.5 kB / 4.0 kB  (1/2 layers)'), JSON.stringify(out));
  t.false(out.includes('layer  1'));
  out = '';
  bars.finish();
  t.is(out, '\x1b[2A\x1b[J');
});
