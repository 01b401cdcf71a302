/**
 * The synchronous decoders that layer scans use (src/scan/sync-decoders.ts) against node:zlib's
 * and zstd-napi's own stream decoders: the same bytes for any chunking, the same errors.
 */
import test from 'ava';
import { createRequire } from 'node:module';
import { gzipSync, createGunzip } from 'node:zlib';
import { Readable, type Transform } from 'node:stream';
import { gzipDecoder, outputs, zstdDecoder, type SyncDecoder } from '../src/scan/sync-decoders.js';

const require = createRequire(import.meta.url);
const zstd = require('zstd-napi') as { compress(b: Buffer): Buffer; DecompressStream: new () => Transform };

/** Deterministic data that compresses somewhat (repeats) and needs several output buffers. */
function sample(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = (x >>> 24) % 7 === 0 ? x & 0xff : 0x61 + ((i >> 6) % 26);
  }
  return b;
}

function splitAt(b: Buffer, seed: number): Buffer[] {
  const parts: Buffer[] = [];
  let x = seed;
  for (let off = 0; off < b.length; ) {
    x = (x * 69069 + 1) >>> 0;
    const n = 1 + (x % 70000);
    parts.push(b.subarray(off, off + n));
    off += n;
  }
  return parts;
}

function viaSync(d: SyncDecoder, parts: Buffer[]): Buffer {
  const out: Buffer[] = [];
  for (const p of [...parts, null]) {
    for (const o of outputs(d, p)) out.push(Buffer.from(o)); // copied: the buffer is reused
  }
  return Buffer.concat(out);
}

async function viaStream(d: Transform, parts: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  Readable.from(parts, { objectMode: false }).pipe(d);
  for await (const c of d) out.push(c as Buffer);
  return Buffer.concat(out);
}

function syncError(make: () => SyncDecoder, parts: Buffer[]): string {
  try {
    viaSync(make(), parts);
    return 'no error';
  } catch (e) {
    return (e as Error).message;
  }
}

async function streamError(d: Transform, parts: Buffer[]): Promise<string> {
  try {
    await viaStream(d, parts);
    return 'no error';
  } catch (e) {
    return (e as Error).message;
  }
}

const data = sample(5_000_000, 1);
const gz = gzipSync(data);
const zs = zstd.compress(data);

test('gzip: the same bytes as createGunzip for any chunking, multi-member and zero padding included', async (t) => {
  const twoMembers = Buffer.concat([gzipSync(data.subarray(0, 1_234_567)), gzipSync(data.subarray(1_234_567))]);
  const padded = Buffer.concat([gz, Buffer.alloc(4096)]);
  for (const [input, seed] of [[gz, 1], [gz, 2], [twoMembers, 3], [padded, 4]] as const) {
    const parts = splitAt(input, seed);
    const got = viaSync(gzipDecoder()!, parts);
    t.true(got.equals(data));
    t.true(got.equals(await viaStream(createGunzip(), parts)));
  }
  t.true(viaSync(gzipDecoder()!, [gz]).equals(data), 'one chunk, many output buffers');
});

test('gzip: truncated, corrupt and trailing garbage fail as createGunzip fails', async (t) => {
  const flipped = Buffer.from(gz);
  flipped[gz.length >> 1] ^= 0xff;
  const cases: [string, Buffer][] = [
    ['truncated', gz.subarray(0, gz.length - 100)],
    ['cut in the header', gz.subarray(0, 5)],
    ['flipped byte', flipped],
    ['trailing garbage', Buffer.concat([gz, Buffer.from('garbage!')])],
  ];
  for (const [what, input] of cases) {
    const parts = splitAt(input, 9);
    const expected = await streamError(createGunzip(), parts);
    t.not(expected, 'no error', what);
    t.is(syncError(gzipDecoder as () => SyncDecoder, parts), expected, what);
  }
});

test('zstd: the same bytes as DecompressStream for any chunking, several frames included', async (t) => {
  const frames = Buffer.concat([zstd.compress(data.subarray(0, 777_777)), zstd.compress(data.subarray(777_777))]);
  for (const [input, seed] of [[zs, 1], [zs, 2], [frames, 3]] as const) {
    const parts = splitAt(input, seed);
    const got = viaSync(zstdDecoder(), parts);
    t.true(got.equals(data));
    t.true(got.equals(await viaStream(new zstd.DecompressStream(), parts)));
  }
  t.true(viaSync(zstdDecoder(), [zs]).equals(data), 'one chunk, many output buffers');
});

test('zstd: truncated and corrupt fail as DecompressStream fails', async (t) => {
  const flipped = Buffer.from(zs);
  flipped[8] ^= 0xff;
  for (const [what, input] of [['truncated', zs.subarray(0, zs.length - 100)], ['flipped byte', flipped]] as const) {
    const parts = splitAt(input, 5);
    const expected = await streamError(new zstd.DecompressStream(), parts);
    t.not(expected, 'no error', what);
    t.is(syncError(zstdDecoder, parts), expected, what);
  }
});
