import test from 'ava';
import { ProgressBars } from '../src/render/progress.js';
import { comparing } from '../src/commands/diff.js';
import { diffImages } from '../src/analyze/diff/diff.js';
import { modelOf } from './helpers/model.js';
import { dir, file } from './helpers/tar-writer.js';

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

test('diff: a line on a terminal while the images are compared, erased after; nothing elsewhere', async (t) => {
  const a = await modelOf([[dir('etc'), file('etc/a', 'one')]]);
  const b = await modelOf([[dir('etc'), file('etc/a', 'two'), file('etc/b', 'new')]]);
  const sides = [{ model: a, layer: 0 }, { model: b, layer: 0 }] as const;
  const sink = (isTTY: boolean) => {
    const s = { isTTY, text: '', write: (x: string) => ((s.text += x), true) };
    return s;
  };
  const tty = sink(true);
  const report = await comparing(sides[0], sides[1], {}, tty as unknown as NodeJS.WriteStream);
  t.is(tty.text, 'strata: comparing 2 paths with 3…\r\x1b[K');
  t.deepEqual(report, diffImages(sides[0], sides[1], {}));
  const pipe = sink(false);
  await comparing(sides[0], sides[1], {}, pipe as unknown as NodeJS.WriteStream);
  t.is(pipe.text, '');
});
