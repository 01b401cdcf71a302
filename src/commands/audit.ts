import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { cacheChoice, imageFlags, Loading, textWidth, timeoutMs, warn, wholeNumber, type ImageArgs } from './common.js';
import { loadConfig } from './config-file.js';
import { auditImage, type AuditSettings } from './audit-image.js';
import { fleetReport } from '../analyze/fleet/fleet.js';
import { renderFleet, type AuditFormat } from '../render/fleet.js';
import { auditAll } from '../fleet/audit-run.js';
import { InFlight } from '../fleet/in-flight.js';
import { auditSettingsKey, DiskAuditResults } from '../cache/audit-results.js';
import { StrataError } from '../util/errors.js';
import { humanBytes } from '../util/units.js';
import type { LayerScan } from '../scan/scan-layer.js';
import { writeHtmlReport } from './html-output.js';
import { pushAll } from '../util/arrays.js';

type Args = Omit<ImageArgs, 'image' | 'username' | 'passwordStdin'> & {
  refs?: string[];
  from?: string;
  registry?: string;
  tags?: number;
  format?: string;
  json?: boolean;
  csv?: boolean;
  html?: string;
  jobs?: number;
  queue?: string;
  run: string;
  collect?: boolean;
  wait: boolean;
  config?: string;
};

export const auditCommand: CommandModule<object, Args> = {
  command: 'audit [refs..]',
  describe: 'audit many images: each distinct layer read once, a row per image and the fleet (shared layers, waste by instruction, duplicates); resumable',
  builder: (y) =>
    imageFlags(y)
      .positional('refs', { type: 'string', array: true, describe: 'images (any reference strata reads)' })
      .option('from', { type: 'string', describe: 'a file of references, one per line (# comments)' })
      .option('registry', { type: 'string', describe: "HOST[/REPO-PREFIX]: every image of the registry's catalog (under the prefix)" })
      .option('tags', { type: 'string', coerce: wholeNumber('tags'), describe: 'with --registry: the N newest tags of each repository (by config created)' })
      .option('json', { type: 'boolean', describe: 'the report as JSON (docs/json.md)' })
      .option('csv', { type: 'boolean', describe: 'a CSV row per image' })
      .option('html', { type: 'string', describe: 'also write the fleet page to FILE (self-contained HTML)' })
      .option('jobs', { type: 'string', coerce: wholeNumber('jobs'), describe: 'images read at once (default 2)' })
      .option('queue', { type: 'string', describe: 'redis://HOST:PORT: enqueue one job per image for `strata worker`s (BullMQ), wait, and print the report' })
      .option('run', { type: 'string', default: 'default', describe: 'with --queue: the name of this audit (its queue and results)' })
      .option('collect', { type: 'boolean', describe: "with --queue: print the report of the run's jobs so far, enqueue nothing" })
      .option('wait', { type: 'boolean', default: true, describe: 'with --queue: wait for the jobs (--no-wait: enqueue and return)' })
      .option('config', { type: 'string', describe: 'config file (default: .strata.yml in the current directory)' })
      .conflicts('json', 'csv') as never,
  handler: async (args) => {
    const config = loadConfig({ file: args.config });
    const settings: AuditSettings = { bloat: config.bloat, secrets: config.secrets };
    const format: AuditFormat = args.json ? 'json' : args.csv ? 'csv' : 'text';
    if (args.collect && !args.queue) throw new StrataError('--collect reads a distributed run: give its --queue redis://…');
    const refs = args.collect ? [] : await referencesOf(args);
    if (!args.collect && refs.length === 0) throw new StrataError('no images to audit: give references, --from FILE or --registry HOST');
    const outcome = args.queue ? await (await import('./audit-queue.js')).auditOnQueue(args, refs, settings) : await auditHere(args, refs, settings);
    if (!outcome) return; // --no-wait
    const report = fleetReport(outcome.entries, outcome.failed);
    if (args.html !== undefined) {
      const { fleetPicture } = await import('../analyze/picture/fleet-picture.js');
      await writeHtmlReport(args.html, fleetPicture(report));
    }
    process.stdout.write(renderFleet(report, format, textWidth()));
    if (outcome.failed.length) process.exitCode = 2;
  },
};

/** The references named on the command line, in the --from file and in the registry, each once, in that order. */
async function referencesOf(args: Args): Promise<string[]> {
  const refs = [...(args.refs ?? [])];
  if (args.from !== undefined) {
    let text: string;
    try {
      text = readFileSync(args.from, 'utf8');
    } catch (e) {
      throw new StrataError(`--from ${args.from}: cannot read (${(e as NodeJS.ErrnoException).code})`);
    }
    refs.push(...text.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean));
  }
  if (args.tags !== undefined && args.registry === undefined) throw new StrataError('--tags lists the newest tags of --registry HOST');
  if (args.registry !== undefined) {
    const [host, ...prefix] = args.registry.split('/');
    const { listRegistryImages } = await import('../sources/registry/catalog.js');
    pushAll(refs, await listRegistryImages(host, prefix.join('/') || undefined, { newest: args.tags || undefined, insecure: args.insecure, timeoutMs: timeoutMs(args), onNote: warn }));
  }
  return [...new Set(refs)];
}

/** Every image on this machine: a few at a time, layers from the local cache, results kept there. */
async function auditHere(args: Args, refs: string[], settings: AuditSettings) {
  const cache = await cacheChoice(args, warn);
  // without a cache (--no-cache), the run keeps its layers in a directory of its own, so that each is read once
  const temp = cache.off ? mkdtempSync(join(tmpdir(), 'strata-audit-')) : undefined;
  const imageArgs = (ref: string): ImageArgs => ({ ...args, image: ref, cacheDir: temp ?? cache.root, cache: true });
  const results = temp ? undefined : new DiskAuditResults({ dir: join(cache.root, 'audit'), maxBytes: cache.maxBytes }, auditSettingsKey(settings));
  const tally = new Tally(refs.length);
  try {
    return await Loading.with(
      (loading) => auditAll(refs, (ref) => auditImage(imageArgs(ref), { loading, settings, results, onScanned: (l) => tally.scanned(l.blobSize) }), { jobs: args.jobs || 2, onProgress: (p) => tally.progress(p.done, p.failed) }),
      () => new Loading(new InFlight<LayerScan>(), false),
    );
  } finally {
    tally.end();
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

/** Progress on stderr: images done, layers scanned, bytes read; a line on a terminal, a summary at the end. */
export class Tally {
  private done = 0;
  private failed = 0;
  private layers = 0;
  private bytes = 0;
  private readonly tty = process.stderr.isTTY;
  /** `layers: false`: the layers are scanned elsewhere (by workers), only images are counted here. */
  constructor(private readonly total: number, private readonly layersHere = true) {}

  scanned(bytes: number | undefined): void {
    this.layers++;
    this.bytes += bytes ?? 0;
    this.draw();
  }

  progress(done: number, failed: number): void {
    this.done = done;
    this.failed = failed;
    this.draw();
  }

  private line(): string {
    const images = `audit: ${this.done + this.failed}/${this.total} images${this.failed ? ` (${this.failed} failed)` : ''}`;
    return this.layersHere ? `${images}, ${this.layers} layer${this.layers === 1 ? '' : 's'} scanned, ${humanBytes(this.bytes)} read` : images;
  }

  private draw(): void {
    if (this.tty) process.stderr.write(`\r\x1b[K${this.line()}`);
  }

  end(): void {
    process.stderr.write(`${this.tty ? '\r\x1b[K' : ''}strata ${this.line()}\n`);
  }
}
