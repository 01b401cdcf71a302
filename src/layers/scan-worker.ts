/** Worker thread body: scans one layer at a time from chunks posted by the main thread. */
import { parentPort } from 'node:worker_threads';
import { scanLayer } from './scan-layer.js';
import { StrataError } from './errors.js';
import type { ToWorker, FromWorker } from './scan-pool.js';

const port = parentPort!;
let queue: Buffer[] = [];
let ended = false;
let wake: (() => void) | null = null;
let current = -1;

async function* chunks(id: number): AsyncGenerator<Buffer> {
  for (;;) {
    if (queue.length) {
      const c = queue.shift()!;
      yield c;
      port.postMessage({ type: 'ack', id, bytes: c.length } satisfies FromWorker);
      continue;
    }
    if (ended) return;
    await new Promise<void>((r) => (wake = r));
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'start') {
    current = m.id;
    queue = [];
    ended = false;
    const id = m.id;
    scanLayer(chunks(id), { hashBlob: false }).then(
      (scan) => {
        const r = scan.records;
        const transfer = [r.kind, r.flags, r.size, r.mode, r.uid, r.gid, r.mtime, r.hash].map((a) => a.buffer as ArrayBuffer);
        port.postMessage({ type: 'done', id, scan } satisfies FromWorker, transfer);
      },
      (e: unknown) => {
        const err = e as Error;
        port.postMessage({ type: 'error', id, message: err.message, known: err instanceof StrataError } satisfies FromWorker);
        current = -1;
      },
    );
    return;
  }
  if (m.id !== current) return; // chunks of a scan that already failed
  if (m.type === 'chunk') queue.push(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
  else ended = true;
  const w = wake;
  wake = null;
  w?.();
});
