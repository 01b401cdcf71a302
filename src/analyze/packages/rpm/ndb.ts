/**
 * rpm's NDB backend (openSUSE, SLE 15+: `Packages.db`; rpm's lib/backend/ndb/rpmpkg.c): a 32-byte
 * header ("RpmP", version 0, generation, number of 4 KiB slot pages), then 16-byte slots
 * ("Slot", header number, offset and length in 16-byte blocks; offset 0: a free slot), each naming
 * a blob: "BlbS", header number, timestamp, length, the header, padding, then a tail
 * (checksum, length, "BlbE"). All numbers little-endian.
 */
import { Budget, fail, u32, type BlobReader } from './bytes.js';

const magic = (s: string) => u32(new TextEncoder().encode(s), 0, true);
const DB_MAGIC = magic('RpmP');
const SLOT_MAGIC = magic('Slot');
const BLOB_MAGIC = magic('BlbS');
const TAIL_MAGIC = magic('BlbE');
const HEADER = 32;
const PAGE = 4096;
const SLOT = 16;
const BLOCK = 16;
const BLOB_HEAD = 16;
const BLOB_TAIL = 12;

export const readNdb: BlobReader = (b, each) => {
  if (u32(b, 0, true, 'the magic number') !== DB_MAGIC) fail('expected an rpm NDB database ("RpmP" at its start)');
  const version = u32(b, 4, true);
  if (version !== 0) fail(`expected NDB version 0, found ${version}`);
  const slotPages = u32(b, 12, true);
  if (slotPages === 0) fail('expected at least one slot page, the header says 0');
  const pages = Math.min(slotPages, Math.floor(b.length / PAGE));
  const budget = new Budget(b.length, 'blobs that add up to at most the size of the file (some are named by more than one slot)');
  for (let at = HEADER; at < pages * PAGE; at += SLOT) {
    const slot = (at - HEADER) / SLOT + 1;
    if (u32(b, at, true) !== SLOT_MAGIC) fail(`expected slot ${slot} to start with "Slot"`);
    const pkg = u32(b, at + 4, true);
    const block = u32(b, at + 8, true);
    if (block === 0) continue;
    const blocks = u32(b, at + 12, true);
    const start = block * BLOCK;
    const where = `the blob of slot ${slot} (blocks ${block} to ${block + blocks})`;
    if (start < pages * PAGE || start + blocks * BLOCK > b.length) fail(`expected ${where} after the slot pages and within the file's ${b.length} bytes`);
    const length = u32(b, start + 12, true);
    if (u32(b, start, true) !== BLOB_MAGIC || u32(b, start + 4, true) !== pkg) fail(`expected ${where} to start with "BlbS" and header number ${pkg}`);
    if (blocks !== Math.ceil((BLOB_HEAD + length + BLOB_TAIL) / BLOCK)) fail(`expected ${where} to hold its ${length} bytes and no more`);
    const tail = start + blocks * BLOCK - BLOB_TAIL;
    if (u32(b, tail + 4, true) !== length || u32(b, tail + 8, true) !== TAIL_MAGIC) fail(`expected ${where} to end with its length and "BlbE"`);
    budget.spend(length);
    each(b.subarray(start + BLOB_HEAD, start + BLOB_HEAD + length));
  }
  if (slotPages > pages) fail(`expected ${slotPages} slot pages as the header says, the file holds ${pages}`);
};
