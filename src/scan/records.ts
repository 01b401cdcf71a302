/**
 * LayerRecords: everything strata keeps of one layer, as columns (one row per tar entry that
 * survives normalisation). Columnar typed arrays keep memory near 60 bytes per entry plus the path
 * string, transfer between threads without copying, and serialise to the layer cache as-is.
 * Records are a pure function of the layer's uncompressed bytes.
 */
import { grown } from '../util/typed-arrays.js';
import type { SecretHit } from './secret-scan.js';

export const Kind = {
  file: 1,
  dir: 2,
  symlink: 3,
  hardlink: 4,
  char: 5,
  block: 6,
  fifo: 7,
  whiteout: 8, // `.wh.NAME`: path is NAME
  opaque: 9, // `.wh..wh..opq`: path is the directory
} as const;
export type KindCode = (typeof Kind)[keyof typeof Kind];
export const kindName = ['', 'file', 'dir', 'symlink', 'hardlink', 'char', 'block', 'fifo', 'whiteout', 'opaque'] as const;

export const Flag = {
  sparse: 1,
  /** AUFS bookkeeping at the layer root (`.wh..wh.plnk`, `.wh..wh.aufs`, `.wh..wh.orph`): kept for hardlinks, never shown. */
  aufs: 2,
  /** A char device 0:0: overlayfs' native whiteout leaked into a layer (not an OCI whiteout). */
  overlayWhiteout: 4,
  /** A package database file over its cap (package-files.ts): not kept, and the report warns. */
  packageFileOversized: 8,
} as const;

export const HASH_BYTES = 16;

export interface LayerRecords {
  count: number;
  path: string[];
  kind: Uint8Array;
  flags: Uint8Array;
  size: Float64Array;
  mode: Uint32Array;
  uid: Uint32Array;
  gid: Uint32Array;
  mtime: Float64Array;
  /** HASH_BYTES per row: XXH3-128 of the content (regular files). */
  hash: Uint8Array;
  /** Link target (symlink, hardlink, normalised for hardlinks) or undefined. */
  link: (string | undefined)[];
  /** row -> xattr name -> base64 value; rows without xattrs are absent. */
  xattrs: Record<number, Record<string, string>>;
  /** row -> [major, minor] for char/block devices. */
  dev: Record<number, [number, number]>;
  /** row -> secrets found in the file's content (secret-scan.ts); rows without any are absent. */
  secrets: Record<number, SecretHit[]>;
  /** row -> bytes of a package database file (package-files.ts); other rows are absent. */
  packageFiles: Record<number, Uint8Array>;
  /** Bytes of regular-file content in the layer: the sum of their sizes (sparse files: apparent size, as the union counts them). */
  fileBytes: number;
  /** Length of the uncompressed tar stream. */
  tarSize: number;
}

export class RecordsBuilder {
  private cap = 1024;
  private n = 0;
  private r: LayerRecords;

  constructor() {
    this.r = {
      count: 0,
      path: [],
      kind: new Uint8Array(this.cap),
      flags: new Uint8Array(this.cap),
      size: new Float64Array(this.cap),
      mode: new Uint32Array(this.cap),
      uid: new Uint32Array(this.cap),
      gid: new Uint32Array(this.cap),
      mtime: new Float64Array(this.cap),
      hash: new Uint8Array(this.cap * HASH_BYTES),
      link: [],
      xattrs: {},
      dev: {},
      secrets: {},
      packageFiles: {},
      fileBytes: 0,
      tarSize: 0,
    };
  }

  /** Append a row and return its index; columns not given stay zero. */
  add(path: string, kind: KindCode, size: number, mode: number, uid: number, gid: number, mtime: number): number {
    if (this.n === this.cap) this.grow();
    const i = this.n++;
    const r = this.r;
    r.path.push(path);
    r.kind[i] = kind;
    r.size[i] = size;
    r.mode[i] = mode;
    r.uid[i] = uid;
    r.gid[i] = gid;
    r.mtime[i] = mtime;
    r.link.push(undefined);
    return i;
  }

  get records(): LayerRecords {
    return this.r;
  }

  finish(fileBytes: number, tarSize: number): LayerRecords {
    const r = this.r;
    const n = this.n;
    return {
      ...r,
      count: n,
      kind: r.kind.slice(0, n),
      flags: r.flags.slice(0, n),
      size: r.size.slice(0, n),
      mode: r.mode.slice(0, n),
      uid: r.uid.slice(0, n),
      gid: r.gid.slice(0, n),
      mtime: r.mtime.slice(0, n),
      hash: r.hash.slice(0, n * HASH_BYTES),
      fileBytes,
      tarSize,
    };
  }

  private grow(): void {
    const cap = this.cap * 2;
    const r = this.r;
    r.kind = grown(r.kind, cap);
    r.flags = grown(r.flags, cap);
    r.size = grown(r.size, cap);
    r.mode = grown(r.mode, cap);
    r.uid = grown(r.uid, cap);
    r.gid = grown(r.gid, cap);
    r.mtime = grown(r.mtime, cap);
    r.hash = grown(r.hash, cap * HASH_BYTES);
    this.cap = cap;
  }
}

export function hashHex(r: LayerRecords, i: number): string {
  return Buffer.from(r.hash.buffer, r.hash.byteOffset + i * HASH_BYTES, HASH_BYTES).toString('hex');
}

export function sameHash(a: LayerRecords, i: number, b: LayerRecords, j: number): boolean {
  const x = a.hash, y = b.hash;
  const p = i * HASH_BYTES, q = j * HASH_BYTES;
  for (let k = 0; k < HASH_BYTES; k++) if (x[p + k] !== y[q + k]) return false;
  return true;
}

export function sameXattrs(a: LayerRecords, i: number, b: LayerRecords, j: number): boolean {
  const x = a.xattrs[i], y = b.xattrs[j];
  if (!x || !y) return !x && !y;
  const kx = Object.keys(x);
  if (kx.length !== Object.keys(y).length) return false;
  return kx.every((k) => x[k] === y[k]);
}
