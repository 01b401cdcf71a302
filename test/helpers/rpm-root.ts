/**
 * Real rpm databases for the rpm reader's tests: packages built with rpmbuild from specs the test
 * writes, installed into a temporary root with Debian's rpm (sqlite, the one backend it writes),
 * their headers exported with `rpmdb --exportdb`, and the same headers put into a Berkeley DB hash
 * file by libdb's own db_load (which rpm's bdb_ro reads back) or into an NDB file laid out as rpm's
 * lib/backend/ndb/rpmpkg.c writes it (no tool on Debian writes or reads NDB).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A public signing key (ed25519, made once with gpg for these tests): `rpm --import` stores it as a gpg-pubkey header. */
export const SIGNING_KEY = `-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEaxZ1jxYJKwYBBAHaRw8BAQdAVGQXARPCUgQiNiTeMYHIjwey3TrYcyI1P2Ht
cfRoDi+0InN0cmF0YSB0ZXN0IDx0ZXN0QGV4YW1wbGUuaW52YWxpZD6IkAQTFggA
OBYhBOKMlkCP019sqHY/M53bQZ1BzZpABQJrFnWPAhsDBQsJCAcCBhUKCQgLAgQW
AgMBAh4BAheAAAoJEJ3bQZ1BzZpAT2wBANoTgaDLvscPTzpa6BCQIhC2a3omRce1
YHxIi1++8PaUAP9yJ92yN+RxdCiWABuTUFQCBxgS0aVaie1zlsp95yYkDA==
=zCVL
-----END PGP PUBLIC KEY BLOCK-----
`;

/** rpm, rpmbuild or rpmdb with a HOME of `work` (no ~/.rpmmacros of the machine's); stdout. */
export async function rpmTool(work: string, tool: 'rpm' | 'rpmbuild' | 'rpmdb', args: string[]): Promise<Buffer> {
  const r = await run(tool, args, { env: { ...process.env, HOME: work }, encoding: 'buffer', maxBuffer: 1 << 30 });
  return r.stdout;
}

/** Build each spec (noarch packages) under `work`; the paths of the .rpm files. */
export async function buildPackages(work: string, specs: string[]): Promise<string[]> {
  const top = join(work, 'rpmbuild');
  mkdirSync(join(top, 'tmp'), { recursive: true });
  for (const [i, text] of specs.entries()) {
    const spec = join(work, `${i}.spec`);
    writeFileSync(spec, text);
    await rpmTool(work, 'rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${top}`, '--define', `_tmppath ${join(top, 'tmp')}`, spec]);
  }
  const dir = join(top, 'RPMS', 'noarch');
  return readdirSync(dir).map((f) => join(dir, f));
}

/** The rpm options that address the database of the root `root`. */
export const inRoot = (root: string) => ['--root', root, '--dbpath', '/var/lib/rpm'];

/** Install `rpms` into a new root `root` (sqlite database at var/lib/rpm) and import SIGNING_KEY. */
export async function installRoot(work: string, root: string, rpms: string[]): Promise<void> {
  mkdirSync(root, { recursive: true });
  await rpmTool(work, 'rpm', [...inRoot(root), '-i', '--nodeps', '--ignorearch', '--ignoreos', '--noscripts', ...rpms]);
  const key = join(work, 'key.asc');
  writeFileSync(key, SIGNING_KEY);
  await rpmTool(work, 'rpm', [...inRoot(root), '--import', key]);
}

/** The header blobs of a root's database, as `rpmdb --exportdb` writes them (each after an 8-byte magic). */
export async function exportedHeaders(work: string, root: string): Promise<Uint8Array[]> {
  const b = await rpmTool(work, 'rpmdb', [...inRoot(root), '--exportdb']);
  const out: Uint8Array[] = [];
  for (let at = 0; at < b.length; ) {
    const length = 8 + b.readUInt32BE(at + 8) * 16 + b.readUInt32BE(at + 12);
    out.push(b.subarray(at + 8, at + 8 + length));
    at += 8 + length;
  }
  return out;
}

/**
 * A Berkeley DB hash `Packages` as rpm's bdb backend keeps it, written by db5.3_load: header
 * number (native 4 bytes) -> header blob, and header number 0 -> the next free number.
 */
export async function berkeleyDb(work: string, blobs: Uint8Array[], opts: { pageSize: number; bigEndian: boolean }): Promise<Uint8Array> {
  const key = (n: number) => {
    const b = Buffer.alloc(4);
    if (opts.bigEndian) b.writeUInt32BE(n);
    else b.writeUInt32LE(n);
    return b.toString('hex');
  };
  const lines = ['VERSION=3', 'format=bytevalue', 'type=hash', `db_pagesize=${opts.pageSize}`, `db_lorder=${opts.bigEndian ? 4321 : 1234}`, 'HEADER=END'];
  lines.push(` ${key(0)}`, ` ${key(blobs.length + 1)}`);
  blobs.forEach((b, i) => lines.push(` ${key(i + 1)}`, ` ${Buffer.from(b).toString('hex')}`));
  lines.push('DATA=END', '');
  const dir = join(work, `bdb-${opts.pageSize}-${opts.bigEndian ? 'be' : 'le'}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'dump'), lines.join('\n'));
  await run('db5.3_load', ['-f', join(dir, 'dump'), join(dir, 'Packages')]);
  return new Uint8Array(readFileSync(join(dir, 'Packages')));
}

/** An NDB `Packages.db` holding `blobs` as header numbers 1…n, laid out as rpmpkg.c writes it. */
export function ndbFile(blobs: Uint8Array[]): Uint8Array {
  const PAGE = 4096;
  const slotPages = Math.ceil((blobs.length + 2) / (PAGE / 16));
  const blocks = blobs.map((b) => Math.ceil((16 + b.length + 12) / 16));
  const out = Buffer.alloc(slotPages * PAGE + blocks.reduce((a, n) => a + n * 16, 0));
  out.write('RpmP', 0, 'latin1');
  out.writeUInt32LE(0, 4); // version
  out.writeUInt32LE(1, 8); // generation
  out.writeUInt32LE(slotPages, 12);
  out.writeUInt32LE(blobs.length + 1, 16); // next header number
  for (let at = 32; at < slotPages * PAGE; at += 16) out.write('Slot', at, 'latin1');
  let block = (slotPages * PAGE) / 16;
  blobs.forEach((b, i) => {
    const slot = 32 + i * 16;
    out.writeUInt32LE(i + 1, slot + 4);
    out.writeUInt32LE(block, slot + 8);
    out.writeUInt32LE(blocks[i], slot + 12);
    const start = block * 16;
    out.write('BlbS', start, 'latin1');
    out.writeUInt32LE(i + 1, start + 4);
    out.writeUInt32LE(1_700_000_000, start + 8);
    out.writeUInt32LE(b.length, start + 12);
    out.set(b, start + 16);
    const tail = start + blocks[i] * 16 - 12;
    out.writeUInt32LE(adler32(out.subarray(start, tail)), tail);
    out.writeUInt32LE(b.length, tail + 4);
    out.write('BlbE', tail + 8, 'latin1');
    block += blocks[i];
  });
  return new Uint8Array(out);
}

function adler32(b: Uint8Array): number {
  let s1 = 1;
  let s2 = 0;
  for (const c of b) {
    s1 = (s1 + c) % 65521;
    s2 = (s2 + s1) % 65521;
  }
  return ((s2 << 16) | s1) >>> 0;
}
