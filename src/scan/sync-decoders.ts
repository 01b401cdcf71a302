/**
 * Decompressors that run on the calling thread and reuse one output buffer.
 *
 * A layer scan runs in a worker thread whose other work (hashing, parsing) waits on the inflate
 * anyway, so inflating right there saves the hop to libuv's pool and the stream machinery, and one
 * reused output buffer saves faulting in fresh memory for every megabyte: 0.15 s against 0.22–0.29 s
 * per 330 MB layer (docs/performance.md). Node has no public synchronous streaming zlib API; its own
 * `zlib.*Sync` functions drive the native handle with `writeSync`, and so does this, with the same
 * error checks. Where a Node version lacks that handle, gzipDecoder() returns null and the caller
 * falls back to the `createGunzip` stream.
 */
import { constants, createGunzip, type Gunzip } from 'node:zlib';
import { createRequire } from 'node:module';

export interface SyncDecoder {
  /** The next compressed chunk; then call read() until it returns null. */
  write(chunk: Buffer): void;
  /** No more input: read() then returns what is left, and throws if the stream stopped mid-way. */
  end(): void;
  /** The next piece of output, valid only until the next call; null when more input is needed. */
  read(): Buffer | null;
  /** read() into `out` (a slot of shared memory): the bytes written, 0 when more input is needed. */
  readInto(out: Buffer): number;
}

/** Write a chunk (null: end the input) and take every piece of output it gives, each valid until the next. */
export function* outputs(d: SyncDecoder, chunk: Buffer | null): Generator<Buffer> {
  if (chunk) d.write(chunk);
  else d.end();
  for (let out = d.read(); out; out = d.read()) yield out;
}

/** What one read() gives at most. */
export const OUT_BYTES = 1024 * 1024;
const EMPTY: Buffer = Buffer.alloc(0);

interface ZlibHandle {
  writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
}

/** node:zlib's gunzip (multi-member streams, trailing zero padding) driven synchronously. */
export function gzipDecoder(): SyncDecoder | null {
  const z = createGunzip() as Gunzip & { _handle?: ZlibHandle; _writeState?: Uint32Array };
  const handle = z._handle;
  const state = z._writeState;
  if (typeof handle?.writeSync !== 'function' || !(state instanceof Uint32Array)) return null;
  z.on('error', () => undefined); // errors are read from z.errored right after each call
  let input: Buffer = EMPTY;
  let inOff = 0;
  let flush: number = constants.Z_NO_FLUSH;
  let more = false;
  const write = (chunk: Buffer): void => {
    input = chunk;
    inOff = 0;
    more = true;
  };
  const readInto = (dst: Buffer): number => {
    if (!more) return 0;
    const room = dst.length;
    const inLen = input.length - inOff;
    handle.writeSync(flush, input, inOff, inLen, dst, 0, room);
    if (z.errored) throw z.errored;
    const [availOut, availIn] = state;
    inOff += inLen - availIn;
    if (availOut !== 0) more = false; // output to spare: zlib took all the input it could
    return room - availOut;
  };
  return {
    write,
    end() {
      flush = constants.Z_FINISH;
      write(EMPTY);
    },
    readInto,
    read: reusing(OUT_BYTES, readInto),
  };
}

/**
 * read() over readInto(): into one buffer, made on the first read (a split scan's inflater only
 * ever calls readInto, into shared memory), and the first n bytes of it, null when there are none.
 */
function reusing(bytes: number, readInto: (dst: Buffer) => number): () => Buffer | null {
  let out: Buffer | undefined;
  return () => {
    out ??= Buffer.allocUnsafe(bytes);
    const n = readInto(out);
    return n ? out.subarray(0, n) : null;
  };
}

interface DCtx {
  decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number];
}

const require = createRequire(import.meta.url);

/** zstd-napi's documented low-level binding, used as its own DecompressStream uses it. */
export function zstdDecoder(): SyncDecoder {
  const binding = require('zstd-napi/binding') as { DCtx: new () => DCtx; dStreamOutSize(): number };
  const dctx = new binding.DCtx();
  let src: Buffer = EMPTY;
  let more = false;
  let inFrame = false;
  return {
    write(chunk) {
      src = chunk;
      more = chunk.length > 0;
    },
    end() {
      if (inFrame) throw new Error('Stream ended in middle of compressed data frame');
    },
    readInto,
    read: reusing(binding.dStreamOutSize(), readInto),
  };
  function readInto(dst: Buffer): number {
    while (more) {
      const [ret, produced, consumed] = dctx.decompressStream(dst, src);
      src = src.subarray(consumed);
      // Done with this input once it is used up and the output came back with room to spare.
      if (src.length === 0 && (produced < dst.length || ret === 0)) {
        inFrame = ret !== 0;
        more = false;
      }
      if (produced) return produced;
    }
    return 0;
  }
}
