/**
 * Tar headers for the layers strata writes: ustar, with a PAX `x` record in front whenever a value
 * does not fit ustar (long names and targets, large sizes or ids, fractional mtimes) and for every
 * xattr (`SCHILY.xattr.NAME`, raw bytes: `security.capability` is binary, which is why this is not
 * tar-stream's pack; docs/tar.md). The output reads back identically with strata's parser, umoci,
 * Docker and GNU tar.
 */
import type { TarType } from '../scan/tar-parser.js';
import type { PlannedEntry } from '../analyze/optimize/plan.js';

const BLOCK = 512;

/** A planned entry as written: its header fields (the content, if any, follows it). */
export type EntryHeader = Omit<PlannedEntry, 'source'>;

const typeflag: Record<TarType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

/** The octal field, or undefined when the value does not fit `width - 1` digits. */
function octal(n: number, width: number): string | undefined {
  if (!Number.isSafeInteger(n) || n < 0) return undefined;
  const s = n.toString(8);
  return s.length > width - 1 ? undefined : s;
}

/** `n` as `width - 1` zero-padded octal digits and a NUL at `off` (0 when it does not fit: PAX carries it). */
function putOctal(b: Buffer, off: number, width: number, n: number): void {
  let v = Number.isSafeInteger(n) && n >= 0 && n < 8 ** (width - 1) ? n : 0;
  b[off + width - 1] = 0;
  for (let i = off + width - 2; i >= off; i--) {
    b[i] = 0x30 + (v & 7);
    v = Math.floor(v / 8);
  }
}

/** One PAX record: "LEN key=value\n", LEN counting its own digits. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'latin1'), body]);
}

/** The constant part of every header: the ustar magic and version. */
const TEMPLATE = Buffer.alloc(BLOCK);
TEMPLATE.write('ustar\x0000', 257, 'latin1');

function block(name: string, flag: string, size: number, h: Pick<EntryHeader, 'mode' | 'uid' | 'gid' | 'devmajor' | 'devminor'> & { mtime: number; linkname: string }): Buffer {
  const b = Buffer.allocUnsafe(BLOCK);
  TEMPLATE.copy(b);
  b.write(name, 0, 100, 'utf8');
  putOctal(b, 100, 8, h.mode & 0o7777);
  putOctal(b, 108, 8, h.uid);
  putOctal(b, 116, 8, h.gid);
  putOctal(b, 124, 12, size);
  putOctal(b, 136, 12, Math.floor(h.mtime));
  b[156] = flag.charCodeAt(0);
  if (h.linkname) b.write(h.linkname, 157, 100, 'utf8');
  putOctal(b, 329, 8, h.devmajor ?? 0);
  putOctal(b, 337, 8, h.devminor ?? 0);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i];
  putOctal(b, 148, 7, sum);
  b[155] = 0x20;
  return b;
}

/** The header blocks of an entry (a PAX record first when needed); its data follows, then padding(). */
export function encodeHeader(h: EntryHeader): Buffer {
  const name = h.type === 'dir' ? `${h.path}/` : h.path;
  const linkname = h.linkname ?? '';
  const size = h.type === 'file' ? h.size : 0;
  const pax: Buffer[] = [];
  if (Buffer.byteLength(name) > 100) pax.push(paxRecord('path', Buffer.from(name)));
  if (Buffer.byteLength(linkname) > 100) pax.push(paxRecord('linkpath', Buffer.from(linkname)));
  if (octal(size, 12) === undefined) pax.push(paxRecord('size', Buffer.from(String(size))));
  if (octal(h.uid, 8) === undefined) pax.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if (octal(h.gid, 8) === undefined) pax.push(paxRecord('gid', Buffer.from(String(h.gid))));
  if (!Number.isInteger(h.mtime) || octal(h.mtime, 12) === undefined) pax.push(paxRecord('mtime', Buffer.from(String(h.mtime))));
  for (const [k, v] of Object.entries(h.xattrs ?? {})) pax.push(paxRecord(`SCHILY.xattr.${k}`, Buffer.from(v, 'base64')));
  const main = block(name, typeflag[h.type], size, { ...h, linkname });
  if (pax.length === 0) return main;
  const data = Buffer.concat(pax);
  const paxName = `PaxHeaders/${h.path}`.slice(0, 99);
  return Buffer.concat([block(paxName, 'x', data.length, { mode: 0o644, uid: 0, gid: 0, mtime: Math.floor(h.mtime), linkname: '' }), data, padding(data.length), main]);
}

/** Zero bytes that round `size` up to a whole block. */
export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** Two zero blocks: the end of the archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
