import type { Argv } from 'yargs';
import { openImage } from '../layers/sources/resolve.js';
import { readImage, type ImageModel } from '../layers/read-image.js';
import { parsePlatform } from '../layers/platform.js';
import { StrataError } from '../layers/errors.js';
import { parseSize } from '../layers/cache.js';
import { ProgressBars } from './progress.js';

export interface ImageArgs {
  image: string;
  platform?: string;
  username?: string;
  passwordStdin?: boolean;
  insecure?: boolean;
  cacheDir?: string;
  cache?: boolean;
  cacheMax?: string;
}

export function imageOptions<T>(y: Argv<T>) {
  return y
    .positional('image', { type: 'string', demandOption: true, describe: 'image: archive path, OCI layout, prefixed reference, or - for stdin' })
    .option('platform', { type: 'string', describe: 'os/arch[/variant] to pick from a multi-platform index (default linux/amd64)' })
    .option('username', { type: 'string', describe: 'registry user name (else docker/podman logins are used)' })
    .option('password-stdin', { type: 'boolean', describe: 'read the registry password or token from stdin' })
    .option('insecure', { type: 'boolean', describe: 'allow plain HTTP and unverified TLS for the registry' })
    .option('cache-dir', { type: 'string', describe: 'blob cache directory (default $XDG_CACHE_HOME/strata)' })
    .option('cache', { type: 'boolean', default: true, describe: 'keep pulled blobs in the cache (--no-cache: do not)' })
    .option('cache-max', { type: 'string', describe: 'cache size cap, e.g. 5G (default 10G); least recently used blobs go first' });
}

/** Open and read an image, with progress on stderr when it is a terminal. */
export async function loadModel(args: ImageArgs): Promise<ImageModel> {
  const tty = process.stderr.isTTY;
  const bars = tty ? new ProgressBars(process.stderr) : undefined;
  const image = await openImage(args.image, {
    platform: args.platform ? parsePlatform(args.platform) : undefined,
    remote: {
      username: args.username,
      password: args.passwordStdin ? await readPassword(args) : undefined,
      insecure: args.insecure,
      cacheDir: args.cacheDir,
      noCache: args.cache === false,
      cacheMax: args.cacheMax ? parseSize(args.cacheMax) : undefined,
      onNote: (msg) => process.stderr.write(`strata: ${msg}\n`),
      onProgress: bars?.update,
    },
  });
  bars?.expect(image.layers);
  // A pull draws byte bars; everything else counts layers.
  const pulled = image.source === 'registry';
  const model = await readImage(image, {
    concurrency: pulled ? 3 : undefined,
    onProgress: tty && !pulled ? (done, total) => process.stderr.write(`\rreading layers ${done}/${total}`) : undefined,
  }).finally(() => bars?.finish());
  if (tty && !pulled) process.stderr.write('\r\x1b[K');
  return model;
}

async function readPassword(args: ImageArgs): Promise<string> {
  if (args.image === '-') throw new StrataError('--password-stdin: stdin already carries the image (-)');
  if (args.username === undefined) throw new StrataError('--password-stdin needs --username');
  let s = '';
  for await (const c of process.stdin) s += c;
  return s.replace(/\r?\n$/, '');
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
