/**
 * Unpacked root filesystems as a real extractor (umoci) writes them, compared with strata's view, and
 * the generated edge-case images the umoci oracle and the optimize round trips both use.
 */
import { xxhash128 } from 'hash-wasm';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { dir, file, hardlink, opaque, symlink, whiteout, type Entry } from './tar-writer.js';
import type { HashedEntry } from './fixtures.js';

export interface DiskEntry {
  type: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';
  size: number;
  mode: number;
  uid: number;
  gid: number;
  ino: number;
  /** Device number of a char or block device (major and minor). */
  rdev: number;
  link?: string;
  /** XXH3-128 of a regular file's bytes, as strata records it */
  hash?: string;
}
export type Disk = Map<string, DiskEntry>;

/** Every path under root (not root itself), by lstat: what a container would see. */
export async function walkDisk(root: string): Promise<Disk> {
  const out: Disk = new Map();
  const visit = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(root, rel))) {
      const p = `${rel}/${name}`;
      const abs = join(root, p);
      const st = await lstat(abs);
      const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : st.isFIFO() ? 'fifo' : 'socket';
      out.set(p, {
        type,
        size: st.size,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        ino: st.ino,
        rdev: st.rdev,
        link: type === 'symlink' ? await readlink(abs) : undefined,
        hash: type === 'file' ? await xxhash128(await readFile(abs)) : undefined,
      });
      if (type === 'dir') await visit(p);
    }
  };
  await visit('');
  return out;
}

/** As root umoci restores owners; otherwise it unpacks --rootless, every file owned by the caller. */
export const rootless = process.getuid?.() !== 0;

/** Differences between strata's listing and the unpacked tree, one line each; [] when they agree. */
export function compare(listing: HashedEntry[], disk: Disk): string[] {
  const out: string[] = [];
  const listed = new Map(listing.map((e) => [e.path, e]));
  for (const e of listing) {
    const d = disk.get(e.path);
    if (!d) {
      out.push(`missing on disk: ${e.path}`);
      continue;
    }
    const want = e.type === 'hardlink' ? (e.inodeType ?? 'file') : e.type;
    if (d.type !== want) out.push(`${e.path}: type strata=${e.type} disk=${d.type}`);
    if (want === 'file' && d.size !== e.size) out.push(`${e.path}: size strata=${e.size} disk=${d.size}`);
    if (e.hash !== undefined && d.hash !== e.hash) out.push(`${e.path}: content differs`);
    if (parseInt(e.mode, 8) !== d.mode) out.push(`${e.path}: mode strata=${e.mode} disk=${d.mode.toString(8).padStart(4, '0')}`);
    if (!rootless && (e.uid !== d.uid || e.gid !== d.gid)) out.push(`${e.path}: owner strata=${e.uid}:${e.gid} disk=${d.uid}:${d.gid}`);
    if (e.type === 'symlink' && e.linkTarget !== d.link) out.push(`${e.path}: symlink strata=${e.linkTarget} disk=${d.link}`);
    if (e.type === 'hardlink' && e.inode === undefined) {
      const target = disk.get(e.linkTarget!);
      if (!target || target.ino !== d.ino) out.push(`${e.path}: not the same inode as ${e.linkTarget} on disk`);
    }
  }
  const paths = [...disk.keys()].sort();
  for (const p of paths) if (!listed.has(p)) out.push(`only on disk: ${p}`);
  // the converse of the hardlink check: files sharing an inode on disk are one hardlink group in strata
  // (by the union's content owner where known: a hardlink's target path may hold a newer file)
  const group = (e: HashedEntry) => (e.inode !== undefined ? `#${e.inode}` : e.type === 'hardlink' ? e.linkTarget! : e.path);
  const byIno = new Map<number, string>();
  for (const p of paths) {
    const d = disk.get(p)!;
    const e = listed.get(p);
    if (d.type !== 'file' || !e) continue;
    const first = byIno.get(d.ino);
    if (first === undefined) byIno.set(d.ino, p);
    else if (group(listed.get(first)!) !== group(e)) out.push(`${first} and ${p} share an inode on disk, not in strata`);
  }
  return out;
}

/**
 * Edge cases generated here, not found in the real fixtures, applied by umoci too. Symlinks are
 * written with mode 0777, as docker and buildah write them: strata shows a tar header's mode as it
 * is, while a symlink on disk is always 0777. A hardlink's
 * path is what its tar entry names, while its content is what extraction gives it, so these are
 * compared through the API's views (content owners), not `strata ls`.
 */
export const edgeImages: { file: string; layers: Entry[][] }[] = [
  {
    file: 'hardlink-edges.oci.tar',
    layers: [
      [
        dir('etc'), file('etc/a', 'version one'), hardlink('etc/b', 'etc/a'), hardlink('etc/c', 'etc/b'),
        file('etc/a', 'v2'), hardlink('etc/d', 'etc/a'), dir('srv'), file('srv/x', 'x'), dir('opt'), file('opt/f', 'f'),
      ],
      [whiteout('etc/b'), file('opt', 'now a file'), hardlink('srv/y', 'etc/c')],
      [whiteout('etc/c'), dir('srv', { mode: 0o700 }), opaque('srv'), file('srv/z', 'z')],
    ],
  },
  {
    file: 'union-edges.oci.tar',
    layers: [
      [
        dir('a'), file('a/x', 'x'), dir('a/sub'), file('a/sub/y', 'y'), file('f1', 'f1'), dir('d1'), file('d1/k', 'k'),
        symlink('s1', 'd1', { mode: 0o777 }), file('m', 'meta', { mode: 0o644 }), dir('o'), file('o/keep', 'keep'), file('o/drop', 'drop'),
        dir('o/inner'), file('o/inner/z', 'z'), file('t', 'to be retyped'), file('p/q/r/deep', 'no parent entries'),
        { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 }, { name: 'run/pipe', type: 'fifo', mode: 0o600 },
        file('bin/su', 'setuid', { mode: 0o4755 }), dir('scratch', { mode: 0o1777 }), dir('v'), file('v/w', 'w'),
        file('names/with space', 's'), file('names/ünïcödé', 'u'), file('names/line\nbreak', 'n'),
        file('names/long', 'a name over 100 bytes, in a PAX record', { pax: { path: `names/${'long-'.repeat(30)}end` } }),
        file('./names/dot-slash', 'a ./ prefix'),
      ],
      [
        whiteout('a/sub'), file('a/sub/new', 'new'), file('d1', 'now a file'), dir('f1'), file('f1/child', 'c'),
        file('m', 'meta', { mode: 0o600 }), file('o/fresh', 'fresh'), opaque('o'), symlink('t', 'f1', { mode: 0o777 }), hardlink('d1link', 'd1'),
      ],
      [
        whiteout('s1'), file('a/x', 'x', { mtime: 12345 }), dir('a', { mode: 0o700 }), whiteout('p'), file('f1/child', 'c', { uid: 7, gid: 8 }),
        symlink('v', 'a', { mode: 0o777 }), { name: 'dev/null', type: 'char', devmajor: 1, devminor: 5, mode: 0o666 }, file('run/pipe', 'now a file'),
        file('m', 'meta', { mode: 0o600 }), whiteout('m'), opaque('o'), file('o/keep', 'kept by a second opaque layer'),
        whiteout('scratch'), file('scratch', 'a file where a sticky directory was'),
      ],
      // an opaque marker at the root: nothing of the lower layers is left
      [{ name: '.wh..wh..opq', type: 'file', mode: 0 }, dir('fresh'), file('fresh/start', 'over')],
    ],
  },
  {
    file: 'hardlinks-across-layers.oci.tar',
    layers: [
      [file('a', 'A', { mode: 0o644 }), file('x', 'X', { mode: 0o644 })],
      // y links to x, which the same layer whites out: extraction in tar order links first; hs links to a symlink
      [hardlink('b', 'a'), hardlink('y', 'x', { mode: 0o600, uid: 5 }), whiteout('x'), symlink('s', 'b', { mode: 0o777 }), hardlink('hs', 's'), hardlink('hs2', 'hs')],
      [file('a', 'A2', { mode: 0o644 })],
      [file('a', 'A2', { mode: 0o755 }), file('x', 'X again', { mode: 0o640 })],
      // a file replaced by a hardlink to another; a directory replaced by a hardlink
      [hardlink('a', 'y'), dir('d'), file('d/in', 'i'), dir('o'), file('o/f', 'in o')],
      // g links to o/f, which the same layer's opaque marker on o then clears from below
      [hardlink('g', 'o/f'), opaque('o'), file('o/new', 'n')],
      [whiteout('y'), whiteout('d'), hardlink('d', 'b')],
    ],
  },
  {
    file: 'through-symlinks.oci.tar',
    layers: [
      [dir('run'), file('run/base', 'b'), dir('var'), symlink('var/run', '../run', { mode: 0o777 }), dir('usr/lib'), symlink('lib', 'usr/lib', { mode: 0o777 })],
      [
        dir('var/run/ko'), file('var/run/ko/data', 'ko'), file('lib/x.so', 'x'), file('usr/lib/y.so', 'y'),
        // a chain of links, and a relative target that would climb above the root
        symlink('l1', 'l2', { mode: 0o777 }), symlink('l2', '/usr/lib', { mode: 0o777 }), file('l1/chained.so', 'c'),
        dir('deep/er'), symlink('deep/er/up', '../../../../usr', { mode: 0o777 }), file('deep/er/up/lib/clamped.so', 'u'),
      ],
      // an opaque marker inside the symlinked directory clears where it points; then a directory replaces a symlink
      [opaque('lib'), file('lib/z.so', 'z'), dir('var/run'), file('var/run/own', 'o')],
    ],
  },
  {
    // a path stored as a hardlink, then as a directory or fifo; a path stored again, then deleted with its parent
    file: 'same-layer-rewrites.oci.tar',
    layers: [
      [dir('d'), file('d/f', 'old'), file('d/g', 'g')],
      [
        file('a', 'AAAA', { mode: 0o600, uid: 5, gid: 6 }), hardlink('x', 'a'), dir('x', { mode: 0o711, uid: 7 }),
        hardlink('p', 'a'), { name: 'p', type: 'fifo', mode: 0o640 }, file('d/f', 'new content'), file('d', 'now a file'),
      ],
    ],
  },
  {
    // AUFS names below the root: ordinary names, and `.wh..wh.x` the whiteout of `.wh.x`
    file: 'aufs-below-root.oci.tar',
    layers: [
      [dir('a'), file('a/.wh..wh.plnk/1.2', 'plnk'), dir('b/.wh.x'), file('b/.wh.x/f', 'f')],
      [{ name: 'a/.wh..wh.plnk', type: 'dir' }, file('b/.wh..wh.x', ''), dir('c/.wh..wh.plnk')],
    ],
  },
];
