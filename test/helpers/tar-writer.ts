/**
 * A small tar writer for tests: it emits the header features strata must read (ustar prefix, PAX
 * records with binary values, PAX global headers, GNU long names, base-256 numbers, old GNU and PAX
 * sparse files, every entry type, whiteouts) byte by byte, so each feature can be produced on its
 * own. Written from the POSIX/GNU layouts, not from strata's parser, so the two check each other.
 */
const BLOCK = 512;

export type EntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

const typeflags: Record<EntryType, string> = {
  file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6',
};

export type NumericField = 'uid' | 'gid' | 'size' | 'mtime';

export interface Entry {
  name: string;
  type?: EntryType;
  /** Raw typeflag, overriding `type` (e.g. '\0' for an old-style regular file or directory). */
  typeflag?: string;
  data?: Buffer | string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** PAX 'x' records written before the entry (values may be binary). */
  pax?: Record<string, string | Buffer>;
  /** Split a name longer than 100 bytes into the ustar prefix and name fields. */
  prefix?: boolean;
  /** Carry the name (L) and/or link target (K) in GNU long-name records. */
  gnuLongName?: boolean;
  gnuLongLink?: boolean;
  /** Numeric fields written in GNU base-256 instead of octal. */
  base256?: NumericField[];
  /** Header size field when it must differ from the data length. */
  headerSize?: number;
}

export interface Header {
  name: string;
  typeflag: string;
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  prefix?: string;
  /** 'ustar' (POSIX: "ustar\0" "00") or 'gnu' ("ustar  \0"). */
  magic?: 'ustar' | 'gnu';
  base256?: NumericField[];
  /** Extra bytes to place at fixed offsets (old GNU sparse fields). */
  raw?: [offset: number, bytes: Buffer][];
}

/** Octal, NUL-terminated, zero-padded to the field width. */
function octal(n: number, width: number): Buffer {
  const s = n.toString(8).padStart(width - 1, '0');
  if (s.length > width - 1) throw new Error(`tar-writer: ${n} does not fit ${width} bytes in octal`);
  return Buffer.from(`${s}\0`, 'latin1');
}

/** GNU base-256: high bit of the first byte set, two's complement big-endian in the rest. */
export function base256(n: number, width: number): Buffer {
  const b = Buffer.alloc(width);
  let v = BigInt(n);
  if (v < 0n) v += 1n << BigInt(width * 8 - 1);
  for (let i = width - 1; i >= 1; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  b[0] = 0x80 | Number(v & 0x7fn);
  return b;
}

export function headerBlock(h: Header): Buffer {
  const b = Buffer.alloc(BLOCK);
  const put = (off: number, buf: Buffer, max: number) => {
    if (buf.length > max) throw new Error(`tar-writer: field at ${off} overflows (${buf.length} > ${max})`);
    buf.copy(b, off);
  };
  const num = (field: NumericField, off: number, width: number, v: number) => {
    put(off, h.base256?.includes(field) ? base256(v, width) : octal(v, width), width);
  };
  put(0, Buffer.from(h.name, 'utf8'), 100);
  put(100, octal(h.mode ?? 0o644, 8), 8);
  num('uid', 108, 8, h.uid ?? 0);
  num('gid', 116, 8, h.gid ?? 0);
  num('size', 124, 12, h.size ?? 0);
  num('mtime', 136, 12, h.mtime ?? 0);
  b.write(h.typeflag, 156, 'latin1');
  put(157, Buffer.from(h.linkname ?? '', 'utf8'), 100);
  if ((h.magic ?? 'ustar') === 'ustar') b.write('ustar\x0000', 257, 'latin1');
  else b.write('ustar  \x00', 257, 'latin1');
  b.write('root', 265, 'latin1');
  b.write('root', 297, 'latin1');
  put(329, octal(h.devmajor ?? 0, 8), 8);
  put(337, octal(h.devminor ?? 0, 8), 8);
  if (h.prefix) put(345, Buffer.from(h.prefix, 'utf8'), 155);
  for (const [off, bytes] of h.raw ?? []) bytes.copy(b, off);
  return withChecksum(b);
}

function withChecksum(b: Buffer): Buffer {
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const v of b) sum += v;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

function padded(data: Buffer): Buffer {
  const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
  return pad ? Buffer.concat([data, Buffer.alloc(pad)]) : data;
}

/** PAX records "LEN key=value\n"; LEN counts its own digits, values are raw bytes. */
export function paxData(records: Record<string, string | Buffer>): Buffer {
  const out: Buffer[] = [];
  for (const [k, v] of Object.entries(records)) {
    const body = Buffer.concat([Buffer.from(` ${k}=`, 'utf8'), Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8'), Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    out.push(Buffer.from(String(len), 'latin1'), body);
  }
  return Buffer.concat(out);
}

/** A name over 100 bytes as the ustar prefix (up to 155 bytes) and name fields, cut at a slash. */
export function ustarSplit(path: string): { name: string; prefix: string } {
  const cut = path.lastIndexOf('/', Math.min(155, path.length - 2));
  if (cut < 0 || cut > 155 || path.length - cut - 1 > 100) throw new Error(`tar-writer: cannot split ${path} into prefix/name`);
  return { prefix: path.slice(0, cut), name: path.slice(cut + 1) };
}

export class TarWriter {
  private readonly parts: Buffer[] = [];

  /** A raw header block followed by its data, padded. */
  raw(h: Header, data: Buffer = Buffer.alloc(0)): this {
    this.parts.push(headerBlock({ ...h, size: h.size ?? data.length }), padded(data));
    return this;
  }

  pax(records: Record<string, string | Buffer>, global = false, name = 'PaxHeader'): this {
    return this.raw({ name, typeflag: global ? 'g' : 'x' }, paxData(records));
  }

  gnuLong(kind: 'L' | 'K', value: string): this {
    return this.raw({ name: '././@LongLink', typeflag: kind, magic: 'gnu' }, Buffer.from(`${value}\0`, 'utf8'));
  }

  entry(e: Entry): this {
    const type = e.type ?? 'file';
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    if (e.pax) this.pax(e.pax);
    if (e.gnuLongName) this.gnuLong('L', e.name);
    if (e.gnuLongLink) this.gnuLong('K', e.linkname ?? '');
    let name = e.gnuLongName ? e.name.slice(0, 99) : e.name;
    let prefix: string | undefined;
    if (e.prefix) ({ name, prefix } = ustarSplit(e.name));
    const gnu = e.gnuLongName || e.gnuLongLink || (e.base256?.length ?? 0) > 0;
    this.raw({
      name,
      prefix,
      typeflag: e.typeflag ?? typeflags[type],
      size: e.headerSize ?? data.length,
      mode: e.mode ?? (type === 'dir' ? 0o755 : 0o644),
      uid: e.uid,
      gid: e.gid,
      mtime: e.mtime ?? 1700000000,
      linkname: e.gnuLongLink ? (e.linkname ?? '').slice(0, 99) : e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      magic: gnu ? 'gnu' : 'ustar',
      base256: e.base256,
    }, data);
    return this;
  }

  /**
   * An old GNU sparse file ('S'): `segments` are the stored data extents of a file of `realSize`
   * bytes. The header holds 4 map entries; more go to extension blocks of 21 each.
   */
  oldGnuSparse(name: string, realSize: number, segments: { offset: number; data: Buffer }[], opts: { mode?: number } = {}): this {
    const entry = (s: { offset: number; data: Buffer }) => Buffer.concat([octal(s.offset, 12), octal(s.data.length, 12)]);
    const inHeader = segments.slice(0, 4);
    const rest = segments.slice(4);
    const raw: [number, Buffer][] = inHeader.map((s, i) => [386 + i * 24, entry(s)]);
    raw.push([482, Buffer.from([rest.length ? 1 : 0])], [483, octal(realSize, 12)]);
    const stored = Buffer.concat(segments.map((s) => s.data));
    this.parts.push(headerBlock({ name, typeflag: 'S', size: stored.length, mode: opts.mode ?? 0o644, mtime: 1700000000, magic: 'gnu', raw }));
    for (let i = 0; i < rest.length; i += 21) {
      const ext = Buffer.alloc(BLOCK);
      rest.slice(i, i + 21).forEach((s, j) => entry(s).copy(ext, j * 24));
      ext[504] = i + 21 < rest.length ? 1 : 0;
      this.parts.push(ext);
    }
    this.parts.push(padded(stored));
    return this;
  }

  /**
   * A PAX sparse file, GNU format 1.0: the real name and size in PAX records, the sparse map in
   * decimal lines at the start of the data, then the stored extents.
   */
  paxSparse(name: string, realSize: number, segments: { offset: number; data: Buffer }[]): this {
    const map = [String(segments.length), ...segments.flatMap((s) => [String(s.offset), String(s.data.length)])].join('\n') + '\n';
    const data = Buffer.concat([padded(Buffer.from(map, 'latin1')), ...segments.map((s) => s.data)]);
    this.pax({ 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': name, 'GNU.sparse.realsize': String(realSize) });
    const slash = name.lastIndexOf('/');
    const fake = `${slash < 0 ? '.' : name.slice(0, slash)}/GNUSparseFile.0/${name.slice(slash + 1)}`;
    return this.raw({ name: fake, typeflag: '0', mtime: 1700000000 }, data);
  }

  /** End-of-archive: two zero blocks (fewer to imitate sloppy writers). */
  end(blocks = 2): this {
    this.parts.push(Buffer.alloc(BLOCK * blocks));
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A whole tar of entries, with (default) or without the end-of-archive blocks. */
export function tar(entries: Entry[], opts: { end?: boolean } = {}): Buffer {
  const w = new TarWriter();
  for (const e of entries) w.entry(e);
  if (opts.end ?? true) w.end();
  return w.toBuffer();
}

// ---- shorthands for layer specs ----------------------------------------------------------------

export const file = (name: string, data: string | Buffer, more: Partial<Entry> = {}): Entry => ({ name, type: 'file', data, ...more });
export const dir = (name: string, more: Partial<Entry> = {}): Entry => ({ name: name.endsWith('/') ? name : `${name}/`, type: 'dir', ...more });
export const symlink = (name: string, target: string, more: Partial<Entry> = {}): Entry => ({ name, type: 'symlink', linkname: target, ...more });
export const hardlink = (name: string, target: string, more: Partial<Entry> = {}): Entry => ({ name, type: 'hardlink', linkname: target, ...more });
export const whiteout = (path: string): Entry => {
  const slash = path.lastIndexOf('/');
  return { name: `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`, type: 'file', mode: 0 };
};
export const opaque = (dirPath: string): Entry => ({ name: `${dirPath}/.wh..wh..opq`, type: 'file', mode: 0 });
