/**
 * Read the content of a few files out of one layer by streaming its blob again: only the wanted
 * entries' bytes are kept, everything else flows through the tar parser and is dropped.
 */
import { StrataError, within } from '../util/errors.js';
import { uncompressed } from './compression.js';
import { normalizeEntryPath } from '../util/paths.js';
import { TarParser, type TarHeader, type TarSink } from './tar-parser.js';
import type { Image } from '../image/image.js';

/**
 * Content of the regular files at record rows `rows` of layer `layerIndex` (LayerRecords numbering:
 * one row per tar entry, the root entry excepted, as LayerRecordsSink counts them). Rows, not paths:
 * a path stored twice in a layer has two contents, and a hardlink made between the two keeps the
 * first (docs/union.md). Rows that are not regular files are absent from the result.
 */
export async function readRows(image: Image, layerIndex: number, rows: Iterable<number>): Promise<Map<number, Buffer>> {
  const found = new Map<number, Buffer>();
  let chunks: Buffer[] = [];
  await streamRows(image, layerIndex, rows, {
    start: () => (chunks = []),
    data: (chunk) => chunks.push(Buffer.from(chunk)), // copy: the chunk may view a reused buffer
    end: (row) => found.set(row, Buffer.concat(chunks)),
  });
  return found;
}

/** Where streamRows sends each wanted file: synchronous, so that a chunk is used before the parser reuses it. */
export interface RowSink {
  start(row: number): void;
  data(chunk: Buffer): void;
  end(row: number): void;
}

/**
 * The content of the regular files at record rows `rows` of layer `layerIndex`, streamed to `sink`
 * one file after another in layer order: memory stays one chunk, whatever the files weigh.
 */
export async function streamRows(image: Image, layerIndex: number, rows: Iterable<number>, sink: RowSink): Promise<void> {
  const layer = image.layers[layerIndex];
  if (!layer) throw new StrataError(`layer ${layerIndex}: the image has layers 0..${image.layers.length - 1}`);
  const wanted = new Set(rows);
  if (wanted.size === 0) return;
  let row = -1;
  let current = -1;
  const flush = () => {
    if (current >= 0) sink.end(current);
    current = -1;
  };
  const tar: TarSink = {
    entry(h: TarHeader) {
      flush();
      if (normalizeEntryPath(h.name) === '') return; // the root: no row
      row++;
      if (h.type === 'file' && wanted.has(row)) sink.start((current = row));
    },
    data(chunk: Buffer) {
      if (current >= 0) sink.data(chunk);
    },
    end: flush,
  };
  const parser = new TarParser(tar);
  try {
    const { chunks } = await uncompressed(layer.open());
    for await (const c of chunks) parser.push(c);
    parser.end();
  } catch (e) {
    throw e instanceof StrataError || (e as NodeJS.ErrnoException).code ? within(layer.where, e) : e;
  }
}
