/**
 * Read the content of a few files out of one layer by streaming its blob again: only the wanted
 * entries' bytes are kept, everything else flows through the tar parser and is dropped.
 */
import { StrataError, within } from './errors.js';
import { uncompressed } from './compression.js';
import { normalizeEntryPath } from './paths.js';
import { TarParser, type TarHeader, type TarSink } from './tar-parser.js';
import type { Image } from './image.js';

/**
 * Content of regular files `paths` (root-relative, as in the union: `etc/passwd`) as stored in layer
 * `layerIndex`. A path stored twice in the layer yields its last copy, as extraction would. Paths the
 * layer does not hold as regular files are absent from the result.
 */
export async function readFiles(image: Image, layerIndex: number, paths: Iterable<string>): Promise<Map<string, Buffer>> {
  const layer = image.layers[layerIndex];
  if (!layer) throw new StrataError(`layer ${layerIndex}: the image has layers 0..${image.layers.length - 1}`);
  const wanted = new Set(paths);
  const found = new Map<string, Buffer>();
  if (wanted.size === 0) return found;
  let current: string | null = null;
  let chunks: Buffer[] = [];
  const flush = () => {
    if (current !== null) found.set(current, Buffer.concat(chunks));
    current = null;
    chunks = [];
  };
  const sink: TarSink = {
    entry(h: TarHeader) {
      flush();
      const path = normalizeEntryPath(h.name);
      if (!wanted.has(path)) return;
      if (h.type === 'file') current = path;
      else found.delete(path); // replaced by a non-file later in the same layer
    },
    data(chunk: Buffer) {
      if (current !== null) chunks.push(Buffer.from(chunk)); // copy: the chunk may view a reused buffer
    },
    end: flush,
  };
  const parser = new TarParser(sink);
  try {
    const { chunks } = await uncompressed(layer.open());
    for await (const c of chunks) parser.push(c);
    parser.end();
  } catch (e) {
    throw e instanceof StrataError || (e as NodeJS.ErrnoException).code ? within(layer.where, e) : e;
  }
  return found;
}
