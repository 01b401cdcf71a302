import { createGunzip } from 'node:zlib';
import { Readable, Transform } from 'node:stream';
import { StrataError } from '../util/errors.js';
import { createRequire } from 'node:module';
import { gzipDecoder, outputs, zstdDecoder } from './sync-decoders.js';

export type Compression = 'gzip' | 'zstd' | 'none';

/** Compression is decided by the first bytes, never by names or media types. */
export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd && head[0] === 0x28) return 'zstd';
  // zstd skippable frame: 0x184D2A5? little-endian
  if (head.length >= 4 && (head[0] & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18) return 'zstd';
  return 'none';
}

const require = createRequire(import.meta.url);

/**
 * A decompressing Transform for the sniffed kind. gzip: node:zlib (handles multi-member streams;
 * docs/performance.md has the comparison with zlib-sync). zstd: zstd-napi, because Node 20's zlib has
 * no zstd and the pure-JS fzstd rejects real skopeo-written layers.
 */
export function decompressor(kind: Exclude<Compression, 'none'>): Transform {
  // 1 MiB output chunks: fewer hops between the zlib thread pool and the parser (256 KiB: 17% slower)
  if (kind === 'gzip') return createGunzip({ chunkSize: 1024 * 1024 });
  const { DecompressStream } = require('zstd-napi') as { DecompressStream: new () => Transform };
  return new DecompressStream();
}

/**
 * A blob's uncompressed bytes (a layer opened as a tar stream): the compression is sniffed from the
 * first bytes, then the matching decompressor runs. `onBlob` sees every blob chunk as it passes (to
 * hash or count it). Corrupt compressed data ends the stream with a StrataError. Decompressed chunks
 * may view a reused buffer: each is valid until the next one is read, so a consumer that keeps bytes
 * copies them. `tar`: the bytes are a layer's tar already (a split scan's parser reads what another
 * worker inflated): not sniffed, so a tar that starts like gzip is not inflated a second time.
 */
export async function uncompressed(blob: AsyncIterable<Buffer>, onBlob?: (chunk: Buffer) => void, opts: { tar?: boolean } = {}): Promise<{ compression: Compression; chunks: AsyncGenerator<Buffer> }> {
  const it = blob[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let len = 0;
  let done = false;
  while (len < 4 && !opts.tar) {
    const n = await it.next();
    if (n.done) {
      done = true;
      break;
    }
    // kept while more is read: a chunk too short to sniff is copied, as its source may reuse it
    head.push(n.value.length < 4 ? Buffer.from(n.value) : n.value);
    len += n.value.length;
  }
  const compression = opts.tar ? 'none' : sniffCompression(Buffer.concat(head));
  async function* raw(): AsyncGenerator<Buffer> {
    try {
      for (const c of head) {
        onBlob?.(c);
        yield c;
      }
      while (!done) {
        const n = await it.next();
        if (n.done) {
          done = true;
          return;
        }
        onBlob?.(n.value);
        yield n.value;
      }
    } finally {
      // Left early (corrupt data found mid-blob): close the source, e.g. a download being cached.
      if (!done) await it.return?.();
    }
  }
  if (compression === 'none') return { compression, chunks: raw() };
  async function* inflated(kind: Exclude<Compression, 'none'>): AsyncGenerator<Buffer> {
    const d = kind === 'gzip' ? gzipDecoder() : zstdDecoder();
    if (!d) return yield* streamed(raw(), kind);
    try {
      for await (const c of raw()) yield* outputs(d, c);
      yield* outputs(d, null);
    } catch (e) {
      throw corrupt(e, kind);
    }
  }
  return { compression, chunks: inflated(compression) };
}

let hasSyncGzip: boolean | undefined;
/** Whether this Node's zlib handle can be driven synchronously (gzipDecoder), asked once. */
export function syncGzip(): boolean {
  return (hasSyncGzip ??= gzipDecoder() !== null);
}

/** The stream fallback for a Node whose zlib handle cannot be driven synchronously. */
async function* streamed(raw: AsyncGenerator<Buffer>, kind: Exclude<Compression, 'none'>): AsyncGenerator<Buffer> {
  // the stream holds chunks after asking for more, and a source may reuse its buffer: copy them
  const src = Readable.from((async function* () {
    for await (const c of raw) yield Buffer.from(c);
  })(), { objectMode: false });
  const d = decompressor(kind);
  src.on('error', (e) => d.destroy(e));
  src.pipe(d);
  try {
    for await (const c of d) yield c as Buffer;
  } catch (e) {
    throw corrupt(e, kind);
  } finally {
    src.destroy();
  }
}

export function corrupt(e: unknown, kind: Compression): unknown {
  if (e instanceof StrataError) return e;
  // Reading the blob failed (a system call's error): not the data's fault, passed on as it is.
  if ((e as NodeJS.ErrnoException).syscall) return e;
  // Anything else came from the decompressor, whose messages vary ("Stream ended in middle of
  // compressed data frame", "incorrect header check", ...): the data is corrupt or cut short.
  return new StrataError(`corrupt ${kind} data: ${(e as Error).message}`);
}
