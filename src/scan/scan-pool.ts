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
import { sniffCompression } from './compression.js';
import { availableParallelism } from 'node:os';
import { StrataError } from '../util/errors.js';
import type { Algorithms, LayerDigests, LayerScan } from './scan-layer.js';
import type { FileRange } from '../image/image.js';
import type { ContentScanSettings } from './secret-scan.js';

export type ToWorker =
  | { type: 'start'; id: number; secrets?: ContentScanSettings; algorithms?: Algorithms }
  | { type: 'file'; id: number; range: FileRange; digests: boolean; secrets?: ContentScanSettings; algorithms?: Algorithms }
  | { type: 'digest'; id: number; range: FileRange; algorithms?: Algorithms }
  | { type: 'chunk'; id: number; data: Uint8Array }
  | { type: 'end'; id: number };

export type FromWorker =
  | { type: 'ack'; id: number; bytes: number }
  | { type: 'done'; id: number; scan: LayerScan }
  | { type: 'digests'; id: number; digests: LayerDigests }
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
      } else {
        this.fail(m.known ? new StrataError(m.message) : new Error(m.message));
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

  /** Workers started over the pool's life (one scan, one worker; a split scan, two). */
  get workersStarted(): number {
    return this.started;
  }

  constructor(readonly size = Math.max(1, Math.min(availableParallelism(), 4))) {}

  /**
   * Scan a blob: its bytes, or the range of a local file that holds them (read by the worker).
   * `split`: a file range is parsed on one worker while another computes its digests (reading the
   * range again): for an image's one big layer, which would otherwise keep one worker busy while the
   * others wait. The parser's error wins over the digests' when both fail, as without a split.
   */
  async scan(blob: AsyncIterable<Buffer> | FileRange, opts: { split?: boolean; secrets?: ContentScanSettings; algorithms?: Algorithms } = {}): Promise<LayerScan> {
    const { secrets, algorithms } = opts;
    if (!opts.split || this.size < 2 || Symbol.asyncIterator in blob) return this.task((w, id) => w.run(id, blob, secrets, true, algorithms));
    const [scan, digests] = await Promise.allSettled([this.task((w, id) => w.run(id, blob, secrets, false)), this.task((w, id) => w.digest(id, blob, algorithms))]);
    if (scan.status === 'rejected') throw scan.reason;
    if (digests.status === 'rejected') throw digests.reason;
    return { ...scan.value, ...digests.value };
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
