/**
 * The measurements behind docs/performance.md's library choices, re-runnable:
 * inflate with node:zlib (stream, threadpool), node:zlib's handle driven synchronously (as scans do)
 * and zlib-sync (synchronous),
 * and content hashing with sha256 vs XXH3-128 over the files of one layer.
 */
import { readFileSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { createXXHash128 } from 'hash-wasm';
import { gzipDecoder, outputs } from '../src/scan/sync-decoders.js';

const require = createRequire(import.meta.url);

interface ZlibSync {
  Inflate: new (opts: { chunkSize: number; windowBits: number }) => { push(b: Buffer, flush: number): void; err: number; msg: string; result: Buffer | null };
  Z_SYNC_FLUSH: number;
  Z_STREAM_END: number;
}

/** Both inflaters get the blob from memory in 1 MiB chunks, so only inflating is timed. */
function chunksOf(blob: string): Buffer[] {
  const data = readFileSync(blob);
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += 1 << 20) out.push(data.subarray(i, i + (1 << 20)));
  return out;
}

export async function inflateNodeZlib(blob: string): Promise<number> {
  const chunks = chunksOf(blob);
  const t0 = performance.now();
  await pipeline(Readable.from(chunks, { objectMode: false }), createGunzip({ chunkSize: 256 * 1024 }), new Writable({ write: (_c, _e, cb) => cb() }));
  return performance.now() - t0;
}

/** zlib-sync exposes each push's output only as `result`; gzip needs windowBits 16+15. */
/** node:zlib's own inflater driven synchronously into one reused buffer, as layer scans use it. */
export function inflateNodeSync(blob: string): number {
  const chunks = chunksOf(blob);
  const t0 = performance.now();
  const d = gzipDecoder();
  if (!d) throw new Error('this Node has no synchronous zlib handle');
  // drained, not kept: only inflating is timed
  for (const chunk of chunks) for (const _ of outputs(d, chunk));
  for (const _ of outputs(d, null));
  return performance.now() - t0;
}

export function inflateZlibSync(blob: string): number {
  const z = require('zlib-sync') as ZlibSync;
  const chunks = chunksOf(blob);
  const t0 = performance.now();
  const inf = new z.Inflate({ chunkSize: 256 * 1024, windowBits: 31 });
  for (const chunk of chunks) {
    inf.push(chunk, z.Z_SYNC_FLUSH);
    if (inf.err === z.Z_STREAM_END) break; // one gzip member: zlib-sync stops here (multi-member needs a new Inflate)
    if (inf.err) throw new Error(inf.msg);
  }
  return performance.now() - t0;
}

export async function hashFiles(sizes: number[]): Promise<{ sha256: number; xxh128: number }> {
  const buf = Buffer.alloc(1 << 22, 0x61);
  let t0 = performance.now();
  for (const s of sizes) createHash('sha256').update(buf.subarray(0, s)).digest();
  const sha256 = performance.now() - t0;
  const x = await createXXHash128();
  t0 = performance.now();
  for (const s of sizes) {
    x.init();
    x.update(buf.subarray(0, s));
    x.digest('binary');
  }
  return { sha256, xxh128: performance.now() - t0 };
}
