/**
 * Random access to the files of an image container: a directory (OCI layout) or a tar file
 * (docker save, OCI archive). A tar file is indexed once by reading only its headers and seeking
 * over the data, so opening a multi-GB archive costs a few reads.
 */
import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { StrataError } from '../util/errors.js';
import type { FileRange } from '../image/image.js';
import { normalizeEntryPath, parentOf } from '../util/paths.js';
import { TarParser, type TarHeader } from '../scan/tar-parser.js';

export const MAX_JSON_BYTES = 64 * 1024 * 1024;

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

/** Read and parse a JSON document; a sha256 `digest` (content-addressed files) is verified first. */
export async function readJson<T>(tree: FileTree, path: string, digest?: string): Promise<T> {
  if (!tree.has(path)) throw new StrataError(`${tree.name}: missing ${path}`);
  const size = tree.size(path) ?? 0;
  if (size > MAX_JSON_BYTES) throw new StrataError(`${tree.name}: ${path} is ${size} bytes, too large for a JSON document`);
  const buf = await tree.read(path);
  if (digest?.startsWith('sha256:')) {
    const actual = `sha256:${createHash('sha256').update(buf).digest('hex')}`;
    if (actual !== digest) throw new StrataError(`${tree.name}: ${path}: content does not match its digest ${digest} (got ${actual})`);
  }
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch (e) {
    throw new StrataError(`${tree.name}: ${path} is not valid JSON (${(e as Error).message})`);
  }
}

export class DirTree implements FileTree {
  private sizes = new Map<string, number | undefined>();
  constructor(readonly name: string) {}

  async prefetch(paths: string[]): Promise<void> {
    await Promise.all(paths.map(async (p) => {
      try {
        const s = await stat(join(this.name, p));
        this.sizes.set(p, s.isFile() ? s.size : undefined);
      } catch {
        this.sizes.set(p, undefined);
      }
    }));
  }

  has(path: string): boolean {
    return this.sizes.get(path) !== undefined;
  }

  size(path: string): number | undefined {
    return this.sizes.get(path);
  }

  read(path: string): Promise<Buffer> {
    return readFile(join(this.name, path));
  }

  open(path: string): AsyncIterable<Buffer> {
    return createReadStream(join(this.name, path), { highWaterMark: 1024 * 1024 });
  }

  locate(path: string): FileRange | undefined {
    const size = this.sizes.get(path);
    return size === undefined ? undefined : { file: join(this.name, path), offset: 0, size };
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
          if (offset + dataSize > fileSize) {
            throw new StrataError(`${path}: truncated tar: ${h.name} needs ${dataSize} bytes, the file ends ${fileSize - offset} bytes in`);
          }
          const name = normalizeEntryPath(h.name);
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
