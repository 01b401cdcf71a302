/**
 * Bytes passed between threads without messages: a ring of fixed-size slots in shared memory, one
 * thread writing and one reading. A split scan's inflating worker reads the blob into one ring (the
 * main thread hashes it from there) and inflates straight into another (the parsing worker reads
 * it). Posting the same bytes as transferred buffers cost ~0.35 s of CPU per 880 MB layer in
 * postMessage and in the garbage collections their external memory set off, and fresh memory to
 * fault in for every megabyte (docs/performance.md#one-big-layer). Memory is the ring's, whatever
 * the layer's size.
 *
 * Two counters, each waited on with Atomics: how many slots the writer has filled (with flags for
 * "ended", "failed" and "aborted") and how many the reader has given back (with a flag for
 * "cancelled"). A flag is set in the counter the other side waits on, so a wait can never miss it.
 * A writer that fails has the reader read what it committed first, then stop: the reader fails on
 * what came before the writer's failure, as it would reading one stream. The reader stops the
 * writer by cancelling; a third thread stops both at once by `abort()` (the main thread does when a
 * worker dies, so that the other one is never left waiting).
 */
import { StrataError } from '../util/errors.js';

const FILLED = 0;
const TAKEN = 1;
const SLOTS = 2;
const LENGTHS = 3;
const ENDED = 1 << 28;
const FAILED = 1 << 29;
const ABORTED = 1 << 30;
const CANCELLED = 1 << 30;
const COUNT = ENDED - 1;

/** Atomics.waitAsync: in Node since 16, in TypeScript's ES2024 library (this project builds against ES2022's). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, at: number, value: number): { async: boolean; value: unknown } }).waitAsync;

/** The other side stopped: the writer failed (its own error says why) or the reader cancelled. */
export class RingStopped extends StrataError {}

export class ByteRing {
  readonly slots: number;
  readonly slotBytes: number;
  private readonly words: Int32Array;
  private readonly data: Buffer;
  /** Slots this side has filled (writer) or taken (reader). */
  private done = 0;
  /** The reader holds the slot it last returned until it asks for the next. */
  private holding = false;

  /** Shared memory for a ring; each thread wraps the same buffer in a ByteRing of its own. */
  static create(slots: number, slotBytes: number): SharedArrayBuffer {
    const sab = new SharedArrayBuffer(headerBytes(slots) + slots * slotBytes);
    new Int32Array(sab)[SLOTS] = slots;
    return sab;
  }

  constructor(readonly shared: SharedArrayBuffer) {
    const slots = (this.slots = new Int32Array(shared, 0, LENGTHS)[SLOTS]);
    const header = headerBytes(slots);
    this.slotBytes = (shared.byteLength - header) / slots;
    this.words = new Int32Array(shared, 0, LENGTHS + slots);
    this.data = Buffer.from(shared, header);
  }

  // --- writer

  /** The next slot to fill, once the reader has given it back; throws RingStopped when cancelled. */
  slot(): Buffer {
    for (;;) {
      const taken = Atomics.load(this.words, TAKEN);
      if (taken & CANCELLED) throw new RingStopped('the reader stopped');
      if (this.done - (taken & COUNT) < this.slots) return this.view(this.done, this.slotBytes);
      Atomics.wait(this.words, TAKEN, taken);
    }
  }

  /** The slot from slot() holds `bytes` bytes: the reader may have it. */
  commit(bytes: number): void {
    this.words[LENGTHS + (this.done % this.slots)] = bytes;
    this.done++;
    Atomics.add(this.words, FILLED, 1);
    Atomics.notify(this.words, FILLED);
  }

  /** No more slots: the reader's next() returns null once it has read every filled one. */
  end(): void {
    Atomics.or(this.words, FILLED, ENDED);
    Atomics.notify(this.words, FILLED);
  }

  // --- reader

  /** The next filled slot's bytes, valid until the next call (which gives it back); null at the end. */
  next(): Buffer | null {
    for (;;) {
      const got = this.ready();
      if (got !== undefined) return got;
      Atomics.wait(this.words, FILLED, Atomics.load(this.words, FILLED));
    }
  }

  /** next() for a thread that must not block (the main thread). */
  async nextAsync(): Promise<Buffer | null> {
    for (;;) {
      const got = this.ready();
      if (got !== undefined) return got;
      const w = waitAsync(this.words, FILLED, Atomics.load(this.words, FILLED));
      if (w.async) await w.value;
    }
  }

  /** The reader stops: the writer's slot() throws. */
  cancel(): void {
    Atomics.or(this.words, TAKEN, CANCELLED);
    Atomics.notify(this.words, TAKEN);
  }

  /** Stops both sides at once (a third thread, when either side died). */
  abort(): void {
    Atomics.or(this.words, FILLED, ABORTED);
    Atomics.notify(this.words, FILLED);
    this.cancel();
  }

  /** The writer failed: the reader's next() throws RingStopped after the slots committed before. */
  fail(): void {
    Atomics.or(this.words, FILLED, FAILED);
    Atomics.notify(this.words, FILLED);
  }

  /** A filled slot, null at the end, undefined when the reader must wait. Gives back the slot held. */
  private ready(): Buffer | null | undefined {
    if (this.holding) {
      this.holding = false;
      this.done++;
      Atomics.add(this.words, TAKEN, 1);
      Atomics.notify(this.words, TAKEN);
    }
    const filled = Atomics.load(this.words, FILLED);
    if (filled & ABORTED) throw new RingStopped('the scan was stopped');
    if ((filled & COUNT) > this.done) {
      this.holding = true;
      return this.view(this.done, this.words[LENGTHS + (this.done % this.slots)]);
    }
    if (filled & FAILED) throw new RingStopped('the writer stopped');
    return filled & ENDED ? null : undefined;
  }

  private view(n: number, bytes: number): Buffer {
    const at = (n % this.slots) * this.slotBytes;
    return this.data.subarray(at, at + bytes);
  }
}

/** The counters and slot lengths, rounded up so that the slots start on a cache line. */
function headerBytes(slots: number): number {
  return Math.ceil(((LENGTHS + slots) * 4) / 64) * 64;
}
