import type { Argv } from 'yargs';
import { openImage } from '../sources/resolve.js';
import { DEFAULT_REGISTRY_TIMEOUT_S } from '../sources/remote.js';
import type { Image } from '../image/image.js';
import { readImage, type ImageModel, type RecordStore } from '../model/read-image.js';
import type { Layer } from '../image/image.js';
import { UnionPrefixes } from '../model/union-prefixes.js';
import { ReportCache } from '../cache/report-cache.js';
import { inspectReport, type InspectReport, type ReportOptions } from '../analyze/report.js';
import { ScanPool } from '../scan/scan-pool.js';
import type { LayerScan } from '../scan/scan-layer.js';
import { parsePlatform } from '../image/platform.js';
import { StrataError } from '../util/errors.js';
import { parseSize } from '../util/units.js';
import { cacheOff, cacheRoot, PRIVATE_DIR } from '../cache/cache.js';
import { LayerCache } from '../cache/layer-cache.js';
import { join } from 'node:path';
import { access, constants } from 'node:fs/promises';
import { makeDir } from '../util/make-dir.js';
import { ProgressBars } from '../render/progress.js';
import type { ContentScanSettings } from '../scan/secret-scan.js';
import { terminalText } from '../util/terminal-text.js';

export interface ImageArgs {
  image: string;
  platform?: string;
  username?: string;
  passwordStdin?: boolean;
  insecure?: boolean;
  cacheDir?: string;
  cache?: boolean;
  cacheMax?: string;
  /** --timeout, in seconds. */
  timeout?: number;
}

/**
 * yargs `coerce` for a whole-number option, kept as text until here: yargs' `number` type turns
 * "abc" into NaN and "" into 0, and the message should show what was typed.
 */
export function wholeNumber(flag: string, negative = false): (v: unknown) => number | undefined {
  return (v) => {
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v; // a default
    const text = String(v).trim();
    if (!(negative ? /^-?\d+$/ : /^\d+$/).test(text) || !Number.isSafeInteger(Number(text))) {
      throw new StrataError(`--${flag}: "${String(v)}" is not a whole number${negative ? '' : ' >= 0'}`);
    }
    return Number(text);
  };
}

export function imageOptions<T>(y: Argv<T>) {
  const withImage = y.positional('image', { type: 'string', demandOption: true, describe: 'image: archive path, OCI layout, prefixed reference, or - for stdin' });
  return imageFlags(loginFlags(withImage));
}

/** A login of the command's own; commands on many images (audit, worker) use the stored logins only. */
export function loginFlags<T>(y: Argv<T>) {
  return y
    .option('username', { type: 'string', describe: 'registry user name (else docker/podman logins are used)' })
    .option('password-stdin', { type: 'boolean', describe: 'read the registry password or token from stdin (with --username)' });
}

/** The image options but the image and a login of its own: commands on many images (audit, worker) use the stored logins. */
export function imageFlags<T>(y: Argv<T>) {
  return sourceFlags(y).option('platform', { type: 'string', describe: 'os/arch[/variant] to pick from a multi-platform index (default linux/amd64)' });
}

/** Every command that reads images takes these; `diff` declares its platforms itself (one per side). */
export function sourceFlags<T>(y: Argv<T>) {
  return timeoutFlag(y)
    .option('insecure', { type: 'boolean', describe: 'allow plain HTTP and unverified TLS certificates for registries' })
    .option('cache-dir', { type: 'string', describe: 'the cache root, for pulled blobs, layer records and reports (default $STRATA_CACHE_DIR, else $XDG_CACHE_HOME/strata, else $HOME/.cache/strata)' })
    .option('cache', { type: 'boolean', describe: 'use the cache (--no-cache, or STRATA_NO_CACHE=1: pull and verify every blob, reuse nothing)' })
    .option('cache-max', { type: 'string', describe: 'size cap of each store (blobs, layer records, reports), e.g. 5GiB (default $STRATA_CACHE_MAX, else 10GiB); least recently used go first' });
}

/** `--timeout`, on every command that pulls: the registry deadline (sources/registry/http.ts, Deadline). */
export function timeoutFlag<T>(y: Argv<T>) {
  return y.option('timeout', {
    type: 'string',
    coerce: (v: unknown) => {
      const s = wholeNumber('timeout')(v);
      if (s === 0) throw new StrataError('--timeout: 0 s leaves a registry no time; give 1 or more');
      return s;
    },
    describe: `seconds a registry may go without progress (no answer, a stalled body, a Retry-After to wait) before the pull fails (default ${DEFAULT_REGISTRY_TIMEOUT_S})`,
  });
}

/** --timeout as the registry options take it. */
export const timeoutMs = (args: Pick<ImageArgs, 'timeout'>): number | undefined => (args.timeout === undefined ? undefined : args.timeout * 1000);

export interface CacheChoice {
  off: boolean;
  root: string;
  maxBytes: number;
}

export async function cacheChoice(args: Pick<ImageArgs, 'cache' | 'cacheDir' | 'cacheMax'>, note?: (msg: string) => void): Promise<CacheChoice> {
  const choice = {
    off: cacheOff(args.cache, process.env),
    root: cacheRoot(args.cacheDir, process.env),
    maxBytes: parseSize(args.cacheMax ?? process.env.STRATA_CACHE_MAX ?? '10GiB', '--cache-max'),
  };
  if (!choice.off) {
    // A cache that cannot be written costs only the caching, but a user who set it should know.
    try {
      await makeDir(choice.root, PRIVATE_DIR);
      await access(choice.root, constants.W_OK);
    } catch (e) {
      if (!unwritableSaid.has(choice.root)) note?.(`cannot write the cache directory ${choice.root} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); going on without a cache`);
      unwritableSaid.add(choice.root);
      choice.off = true;
    }
  }
  return choice;
}

/** Cache roots already said to be unwritable: once per process (`inspect A B C` opens three images). */
const unwritableSaid = new Set<string>();

/** Open and read an image, with progress on stderr when it is a terminal. */
/**
 * One worker pool, one scan memo and one set of union prefixes for all the images of a command
 * (`inspect A B C`, `diff A B`): a layer the images share is read once, and the leading layers they
 * share are merged once.
 */
export class Loading {
  readonly pool = new ScanPool();
  readonly prefixes: UnionPrefixes | undefined;

  /**
   * `memo`: a fleet audit passes one that forgets settled scans (the layer cache has them), and
   * `sharePrefixes: false`, so that memory does not grow with the number of images.
   */
  constructor(readonly memo: Map<string, Promise<LayerScan>> = new Map(), sharePrefixes = true) {
    this.prefixes = sharePrefixes ? new UnionPrefixes() : undefined;
  }

  static async with<T>(f: (l: Loading) => Promise<T>, make: () => Loading = () => new Loading()): Promise<T> {
    const l = make();
    try {
      return await f(l);
    } finally {
      await l.pool.close();
    }
  }
}

export interface LoadOptions {
  /** A caller that draws its own progress (the explorer) owns the terminal: nothing on stderr then. */
  onProgress?: (done: number, total: number) => void;
  loading?: Loading;
  /** What the layers' scan reads small files for (the config's `secrets:`); default the built-in rules. */
  secrets?: ContentScanSettings;
  /** Layer records kept elsewhere than the local cache (a fleet's shared store, fleet/redis-records.ts). */
  records?: RecordStore;
  /** Called for each layer actually scanned (not found in a cache). */
  onScanned?: (layer: Layer) => void;
}

/** An image opened (manifest and config read) but whose layers are not read yet. */
export interface OpenedImage {
  image: Image;
  /** Whole reports of this image's layers (none with --no-cache, nor for an image read from a stream). */
  reports?: ReportCache;
  /** Where its layers' records are kept (none with --no-cache). */
  records?: RecordStore;
  read(): Promise<ImageModel>;
}

export async function openForArgs(args: ImageArgs, opts: LoadOptions = {}): Promise<OpenedImage> {
  const tty = process.stderr.isTTY && !opts.onProgress;
  const note = opts.onProgress ? undefined : warn;
  const cache = await cacheChoice(args, note);
  const bars = tty ? new ProgressBars(process.stderr) : undefined;
  const image = await openImage(args.image, {
    platform: args.platform ? parsePlatform(args.platform) : undefined,
    secrets: opts.secrets,
    remote: {
      username: args.username,
      password: args.passwordStdin ? await readPassword(args) : undefined,
      insecure: args.insecure,
      timeoutMs: timeoutMs(args),
      cacheDir: cache.root,
      noCache: cache.off,
      cacheMax: cache.maxBytes,
      onNote: note,
      onProgress: bars?.update,
    },
  });
  const records = opts.records ?? (cache.off ? undefined : new LayerCache({ dir: join(cache.root, 'layers'), maxBytes: cache.maxBytes, secrets: opts.secrets }));
  const read = async () => {
    bars?.expect(image.layers);
    // A pull draws byte bars; everything else counts layers.
    const pulled = image.source === 'registry';
    const model = await readImage(image.reopen ? await image.reopen() : image, {
      concurrency: pulled ? 3 : undefined,
      pool: opts.loading?.pool,
      memo: opts.loading?.memo,
      prefixes: opts.loading?.prefixes,
      secrets: opts.secrets,
      onScanned: opts.onScanned,
      cache: records,
      onProgress: opts.onProgress ?? (tty && !pulled ? (done, total) => process.stderr.write(`\rreading layers ${done}/${total}`) : undefined),
    }).finally(() => bars?.finish());
    if (tty && !pulled) process.stderr.write('\r\x1b[K');
    return model;
  };
  const reports = !records || cache.off || !ReportCache.applies(image) ? undefined : new ReportCache({ dir: join(cache.root, 'reports'), maxBytes: cache.maxBytes }, records);
  return { image, reports, records, read };
}

/**
 * The image's inspect report with every finding, for a command that reads the model anyway: from the
 * report cache when these layers were analysed with these settings, else made now and saved there,
 * so that a later `inspect`, `ci` or `diff` of the image analyses nothing.
 */
export async function wholeReport(opened: OpenedImage, model: ImageModel, settings: ReportOptions): Promise<InspectReport> {
  return (await opened.reports?.find(opened.image, settings)) ?? newReport(opened, model, settings);
}

/** The image's inspect report with every finding, made from its model and saved in the report cache. */
export async function newReport(opened: OpenedImage, model: ImageModel, settings: ReportOptions): Promise<InspectReport> {
  const report = inspectReport(model, { bloat: settings.bloat, secrets: settings.secrets });
  await opened.reports?.put(opened.image, settings, report);
  return report;
}

export async function loadModel(args: ImageArgs, opts: LoadOptions = {}): Promise<ImageModel> {
  return (await openForArgs(args, opts)).read();
}

async function readPassword(args: ImageArgs): Promise<string> {
  if (/^(?:(?:docker|oci)-archive:)?-(?::|$)/.test(args.image)) throw new StrataError('--password-stdin: stdin already carries the image (-)');
  if (args.username === undefined) throw new StrataError('--password-stdin needs --username');
  return (stdinPassword ??= readStdinLine());
}

/** stdin is read once, whatever the number of images opened with the login (both sides of a diff). */
let stdinPassword: Promise<string> | undefined;

async function readStdinLine(): Promise<string> {
  let s = '';
  for await (const c of process.stdin) s += c;
  return s.replace(/\r?\n$/, '');
}

/** A warning on stderr, one line: it may quote a registry's or an image's text. */
export function warn(msg: string): void {
  process.stderr.write(`strata: ${terminalText(msg)}\n`);
}

/** Columns of a terminal whose width is unknown (a pty that reports 0). */
const UNKNOWN_TERMINAL_WIDTH = 100;

/**
 * The width text reports are cut and wrapped to: a terminal's own, and none for a file or a pipe
 * (a report saved or piped keeps every column: `strata audit > fleet.txt`).
 */
export function textWidth(out: NodeJS.WriteStream | null /* a file */ = process.stdout): number {
  return out?.isTTY ? out.columns || UNKNOWN_TERMINAL_WIDTH : Infinity;
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
