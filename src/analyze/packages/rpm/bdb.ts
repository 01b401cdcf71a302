/**
 * rpm's Berkeley DB backend (rpm before 4.16, and what rpm 4.16+ still reads as `bdb_ro`): the file
 * `Packages`, a BDB hash database keyed by the 4-byte header number. The pages are read in file
 * order and every hash page's key/value pairs taken, so no bucket chain is followed and none can
 * loop (rpm's bdb_ro walks the buckets instead; Berkeley DB retypes the pages it frees as
 * P_INVALID, so both see the same hash pages). A value is stored on the page
 * (H_KEYDATA) or, as most headers are larger than a quarter page, on a chain of overflow pages
 * (H_OFFPAGE). Either byte order: the magic number says which (big-endian hosts: s390x, ppc64).
 */
import { Budget, fail, u16, u32, type BlobReader } from './bytes.js';

const HASH_MAGIC = 0x061561;
const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASHMETA = 8;
const P_HASH = 13;
const H_KEYDATA = 1;
const H_OFFPAGE = 3;
const PAGE_HEADER = 26;

export const readBdb: BlobReader = (b, each) => {
  if (b.length < 512) fail(`expected a Berkeley DB file of at least one 512-byte page, found ${b.length} bytes`);
  const le = u32(b, 12, true, 'the magic number') === HASH_MAGIC;
  if (!le && u32(b, 12, false) !== HASH_MAGIC) fail('expected a Berkeley DB hash database (magic number 0x061561)');
  const version = u32(b, 16, le);
  if (version < 8 || version > 10) fail(`expected hash version 8 to 10, found ${version}`);
  const pageSize = u32(b, 20, le);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) fail(`expected a page size that is a power of two from 512 to 65536, found ${pageSize}`);
  if (b[24] !== 0) fail('expected an unencrypted database');
  if (b[25] !== P_HASHMETA) fail(`expected a hash metadata page first, found page type ${b[25]}`);
  const declared = u32(b, 32, le) + 1;
  const pages = Math.min(declared, Math.floor(b.length / pageSize));
  const budget = new Budget(b.length, 'values that add up to at most the size of the file (some are reached more than once)');
  const used = new Uint8Array(pages); // overflow pages: each belongs to one value

  const overflow = (pgno: number, length: number): Uint8Array => {
    budget.spend(length);
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      if (pgno === 0 || pgno >= pages || used[pgno]) fail(`expected ${length - filled} more bytes of a value on overflow page ${pgno}, which is ${pgno === 0 ? 'the end of the chain' : pgno >= pages ? 'past the end of the file' : 'used already'}`);
      used[pgno] = 1;
      const p = pgno * pageSize;
      const n = u16(b, p + 22, le);
      if (b[p + 25] !== P_OVERFLOW || n === 0 || n > pageSize - PAGE_HEADER || n > length - filled) fail(`expected page ${pgno} to be an overflow page of at most ${length - filled} bytes`);
      out.set(b.subarray(p + PAGE_HEADER, p + PAGE_HEADER + n), filled);
      filled += n;
      pgno = u32(b, p + 16, le);
    }
    return out;
  };

  for (let pgno = 1; pgno < pages; pgno++) {
    const p = pgno * pageSize;
    if (b[p + 25] !== P_HASH && b[p + 25] !== P_HASH_UNSORTED) continue;
    if (u32(b, p + 8, le) !== pgno) fail(`expected page ${pgno} to say it is page ${pgno}, it says ${u32(b, p + 8, le)}`);
    const entries = u16(b, p + 20, le);
    const indexEnd = PAGE_HEADER + 2 * entries;
    if (indexEnd > pageSize) fail(`expected the ${entries} entries of page ${pgno} to fit in it`);
    // items sit at the page's end, each ending where the one indexed before it starts
    const offset = (i: number) => u16(b, p + PAGE_HEADER + 2 * i, le);
    for (let i = 0; i + 1 < entries; i += 2) {
      const key = offset(i);
      const value = offset(i + 1);
      const keyEnd = i === 0 ? pageSize : offset(i - 1);
      if (!(indexEnd <= value && value < key && key < keyEnd && keyEnd <= pageSize)) fail(`expected entry ${i / 2 + 1} of page ${pgno} to lie in the page's item area`);
      // header number 0 is not a package: rpm keeps its next free header number there
      if (b[p + key] === H_KEYDATA && keyEnd - key === 5 && u32(b, p + key + 1, le) === 0) continue;
      const type = b[p + value];
      if (type === H_KEYDATA) {
        budget.spend(key - value - 1);
        each(b.subarray(p + value + 1, p + key));
      } else if (type === H_OFFPAGE && key - value === 12) {
        each(overflow(u32(b, p + value + 4, le), u32(b, p + value + 8, le)));
      } else fail(`expected entry ${i / 2 + 1} of page ${pgno} to hold its value on the page or on overflow pages, found item type ${type}`);
    }
  }
  if (declared > pages) fail(`expected ${declared} pages as the metadata says, the file holds ${pages}`);
};
