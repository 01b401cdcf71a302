/**
 * One installed package's header, the blob every rpm database backend stores (rpm's header.c,
 * headerImport): two big-endian counts (index entries, data bytes), the index of 16-byte entries
 * (tag, type, offset into the data, count), then the data. Only the tags strata reports are looked
 * at; each count and offset is checked against the data there before it is followed.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { fail, u32, type Budget } from './bytes.js';

// rpmtag.h
const NAME = 1000;
const VERSION = 1001;
const RELEASE = 1002;
const EPOCH = 1003;
const SIZE = 1009;
const LICENSE = 1014;
const ARCH = 1022;
const SOURCERPM = 1044;
const REQUIRENAME = 1049;
const DIRINDEXES = 1116;
const BASENAMES = 1117;
const DIRNAMES = 1118;
const LONGSIZE = 5009;
const WANTED = new Set([NAME, VERSION, RELEASE, EPOCH, SIZE, LICENSE, ARCH, SOURCERPM, REQUIRENAME, DIRINDEXES, BASENAMES, DIRNAMES, LONGSIZE]);

// rpm_tagtype_e
const INT32 = 4;
const INT64 = 5;
const STRING = 6;
const STRING_ARRAY = 8;
const I18NSTRING = 9;

const ENTRY_BYTES = 16;

const buffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
/** A path as the tar parser decodes member names (UTF-8), so that the two compare equal. */
const decodePath = (b: Uint8Array) => buffer(b).toString('utf8');
/** A name or license: UTF-8, or Latin-1 when the bytes are not UTF-8 (old packages). */
const decodeValue = (b: Uint8Array) => buffer(b).toString(isUtf8(b) ? 'utf8' : 'latin1');

export interface RpmHeader {
  name: string;
  /** `[epoch:]version-release`, the epoch when the header has one (as rpm's %{EVR}). */
  version: string;
  arch?: string;
  sourceRpm?: string;
  license?: string;
  /** LONGSIZE, else SIZE: the bytes rpm says the package installs. */
  size?: number;
  /** Root-relative paths, directories included, in the header's order. */
  files: string[];
  /** REQUIRENAME without rpmlib(…) features, file paths and (…) rich dependencies, each once. */
  requires: string[];
}

interface Entry {
  type: number;
  offset: number;
  count: number;
}

class Tags {
  constructor(
    private readonly data: Uint8Array,
    private readonly entries: Map<number, Entry>,
  ) {}

  has(tag: number): boolean {
    return this.entries.has(tag);
  }

  /** The first string of a STRING, I18NSTRING or STRING_ARRAY tag. */
  string(tag: number): string | undefined {
    const e = this.entries.get(tag);
    if (!e) return undefined;
    if (e.type !== STRING && e.type !== I18NSTRING && e.type !== STRING_ARRAY) fail(`expected tag ${tag} to be a string, found type ${e.type}`);
    return this.strings(tag, { ...e, count: 1 }, decodeValue)[0];
  }

  list(tag: number, decode: (b: Uint8Array) => string): string[] {
    const e = this.entries.get(tag);
    if (!e) return [];
    if (e.type !== STRING_ARRAY && e.type !== I18NSTRING) fail(`expected tag ${tag} to be a string array, found type ${e.type}`);
    return this.strings(tag, e, decode);
  }

  private strings(tag: number, e: Entry, decode: (b: Uint8Array) => string): string[] {
    const d = this.data;
    // each string takes at least its NUL: a count beyond the bytes left cannot be right
    if (e.offset >= d.length || e.count > d.length - e.offset) fail(`expected tag ${tag}: ${e.count} strings at offset ${e.offset} of ${d.length} bytes of data`);
    const out: string[] = [];
    let at = e.offset;
    for (let i = 0; i < e.count; i++) {
      const end = d.indexOf(0, at);
      if (end < 0) fail(`expected tag ${tag}: ${e.count} strings ending in NUL bytes, string ${i + 1} runs past the data`);
      out.push(decode(d.subarray(at, end)));
      at = end + 1;
    }
    return out;
  }

  /** The numbers of an INT32 tag (or the first of an INT64 one, as a double: sizes stay below 2^53). */
  numbers(tag: number): number[] {
    const e = this.entries.get(tag);
    if (!e) return [];
    const width = e.type === INT32 ? 4 : e.type === INT64 ? 8 : fail(`expected tag ${tag} to be a number, found type ${e.type}`);
    if (e.offset > this.data.length || e.count > (this.data.length - e.offset) / width) fail(`expected tag ${tag}: ${e.count} numbers at offset ${e.offset} of ${this.data.length} bytes of data`);
    const out: number[] = [];
    for (let i = 0; i < e.count; i++) {
      const at = e.offset + i * width;
      out.push(width === 4 ? u32(this.data, at, false) : u32(this.data, at, false) * 2 ** 32 + u32(this.data, at + 4, false));
    }
    return out;
  }
}

/** Read a header blob; `paths` caps the characters of all file paths read from one database. */
export function readHeader(blob: Uint8Array, paths: Budget): RpmHeader {
  const il = u32(blob, 0, false, 'the index length');
  const dl = u32(blob, 4, false, 'the data length');
  const dataStart = 8 + il * ENTRY_BYTES;
  if (il === 0 || dataStart + dl > blob.length) fail(`expected a header of ${il} index entries and ${dl} bytes of data to fit in its ${blob.length} bytes`);
  const entries = new Map<number, Entry>();
  for (let i = 0; i < il; i++) {
    const at = 8 + i * ENTRY_BYTES;
    const tag = u32(blob, at, false);
    // a tag given again later (rpm's "dribble" entries after the signed region) replaces the first
    if (WANTED.has(tag)) entries.set(tag, { type: u32(blob, at + 4, false), offset: u32(blob, at + 8, false), count: u32(blob, at + 12, false) });
  }
  const t = new Tags(blob.subarray(dataStart, dataStart + dl), entries);

  const name = t.string(NAME);
  const version = t.string(VERSION);
  const release = t.string(RELEASE);
  if (name === undefined || version === undefined || release === undefined) fail('expected a header with NAME, VERSION and RELEASE');
  const epoch = t.numbers(EPOCH)[0];
  const size = t.has(LONGSIZE) ? t.numbers(LONGSIZE)[0] : t.numbers(SIZE)[0];
  return {
    name,
    version: `${epoch === undefined ? '' : `${epoch}:`}${version}-${release}`,
    arch: t.string(ARCH),
    sourceRpm: t.string(SOURCERPM),
    license: t.string(LICENSE),
    size,
    files: files(t, paths),
    requires: [...new Set(t.list(REQUIRENAME, decodeValue).filter((r) => !r.startsWith('rpmlib(') && !r.startsWith('/') && !r.startsWith('(')))],
  };
}

/** BASENAMES[i] in directory DIRNAMES[DIRINDEXES[i]], without the leading slash. */
function files(t: Tags, paths: Budget): string[] {
  const base = t.list(BASENAMES, decodePath);
  const index = t.numbers(DIRINDEXES);
  const dirs = t.list(DIRNAMES, decodePath).map((d) => (d.startsWith('/') ? d.slice(1) : d));
  if (index.length !== base.length) fail(`expected a directory index for each of the ${base.length} file names, found ${index.length}`);
  return base.map((b, i) => {
    const dir = dirs[index[i]];
    if (dir === undefined) fail(`expected file ${i + 1}'s directory index ${index[i]} to be below the ${dirs.length} directories`);
    // a long directory name shared by many one-byte file names multiplies the bytes: capped
    paths.spend(dir.length + b.length);
    return dir + b;
  });
}
