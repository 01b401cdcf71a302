/**
 * The failing cases behind two library decisions (docs/tar.md, docs/performance.md): they pin the
 * behaviour of the libraries as installed, so an upgrade that fixes them shows up here.
 */
import test from 'ava';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { scanLayer } from '../src/scan/scan-layer.js';
import { TarParser, type TarHeader } from '../src/scan/tar-parser.js';
import { file, tar } from './helpers/tar-writer.js';

const require = createRequire(import.meta.url);
const capability = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0x80, 0x00, 0x00]);

/** A tar with one file carrying a binary security.capability xattr in a PAX record. */
function tarWithCapability(): Buffer {
  return tar([file('bin/ping', '', { pax: { 'SCHILY.xattr.security.capability': capability } })]);
}

test('tar-stream decodes PAX values as UTF-8 and loses binary xattr bytes; strata keeps them', async (t) => {
  const archive = tarWithCapability();
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
    ex.end(archive);
  });
  t.notDeepEqual(seen[0], capability, 'tar-stream now keeps binary PAX values: docs/tar.md can be revisited');

  let header: TarHeader | undefined;
  const p = new TarParser({ entry: (h) => (header = h), data: () => {}, end: () => {} });
  p.push(archive);
  p.end();
  t.deepEqual(header!.xattrs!.get('security.capability'), capability);
});

test('zlib-sync stops at the first gzip member; strata reads multi-member layers whole', async (t) => {
  const layer = tar([file('a', ''), file('b', '')]);
  const twoMembers = Buffer.concat([gzipSync(layer.subarray(0, 512)), gzipSync(layer.subarray(512))]);
  const z = require('zlib-sync') as { Inflate: new (o: object) => { push(b: Buffer, f: number): void; result: Buffer }; Z_SYNC_FLUSH: number };
  const inf = new z.Inflate({ windowBits: 31 });
  inf.push(twoMembers, z.Z_SYNC_FLUSH);
  t.is(inf.result.length, 512, 'zlib-sync now reads past the first member: docs/performance.md can be revisited');
  const scan = await scanLayer((async function* () {
    yield twoMembers;
  })());
  t.deepEqual(scan.records.path, ['a', 'b']);
  t.is(scan.records.tarSize, layer.length);
});
