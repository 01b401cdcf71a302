/**
 * One installed package's header, the blob every rpm database backend stores (rpm's header.c,
 * headerImport): two big-endian counts (index entries, data bytes), the index of 16-byte entries
 * (tag, type, offset into the data, count), then the data. Only the tags strata reports are looked
 * at; each count and offset is checked against the data there before it is followed.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { MAX_PATH_LENGTH } from '../../../util/paths.js';
import { fail, u32 } from './bytes.js';

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
    let first: string | undefined;
    this.strings(tag, { ...e, count: 1 }, (b) => {
      first = decodeValue(b);
    });
    return first;
  }

  /**
   * Each string of a string array, one at a time (no array of `count` strings is made first: a
   * hostile count of empty strings costs one byte each); `each` returns false to stop early.
   */
  eachString(tag: number, each: (b: Uint8Array) => boolean | void): void {
    const e = this.entries.get(tag);
    if (!e) return;
    if (e.type !== STRING_ARRAY && e.type !== I18NSTRING) fail(`expected tag ${tag} to be a string array, found type ${e.type}`);
    this.strings(tag, e, each);
  }

  /** How many strings a string array has (0 when absent), checked as eachString checks it. */
  count(tag: number): number {
    const e = this.entries.get(tag);
    if (e) this.checkStrings(tag, e);
    return e?.count ?? 0;
  }

  private checkStrings(tag: number, e: Entry): void {
    // each string takes at least its NUL: a count beyond the bytes left cannot be right
    if (e.offset >= this.data.length || e.count > this.data.length - e.offset) fail(`expected tag ${tag}: ${e.count} strings at offset ${e.offset} of ${this.data.length} bytes of data`);
  }

  private strings(tag: number, e: Entry, each: (b: Uint8Array) => boolean | void): void {
    const d = this.data;
    this.checkStrings(tag, e);
    let at = e.offset;
    for (let i = 0; i < e.count; i++) {
      const end = d.indexOf(0, at);
      if (end < 0) fail(`expected tag ${tag}: ${e.count} strings ending in NUL bytes, string ${i + 1} runs past the data`);
      if (each(d.subarray(at, end)) === false) return;
      at = end + 1;
    }
  }

  /**
   * The count of an INT32 tag's numbers (or of an INT64 one's, each read as a double: sizes stay
   * below 2^53) and the i-th of them, read when asked (no array of `count` numbers is made).
   */
  numbers(tag: number): { count: number; at: (i: number) => number } {
    const e = this.entries.get(tag);
    if (!e) return { count: 0, at: () => NaN };
    const width = e.type === INT32 ? 4 : e.type === INT64 ? 8 : fail(`expected tag ${tag} to be a number, found type ${e.type}`);
    if (e.offset > this.data.length || e.count > (this.data.length - e.offset) / width) fail(`expected tag ${tag}: ${e.count} numbers at offset ${e.offset} of ${this.data.length} bytes of data`);
    const d = this.data;
    const at = (i: number) => (width === 4 ? u32(d, e.offset + i * 4, false) : u32(d, e.offset + i * 8, false) * 2 ** 32 + u32(d, e.offset + i * 8 + 4, false));
    return { count: e.count, at };
  }

  /** The first number of a number tag, or undefined. */
  number(tag: number): number | undefined {
    const n = this.numbers(tag);
    return n.count > 0 ? n.at(0) : undefined;
  }
}

/**
 * Read a header blob; `take` charges each directory and file path to the view's budget
 * (path-budget.ts), and the files stop at the first it refuses (the package is still read).
 */
export function readHeader(blob: Uint8Array, take: (path: string) => boolean): RpmHeader {
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
  const epoch = t.number(EPOCH);
  const size = t.has(LONGSIZE) ? t.number(LONGSIZE) : t.number(SIZE);
  return {
    name,
    version: `${epoch === undefined ? '' : `${epoch}:`}${version}-${release}`,
    arch: t.string(ARCH),
    sourceRpm: t.string(SOURCERPM),
    license: t.string(LICENSE),
    size,
    files: files(t, take),
    requires: requires(t),
  };
}

function requires(t: Tags): string[] {
  const out = new Set<string>();
  t.eachString(REQUIRENAME, (b) => {
    const r = decodeValue(b);
    if (!r.startsWith('rpmlib(') && !r.startsWith('/') && !r.startsWith('(')) out.add(r);
  });
  return [...out];
}

/**
 * BASENAMES[i] in directory DIRNAMES[DIRINDEXES[i]], without the leading slash. Every name costs
 * its share of the budget as it is read, even an empty one: names may all point at one zero-filled
 * area, each costing the database one byte. A path longer than a path can be names no file.
 */
function files(t: Tags, take: (path: string) => boolean): string[] {
  const index = t.numbers(DIRINDEXES);
  const names = t.count(BASENAMES);
  if (index.count !== names) fail(`expected a directory index for each of the ${names} file names, found ${index.count}`);
  const dirs: string[] = [];
  let room = true;
  t.eachString(DIRNAMES, (b) => {
    const d = decodePath(b);
    if (!(room = take(d))) return false;
    dirs.push(d.startsWith('/') ? d.slice(1) : d);
  });
  const out: string[] = [];
  let i = 0;
  if (room) {
    t.eachString(BASENAMES, (b) => {
      const dir = dirs[index.at(i)];
      if (dir === undefined) fail(`expected file ${i + 1}'s directory index ${index.at(i)} to be below the ${dirs.length} directories`);
      i++;
      const path = dir + decodePath(b);
      if (path.length > MAX_PATH_LENGTH) return;
      if (!take(path)) return false;
      out.push(path);
    });
  }
  return out;
}
