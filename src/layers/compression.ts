import { createGunzip } from 'node:zlib';
import { Transform } from 'node:stream';
import { createRequire } from 'node:module';

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
  if (kind === 'gzip') return createGunzip({ chunkSize: 256 * 1024 });
  const { DecompressStream } = require('zstd-napi') as { DecompressStream: new () => Transform };
  return new DecompressStream();
}
