/**
 * An archive read once from a stream (stdin, or a gzip-compressed `docker save` file). `docker save`
 * writes manifest.json last, so every member that could be a layer is scanned as it passes and the
 * image is assembled at the end; nothing is written to disk. tar-stream reads the outer archive: its
 * members are few and large, where its per-entry streams cost nothing.
 */
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { StrataError } from '../errors.js';
import { decompressor, sniffCompression } from '../compression.js';
import { normalizeEntryPath, parentOf } from '../paths.js';
import { scanLayer, type LayerScan } from '../scan-layer.js';
import type { ScannedTree } from './tree-layer.js';
import { resolveRelative } from '../file-tree.js';

/** Members up to this size are kept in memory (configs, manifests, small layers). */
const KEEP_BYTES = 1024 * 1024;

export class StreamTree implements ScannedTree {
  readonly small = new Map<string, Buffer>();
  readonly scans = new Map<string, LayerScan | Error>();
  readonly links = new Map<string, string>();
  constructor(readonly name: string) {}

  private resolve(path: string): string {
    let p = path;
    for (let i = 0; i < 16 && this.links.has(p); i++) p = this.links.get(p)!;
    return p;
  }
  has(path: string): boolean {
    const p = this.resolve(path);
    return this.small.has(p) || this.scans.has(p);
  }
  size(path: string): number | undefined {
    const p = this.resolve(path);
    const s = this.scans.get(p);
    return this.small.get(p)?.length ?? (s && !(s instanceof Error) ? s.blobSize : undefined);
  }
  async read(path: string): Promise<Buffer> {
    const b = this.small.get(this.resolve(path));
    if (!b) throw new StrataError(`${this.name}: ${path} is not a small file`);
    return b;
  }
  open(path: string): AsyncIterable<Buffer> {
    const b = this.small.get(this.resolve(path));
    if (!b) throw new StrataError(`${this.name}: ${path} was already consumed from the stream`);
    return (async function* () {
      yield b;
    })();
  }
  scanned(path: string): LayerScan | undefined {
    const s = this.scans.get(this.resolve(path));
    if (s instanceof Error) throw s;
    return s;
  }
}

export async function readStreamTree(input: AsyncIterable<Buffer>, name: string): Promise<StreamTree> {
  const tree = new StreamTree(name);
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) throw new StrataError(`${name}: empty input, expected an image archive`);
  async function* all() {
    yield first.value;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  }
  const kind = sniffCompression(first.value);
  const source = Readable.from(all(), { objectMode: false });
  const ex = extract();
  const consume = (async () => {
    for await (const entry of ex) {
      const h = entry.header;
      let path: string;
      try {
        path = normalizeEntryPath(h.name);
      } catch (e) {
        throw new StrataError(`${name}: ${(e as Error).message}`);
      }
      if (h.type === 'symlink' || h.type === 'link') {
        const base = h.type === 'symlink' ? parentOf(path) : '';
        let target: string;
        try {
          target = resolveRelative(base, h.linkname ?? '');
        } catch (e) {
          throw new StrataError(`${name}: ${path}: ${(e as Error).message}`);
        }
        tree.links.set(path, target);
        entry.resume();
      } else if (h.type !== 'file' && h.type !== 'contiguous-file') {
        entry.resume();
      } else if ((h.size ?? 0) <= KEEP_BYTES) {
        const parts: Buffer[] = [];
        for await (const c of entry) parts.push(c as Buffer);
        tree.small.set(path, Buffer.concat(parts));
      } else {
        try {
          tree.scans.set(path, await scanLayer(entry as AsyncIterable<Buffer>));
        } catch (e) {
          tree.scans.set(path, e instanceof Error ? e : new Error(String(e)));
          entry.resume();
          await finished(entry as unknown as NodeJS.ReadableStream).catch(() => undefined);
        }
      }
    }
  })();
  try {
    if (kind === 'none') await Promise.all([pipeline(source, ex), consume]);
    else await Promise.all([pipeline(source, decompressor(kind), ex), consume]);
  } catch (e) {
    if (e instanceof StrataError) throw e;
    throw new StrataError(`${name}: not a readable tar archive (${(e as Error).message})`);
  }
  if (tree.small.size + tree.scans.size === 0) throw new StrataError(`${name}: not an image archive (no files)`);
  return tree;
}
