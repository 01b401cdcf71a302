import type { Argv } from 'yargs';
import { openImage } from '../layers/sources/resolve.js';
import { readImage, type ImageModel } from '../layers/read-image.js';
import { parsePlatform } from '../layers/platform.js';

export interface ImageArgs {
  image: string;
  platform?: string;
}

export function imageOptions<T>(y: Argv<T>) {
  return y
    .positional('image', { type: 'string', demandOption: true, describe: 'image: archive path, OCI layout, prefixed reference, or - for stdin' })
    // yargs re-parses positionals as `--image VALUE` and drops a VALUE of `-`; nargs makes it keep it
    .nargs('image', 1)
    .option('platform', { type: 'string', describe: 'os/arch[/variant] to pick from a multi-platform index (default linux/amd64)' });
}

/** Open and read an image, with progress on stderr when it is a terminal. */
export async function loadModel(args: ImageArgs): Promise<ImageModel> {
  const image = await openImage(args.image, { platform: args.platform ? parsePlatform(args.platform) : undefined });
  const tty = process.stderr.isTTY;
  const model = await readImage(image, {
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
