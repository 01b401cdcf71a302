/**
 * Layers are scanned in worker threads: inflating, hashing and tar parsing are CPU-bound, and a
 * worker per core keeps them busy while the main thread builds the union. A blob that is a range of
 * a local file is read by the worker itself: the main thread, busy with the union, would otherwise
 * keep the worker waiting for its next layer's bytes. Other blobs are posted in chunks (transferred,
 * not copied, when the chunk owns its memory) with a bounded number of bytes in flight, so memory
 * does not grow with layer size.
 */
import { Worker } from 'node:worker_threads';
import { createHash, type Hash } from 'node:crypto';
import { sniffCompression, type Compression } from './compression.js';
import { closeSync, openSync, readSync } from 'node:fs';
import type { DigestAlgorithm } from '../util/digest.js';
import { availableParallelism } from 'node:os';
import { StrataError } from '../util/errors.js';
import type { Algorithms, LayerDigests, LayerScan } from './scan-layer.js';
import type { FileRange } from '../image/image.js';
import type { ContentScanSettings } from './secret-scan.js';

export type ToWorker =
  | { type: 'start'; id: number; secrets?: ContentScanSettings; algorithms?: Algorithms }
  | { type: 'file'; id: number; range: FileRange; digests: boolean; secrets?: ContentScanSettings; algorithms?: Algorithms }
  | { type: 'digest'; id: number; range: FileRange; algorithms?: Algorithms }
  | { type: 'inflate'; id: number; range: FileRange }
  | { type: 'taken'; id: number; bytes: number }
  | { type: 'chunk'; id: number; data: Uint8Array }
  | { type: 'end'; id: number };

export type FromWorker =
  | { type: 'ack'; id: number; bytes: number }
  | { type: 'done'; id: number; scan: LayerScan }
  | { type: 'digests'; id: number; digests: LayerDigests }
  | { type: 'bytes'; id: number; kind: 'blob' | 'tar'; data: Uint8Array }
  | { type: 'inflated'; id: number; compression: Compression; blobSize: number; tarSize: number }
  | { type: 'error'; id: number; message: string; known: boolean };

const MAX_IN_FLIGHT = 16 * 1024 * 1024;

class ScanWorker {
  // A small young generation: parsing makes short-lived garbage per entry, and a large nursery per
  // worker costs RSS (1M files: 680 MB -> 600 MB peak) without saving time (docs/performance.md).
  readonly worker = new Worker(new URL('./scan-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
  private inFlight = 0;
  private onAck: (() => void) | null = null;
  private settle: { resolve: (s: LayerScan | LayerDigests) => void; reject: (e: Error) => void } | null = null;
  private failed: Error | null = null;
  /** An inflating worker's blob digest, and where its tar bytes go (`inflate`). */
  private blobHash: Hash | null = null;
  private feed: TarFeed | null = null;
  private onInflated: ((m: Extract<FromWorker, { type: 'inflated' }>) => void) | null = null;
  /** Bytes hashed on this thread for split scans, over the worker's life (tests). */
  hashedHere = 0;

  constructor() {
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'ack') {
        this.inFlight -= m.bytes;
        const a = this.onAck;
        this.onAck = null;
        a?.();
      } else if (m.type === 'done') {
        this.settle?.resolve(m.scan);
      } else if (m.type === 'digests') {
        this.settle?.resolve(m.digests);
      } else if (m.type === 'bytes') {
        this.took(m);
      } else if (m.type === 'inflated') {
        this.onInflated?.(m);
      } else {
        this.fail(m.known ? new StrataError(m.message) : new Error(m.message));
      }
    });
    this.worker.on('error', (e) => this.fail(e));
  }

  private fail(e: Error): void {
    this.failed = e;
    this.settle?.reject(e);
    this.feed?.fail(e);
    const a = this.onAck;
    this.onAck = null;
    a?.();
  }

  /** `digests: false`: a file range scanned without its digests, which a `digest` task computes. */
  async run(id: number, blob: AsyncIterable<Buffer> | FileRange, secrets: ContentScanSettings | undefined, digests = true, algorithms?: Algorithms): Promise<LayerScan> {
    const result = this.expect<LayerScan>();
    if (!(Symbol.asyncIterator in blob)) {
      this.worker.postMessage({ type: 'file', id, range: blob, digests, secrets, algorithms } satisfies ToWorker);
      return this.settled(result);
    }
    this.worker.postMessage({ type: 'start', id, secrets, algorithms } satisfies ToWorker);
    const blobAlgorithm = algorithms?.blob ?? 'sha256';
    // A plain tar blob is its own diffID, which the worker computes: hashing it here too would
    // double the cost (a short first chunk is hashed anyway rather than sniffed).
    let blobHash: Hash | null = null;
    let first = true;
    for await (const chunk of blob) {
      if (this.failed) break;
      const plain = chunk.length >= 4 && sniffCompression(chunk) === 'none';
      if (first && (!plain || blobAlgorithm !== (algorithms?.diff ?? 'sha256'))) blobHash = createHash(blobAlgorithm);
      first = false;
      blobHash?.update(chunk);
      const owns = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
      const data = owns ? chunk : new Uint8Array(chunk);
      this.inFlight += data.byteLength;
      this.worker.postMessage({ type: 'chunk', id, data } satisfies ToWorker, [data.buffer as ArrayBuffer]);
      while (this.inFlight > MAX_IN_FLIGHT && !this.failed) await new Promise<void>((r) => (this.onAck = r));
    }
    if (!this.failed) this.worker.postMessage({ type: 'end', id } satisfies ToWorker);
    const scan = await this.settled(result);
    return { ...scan, blobDigest: blobHash ? `${blobAlgorithm}:${blobHash.digest('hex')}` : scan.diffId };
  }

  /**
   * The first stage of a split scan: the worker inflates a compressed file range; its tar bytes go
   * to `feed` (another worker's scan reads them), its blob bytes are hashed here. Resolves when the
   * worker has sent the last byte; a failure of either stage ends the other.
   */
  async inflate(id: number, range: FileRange, feed: TarFeed, blobAlgorithm: DigestAlgorithm): Promise<{ compression: Compression; blobSize: number; blobDigest: string }> {
    this.failed = null;
    this.blobHash = createHash(blobAlgorithm);
    this.feed = feed;
    feed.onCancel = (e) => this.fail(e);
    try {
      const done = new Promise<Extract<FromWorker, { type: 'inflated' }>>((resolve, reject) => {
        this.onInflated = resolve;
        this.settle = { resolve: () => undefined, reject };
      });
      this.worker.postMessage({ type: 'inflate', id, range } satisfies ToWorker);
      const m = await done;
      feed.end();
      return { compression: m.compression, blobSize: m.blobSize, blobDigest: `${blobAlgorithm}:${this.blobHash.digest('hex')}` };
    } finally {
      this.feed = null;
      this.onInflated = null;
      this.settle = null;
      this.blobHash = null;
    }
  }

  /** Bytes an inflating worker sent: the blob's hashed here, the tar's queued for the parser; each acknowledged once taken. */
  private took(m: Extract<FromWorker, { type: 'bytes' }>): void {
    if (!this.blobHash || !this.feed) return; // an inflate that already failed
    const bytes = m.data.byteLength;
    const taken = () => this.worker.postMessage({ type: 'taken', id: m.id, bytes } satisfies ToWorker);
    if (m.kind === 'tar') {
      // taken when the parsing worker's scan pulls it: the inflater waits while the parser lags
      this.feed.push(Buffer.from(m.data.buffer, m.data.byteOffset, bytes), taken);
      return;
    }
    this.blobHash.update(m.data);
    this.hashedHere += bytes;
    taken();
  }



  /** The digests of a file range alone (scan-layer.ts digestLayer). */
  digest(id: number, range: FileRange, algorithms?: Algorithms): Promise<LayerDigests> {
    const result = this.expect<LayerDigests>();
    this.worker.postMessage({ type: 'digest', id, range, algorithms } satisfies ToWorker);
    return this.settled(result);
  }

  private expect<T extends LayerScan | LayerDigests>(): Promise<T> {
    this.failed = null;
    this.inFlight = 0;
    const result = new Promise<T>((resolve, reject) => (this.settle = { resolve: resolve as (v: LayerScan | LayerDigests) => void, reject }));
    result.catch(() => undefined); // observed by settled()
    return result;
  }

  private async settled<T>(result: Promise<T>): Promise<T> {
    try {
      return await result;
    } finally {
      this.settle = null;
    }
  }
}

export class ScanPool {
  private idle: ScanWorker[] = [];
  private all: ScanWorker[] = [];
  private waiters: ((w: ScanWorker) => void)[] = [];
  private nextId = 0;
  private retire: NodeJS.Timeout | undefined;
  private started = 0;
  /** hashedHere of the workers already ended. */
  private counted = 0;

  /** Workers started over the pool's life (one scan, one worker; a split scan, two). */
  get workersStarted(): number {
    return this.started;
  }

  /** Bytes this thread hashed for split scans (tests: which split took place). */
  get hashedHere(): number {
    return this.counted + this.all.reduce((s, w) => s + w.hashedHere, 0);
  }

  constructor(readonly size = Math.max(1, Math.min(availableParallelism(), 4))) {}

  /**
   * Scan a blob: its bytes, or the range of a local file that holds them (read by the worker).
   * `split`, for an image's one big layer, which would otherwise keep one worker busy while the
   * others wait: a gzip range is inflated on one worker and parsed on another (which takes the
   * diffID), this thread takes the blob's digest; another range is parsed on one worker while
   * another takes its digests (docs/performance.md#one-big-layer). The first stage's error wins.
   */
  async scan(blob: AsyncIterable<Buffer> | FileRange, opts: { split?: boolean; secrets?: ContentScanSettings; algorithms?: Algorithms } = {}): Promise<LayerScan> {
    const { secrets, algorithms } = opts;
    if (!opts.split || this.size < 2 || Symbol.asyncIterator in blob) return this.task((w, id) => w.run(id, blob, secrets, true, algorithms));
    if (gzipped(blob)) {
      // one split at a time: two, each holding one worker and waiting for a second, would wait for each other
      const turn = this.splitting.then(() => this.pipeline(blob, secrets, algorithms));
      this.splitting = turn.catch(() => undefined);
      return turn;
    }
    const [scan, digests] = await Promise.allSettled([this.task((w, id) => w.run(id, blob, secrets, false)), this.task((w, id) => w.digest(id, blob, algorithms))]);
    if (scan.status === 'rejected') throw scan.reason;
    if (digests.status === 'rejected') throw digests.reason;
    return { ...scan.value, ...digests.value };
  }

  private splitting: Promise<unknown> = Promise.resolve();

  private async pipeline(range: FileRange, secrets: ContentScanSettings | undefined, algorithms: Algorithms | undefined): Promise<LayerScan> {
    const alg = { blob: algorithms?.blob ?? 'sha256', diff: algorithms?.diff ?? 'sha256' } as const;
    const feed = new TarFeed();
    const inflated = this.task((w, id) => w.inflate(id, range, feed, alg.blob));
    // the tar is the parser's whole input: its digest is the diffID, and its "blob" too
    const parsed = this.task((w, id) => w.run(id, feed, secrets, true, { blob: alg.diff, diff: alg.diff }));
    const [i, p] = await Promise.allSettled([inflated, parsed.catch((e: unknown) => {
      feed.cancel(e as Error);
      throw e;
    })]);
    // the inflater's error first: the parser then saw a cut tar, a consequence
    if (i.status === 'rejected' && !(i.reason instanceof Cancelled)) throw i.reason;
    if (p.status === 'rejected') throw p.reason;
    if (i.status === 'rejected') throw i.reason;
    return { ...p.value, compression: i.value.compression, blobSize: i.value.blobSize, blobDigest: i.value.blobDigest };
  }

  private async task<T>(work: (w: ScanWorker, id: number) => Promise<T>): Promise<T> {
    const w = await this.acquire();
    try {
      return await work(w, this.nextId++);
    } catch (e) {
      // a worker that failed mid-scan may hold a half-read layer: replace it
      this.counted += w.hashedHere;
      this.all = this.all.filter((x) => x !== w);
      void w.worker.terminate();
      this.release(null);
      throw e;
    }
    finally {
      if (this.all.includes(w)) this.release(w);
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.retire);
    await Promise.all(this.all.map((w) => w.worker.terminate()));
    this.all = [];
    this.idle = [];
  }

  private async acquire(): Promise<ScanWorker> {
    const w = this.idle.pop();
    if (w) return w;
    if (this.all.length < this.size) return this.spawn();
    return new Promise((r) => this.waiters.push(r));
  }

  private release(w: ScanWorker | null): void {
    const next = this.waiters.shift();
    if (next) next(w ?? this.spawn());
    else if (w) {
      this.idle.push(w);
      this.retireIdleSoon();
    }
  }

  /**
   * Workers left idle for a moment are ended: the analysis that follows the scans then runs without
   * their heaps (tens of MB each on big layers). A later scan starts a new one.
   */
  private retireIdleSoon(): void {
    clearTimeout(this.retire);
    this.retire = setTimeout(() => this.retireIdle(), 100);
    this.retire.unref();
  }

  /**
   * End the idle workers now. readImage calls this once its last scan is in: the analysis that
   * follows is synchronous, so a timer would fire only after it, with the workers' heaps still held.
   */
  retireIdle(): void {
    clearTimeout(this.retire);
    const idle = this.idle;
    this.idle = [];
    for (const w of idle) this.counted += w.hashedHere;
    this.all = this.all.filter((w) => !idle.includes(w));
    for (const w of idle) void w.worker.terminate();
  }

  private spawn(): ScanWorker {
    const w = new ScanWorker();
    this.all.push(w);
    this.started++;
    return w;
  }
}

/**
 * Whether a local blob is gzip, from its first bytes: a split scan inflates it on a worker of its
 * own. zstd inflates several times faster: split as a plain layer is (measured: docs/performance.md).
 */
function gzipped(range: FileRange): boolean {
  const fd = openSync(range.file, 'r');
  try {
    const head = Buffer.alloc(Math.min(4, range.size));
    readSync(fd, head, 0, head.length, range.offset);
    return sniffCompression(head) === 'gzip';
  } finally {
    closeSync(fd);
  }
}

/** The parser stopped first: the inflater was ended for it. */
class Cancelled extends Error {}

/**
 * The tar bytes an inflating worker sends, as the async iterable a parsing worker's scan reads.
 * Each chunk's `taken` callback runs when the scan pulls it (the inflater's bound on bytes ahead).
 */
export class TarFeed implements AsyncIterable<Buffer> {
  private queue: { chunk: Buffer; taken: () => void }[] = [];
  private ended = false;
  private error: Error | null = null;
  private wake: (() => void) | null = null;
  /** Set by the inflating side: ends it when the parser fails. */
  onCancel: ((e: Error) => void) | null = null;

  push(chunk: Buffer, taken: () => void): void {
    this.queue.push({ chunk, taken });
    this.poke();
  }

  end(): void {
    this.ended = true;
    this.poke();
  }

  fail(e: Error): void {
    this.error ??= e;
    this.poke();
  }

  cancel(e: Error): void {
    this.onCancel?.(new Cancelled(e.message));
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        next.taken();
        yield next.chunk;
        continue;
      }
      if (this.error) throw this.error;
      if (this.ended) return;
      await new Promise<void>((r) => (this.wake = r));
    }
  }
}
