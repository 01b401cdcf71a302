/**
 * An archive read once from a stream (stdin, or a gzip-compressed `docker save` file). `docker save`
 * writes manifest.json last, so every member that could be a layer is scanned as it passes and the
 * image is assembled at the end; nothing is written to disk. tar-stream reads the outer archive: its
 * members are few and large, where its per-entry streams cost nothing.
 */
import { Readable, Transform } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { extract, type Extract, type Header } from 'tar-stream';
import { StrataError } from '../util/errors.js';
import { decompressor, sniffCompression } from '../scan/compression.js';
import { normalizeEntryPath, parentOf } from '../util/paths.js';
import { scanLayer, type LayerScan } from '../scan/scan-layer.js';
import { TarParser } from '../scan/tar-parser.js';
import type { ContentScanSettings } from '../scan/secret-scan.js';
import type { ScannedTree } from './tree-layer.js';
import { resolveRelative } from './file-tree.js';

/** Members up to this size are kept in memory (configs, manifests, small layers). */
export const KEEP_BYTES = 1024 * 1024;
/**
 * All the members kept, together: an image has at most 127 layers (overlayfs), so an honest archive
 * keeps less than this; an endless stream of small members would otherwise fill the memory.
 */
export const MAX_KEPT_BYTES = 256 * 1024 * 1024;

/** A source that can be read again from the start (a file, another export from an engine). */
export type Reopen = () => AsyncIterable<Buffer>;

export class StreamTree implements ScannedTree {
  readonly small = new Map<string, Buffer>();
  readonly scans = new Map<string, LayerScan | Error>();
  readonly links = new Map<string, string>();
  constructor(
    readonly name: string,
    private readonly reopen?: Reopen,
  ) {}

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
  /**
   * A member's bytes: kept ones from memory; a large one (a layer scanned as it passed) by reading
   * the source again up to it, where the source can be (file contents for `diff --file`).
   */
  open(path: string): AsyncIterable<Buffer> {
    const p = this.resolve(path);
    const b = this.small.get(p);
    if (b) {
      return (async function* () {
        yield b;
      })();
    }
    if (!this.reopen || !this.scans.has(p)) {
      throw new StrataError(`${this.name}: ${path} passed once and was not kept (a stream cannot be read again: save the image to a file for file contents)`);
    }
    return memberAgain(this.reopen, p, this.name);
  }
  scanned(path: string): LayerScan | undefined {
    const s = this.scans.get(this.resolve(path));
    if (s instanceof Error) throw s;
    return s;
  }
}

/** The outer archive through tar-stream, gunzipped first when it is compressed. */
async function outerArchive(input: AsyncIterable<Buffer>, name: string): Promise<{ source: Readable; ex: Extract; piped: Promise<void> }> {
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) throw new StrataError(`${name}: empty input, expected an image archive`);
  async function* all() {
    try {
      yield first.value;
      for (;;) {
        const n = await it.next();
        if (n.done) return;
        yield n.value;
      }
    } finally {
      await it.return?.(); // closes the source (a socket, a child's pipe) when the archive is left early
    }
  }
  const kind = sniffCompression(first.value);
  const source = Readable.from(all(), { objectMode: false });
  const ex = extract();
  const piped = kind === 'none' ? pipeline(source, checked(name), ex) : pipeline(source, decompressor(kind), checked(name), ex);
  return { source, ex, piped };
}

/**
 * The outer tar passes through strata's own parser on its way to tar-stream, which only counts the
 * data: its limits (declared sizes, metadata caps, bytes after the end-of-archive marker, which
 * tar-stream reads for ever) apply to a streamed archive as to a layer.
 */
function checked(name: string): Transform {
  const parser = new TarParser({ entry() {}, data() {}, end() {} });
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        parser.push(chunk);
      } catch (e) {
        done(e instanceof StrataError ? new StrataError(`${name}: not a readable tar archive (${e.message})`) : (e as Error));
        return;
      }
      done(null, chunk);
    },
  });
}

const isRegular = (h: Header) => h.type === 'file' || h.type === 'contiguous-file';

/** One member of a source read again from the start; the source is closed once it has passed. */
async function* memberAgain(reopen: Reopen, path: string, name: string): AsyncGenerator<Buffer> {
  const { source, ex, piped } = await outerArchive(reopen(), name);
  piped.catch(() => undefined); // destroyed below once the member is read; a real failure shows in the loop
  try {
    for await (const entry of ex) {
      if (isRegular(entry.header) && normalizeEntryPath(entry.header.name) === path) {
        yield* entry as AsyncIterable<Buffer>;
        return;
      }
      entry.resume();
    }
  } catch (e) {
    throw e instanceof StrataError ? e : new StrataError(`${name}: not a readable tar archive on a second read (${(e as Error).message})`);
  } finally {
    source.destroy();
    ex.destroy();
  }
  throw new StrataError(`${name}: ${path} is missing on a second read (the source changed?)`);
}

/** `secrets`: what the layers scanned as they pass read small files for (secret-scan.ts). */
export async function readStreamTree(input: AsyncIterable<Buffer>, name: string, reopen?: Reopen, secrets?: ContentScanSettings): Promise<StreamTree> {
  const tree = new StreamTree(name, reopen);
  const { ex, piped } = await outerArchive(input, name);
  let kept = 0;
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
      } else if (!isRegular(h)) {
        entry.resume();
      } else if ((h.size ?? 0) <= KEEP_BYTES) {
        kept += h.size ?? 0;
        if (kept > MAX_KEPT_BYTES) throw new StrataError(`${name}: more than ${MAX_KEPT_BYTES} bytes of small members (up to ${KEEP_BYTES} bytes each) to keep: not an image archive`);
        const parts: Buffer[] = [];
        for await (const c of entry) parts.push(c as Buffer);
        tree.small.set(path, Buffer.concat(parts));
      } else {
        try {
          tree.scans.set(path, await scanLayer(entry as AsyncIterable<Buffer>, { secrets }));
        } catch (e) {
          tree.scans.set(path, e instanceof Error ? e : new Error(String(e)));
          entry.resume();
          await finished(entry as unknown as NodeJS.ReadableStream).catch(() => undefined);
        }
      }
    }
  })();
  try {
    await Promise.all([piped, consume]);
  } catch (e) {
    if (e instanceof StrataError) throw e;
    throw new StrataError(`${name}: not a readable tar archive (${(e as Error).message})`);
  }
  if (tree.small.size + tree.scans.size === 0) throw new StrataError(`${name}: not an image archive (no files)`);
  return tree;
}
