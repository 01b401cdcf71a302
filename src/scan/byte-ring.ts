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
 * "ended" and "failed") and how many the reader has given back (with a flag for "cancelled"). A
 * flag is set in the counter the other side waits on, so a wait can never miss it. A writer that
 * fails has the reader read what it committed first, then stop: the reader fails on what came
 * before the writer's failure, as it would reading one stream. A reader that cancels stops the
 * writer. Any thread may do either (the main thread does when a worker dies, so that the other one
 * is never left waiting).
 */
import { StrataError } from '../util/errors.js';

const FILLED = 0;
const TAKEN = 1;
const SLOTS = 2;
const LENGTHS = 3;
const ENDED = 1 << 28;
const FAILED = 1 << 29;
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
  /** The filled counter as the reader last saw it: what it waits to change. */
  private seen = 0;
  /**
   * A side that waits is woken once this many slots are ready for it, not for each: every wake-up
   * of a thread costs the waker time (0.1 s per 880 MB layer woken slot by slot, measured).
   */
  private readonly wakeAt: number;

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
    this.wakeAt = Math.max(1, slots >> 2);
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
    // a reader waits only once it has read every slot: woken when wakeAt are ready (or at the end)
    if (this.done - (Atomics.load(this.words, TAKEN) & COUNT) >= this.wakeAt) Atomics.notify(this.words, FILLED);
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
      Atomics.wait(this.words, FILLED, this.seen);
    }
  }

  /** next() for a thread that must not block (the main thread). */
  async nextAsync(): Promise<Buffer | null> {
    for (;;) {
      const got = this.ready();
      if (got !== undefined) return got;
      const w = waitAsync(this.words, FILLED, this.seen);
      if (w.async) await w.value;
    }
  }

  /** The reader stops: the writer's slot() throws. */
  cancel(): void {
    Atomics.or(this.words, TAKEN, CANCELLED);
    Atomics.notify(this.words, TAKEN);
  }

  /** The writer failed: the reader's next() throws RingStopped after the slots committed before. */
  fail(): void {
    Atomics.or(this.words, FILLED, FAILED);
    Atomics.notify(this.words, FILLED);
  }

  /** A filled slot, null at the end, undefined when the reader must wait. Gives back the slot held. */
  private ready(): Buffer | null | undefined {
    const filled = (this.seen = Atomics.load(this.words, FILLED));
    if (this.holding) {
      this.holding = false;
      this.done++;
      Atomics.add(this.words, TAKEN, 1);
      // a writer waits only on a full ring: woken when wakeAt slots are free
      if (this.slots - ((filled & COUNT) - this.done) >= this.wakeAt) Atomics.notify(this.words, TAKEN);
    }
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
