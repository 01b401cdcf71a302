import { createHash } from 'node:crypto';
import { createXXHash128 } from 'hash-wasm';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StrataError } from './errors.js';
import { decompressor, sniffCompression, type Compression } from './compression.js';
import { TarParser } from './tar-parser.js';
import { LayerRecordsSink } from './layer-records-sink.js';
import type { LayerRecords } from './records.js';

export interface LayerScan {
  records: LayerRecords;
  /** sha256 of the blob as stored. */
  blobDigest: string;
  blobSize: number;
  /** sha256 of the uncompressed stream, to EOF: compare with config.rootfs.diff_ids. */
  diffId: string;
  compression: Compression;
}

/**
 * Read one layer blob: sniff, decompress, hash both streams, parse the tar into records.
 * Streams the blob; holds at most one chunk of content at a time.
 */
export async function scanLayer(blob: AsyncIterable<Buffer>, opts: { hashBlob?: boolean } = {}): Promise<LayerScan> {
  // The worker pool hashes the blob on the main thread, which is otherwise idle while workers scan.
  const blobHash = opts.hashBlob === false ? null : createHash('sha256');
  const diffHash = createHash('sha256');
  let blobSize = 0;
  let tarSize = 0;
  const sink = new LayerRecordsSink(await createXXHash128());
  const parser = new TarParser(sink);

  const it = blob[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  let done = false;
  while (headLen < 4) {
    const n = await it.next();
    if (n.done) {
      done = true;
      break;
    }
    head.push(n.value);
    headLen += n.value.length;
  }
  const compression = sniffCompression(Buffer.concat(head));
  async function* raw(): AsyncGenerator<Buffer> {
    for (const c of head) {
      blobHash?.update(c);
      blobSize += c.length;
      yield c;
    }
    if (done) return;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      blobHash?.update(n.value);
      blobSize += n.value.length;
      yield n.value;
    }
  }
  // A parse error inside the pipeline makes it destroy the file stream, and Node then rejects with
  // that stream's AbortError instead: keep the first error ourselves so the real cause is reported.
  let parseError: unknown;
  const consume = (chunk: Buffer) => {
    diffHash.update(chunk);
    tarSize += chunk.length;
    try {
      parser.push(chunk);
    } catch (e) {
      parseError ??= e;
      throw e;
    }
  };
  if (compression === 'none') {
    for await (const c of raw()) consume(c);
  } else {
    try {
      await pipeline(Readable.from(raw(), { objectMode: false }), decompressor(compression), async (src: AsyncIterable<Buffer>) => {
        for await (const c of src) consume(c);
      });
    } catch (e) {
      if (parseError) throw parseError;
      if (e instanceof StrataError) throw e;
      // Reading the blob failed (a system call's error): not the data's fault, passed on as it is.
      if ((e as NodeJS.ErrnoException).syscall) throw e;
      // Anything else came from the decompressor, whose messages vary ("Stream ended in middle of
      // compressed data frame", "incorrect header check", ...): the data is corrupt or cut short.
      throw new StrataError(`corrupt ${compression} data: ${(e as Error).message}`);
    }
  }
  parser.end();
  return {
    records: sink.finish(tarSize),
    blobDigest: blobHash ? `sha256:${blobHash.digest('hex')}` : '',
    blobSize,
    diffId: `sha256:${diffHash.digest('hex')}`,
    compression,
  };
}
