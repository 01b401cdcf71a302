/**
 * Property-based fuzzing of the layer tar parser (issue 29): valid archives from the test tar
 * writer, mutated (bit flips, truncation, numeric fields rewritten in octal or base-256 with their
 * checksum fixed so the header is read, random PAX records, huge declared sizes), fed in random
 * chunk sizes through the parser and LayerRecordsSink. Property: it returns or throws a StrataError,
 * never moves backwards in the stream, and never buffers more than its caps.
 * Replay a failure with STRATA_FUZZ_SEED=<seed printed by the test>.
 */
import test from 'ava';
import fc from 'fast-check';
import { createXXHash128 } from 'hash-wasm';
import { StrataError } from '../src/util/errors.js';
import { MAX_LONG_NAME_BYTES, MAX_PAX_BYTES, TarParser } from '../src/scan/tar-parser.js';
import { LayerRecordsSink } from '../src/scan/layer-records-sink.js';
import { TarWriter, base256, type Entry } from './helpers/tar-writer.js';

const BLOCK = 512;
/** Numeric header fields: offset and width (size, uid, gid, mtime, mode, devmajor, devminor, old GNU sparse real size). */
const FIELDS: [number, number][] = [[124, 12], [108, 8], [116, 8], [136, 12], [100, 8], [329, 8], [337, 8], [483, 12]];
const PAX_KEYS = ['size', 'uid', 'gid', 'mtime', 'path', 'linkpath', 'GNU.sparse.realsize', 'GNU.sparse.size', 'GNU.sparse.name', 'SCHILY.xattr.user.x', 'LIBARCHIVE.xattr.user.%41'];

const name = fc.stringMatching(/^[a-z./]{1,30}$/);
const entry: fc.Arbitrary<Entry> = fc.record({
  name,
  type: fc.constantFrom('file', 'dir', 'symlink', 'hardlink', 'char', 'fifo') as fc.Arbitrary<Entry['type']>,
  data: fc.string({ maxLength: 1200 }),
  linkname: name,
  uid: fc.nat(2_000_000),
  mtime: fc.nat(2 ** 33 - 1),
  gnuLongName: fc.boolean(),
  base256: fc.subarray(['uid', 'gid', 'size', 'mtime'] as const),
  pax: fc.option(fc.dictionary(fc.constantFrom(...PAX_KEYS), fc.string({ maxLength: 40 }), { maxKeys: 3 }), { nil: undefined }),
}).map((e) => (e.type === 'file' ? e : { ...e, data: undefined }));

const archive = fc.tuple(fc.array(entry, { maxLength: 8 }), fc.boolean()).map(([entries, sparse]) => {
  const w = new TarWriter();
  for (const e of entries) w.entry(e);
  if (sparse) w.oldGnuSparse('s', 1 << 20, Array.from({ length: 6 }, (_, i) => ({ offset: i << 16, data: Buffer.from('x') })));
  return w.end().toBuffer();
});

/** Numbers an attacker would write: huge, negative (base-256), fractional text, garbage. */
const fieldValue = fc.oneof(
  fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: -4096n, max: 4096n })).map((v) => ({ base256: v })),
  fc.stringMatching(/^[0-7 \0x.-]{0,12}$/).map((s) => ({ octal: s })),
);

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'cut'; at: number }
  | { kind: 'field'; block: number; field: number; value: { base256: bigint } | { octal: string } }
  | { kind: 'pax'; block: number; records: Record<string, string> }
  | { kind: 'huge'; block: number; size: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('field' as const), block: fc.nat(), field: fc.nat(FIELDS.length - 1), value: fieldValue }),
  fc.record({ kind: fc.constant('pax' as const), block: fc.nat(), records: fc.dictionary(fc.oneof(fc.constantFrom(...PAX_KEYS), fc.string({ maxLength: 20 }), fc.stringMatching(/^LIBARCHIVE\.xattr\.[%0-9a-z]{0,6}$/)), fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('-1', '1.5', '1e400', '9007199254740993', '%zz', '')), { maxKeys: 4 }) }),
  fc.record({ kind: fc.constant('huge' as const), block: fc.nat(), size: fc.constantFrom(2 ** 31, 2 ** 40, 2 ** 53 - 1, MAX_PAX_BYTES + 1, MAX_LONG_NAME_BYTES + 1) }),
);

function fixChecksum(b: Buffer, at: number): void {
  b.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + BLOCK; i++) sum += b[i];
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
}

function mutate(input: Buffer, m: Mutation): Buffer {
  const b = Buffer.from(input);
  const blocks = Math.max(1, Math.floor(b.length / BLOCK));
  const at = (m.kind === 'flip' || m.kind === 'cut' ? 0 : (m.block % blocks) * BLOCK);
  switch (m.kind) {
    case 'flip':
      if (b.length) b[m.at % b.length] ^= 1 << m.bit;
      return b;
    case 'cut':
      return b.subarray(0, b.length ? m.at % b.length : 0);
    case 'field': {
      if (b.length < at + BLOCK) return b;
      const [off, width] = FIELDS[m.field];
      const bytes = 'base256' in m.value
        ? base256Big(m.value.base256, width)
        : Buffer.from(m.value.octal.padEnd(width, '\0').slice(0, width), 'latin1');
      bytes.copy(b, at + off);
      fixChecksum(b, at);
      return b;
    }
    case 'pax': {
      const w = new TarWriter().pax(m.records);
      return Buffer.concat([b.subarray(0, at), w.toBuffer(), b.subarray(at)]);
    }
    case 'huge': {
      if (b.length < at + BLOCK) return b;
      base256(m.size, 12).copy(b, at + 124);
      fixChecksum(b, at);
      return b;
    }
  }
}

function base256Big(v: bigint, width: number): Buffer {
  const n = Number(v);
  return Number.isSafeInteger(n) ? base256(n, width) : Buffer.concat([Buffer.from([0xff]), Buffer.alloc(width - 1, Number(v & 0xffn))]);
}

interface ParserInternals {
  pos: number;
  pendingLen: number;
  metaBuf: Buffer[];
}

test('the tar parser returns or throws a StrataError on mutated archives, moving forward and within its caps', async (t) => {
  const seed = Number(process.env.STRATA_FUZZ_SEED ?? (Date.now() ^ (Math.random() * 0x7fffffff)));
  t.log(`STRATA_FUZZ_SEED=${seed}`);
  const hasher = await createXXHash128();
  const metaCap = Math.max(MAX_PAX_BYTES, MAX_LONG_NAME_BYTES);
  const property = fc.property(archive, fc.array(mutation, { maxLength: 4 }), fc.array(fc.integer({ min: 1, max: 1500 }), { minLength: 1, maxLength: 8 }), (base, mutations, chunkSizes) => {
    const bytes = mutations.reduce(mutate, base);
    const parser = new TarParser(new LayerRecordsSink(hasher));
    const inside = parser as unknown as ParserInternals;
    try {
      for (let off = 0, i = 0; off < bytes.length; i++) {
        const n = chunkSizes[i % chunkSizes.length];
        const before = inside.pos;
        parser.push(bytes.subarray(off, off + n));
        off += n;
        if (inside.pos < before) throw new Error(`the parser moved back from byte ${before} to ${inside.pos}`);
        const held = inside.metaBuf.reduce((s, c) => s + c.length, 0);
        if (held > metaCap || inside.pendingLen >= BLOCK) throw new Error(`the parser holds ${held} bytes of metadata, ${inside.pendingLen} of a header`);
      }
      parser.end();
    } catch (e) {
      if (!(e instanceof StrataError)) throw e;
    }
  });
  await fc.assert(property, { seed, numRuns: 3000, interruptAfterTimeLimit: 20_000 });
  t.pass();
});
