/**
 * rpm's sqlite backend (rpm 4.16+, `rpmdb.sqlite`): the blobs of table
 * `Packages(hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)`, read from the file format
 * itself (sqlite.org/fileformat2.html) so that reading stays synchronous and bounded
 * (docs/packages.md#rpm says why not sql.js). The schema table, rooted at page 1, names the root
 * page of Packages; its table b-tree holds one record per package, a blob longer than fits in a
 * page going on in a chain of overflow pages. Each page is claimed once: a page reached a second
 * time (a loop, a shared chain) ends the read.
 */
import { Budget, fail, u16, u32, type BlobReader } from './bytes.js';

const MAGIC = new TextEncoder().encode('SQLite format 3\0');
const FILE_HEADER = 100;
const INTERIOR_TABLE = 0x05;
const LEAF_TABLE = 0x0d;

interface Db {
  b: Uint8Array;
  pageSize: number;
  /** Page size less the bytes each page reserves at its end. */
  usable: number;
  pages: number;
  claimed: Uint8Array;
  text: TextDecoder;
  budget: Budget;
}

type Value = null | number | string | Uint8Array;

export const readSqlite: BlobReader = (b, each) => {
  if (b.length < FILE_HEADER || MAGIC.some((c, i) => b[i] !== c)) fail('expected an SQLite 3 database ("SQLite format 3" at its start)');
  const raw = u16(b, 16, false);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) fail(`expected a page size that is a power of two from 512 to 65536, found ${raw}`);
  if (b[19] > 2) fail(`expected file format 1 or 2 (rollback journal or WAL), found ${b[19]}`);
  const usable = pageSize - b[20];
  if (usable < 480) fail(`expected at most ${pageSize - 480} reserved bytes per page, found ${b[20]}`);
  const encoding = u32(b, 56, false);
  const pages = Math.floor(b.length / pageSize);
  const db: Db = {
    b,
    pageSize,
    usable,
    pages,
    claimed: new Uint8Array(pages + 1),
    text: new TextDecoder(encoding === 2 ? 'utf-16le' : encoding === 3 ? 'utf-16be' : 'utf-8'),
    budget: new Budget(b.length, 'records that add up to at most the size of the file (some are reached more than once)'),
  };

  let root: number | undefined;
  walk(db, 1, (payload) => {
    const [type, name, , rootPage] = record(db, payload);
    if (type === 'table' && name === 'Packages' && typeof rootPage === 'number') root = rootPage;
  });
  if (root === undefined) fail('expected a table named Packages');
  walk(db, root, (payload) => {
    const blob = record(db, payload)[1];
    if (!(blob instanceof Uint8Array)) fail('expected each row of Packages to hold a blob in its second column');
    each(blob);
  });
};

/** The byte offset of page `pgno` (1-based), which no other reference may reach. */
function claim(db: Db, pgno: number): number {
  if (!(pgno >= 1 && pgno <= db.pages)) fail(`expected page ${pgno} among the ${db.pages} pages of the file`);
  if (db.claimed[pgno]) fail(`expected each page to be reached once, page ${pgno} is reached again`);
  db.claimed[pgno] = 1;
  return (pgno - 1) * db.pageSize;
}

/** The payload of each row of the table b-tree rooted at `root`, in rowid order. */
function walk(db: Db, root: number, row: (payload: Uint8Array) => void): void {
  const b = db.b;
  const stack = [root];
  claim(db, root);
  while (stack.length > 0) {
    const pgno = stack.pop()!;
    const start = (pgno - 1) * db.pageSize;
    const end = start + db.usable;
    const h = start + (pgno === 1 ? FILE_HEADER : 0);
    const type = b[h];
    if (type !== INTERIOR_TABLE && type !== LEAF_TABLE) fail(`expected page ${pgno} to be a table b-tree page, found page type ${type}`);
    const cells = u16(b, h + 3, false);
    const pointers = h + (type === INTERIOR_TABLE ? 12 : 8);
    if (pointers + 2 * cells > end) fail(`expected the ${cells} cell pointers of page ${pgno} to fit in it`);
    const cellAt = (i: number): number => {
      const at = start + u16(b, pointers + 2 * i, false);
      if (at < pointers + 2 * cells || at >= end) fail(`expected cell ${i + 1} of page ${pgno} to start in the page's content area`);
      return at;
    };
    if (type === INTERIOR_TABLE) {
      // children left to right, then the right-most pointer; the stack pops them in that order
      const children = [...Array(cells).keys()].map((i) => u32(b, cellAt(i), false));
      children.push(u32(b, h + 8, false));
      for (const child of children) claim(db, child);
      stack.push(...children.reverse());
    } else {
      for (let i = 0; i < cells; i++) row(payload(db, cellAt(i), end, pgno));
    }
  }
}

/** A table leaf cell's payload: its local part, then the overflow chain when it is longer. */
function payload(db: Db, at: number, end: number, pgno: number): Uint8Array {
  const b = db.b;
  const [size, afterSize] = varint(b, at, end);
  const [, start] = varint(b, afterSize, end); // the rowid
  const local = localBytes(size, db.usable);
  db.budget.spend(size);
  if (start + local + (local < size ? 4 : 0) > end) fail(`expected a cell of page ${pgno} to fit in the page`);
  if (local === size) return b.subarray(start, start + size);
  const out = new Uint8Array(size);
  out.set(b.subarray(start, start + local));
  let filled = local;
  let next = u32(b, start + local, false);
  while (filled < size) {
    if (next === 0) fail(`expected ${size - filled} more bytes of a record of page ${pgno} on overflow pages, the chain ends`);
    const p = claim(db, next);
    const n = Math.min(size - filled, db.usable - 4);
    out.set(b.subarray(p + 4, p + 4 + n), filled);
    filled += n;
    next = u32(b, p, false);
  }
  return out;
}

/** How much of a table leaf payload of `size` bytes is stored in the cell itself (fileformat2 §1.6). */
function localBytes(size: number, usable: number): number {
  const max = usable - 35;
  if (size <= max) return size;
  const min = Math.floor(((usable - 12) * 32) / 255) - 23;
  const k = min + ((size - min) % (usable - 4));
  return k <= max ? k : min;
}

/** sqlite's variable-length integer: 1 to 9 bytes, big-endian, 7 bits a byte and all 8 of the ninth. */
function varint(b: Uint8Array, at: number, end: number): [number, number] {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    if (at + i >= end) break;
    const c = b[at + i];
    if (i === 8) return [v * 256 + c, at + 9];
    v = v * 128 + (c & 0x7f);
    if (c < 0x80) return [v, at + i + 1];
  }
  return fail(`expected a variable-length integer at byte ${at} to end within its page`);
}

/** The columns of a record: a header of serial types, then the values. */
function record(db: Db, p: Uint8Array): Value[] {
  const [headerSize, first] = varint(p, 0, p.length);
  if (headerSize > p.length || headerSize < first) fail(`expected a record header of ${headerSize} bytes within the record's ${p.length}`);
  const out: Value[] = [];
  let h = first;
  let at = headerSize;
  while (h < headerSize) {
    const [type, next] = varint(p, h, headerSize);
    h = next;
    const n = type >= 12 ? Math.floor((type - 12) / 2) : [0, 1, 2, 3, 4, 6, 8, 8, 0, 0][type];
    if (n === undefined) fail(`expected a serial type other than ${type}`);
    if (at + n > p.length) fail(`expected a record's values to fit in its ${p.length} bytes`);
    const v = p.subarray(at, at + n);
    at += n;
    if (type === 0 || type === 7) out.push(null); // NULL; a float no rpm column holds
    else if (type <= 6) out.push(v.reduce((x, c) => x * 256 + c, 0) - (v[0] >= 0x80 ? 2 ** (8 * n) : 0));
    else if (type <= 9) out.push(type - 8);
    else out.push(type % 2 === 0 ? v : db.text.decode(v));
  }
  return out;
}
