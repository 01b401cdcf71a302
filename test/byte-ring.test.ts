import test from 'ava';
import { Worker } from 'node:worker_threads';
import { ByteRing, RingStopped } from '../src/scan/byte-ring.js';

const ringModule = new URL('../src/scan/byte-ring.js', import.meta.url).href;

/** A thread that writes `count` slots of `bytes(i)` into the ring, then ends it (or fails it: `fail`). */
function writer(shared: SharedArrayBuffer, count: number, fail = false): Promise<string> {
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.module).then(({ ByteRing }) => {
      const ring = new ByteRing(workerData.shared);
      try {
        for (let i = 0; i < workerData.count; i++) {
          const slot = ring.slot();
          const n = (i * 7) % (slot.length + 1);
          for (let j = 0; j < n; j++) slot[j] = (i + j) & 255;
          ring.commit(n);
        }
        if (workerData.fail) ring.fail(); else ring.end();
        parentPort.postMessage('done');
      } catch (e) {
        parentPort.postMessage(e.constructor.name + ': ' + e.message);
      }
    });`;
  const w = new Worker(code, { eval: true, workerData: { module: ringModule, shared, count, fail } });
  return new Promise((resolve, reject) => {
    w.once('message', (m: string) => resolve(m));
    w.once('error', reject);
  }).finally(() => w.terminate()) as Promise<string>;
}

function expected(i: number, slotBytes: number): Buffer {
  const n = (i * 7) % (slotBytes + 1);
  return Buffer.from(Array.from({ length: n }, (_, j) => (i + j) & 255));
}

test('a ring carries every slot in order across threads, around its slots many times, then ends', async (t) => {
  const ring = new ByteRing(ByteRing.create(3, 40));
  const written = writer(ring.shared, 500);
  let i = 0;
  for (let c = await ring.nextAsync(); c; c = await ring.nextAsync(), i++) t.deepEqual(Buffer.from(c), expected(i, 40), `slot ${i}`);
  t.is(i, 500);
  t.is(await written, 'done');
});

test('a writer waits for room: the reader holds the slot it has until it asks for the next', async (t) => {
  const ring = new ByteRing(ByteRing.create(2, 8));
  const written = writer(ring.shared, 3);
  const first = await ring.nextAsync();
  t.deepEqual(Buffer.from(first!), expected(0, 8));
  // the writer filled slot 1 and now waits for slot 0, which the reader still holds
  await new Promise((r) => setTimeout(r, 200));
  t.deepEqual(Buffer.from(first!), expected(0, 8), 'not overwritten while held');
  t.deepEqual(Buffer.from((await ring.nextAsync())!), expected(1, 8));
  t.deepEqual(Buffer.from((await ring.nextAsync())!), expected(2, 8));
  t.is(await ring.nextAsync(), null);
  t.is(await written, 'done');
});

test('a reader that cancels stops a writer waiting for room; a writer that fails stops the reader', async (t) => {
  const ring = new ByteRing(ByteRing.create(2, 8));
  const written = writer(ring.shared, 1000);
  await ring.nextAsync();
  ring.cancel();
  t.regex(await written, /^RingStopped: the reader stopped/);

  const failing = new ByteRing(ByteRing.create(4, 8));
  t.is(await writer(failing.shared, 3, true), 'done');
  // what was committed before the failure is read first, as from one stream that broke there
  for (let i = 0; i < 3; i++) t.deepEqual(Buffer.from(failing.next()!), expected(i, 8));
  t.throws(() => failing.next(), { instanceOf: RingStopped, message: /the writer stopped/ });
});

test('a third thread can stop either side: failing a ring a writer died on, cancelling one a reader died on', async (t) => {
  const full = new ByteRing(ByteRing.create(1, 8));
  const written = writer(full.shared, 10);
  await new Promise((r) => setTimeout(r, 100));
  new ByteRing(full.shared).cancel();
  t.regex(await written, /^RingStopped: the reader stopped/);
  const empty = new ByteRing(ByteRing.create(1, 8));
  const waiting = empty.nextAsync();
  setTimeout(() => new ByteRing(empty.shared).fail(), 50);
  await t.throwsAsync(waiting, { instanceOf: RingStopped, message: /the writer stopped/ });
});
