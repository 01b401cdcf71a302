/**
 * Write one planned layer as a blob file: the tar is made as it streams (headers from the plan,
 * file content read out of the original layers' blobs, one pass each, in row order), compressed,
 * and hashed twice on the way (diffID of the tar, digest of the blob). Memory stays at a few chunks
 * whatever the layer's size: every write waits for the compressor to drain.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { createRequire } from 'node:module';
import { StrataError, within } from '../util/errors.js';
import { cannotWrite } from '../util/safe-write.js';
import { normalizeEntryPath } from '../util/paths.js';
import { uncompressed } from '../scan/compression.js';
import { TarParser, type TarHeader } from '../scan/tar-parser.js';
import type { Image } from '../image/image.js';
import type { PlannedEntry, PlannedLayer } from '../analyze/optimize/plan.js';
import { encodeHeader, END_OF_ARCHIVE, padding } from './tar-header.js';

export type OutputCompression = 'gzip' | 'zstd' | 'none';

/** gzip level 6 and zstd level 3: the knees of the size/time curves measured in docs/optimize.md. */
export const GZIP_LEVEL = 6;
export const ZSTD_LEVEL = 3;

export interface WrittenBlob {
  digest: string;
  size: number;
}

export interface WrittenLayer extends WrittenBlob {
  diffId: string;
  tarSize: number;
  compression: OutputCompression;
}

const require = createRequire(import.meta.url);
const BATCH_BYTES = 1 << 20;

function compressor(kind: OutputCompression): Transform {
  if (kind === 'gzip') return createGzip({ level: GZIP_LEVEL, chunkSize: 256 * 1024 });
  if (kind === 'zstd') {
    const { CompressStream } = require('zstd-napi') as { CompressStream: new (p: { compressionLevel: number }) => Transform };
    return new CompressStream({ compressionLevel: ZSTD_LEVEL });
  }
  return new PassThrough();
}

/** A pass-through that hashes and counts what goes by. */
function hashing(): { stream: Transform; digest: () => WrittenBlob } {
  const h = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(c: Buffer, _e, cb) {
      h.update(c);
      size += c.length;
      cb(null, c);
    },
  });
  return { stream, digest: () => ({ digest: `sha256:${h.digest('hex')}`, size }) };
}

/** A file of the scratch directory, and the output it is made for: a failure to write it (a full disk) is that output's. */
export interface ScratchFile {
  path: string;
  output: string;
}

/** Whether `e` is a failure of writing `file` (its open, a write), not of reading the input. */
function writingFailed(e: unknown, file: string): boolean {
  const err = e as NodeJS.ErrnoException;
  return err?.syscall === 'write' || err?.path === file;
}

/** Copy a blob to `to` as it is, checking its digest on the way. */
export async function copyBlob(blob: AsyncIterable<Buffer>, to: ScratchFile, where: string, digest?: string): Promise<WrittenBlob> {
  const h = hashing();
  try {
    await pipeline(blob, h.stream, createWriteStream(to.path));
  } catch (e) {
    if (writingFailed(e, to.path)) throw cannotWrite(to.output, e);
    throw e instanceof StrataError ? e : within(where, e);
  }
  const got = h.digest();
  if (digest && got.digest !== digest) throw new StrataError(`${where}: blob digest is ${got.digest}, expected ${digest}`);
  return got;
}

export async function writeLayer(image: Image, plan: PlannedLayer, to: ScratchFile, compression: OutputCompression): Promise<WrittenLayer> {
  try {
    return await writeLayerFile(image, plan, to.path, compression);
  } catch (e) {
    throw writingFailed(e, to.path) ? cannotWrite(to.output, e) : e;
  }
}

async function writeLayerFile(image: Image, plan: PlannedLayer, file: string, compression: OutputCompression): Promise<WrittenLayer> {
  const tar = createHash('sha256');
  let tarSize = 0;
  const zip = compressor(compression);
  // a plain tar is its own blob: hashed once
  const blob = compression === 'none' ? undefined : hashing();
  const done = blob ? pipeline(zip, blob.stream, createWriteStream(file)) : pipeline(zip, createWriteStream(file));
  done.catch(() => {}); // awaited below; a failure also surfaces as a failed write
  // headers are 512 bytes and most files small: gathered into 1 MiB writes, not one stream hop each
  let batch: Buffer[] = [];
  let batched = 0;
  const flush = async () => {
    if (batched === 0) return;
    const b = Buffer.concat(batch, batched); // a copy: the compressor keeps it past the chunk it came from
    batch = [];
    batched = 0;
    tar.update(b);
    tarSize += b.length;
    if (!zip.write(b)) await once(zip, 'drain');
  };
  const write = async (b: Buffer) => {
    batch.push(b);
    batched += b.length;
    if (batched >= BATCH_BYTES) await flush();
  };
  for (const e of plan.markers) await write(encodeHeader(e));
  for (const e of plan.entries) await write(encodeHeader(e));
  await copyFiles(image, plan.files, { write, flush });
  for (const e of plan.links) await write(encodeHeader(e));
  await write(END_OF_ARCHIVE);
  await flush();
  zip.end();
  await done;
  const diffId = `sha256:${tar.digest('hex')}`;
  return { ...(blob ? blob.digest() : { digest: diffId, size: tarSize }), diffId, tarSize, compression };
}

/** The planned files, their content streamed out of the original layers that hold it. */
interface Out {
  write(b: Buffer): Promise<void>;
  /** Hand what is gathered to the compressor now (after which the caller may reuse its buffers). */
  flush(): Promise<void>;
}

async function copyFiles(image: Image, files: PlannedEntry[], out: Out): Promise<void> {
  let i = 0;
  while (i < files.length) {
    const layerIndex = files[i].source!.layer;
    let j = i;
    while (j < files.length && files[j].source!.layer === layerIndex) j++;
    await copyFromLayer(image, layerIndex, files.slice(i, j), out);
    i = j;
  }
}

/**
 * One pass over an original layer: the parser pushes entries and content slices synchronously, so
 * what they produce is queued and written (with back-pressure) after each pushed chunk. Rows are
 * counted as LayerRecordsSink counts them (every entry but the root). The pass stops after the last
 * wanted row.
 */
async function copyFromLayer(image: Image, layerIndex: number, wanted: PlannedEntry[], out: Out): Promise<void> {
  const layer = image.layers[layerIndex];
  const queue: Buffer[] = [];
  let row = -1;
  let next = 0; // index in wanted of the next file to copy
  let current: PlannedEntry | undefined;
  let copied = 0;
  const finishCurrent = () => {
    if (!current) return;
    if (copied !== current.size) throw new StrataError(`${layer.where}: /${current.path} holds ${copied} bytes, the layer's records say ${current.size}`);
    queue.push(padding(copied));
    current = undefined;
  };
  const parser = new TarParser({
    entry(h: TarHeader) {
      finishCurrent();
      if (normalizeEntryPath(h.name) === '') return;
      row++;
      if (next < wanted.length && wanted[next].source!.row === row) {
        current = wanted[next++];
        copied = 0;
        queue.push(encodeHeader(current));
      }
    },
    data(chunk: Buffer) {
      if (!current) return;
      copied += chunk.length;
      queue.push(chunk);
      viewed = true;
    },
    end: finishCurrent,
  });
  let viewed = false; // the queue holds slices of the pushed chunk, which its decoder may reuse after it
  const flush = async () => {
    for (const b of queue.splice(0)) await out.write(b);
    if (viewed) await out.flush(); // copied (concatenated or handed on) before the next chunk is read
    viewed = false;
  };
  try {
    const { chunks } = await uncompressed(layer.open());
    for await (const c of chunks) {
      parser.push(c);
      await flush();
      if (next === wanted.length && !current) break;
    }
    if (next < wanted.length || current) parser.end();
    await flush();
  } catch (e) {
    throw e instanceof StrataError || (e as NodeJS.ErrnoException).code ? within(layer.where, e) : e;
  }
  if (next < wanted.length) throw new StrataError(`${layer.where}: ended before record row ${wanted[next].source!.row} (/${wanted[next].path})`);
}
