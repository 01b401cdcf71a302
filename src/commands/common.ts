import type { Argv } from 'yargs';
import { openImage } from '../layers/sources/resolve.js';
import { readImage, type ImageModel } from '../layers/read-image.js';
import { parsePlatform } from '../layers/platform.js';
import { LayerCache, defaultCacheDir } from '../layers/layer-cache.js';
import { parseSize } from '../layers/units.js';
import { join } from 'node:path';

export interface ImageArgs {
  image: string;
  platform?: string;
  cacheDir?: string;
  cache?: boolean;
  cacheMax?: string;
}

export function imageOptions<T>(y: Argv<T>) {
  return y
    .positional('image', { type: 'string', demandOption: true, describe: 'image: archive path, OCI layout, prefixed reference, or - for stdin' })
    .option('platform', { type: 'string', describe: 'os/arch[/variant] to pick from a multi-platform index (default linux/amd64)' })
    .option('cache-dir', { type: 'string', describe: 'cache directory (default $STRATA_CACHE_DIR or ~/.cache/strata)' })
    .option('cache', { type: 'boolean', describe: 'reuse per-layer results cached by diffID (--no-cache: read and verify every blob)' })
    .option('cache-max', { type: 'string', describe: 'size cap of the layer cache, e.g. 2GB (default $STRATA_CACHE_MAX or 2GB)' });
}

function layerCache(args: ImageArgs): LayerCache | undefined {
  const off = args.cache === false || (args.cache === undefined && !!process.env.STRATA_NO_CACHE);
  if (off) return undefined;
  const root = args.cacheDir ?? process.env.STRATA_CACHE_DIR;
  const max = args.cacheMax ?? process.env.STRATA_CACHE_MAX ?? '2GB';
  return new LayerCache({ dir: root ? join(root, 'layers') : defaultCacheDir(), maxBytes: parseSize(max, '--cache-max') });
}

/** Open and read an image, with progress on stderr when it is a terminal. */
export async function loadModel(args: ImageArgs): Promise<ImageModel> {
  const image = await openImage(args.image, { platform: args.platform ? parsePlatform(args.platform) : undefined });
  const tty = process.stderr.isTTY;
  const model = await readImage(image, {
    cache: layerCache(args),
    onProgress: tty ? (done, total) => process.stderr.write(`\rreading layers ${done}/${total}`) : undefined,
  });
  if (tty) process.stderr.write('\r\x1b[K');
  return model;
}

/** Write lines to stdout honouring back-pressure (large listings piped to less or head). */
export async function writeLines(lines: Iterable<string>): Promise<void> {
  let buf = '';
  for (const line of lines) {
    buf += `${line}\n`;
    if (buf.length > 1 << 16) {
      if (!process.stdout.write(buf)) await new Promise((r) => process.stdout.once('drain', r));
      buf = '';
    }
  }
  if (buf) process.stdout.write(buf);
}
