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
import { sniffCompression, syncGzip } from './compression.js';
import { ByteRing, RingStopped } from './byte-ring.js';
import { OUT_BYTES } from './sync-decoders.js';
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
  | { type: 'inflate'; id: number; range: FileRange; blob: SharedArrayBuffer; tar: SharedArrayBuffer }
  | { type: 'tar'; id: number; ring: SharedArrayBuffer; secrets?: ContentScanSettings; algorithm: DigestAlgorithm }
  | { type: 'chunk'; id: number; data: Uint8Array }
  | { type: 'end'; id: number };

export type FromWorker =
  | { type: 'ack'; id: number; bytes: number }
  | { type: 'done'; id: number; scan: LayerScan }
  | { type: 'digests'; id: number; digests: LayerDigests }
  | { type: 'inflated'; id: number; blobSize: number }
  | { type: 'error'; id: number; message: string; known: boolean; stopped: boolean };

const MAX_IN_FLIGHT = 16 * 1024 * 1024;

/**
 * A split scan's rings: 4 MiB of blob ahead of the main thread's hash, 16 MiB of tar ahead of the
 * parser. A slot holds what an unsplit scan reads or inflates at once (scan-worker.ts).
 */
const SLOT_BYTES = OUT_BYTES;
const BLOB_SLOTS = 4;
const TAR_SLOTS = 16;

/** An inflating worker's word that it wrote the last byte, and how many the blob had. */
type Inflated = Extract<FromWorker, { type: 'inflated' }>;

class ScanWorker {
  // A small young generation: parsing makes short-lived garbage per entry, and a large nursery per
  // worker costs RSS (1M files: 680 MB -> 600 MB peak) without saving time (docs/performance.md).
  readonly worker = new Worker(new URL('./scan-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
  private inFlight = 0;
  private onAck: (() => void) | null = null;
  private settle: { resolve: (s: LayerScan | LayerDigests | Inflated) => void; reject: (e: Error) => void } | null = null;
  private failed: Error | null = null;

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
      } else if (m.type === 'inflated') {
        this.settle?.resolve(m);
      } else {
        this.fail(m.stopped ? new RingStopped(m.message) : m.known ? new StrataError(m.message) : new Error(m.message));
      }
    });
    this.worker.on('error', (e) => this.fail(e));
  }

  private fail(e: Error): void {
    this.failed = e;
    this.settle?.reject(e);
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

  /** The first stage of a split scan (scan-worker.ts `inflate`): resolves when the worker has written the last byte. */
  inflate(id: number, range: FileRange, blob: ByteRing, tar: ByteRing): Promise<Inflated> {
    const result = this.expect<Inflated>();
    this.worker.postMessage({ type: 'inflate', id, range, blob: blob.shared, tar: tar.shared } satisfies ToWorker);
    return this.settled(result);
  }

  /** The second stage: the tar in `ring` parsed; its digest is the diffID. */
  parse(id: number, ring: ByteRing, secrets: ContentScanSettings | undefined, algorithm: DigestAlgorithm): Promise<LayerScan> {
    const result = this.expect<LayerScan>();
    this.worker.postMessage({ type: 'tar', id, ring: ring.shared, secrets, algorithm } satisfies ToWorker);
    return this.settled(result);
  }

  /** The digests of a file range alone (scan-layer.ts digestLayer). */
  digest(id: number, range: FileRange, algorithms?: Algorithms): Promise<LayerDigests> {
    const result = this.expect<LayerDigests>();
    this.worker.postMessage({ type: 'digest', id, range, algorithms } satisfies ToWorker);
    return this.settled(result);
  }

  private expect<T extends LayerScan | LayerDigests | Inflated>(): Promise<T> {
    this.failed = null;
    this.inFlight = 0;
    const result = new Promise<T>((resolve, reject) => (this.settle = { resolve: resolve as (v: LayerScan | LayerDigests | Inflated) => void, reject }));
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
  private hashed = 0;

  /** Workers started over the pool's life (one scan, one worker; a split scan, two). */
  get workersStarted(): number {
    return this.started;
  }

  /** Bytes this thread hashed for split scans (tests: which split took place). */
  get hashedHere(): number {
    return this.hashed;
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
    if (gzipped(blob) && syncGzip()) {
      // one split at a time: two, each holding one worker and waiting for a second, would wait for
      // each other; the first starts at once, so that its workers are taken before other scans ask
      const run = () => this.pipeline(blob, secrets, algorithms);
      const turn = this.splits++ ? this.splitting.then(run) : run();
      this.splitting = turn.catch(() => undefined).finally(() => this.splits--);
      return turn;
    }
    const [scan, digests] = await Promise.allSettled([this.task((w, id) => w.run(id, blob, secrets, false)), this.task((w, id) => w.digest(id, blob, algorithms))]);
    if (scan.status === 'rejected') throw scan.reason;
    if (digests.status === 'rejected') throw digests.reason;
    return { ...scan.value, ...digests.value };
  }

  private splitting: Promise<unknown> = Promise.resolve();
  /** Split scans running or waiting for their turn. */
  private splits = 0;

  /**
   * A split scan holds two workers (of a pool of two, all of them) while the parsing one waits for
   * bytes a quarter of the time and this thread only hashes the blob: room for this thread to scan
   * a small layer itself (read-image.ts) rather than queue it behind the split.
   */
  get splitHoldsAll(): boolean {
    return this.splits > 0 && this.size <= 2;
  }

  private async pipeline(range: FileRange, secrets: ContentScanSettings | undefined, algorithms: Algorithms | undefined): Promise<LayerScan> {
    const alg = { blob: algorithms?.blob ?? 'sha256', diff: algorithms?.diff ?? 'sha256' } as const;
    const blob = new ByteRing(ByteRing.create(BLOB_SLOTS, SLOT_BYTES));
    const tar = new ByteRing(ByteRing.create(TAR_SLOTS, SLOT_BYTES));
    // A stage that fails stops the others (the worker says so itself, but it may have died): none
    // is left waiting on a ring nobody fills or empties. The readers of a failed inflater still
    // read what it wrote before, as from one stream that broke there.
    const inflated = this.task((w, id) => w.inflate(id, range, blob, tar)).catch((e: unknown) => {
      tar.fail();
      blob.fail();
      throw e;
    });
    const parsed = this.task((w, id) => w.parse(id, tar, secrets, alg.diff)).catch((e: unknown) => {
      tar.cancel();
      blob.cancel();
      throw e;
    });
    const hashed = this.hashRing(blob, alg.blob);
    const [i, p, h] = await Promise.allSettled([inflated, parsed, hashed]);
    // the parser's own error first: it read only what came before the inflater's failure, so it
    // failed earlier in the stream, as an unsplit scan would have; RingStopped only says that
    // another stage stopped
    for (const r of [p, i, h]) if (r.status === 'rejected' && !(r.reason instanceof RingStopped)) throw r.reason;
    for (const r of [p, i, h]) if (r.status === 'rejected') throw r.reason;
    if (i.status !== 'fulfilled' || p.status !== 'fulfilled' || h.status !== 'fulfilled') throw new Error('unreachable');
    return { ...p.value, compression: 'gzip', blobSize: i.value.blobSize, blobDigest: h.value };
  }

  /** The blob's digest, taken on this thread from the ring the inflating worker reads it into. */
  private async hashRing(ring: ByteRing, algorithm: DigestAlgorithm): Promise<string> {
    const h = createHash(algorithm);
    for (let c = await ring.nextAsync(); c; c = await ring.nextAsync()) {
      h.update(c);
      this.hashed += c.length;
    }
    return `${algorithm}:${h.digest('hex')}`;
  }

  private async task<T>(work: (w: ScanWorker, id: number) => Promise<T>): Promise<T> {
    const w = await this.acquire();
    try {
      return await work(w, this.nextId++);
    } catch (e) {
      // a worker that failed mid-scan may hold a half-read layer: replace it
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
