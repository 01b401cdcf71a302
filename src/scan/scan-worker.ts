/** Worker thread body: scans one layer at a time, from a local file or from chunks posted to it. */
import { parentPort } from 'node:worker_threads';
import { closeSync, openSync, readSync } from 'node:fs';
import { digestLayer, scanLayer, type LayerDigests, type LayerScan } from './scan-layer.js';
import { uncompressed } from './compression.js';
import { StrataError } from '../util/errors.js';
import type { FileRange } from '../image/image.js';
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

const CHUNK = 1024 * 1024;

/**
 * The range read in order; a file that ends early yields fewer bytes (the size check names it).
 * Every chunk is read into one buffer (scanLayer uses each up before asking for the next): fresh
 * memory per megabyte cost a plain 1.3 GB archive about 0.1 s of page faults (docs/performance.md).
 */
async function* fileChunks(r: FileRange): AsyncGenerator<Buffer> {
  const fd = openSync(r.file, 'r');
  const buf = Buffer.allocUnsafeSlow(Math.min(CHUNK, r.size));
  try {
    for (let pos = 0; pos < r.size; ) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, r.size - pos), r.offset + pos);
      if (n === 0) return;
      pos += n;
      yield n < buf.length ? buf.subarray(0, n) : buf;
    }
  } finally {
    closeSync(fd);
  }
}

/** Bytes sent to the main thread and not yet taken there (hashed, or pulled by the parser): the inflater waits above this. */
const MAX_FORWARDED = 4 * 1024 * 1024;
let forwarded = 0;
let onRoom: (() => void) | null = null;

/**
 * The bytes of inflate `id`, sent to the main thread as they pass: the blob's copied (read into a
 * reused buffer), the tar's handed over when inflated into memory of their own, else copied.
 */
function forwarder(id: number): { blob(chunk: Buffer): void; tar(chunk: Buffer, owned?: boolean): void | Promise<void> } {
  forwarded = 0;
  const send = (kind: 'blob' | 'tar', chunk: Buffer, owned = false) => {
    const data = owned ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength) : new Uint8Array(chunk);
    forwarded += data.byteLength;
    port.postMessage({ type: 'bytes', id, kind, data } satisfies FromWorker, [data.buffer as ArrayBuffer]);
  };
  return {
    blob: (chunk) => send('blob', chunk),
    tar: (chunk, owned) => {
      send('tar', chunk, owned);
      if (forwarded > MAX_FORWARDED) return new Promise<void>((r) => (onRoom = r));
    },
  };
}

/**
 * The first stage of a split scan (scan-pool.ts): a compressed file range inflated, its bytes
 * forwarded as they pass (the blob's for its digest, the tar's to the worker that parses them).
 */
async function inflate(id: number, range: FileRange): Promise<void> {
  const out = forwarder(id);
  let blobSize = 0;
  let tarSize = 0;
  // inflated into fresh memory, handed over whole: no copy on the critical path
  const { compression, chunks, owned } = await uncompressed(fileChunks(range), (c) => {
    blobSize += c.length;
    out.blob(c);
  }, { fresh: true });
  for await (const c of chunks) {
    tarSize += c.length;
    await out.tar(c, owned);
  }
  port.postMessage({ type: 'inflated', id, compression, blobSize, tarSize } satisfies FromWorker);
}

function fail(id: number, e: unknown): void {
  const err = e as NodeJS.ErrnoException;
  // a file that cannot be read (a system call's error) is bad input, as on the main thread
  const known = err instanceof StrataError || typeof err.syscall === 'string';
  port.postMessage({ type: 'error', id, message: err.message, known } satisfies FromWorker);
  current = -1;
}

function reply(id: number, work: Promise<LayerScan | LayerDigests>): void {
  work.then(
    (result) => {
      if (!('records' in result)) {
        port.postMessage({ type: 'digests', id, digests: result } satisfies FromWorker);
        return;
      }
      const r = result.records;
      const transfer = [r.kind, r.flags, r.size, r.mode, r.uid, r.gid, r.mtime, r.hash].map((a) => a.buffer as ArrayBuffer);
      port.postMessage({ type: 'done', id, scan: result } satisfies FromWorker, transfer);
    },
    (e: unknown) => fail(id, e),
  );
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'file') {
    current = -1;
    reply(m.id, scanLayer(fileChunks(m.range), { digests: m.digests, secrets: m.secrets, algorithms: m.algorithms }));
    return;
  }
  if (m.type === 'digest') {
    current = -1;
    reply(m.id, digestLayer(fileChunks(m.range), m.algorithms));
    return;
  }
  if (m.type === 'inflate') {
    current = -1;
    inflate(m.id, m.range).catch((e: unknown) => fail(m.id, e));
    return;
  }
  if (m.type === 'taken') {
    forwarded -= m.bytes;
    if (forwarded <= MAX_FORWARDED && onRoom) {
      const r = onRoom;
      onRoom = null;
      r();
    }
    return;
  }
  if (m.type === 'start') {
    current = m.id;
    queue = [];
    ended = false;
    reply(m.id, scanLayer(chunks(m.id), { hashBlob: false, secrets: m.secrets, algorithms: m.algorithms }));
    return;
  }
  if (m.id !== current) return; // chunks of a scan that already failed
  if (m.type === 'chunk') queue.push(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
  else ended = true;
  const w = wake;
  wake = null;
  w?.();
});
