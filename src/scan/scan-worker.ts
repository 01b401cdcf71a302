/** Worker thread body: scans one layer at a time, from a local file or from chunks posted to it. */
import { parentPort } from 'node:worker_threads';
import { closeSync, openSync, readSync } from 'node:fs';
import { digestLayer, scanLayer, type LayerDigests, type LayerScan } from './scan-layer.js';
import { corrupt } from './compression.js';
import { gzipDecoder } from './sync-decoders.js';
import { ByteRing, RingStopped } from './byte-ring.js';
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

/**
 * The first stage of a split scan (scan-pool.ts): a gzip file range read into the `blob` ring (the
 * main thread hashes it there while it is inflated here) and inflated straight into the `tar` ring
 * (the parsing worker reads it), slot by slot, with no copy and no message. Runs to the end on this
 * thread: the rings' waits are its flow control. Either ring stopped by the other side ends it.
 */
function inflate(id: number, range: FileRange, blob: ByteRing, tar: ByteRing): void {
  const d = gzipDecoder()!; // the pool splits this way only where it exists (syncGzip)
  let fd: number | undefined;
  let blobSize = 0;
  let out = tar.slot();
  // each call inflates into a whole slot, as an unsplit scan's into its 1 MiB buffer: the same
  // pieces, so a corrupt stream fails at the same byte either way
  const drain = (): void => {
    for (let n = d.readInto(out); n; n = d.readInto(out)) {
      tar.commit(n);
      out = tar.slot();
    }
  };
  try {
    fd = openSync(range.file, 'r');
    for (let pos = 0; pos < range.size; ) {
      const slot = blob.slot();
      const n = readSync(fd, slot, 0, Math.min(slot.length, range.size - pos), range.offset + pos);
      if (n === 0) break; // a file that ends early: the size check names it
      pos += n;
      blobSize += n;
      blob.commit(n); // the main thread only reads it, as the inflate does
      d.write(slot.subarray(0, n));
      drain();
    }
    d.end();
    drain();
  } catch (e) {
    // the parser reads what was inflated before first: it fails on that as on one stream
    tar.fail();
    blob.fail();
    throw corrupt(e, 'gzip');
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  tar.end();
  blob.end();
  port.postMessage({ type: 'inflated', id, blobSize } satisfies FromWorker);
}

/**
 * The tar a split scan's inflating worker writes into `ring`, each chunk valid until the next is
 * asked for. Copied out of the shared memory first (a native copy, 0.1 s per 880 MB): the XXH3
 * module copies file bytes into its own memory with TypedArray.set, which takes ~6x as long from
 * shared memory (0.33 s against 0.05 s per 880 MB, measured).
 */
async function* ringChunks(ring: ByteRing): AsyncGenerator<Buffer> {
  let ended = false;
  const own = Buffer.allocUnsafeSlow(ring.slotBytes);
  try {
    for (let c = ring.next(); c; c = ring.next()) yield own.subarray(0, c.copy(own));
    ended = true;
  } finally {
    if (!ended) ring.cancel(); // the parse failed: the inflater stops rather than waiting for room
  }
}

function fail(id: number, e: unknown): void {
  const err = e as NodeJS.ErrnoException;
  // a file that cannot be read (a system call's error) is bad input, as on the main thread
  const known = err instanceof StrataError || typeof err.syscall === 'string';
  port.postMessage({ type: 'error', id, message: err.message, known, stopped: err instanceof RingStopped } satisfies FromWorker);
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
    try {
      inflate(m.id, m.range, new ByteRing(m.blob), new ByteRing(m.tar));
    } catch (e) {
      fail(m.id, e);
    }
    return;
  }
  if (m.type === 'tar') {
    current = -1;
    reply(m.id, scanLayer(ringChunks(new ByteRing(m.ring)), { tar: true, secrets: m.secrets, algorithms: { blob: m.algorithm, diff: m.algorithm } }));
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
