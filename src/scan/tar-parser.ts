/**
 * A push-mode, synchronous tar parser for layer streams.
 *
 * Why not tar-stream here: it decodes PAX values as UTF-8 (a binary `security.capability`
 * xattr comes back as U+FFFD) and creates a stream per entry, which dominates the time on
 * layers of many tiny files. See docs/tar.md for the measurements. tar-stream is still used
 * for the outer `docker save` archive read from stdin, where both costs are irrelevant.
 */
import { StrataError } from '../util/errors.js';
import { excerpt } from '../util/json-doc.js';
import { MAX_PATH_LENGTH } from '../util/paths.js';

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

/**
 * Limits on what a header may declare (issue 29): the parser buffers metadata bodies whole, so
 * without them a 2 MB archive declaring a 2 GiB PAX header would take gigabytes. Honest archives
 * stay far below: a PAX header holds a path, a link target and xattrs (Linux caps one xattr value at
 * 64 KiB); consecutive PAX headers before one entry count together.
 */
export const MAX_PAX_BYTES = 1024 * 1024;
/** A GNU long name or link target: the longest path strata accepts, in UTF-8 with its NUL, fits. */
export const MAX_LONG_NAME_BYTES = 4 * MAX_PATH_LENGTH;
/**
 * Bytes allowed after the end-of-archive marker. Writers pad the archive to a whole record (GNU
 * tar: 10 KiB; `tar -b 2048`: 1 MiB); more is not padding, and an endless input (/dev/zero, a pipe)
 * would otherwise be read for ever.
 */
export const MAX_TRAILING_BYTES = 1024 * 1024;
/** uid and gid are 32-bit on Linux (and in LayerRecords). */
const MAX_ID = 0xffffffff;

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
  private paxBytes = 0; // PAX bytes declared since the last entry
  private trailing = 0; // bytes seen after the end-of-archive marker
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
        // Padding after the end-of-archive marker is ignored, up to a bound (an endless input ends there).
        this.trailing += chunk.length - off;
        if (this.trailing > MAX_TRAILING_BYTES) {
          throw new StrataError(`more than ${MAX_TRAILING_BYTES} bytes after the end-of-archive marker at byte ${this.pos - BLOCK}: not tar padding (an endless input?)`);
        }
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
    const size = unsigned(block, 124, 12, at, 'size');
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      this.checkMetaSize(flag, size, at);
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
    let uid = unsigned(block, 108, 8, at, 'uid', MAX_ID);
    let gid = unsigned(block, 116, 8, at, 'gid', MAX_ID);
    let xattrs: Map<string, Buffer> | null = null;
    if (pax) {
      const p = (k: string) => pax.get(k)?.toString('utf8');
      if (pax.has('path')) name = p('path')!;
      if (pax.has('linkpath')) linkname = p('linkpath')!;
      if (pax.has('size')) apparent = stored = paxCount(p('size')!, 'size', at);
      if (pax.has('mtime')) mtime = paxTime(p('mtime')!, at);
      if (pax.has('uid')) uid = paxCount(p('uid')!, 'uid', at, MAX_ID);
      if (pax.has('gid')) gid = paxCount(p('gid')!, 'gid', at, MAX_ID);
      for (const [k, v] of pax) {
        if (k.startsWith('SCHILY.xattr.')) (xattrs ??= new Map()).set(k.slice(13), v);
        else if (k.startsWith('LIBARCHIVE.xattr.')) {
          (xattrs ??= new Map()).set(percentDecoded(k.slice(17), at), Buffer.from(v.toString('latin1'), 'base64'));
        }
      }
      // GNU sparse formats 0.x / 1.0 carried in PAX records
      if (pax.has('GNU.sparse.name')) name = p('GNU.sparse.name')!;
      const real = p('GNU.sparse.realsize') ?? p('GNU.sparse.size');
      if (real !== undefined) {
        sparse = true;
        apparent = paxCount(real, 'GNU.sparse.realsize', at);
      }
    }
    if (flag === 'S') apparent = unsigned(block, 483, 12, at, 'sparse real size');
    this.pax = null;
    this.paxBytes = 0;
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
      devmajor: type === 'char' || type === 'block' ? unsigned(block, 329, 8, at, 'device major') : 0,
      devminor: type === 'char' || type === 'block' ? unsigned(block, 337, 8, at, 'device minor') : 0,
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

  /** Refused before a byte of the body is read, so no declared size is ever allocated or buffered. */
  private checkMetaSize(flag: string, size: number, at: number): void {
    if (flag === 'L' || flag === 'K') {
      if (size > MAX_LONG_NAME_BYTES) throw new StrataError(`tar header at byte ${at}: GNU long ${flag === 'L' ? 'name' : 'link target'} of ${size} bytes, more than the ${MAX_LONG_NAME_BYTES} a path may take`);
      return;
    }
    const total = flag === 'x' ? (this.paxBytes += size) : size;
    if (total > MAX_PAX_BYTES) throw new StrataError(`tar header at byte ${at}: PAX extended header of ${total} bytes, more than the ${MAX_PAX_BYTES} allowed`);
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

/** A size, id or device number: a non-negative safe integer (base-256 fields can be negative). */
function unsigned(b: Buffer, off: number, len: number, at: number, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = num(b, off, len, at);
  if (n < 0 || n > max) throw new StrataError(`tar header at byte ${at}: ${what} ${n} out of range (0 to ${max})`);
  return n;
}

const DECIMAL = /^[0-9]+$/;
/** POSIX: PAX times are decimal seconds, maybe negative, maybe with a fraction. */
const PAX_TIME = /^-?[0-9]+(\.[0-9]*)?$/;

function paxCount(s: string, key: string, at: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = Number(s);
  if (!DECIMAL.test(s) || v > max) throw new StrataError(`tar header at byte ${at}: PAX ${key} ${excerpt(s)} is not an integer from 0 to ${max}`);
  return v;
}

function paxTime(s: string, at: number): number {
  const v = Number(s);
  if (!PAX_TIME.test(s) || !Number.isFinite(v)) throw new StrataError(`tar header at byte ${at}: PAX mtime ${excerpt(s)} is not a decimal time`);
  return v;
}

function percentDecoded(s: string, at: number): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new StrataError(`tar header at byte ${at}: PAX LIBARCHIVE.xattr name ${excerpt(s)} is not valid percent-encoding`);
  }
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
