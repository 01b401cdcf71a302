/**
 * Random access to the files of an image container: a directory (OCI layout) or a tar file
 * (docker save, OCI archive). A tar file is indexed once by reading only its headers and seeking
 * over the data, so opening a multi-GB archive costs a few reads.
 */
import { lstat, open, readdir, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { constants, createReadStream, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { StrataError } from '../util/errors.js';
import { checkJsonSize, parseJson, shown } from '../util/json-doc.js';
import { verifyDigest } from '../util/digest.js';
import type { FileRange } from '../image/image.js';
import { normalizeEntryPath, parentOf } from '../util/paths.js';
import { TarParser, type TarHeader } from '../scan/tar-parser.js';

export interface FileTree {
  /** What the tree is, for messages: the archive or directory path. */
  readonly name: string;
  has(path: string): boolean;
  size(path: string): number | undefined;
  read(path: string): Promise<Buffer>;
  open(path: string): AsyncIterable<Buffer>;
  /** The file's bytes as a range of a local file, where the tree is one (not a stream). */
  locate?(path: string): FileRange | undefined;
}

/** A file of a tree, as messages name it: `layout/index.json`, `save.tar: manifest.json`. */
export function docName(tree: FileTree, path: string): string {
  return tree instanceof DirTree ? join(tree.name, path) : `${tree.name}: ${path}`;
}

/**
 * Read a JSON document and validate it against `schema` (util/json-doc.ts); a content-addressed
 * file's `digest` is verified before a byte of it is parsed. `where` names it in errors.
 */
export async function readJson<S extends z.ZodType>(tree: FileTree, path: string, schema: S, where = docName(tree, path), digest?: string): Promise<z.output<S>> {
  if (!tree.has(path)) throw new StrataError(`${tree.name}: missing ${path}`);
  checkJsonSize(tree.size(path) ?? 0, where);
  const buf = await tree.read(path);
  if (digest) verifyDigest(buf, digest, where);
  return parseJson(buf, schema, where);
}

/** Why strata refuses to read a layout file: the whole message. */
type Refusal = string;
const NO_LINKS = 'strata follows no link in an OCI layout';

/**
 * An OCI layout directory. Nothing outside the root the user named is read: the root is resolved
 * once (naming it through a link is the user's choice), and below it no symbolic link is followed,
 * in any component. Layout writers make no links, so refusing them all is simpler and safer than
 * resolving each and checking that it stays inside. The check is made on the opened file itself
 * (O_NOFOLLOW, then the path the kernel gives for the descriptor), so it cannot race the open;
 * O_NONBLOCK keeps a FIFO planted as a blob from hanging the open.
 */
export class DirTree implements FileTree {
  private sizes = new Map<string, number | Refusal>();
  private root: Promise<string> | undefined;
  constructor(readonly name: string) {}

  private realRoot(): Promise<string> {
    this.root ??= realpath(this.name);
    return this.root;
  }

  /** Open `path` (a file, or a directory with `dir`) below the root, refusing any way out of it. */
  private async openInside(path: string, dir = false): Promise<FileHandle> {
    const full = join(await this.realRoot(), path);
    const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | (dir ? constants.O_DIRECTORY : 0);
    let fh: FileHandle;
    try {
      fh = await open(full, flags);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // with O_DIRECTORY, Linux answers ENOTDIR for a link: lstat only tells which message fits
      const link = code === 'ELOOP' || (code === 'ENOTDIR' && dir && (await lstat(full)).isSymbolicLink());
      if (link) throw this.refuse(path, `is a symbolic link; ${NO_LINKS}`);
      if (code === 'ENOTDIR' && dir) throw this.refuse(path, 'is not a directory');
      throw e;
    }
    try {
      const st = await fh.stat();
      if (dir ? !st.isDirectory() : !st.isFile()) throw this.refuse(path, dir ? 'is not a directory' : 'is not a regular file');
      if ((await openedPath(fh, full, st)) !== full) throw this.refuse(path, `is reached through a symbolic link; ${NO_LINKS}`);
      return fh;
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  private refuse(path: string, what: string): StrataError {
    return new StrataError(`${join(this.name, path)}: ${what}`);
  }

  /** Look at `paths` once: a file's size, or why it is refused (told when it is read). */
  async prefetch(paths: string[]): Promise<void> {
    await Promise.all(paths.map(async (p) => {
      try {
        const fh = await this.openInside(p);
        this.sizes.set(p, (await fh.stat()).size);
        await fh.close();
      } catch (e) {
        if (e instanceof StrataError) this.sizes.set(p, e.message);
        else this.sizes.delete(p);
      }
    }));
  }

  /** The names in directory `dir` of the layout; none when it is missing (a link is refused). */
  async list(dir: string): Promise<string[]> {
    let fh: FileHandle;
    try {
      fh = await this.openInside(dir, true);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    try {
      return await readdir(process.platform === 'linux' ? `/proc/self/fd/${fh.fd}` : join(await this.realRoot(), dir));
    } finally {
      await fh.close();
    }
  }

  has(path: string): boolean {
    return this.sizes.has(path);
  }

  size(path: string): number | undefined {
    const s = this.sizes.get(path);
    return typeof s === 'number' ? s : undefined;
  }

  /** The file's bytes, as many as it had when looked at (a file growing meanwhile cannot blow memory up). */
  async read(path: string): Promise<Buffer> {
    const fh = await this.openChecked(path);
    try {
      const buf = Buffer.alloc(this.size(path) ?? 0);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  open(path: string): AsyncIterable<Buffer> {
    const opened = () => this.openChecked(path);
    return (async function* () {
      yield* (await opened()).createReadStream({ highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
    })();
  }

  locate(path: string): FileRange | undefined {
    const size = this.size(path);
    // a scan worker reads the range by path: only a file that passed openInside
    return size === undefined ? undefined : { file: join(this.name, path), offset: 0, size };
  }

  private async openChecked(path: string): Promise<FileHandle> {
    const s = this.sizes.get(path);
    if (typeof s === 'string') throw new StrataError(s);
    return this.openInside(path);
  }
}

/** The path the kernel gives for an open file (Linux), else its realpath if that is the same file. */
async function openedPath(fh: FileHandle, full: string, st: Stats): Promise<string> {
  try {
    return await readlink(`/proc/self/fd/${fh.fd}`);
  } catch {
    const real = await realpath(full);
    const again = await stat(real);
    return again.dev === st.dev && again.ino === st.ino ? real : '';
  }
}

interface Member {
  offset: number;
  size: number;
  type: TarHeader['type'];
  link: string;
}

export class TarTree implements FileTree {
  private constructor(readonly name: string, private readonly members: Map<string, Member>) {}

  static async index(path: string): Promise<TarTree> {
    const fh = await open(path, 'r');
    try {
      const { size: fileSize } = await fh.stat();
      const members = new Map<string, Member>();
      let last: TarHeader | null = null;
      const parser = new TarParser({ entry: (h) => (last = h), data: () => {}, end: () => {} });
      const block = Buffer.alloc(512);
      let pos = 0;
      while (parser.phase !== 'done') {
        if (pos >= fileSize) break;
        const { bytesRead } = await fh.read(block, 0, 512, pos);
        if (bytesRead < 512) throw new StrataError(`${path}: truncated tar (header at byte ${pos} cut short)`);
        pos += 512;
        last = null;
        parser.push(block);
        if (parser.phase === 'meta') {
          // at most MAX_PAX_BYTES: the parser refused any larger declared size at the header
          const n = parser.pendingBytes;
          const meta = Buffer.alloc(n);
          const r = await fh.read(meta, 0, n, pos);
          if (r.bytesRead < n) throw new StrataError(`${path}: truncated tar (metadata at byte ${pos} cut short)`);
          pos += n;
          parser.push(meta);
        }
        const h = last as TarHeader | null;
        if (h) {
          const offset = pos;
          pos += parser.skipData();
          const dataSize = h.type === 'file' ? h.size : 0;
          const name = normalizeEntryPath(h.name);
          if (offset + dataSize > fileSize) {
            throw new StrataError(`${path}: truncated tar: ${shown(name)} needs ${dataSize} bytes, the file ends ${fileSize - offset} bytes in`);
          }
          members.set(name, { offset, size: dataSize, type: h.type, link: h.linkname });
        }
      }
      if (members.size === 0) throw new StrataError(`${path}: not a tar archive (no entries)`);
      return new TarTree(path, members);
    } catch (e) {
      if (e instanceof StrataError) {
        if (e.message.startsWith(path)) throw e;
        throw new StrataError(`${path}: ${e.message}`);
      }
      throw e;
    } finally {
      await fh.close();
    }
  }

  /** Follow symlinks between members (legacy saves link a repeated layer.tar to its first copy). */
  private resolve(path: string): Member | undefined {
    let p = path;
    for (let hops = 0; hops < 16; hops++) {
      const m = this.members.get(p);
      if (!m) return undefined;
      if (m.type !== 'symlink' && m.type !== 'hardlink') return m;
      const base = m.type === 'symlink' && !m.link.startsWith('/') ? parentOf(p) : '';
      try {
        p = normalizeEntryPath(resolveRelative(base, m.link));
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  list(): string[] {
    return [...this.members.keys()];
  }

  has(path: string): boolean {
    return this.resolve(path) !== undefined;
  }

  size(path: string): number | undefined {
    return this.resolve(path)?.size;
  }

  async read(path: string): Promise<Buffer> {
    const m = this.resolve(path);
    if (!m) throw new StrataError(`${this.name}: missing ${path}`);
    const fh = await open(this.name, 'r');
    try {
      const buf = Buffer.alloc(m.size);
      await fh.read(buf, 0, m.size, m.offset);
      return buf;
    } finally {
      await fh.close();
    }
  }

  open(path: string): AsyncIterable<Buffer> {
    const m = this.resolve(path);
    if (!m) throw new StrataError(`${this.name}: missing ${path}`);
    if (m.size === 0) return (async function* () {})();
    return createReadStream(this.name, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1024 * 1024 });
  }

  locate(path: string): FileRange | undefined {
    const m = this.resolve(path);
    return m && { file: this.name, offset: m.offset, size: m.size };
  }
}

/** `../abc/layer.tar` relative to `def/` -> `abc/layer.tar`, without leaving the archive. */
export function resolveRelative(base: string, link: string): string {
  const parts = base === '' ? [] : base.split('/');
  for (const seg of link.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) throw new StrataError(`link ${link} leaves the archive`);
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join('/');
}
