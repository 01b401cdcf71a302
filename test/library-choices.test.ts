/**
 * The failing cases behind two library decisions (docs/tar.md, docs/performance.md): they pin the
 * behaviour of the libraries as installed, so an upgrade that fixes them shows up here.
 */
import test from 'ava';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { scanLayer } from '../src/layers/scan-layer.js';
import { TarParser, type TarHeader } from '../src/layers/tar-parser.js';

const require = createRequire(import.meta.url);
const capability = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0x80, 0x00, 0x00]);

function block(name: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

/** A tar with one file carrying a binary security.capability xattr in a PAX record. */
function tarWithCapability(): Buffer {
  const key = Buffer.from(' SCHILY.xattr.security.capability=');
  const bodyLen = key.length + capability.length + 1;
  let len = bodyLen + 2;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  const record = Buffer.concat([Buffer.from(String(len)), key, capability, Buffer.from('\n')]);
  return Buffer.concat([block('PaxHeader/ping', record.length, 'x'), pad(record), block('bin/ping', 0, '0'), Buffer.alloc(1024)]);
}

test('tar-stream decodes PAX values as UTF-8 and loses binary xattr bytes; strata keeps them', async (t) => {
  const tar = tarWithCapability();
  const ex = extract();
  const seen: Buffer[] = [];
  ex.on('entry', (h, s, next) => {
    const pax = (h as { pax?: Record<string, string> }).pax;
    seen.push(Buffer.from(pax?.['SCHILY.xattr.security.capability'] ?? '', 'utf8'));
    s.resume();
    s.on('end', next);
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve).on('error', reject);
    ex.end(tar);
  });
  t.notDeepEqual(seen[0], capability, 'tar-stream now keeps binary PAX values: docs/tar.md can be revisited');

  let header: TarHeader | undefined;
  const p = new TarParser({ entry: (h) => (header = h), data: () => {}, end: () => {} });
  p.push(tar);
  p.end();
  t.deepEqual(header!.xattrs!.get('security.capability'), capability);
});

test('zlib-sync stops at the first gzip member; strata reads multi-member layers whole', async (t) => {
  const tar = Buffer.concat([block('a', 0, '0'), block('b', 0, '0'), Buffer.alloc(1024)]);
  const twoMembers = Buffer.concat([gzipSync(tar.subarray(0, 512)), gzipSync(tar.subarray(512))]);
  const z = require('zlib-sync') as { Inflate: new (o: object) => { push(b: Buffer, f: number): void; result: Buffer }; Z_SYNC_FLUSH: number };
  const inf = new z.Inflate({ windowBits: 31 });
  inf.push(twoMembers, z.Z_SYNC_FLUSH);
  t.is(inf.result.length, 512, 'zlib-sync now reads past the first member: docs/performance.md can be revisited');
  const scan = await scanLayer((async function* () {
    yield twoMembers;
  })());
  t.deepEqual(scan.records.path, ['a', 'b']);
  t.is(scan.records.tarSize, tar.length);
});
