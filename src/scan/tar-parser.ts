/**
 * A push-mode, synchronous tar parser for layer streams.
 *
 * Why not tar-stream here: it decodes PAX values as UTF-8 (a binary `security.capability`
 * xattr comes back as U+FFFD) and creates a stream per entry, which dominates the time on
 * layers of many tiny files. See docs/tar.md for the measurements. tar-stream is still used
 * for the outer `docker save` archive read from stdin, where both costs are irrelevant.
 */
import { StrataError } from '../util/errors.js';

export type TarType =
  | 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  /** Raw name as stored (PAX/GNU long names applied), not normalised. */
  name: string;
  type: TarType;
  /** Apparent size: for sparse files the real size, not the stored bytes. */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** xattr name -> raw bytes. */
  xattrs: Map<string, Buffer> | null;
  sparse: boolean;
  /** Byte offset of the header in the uncompressed stream (for error messages). */
  offset: number;
}

export interface TarSink {
  entry(header: TarHeader): void;
  data(chunk: Buffer): void;
  end(): void;
}

const BLOCK = 512;
type State = 'header' | 'data' | 'meta' | 'sparse-ext' | 'done';

export class TarParser {
  private state: State = 'header';
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private remaining = 0; // bytes of entry data left
  private padding = 0; // bytes of padding after data
  private metaKind = ''; // 'x' | 'g' | 'L' | 'K' while collecting metadata
  private metaBuf: Buffer[] = [];
  private pax: Map<string, Buffer> | null = null;
  private longName: string | null = null;
  private longLink: string | null = null;
  private pos = 0; // offset in the stream of the next byte to consume
  private sawEnd = false;
  private sparseAfterExt: TarHeader | null = null;

  constructor(private readonly sink: TarSink) {}

  /** What the parser needs next: lets a seeking reader skip entry data instead of reading it. */
  get phase(): 'header' | 'data' | 'meta' | 'done' {
    if (this.state === 'sparse-ext') return 'header';
    return this.state;
  }

  /** Bytes of the current entry's data plus padding still to come (for meta: to be pushed). */
  get pendingBytes(): number {
    return this.remaining + ((BLOCK - ((this.pos + this.remaining) % BLOCK)) % BLOCK);
  }

  /** Skip the current entry's data without reading it; returns how many bytes to seek past. */
  skipData(): number {
    if (this.state !== 'data') return 0;
    const n = this.pendingBytes;
    this.pos += n;
    this.remaining = 0;
    this.padding = 0;
    this.state = 'header';
    return n;
  }

  /** Keeps no reference to `chunk` once it returns (callers may reuse the buffer). */
  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.state === 'done') {
        // Anything after the end-of-archive marker is padding; ignore it.
        return;
      }
      if (this.padding > 0 && this.remaining === 0) {
        const n = Math.min(this.padding, chunk.length - off);
        this.padding -= n;
        off += n;
        this.pos += n;
        continue;
      }
      if (this.state === 'data' || this.state === 'meta') {
        const n = Math.min(this.remaining, chunk.length - off);
        const part = chunk.subarray(off, off + n);
        if (this.state === 'data') this.sink.data(part);
        else this.metaBuf.push(Buffer.from(part));
        this.remaining -= n;
        off += n;
        this.pos += n;
        if (this.remaining === 0) this.finishEntryData();
        continue;
      }
      // header or sparse extension block: need a whole 512-byte block
      let block: Buffer;
      if (this.pendingLen === 0 && chunk.length - off >= BLOCK) {
        block = chunk.subarray(off, off + BLOCK);
        off += BLOCK;
      } else {
        const n = Math.min(BLOCK - this.pendingLen, chunk.length - off);
        this.pending.push(Buffer.from(chunk.subarray(off, off + n)));
        this.pendingLen += n;
        off += n;
        if (this.pendingLen < BLOCK) return;
        block = Buffer.concat(this.pending, BLOCK);
        this.pending = [];
        this.pendingLen = 0;
      }
      const at = this.pos;
      this.pos += BLOCK;
      if (this.state === 'sparse-ext') this.onSparseExt(block);
      else this.onHeader(block, at);
    }
  }

  /** Call at end of stream: throws if the archive stopped mid-entry. */
  end(): void {
    if (this.state === 'done' || (this.state === 'header' && this.pendingLen === 0 && this.remaining === 0 && this.padding === 0)) {
      if (!this.sawEnd && this.pos === 0) throw new StrataError('empty stream, expected a tar archive');
      this.sink.end();
      return;
    }
    throw new StrataError(`truncated tar: stream ended at byte ${this.pos + this.pendingLen} inside an entry`);
  }

  private finishEntryData(): void {
    this.padding = (BLOCK - (this.pos % BLOCK)) % BLOCK;
    if (this.state === 'meta') {
      const data = Buffer.concat(this.metaBuf);
      this.metaBuf = [];
      this.applyMeta(data);
    }
    this.state = 'header';
  }

  private applyMeta(data: Buffer): void {
    switch (this.metaKind) {
      case 'x':
        this.pax = parsePax(data, this.pax ?? new Map());
        break;
      case 'L':
        this.longName = cstring(data);
        break;
      case 'K':
        this.longLink = cstring(data);
        break;
      default:
        break; // 'g' global headers are ignored on purpose
    }
  }

  private onHeader(block: Buffer, at: number): void {
    if (isZero(block)) {
      this.sawEnd = true;
      // Two zero blocks end the archive; some writers emit one. Either way an entry may not follow
      // with non-zero bytes, so we stop at the first and tolerate padding afterwards.
      this.state = 'done';
      return;
    }
    if (!checksumOk(block)) {
      throw new StrataError(`invalid tar header at byte ${at} (checksum mismatch): not a tar stream or corrupt`);
    }
    const flag = String.fromCharCode(block[156]);
    const size = num(block, 124, 12, at);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      this.metaKind = flag;
      this.startData(size, 'meta');
      return;
    }
    // magic "ustar\0" (POSIX) as opposed to GNU's "ustar  \0": only POSIX has the name prefix field
    const posix = block[257] === 0x75 && block[258] === 0x73 && block[259] === 0x74 && block[260] === 0x61 && block[261] === 0x72 && block[262] === 0;
    let name = this.longName ?? (posix && block[345] !== 0 ? `${str(block, 345, 155)}/${str(block, 0, 100)}` : str(block, 0, 100));
    let linkname = this.longLink ?? str(block, 157, 100);
    const pax = this.pax;
    let apparent = size;
    let stored = size;
    let sparse = flag === 'S';
    let mtime = num(block, 136, 12, at);
    let uid = num(block, 108, 8, at);
    let gid = num(block, 116, 8, at);
    let xattrs: Map<string, Buffer> | null = null;
    if (pax) {
      const p = (k: string) => pax.get(k)?.toString('utf8');
      if (pax.has('path')) name = p('path')!;
      if (pax.has('linkpath')) linkname = p('linkpath')!;
      if (pax.has('size')) apparent = stored = paxNumber(p('size')!, 'size', at);
      if (pax.has('mtime')) mtime = paxNumber(p('mtime')!, 'mtime', at);
      if (pax.has('uid')) uid = paxNumber(p('uid')!, 'uid', at);
      if (pax.has('gid')) gid = paxNumber(p('gid')!, 'gid', at);
      for (const [k, v] of pax) {
        if (k.startsWith('SCHILY.xattr.')) (xattrs ??= new Map()).set(k.slice(13), v);
        else if (k.startsWith('LIBARCHIVE.xattr.')) {
          (xattrs ??= new Map()).set(decodeURIComponent(k.slice(17)), Buffer.from(v.toString('latin1'), 'base64'));
        }
      }
      // GNU sparse formats 0.x / 1.0 carried in PAX records
      if (pax.has('GNU.sparse.name')) name = p('GNU.sparse.name')!;
      const real = p('GNU.sparse.realsize') ?? p('GNU.sparse.size');
      if (real !== undefined) {
        sparse = true;
        apparent = paxNumber(real, 'GNU.sparse.realsize', at);
      }
    }
    if (flag === 'S') apparent = num(block, 483, 12, at);
    this.pax = null;
    this.longName = null;
    this.longLink = null;

    let type: TarType;
    switch (flag) {
      case '0': case '\0': case '7': case 'S':
        type = name.endsWith('/') && flag === '\0' ? 'dir' : 'file';
        break;
      case '1': type = 'hardlink'; stored = 0; break;
      case '2': type = 'symlink'; stored = 0; break;
      case '3': type = 'char'; stored = 0; break;
      case '4': type = 'block'; stored = 0; break;
      case '5': case 'D': type = 'dir'; stored = flag === 'D' ? stored : 0; break;
      case '6': type = 'fifo'; stored = 0; break;
      default:
        // POSIX: unknown typeflags are read as regular files.
        type = 'file';
    }
    if (type !== 'file') apparent = 0;
    const header: TarHeader = {
      name,
      type,
      size: apparent,
      mode: num(block, 100, 8, at) & 0o7777,
      uid,
      gid,
      mtime,
      linkname,
      devmajor: type === 'char' || type === 'block' ? num(block, 329, 8, at) : 0,
      devminor: type === 'char' || type === 'block' ? num(block, 337, 8, at) : 0,
      xattrs,
      sparse,
      offset: at,
    };
    if (flag === 'S' && block[482] !== 0) {
      // old GNU sparse: extension blocks of sparse maps precede the data
      this.sparseAfterExt = header;
      this.remaining = stored;
      this.state = 'sparse-ext';
      return;
    }
    this.sink.entry(header);
    this.startData(stored, 'data');
  }

  private onSparseExt(block: Buffer): void {
    if (block[504] !== 0) return; // another extension block follows
    const header = this.sparseAfterExt!;
    this.sparseAfterExt = null;
    this.sink.entry(header);
    this.startData(this.remaining, 'data');
  }

  private startData(size: number, state: 'data' | 'meta'): void {
    this.remaining = size;
    if (size === 0) {
      this.state = state;
      this.finishEntryData();
      return;
    }
    this.state = state;
  }
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false; // a header's name makes this stop at once
  return true;
}

function checksumOk(b: Buffer): boolean {
  const stored = parseOctal(b, 148, 8);
  const unsigned = byteSum(b) - fieldSum(b) + 8 * 32;
  if (stored === unsigned) return true;
  // Some old writers summed signed chars.
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) signed += i >= 148 && i < 156 ? 32 : b[i] > 127 ? b[i] - 256 : b[i];
  return stored === signed;
}

function fieldSum(b: Buffer): number {
  let s = 0;
  for (let i = 148; i < 156; i++) s += b[i];
  return s;
}

/**
 * Sum of the 512 bytes of a header. Every entry's header is summed, so on layers of many small
 * files this is hot: when the block is 4-byte aligned, add two 16-bit lanes per 32-bit word
 * (128 words x 255 x 2 fits a lane) instead of 512 byte loads.
 */
let words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

function byteSum(b: Buffer): number {
  if ((b.byteOffset & 3) !== 0) {
    let s = 0;
    for (let i = 0; i < BLOCK; i++) s += b[i];
    return s;
  }
  // one word view per buffer: headers mostly come from the decoder's one reused buffer
  if (words.buffer !== b.buffer) words = new Uint32Array(b.buffer, 0, b.buffer.byteLength >>> 2);
  const w = words;
  let even = 0;
  let odd = 0;
  for (let i = b.byteOffset >>> 2, end = i + BLOCK / 4; i < end; i++) {
    const x = w[i];
    even += x & 0x00ff00ff;
    odd += (x >>> 8) & 0x00ff00ff;
  }
  return (even & 0xffff) + (even >>> 16) + (odd & 0xffff) + (odd >>> 16);
}

function str(b: Buffer, off: number, len: number): string {
  let end = off;
  const max = off + len;
  while (end < max && b[end] !== 0) end++;
  return b.toString('utf8', off, end);
}

function cstring(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
}

function parseOctal(b: Buffer, off: number, len: number): number {
  let i = off;
  const max = off + len;
  while (i < max && (b[i] === 32 || b[i] === 0)) i++;
  let v = 0;
  for (; i < max; i++) {
    const c = b[i];
    if (c < 48 || c > 55) break;
    v = v * 8 + (c - 48);
  }
  return v;
}

/** Octal, or GNU base-256 (two's complement, big-endian) when the first byte has its high bit set. */
function num(b: Buffer, off: number, len: number, at: number): number {
  const first = b[off];
  if (!(first & 0x80)) return parseOctal(b, off, len);
  let v = BigInt(first & 0x7f);
  for (let i = off + 1; i < off + len; i++) v = (v << 8n) | BigInt(b[i]);
  if (first & 0x40) v -= 1n << BigInt(len * 8 - 1); // sign bit of the 7-bit-masked field
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new StrataError(`tar header at byte ${at}: numeric field out of range`);
  return n;
}

function paxNumber(s: string, key: string, at: number): number {
  const v = Number(s);
  if (!Number.isFinite(v) || (v < 0 && key === 'size')) throw new StrataError(`tar header at byte ${at}: bad PAX ${key} "${s}"`);
  return v;
}

/** PAX records: "LEN key=value\n", values kept as raw bytes (xattrs may be binary). */
function parsePax(data: Buffer, into: Map<string, Buffer>): Map<string, Buffer> {
  let off = 0;
  while (off < data.length) {
    const space = data.indexOf(0x20, off);
    if (space < 0) break;
    const len = Number(data.toString('latin1', off, space));
    if (!Number.isInteger(len) || len <= 0 || off + len > data.length) {
      throw new StrataError('malformed PAX extended header');
    }
    const rec = data.subarray(space + 1, off + len - 1); // drop trailing \n
    const eq = rec.indexOf(0x3d);
    if (eq > 0) {
      const key = rec.toString('utf8', 0, eq);
      const value = Buffer.from(rec.subarray(eq + 1));
      if (value.length === 0) into.delete(key);
      else into.set(key, value);
    }
    off += len;
  }
  return into;
}
