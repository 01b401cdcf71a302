import type { CommandModule } from 'yargs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { imageOptions, Loading, openForArgs, timeoutMs, warn, wholeNumber, type ImageArgs } from './common.js';
import { loadConfig } from './config-file.js';
import { chooseBase } from './base-choice.js';
import { parseRef } from '../sources/resolve.js';
import { StrataError } from '../util/errors.js';
import { analyzeWaste } from '../analyze/waste.js';
import { knownCategories } from '../analyze/bloat/matching.js';
import { RESERVED_CATEGORIES } from '../analyze/bloat/rules.js';
import { planOptimize, type LayersMode } from '../analyze/optimize/plan.js';
import { optimizeSummary, type BaseSource, type NewBlobs } from '../analyze/optimize/summary.js';
import { estimateBlobs } from '../write/estimate.js';
import { buildImage } from '../write/build-image.js';
import { checkTarget, parseTarget, scratchFor, writeLocal, type Target } from '../write/image-out.js';
import { pushImage } from '../write/registry-push.js';
import type { OutputCompression } from '../write/layer-writer.js';
import { renderOptimize } from '../render/optimize.js';

interface Args extends ImageArgs {
  output?: string;
  layers: LayersMode;
  baseLayers?: number;
  base?: string;
  baseFromRegistry?: boolean;
  drop?: string[];
  compression: OutputCompression;
  dryRun?: boolean;
  json?: boolean;
  config?: string;
}

export const optimizeCommand: CommandModule<object, Args> = {
  command: 'optimize <image>',
  describe: 'write the same image without the wasted bytes, base layers kept byte for byte',
  builder: (y) =>
    imageOptions(y)
      .option('output', { alias: 'o', type: 'string', describe: 'docker-archive:PATH[:repo:tag] (default for *.tar), oci:DIR[:tag], oci-archive:PATH[:tag], docker://REF' })
      .option('layers', { type: 'string', choices: ['auto', '1', 'keep'], default: 'auto', describe: 'layers above the base: auto (one per original layer that still holds something), 1 (merged), keep (one per original layer)' })
      .option('base-layers', { type: 'string', coerce: wholeNumber('base-layers'), describe: 'leading layers to keep as they are (default: read from the history)' })
      .option('base', { type: 'string', describe: 'the base image: its layers, which the image starts with, are kept' })
      .option('base-from-registry', { type: 'boolean', describe: "pull the base the manifest's annotation names (org.opencontainers.image.base.name) to count its layers; without it the annotation causes no network request and the history decides" })
      .option('drop', { type: 'string', array: true, coerce: (v: string[]) => v.flatMap((s) => s.split(',')).filter(Boolean), describe: 'also leave out visible bloat of these categories above the base (temp, cache, log, vcs…): changes the view' })
      .option('compression', { choices: ['gzip', 'zstd', 'none'], default: 'gzip', describe: 'compression of the new layers' })
      .option('dry-run', { type: 'boolean', describe: 'print the plan and the saving, write nothing' })
      .option('json', { type: 'boolean', describe: 'print the summary as JSON' })
      .option('config', { type: 'string', describe: 'config file for --drop categories (default: .strata.yml)' }) as never,
  handler: async (args) => {
    if (!args.output && !args.dryRun) throw new StrataError('optimize: name the output with -o (or use --dry-run)');
    if (args.base !== undefined && args.baseLayers !== undefined) throw new StrataError('--base and --base-layers: give one');
    const config = loadConfig({ file: args.config });
    const drop = args.drop ?? [];
    const known = knownCategories(config.bloat).filter((c) => !RESERVED_CATEGORIES.includes(c));
    for (const c of drop) if (!known.includes(c)) throw new StrataError(`--drop: "${c}" is not a category of visible bloat (known: ${known.join(', ')})`);
    const target = args.output ? parseTarget(args.output) : undefined;
    const local = parseRef(args.image);
    if (target) await checkTarget(target, args.image === '-' ? undefined : local.path);
    await Loading.with(async (loading) => {
      const opened = await openForArgs(args, { loading, secrets: config.secrets.scan });
      const model = await opened.read();
      const choice = await chooseBase(args, model.image, args.base === undefined ? undefined : { option: '--base', ref: args.base });
      const base = choice.base;
      const from: BaseSource = choice.from === 'named' ? '--base' : choice.from;
      const plan = planOptimize(model, { base, layers: args.layers, drop: drop.length ? { categories: drop, config: config.bloat } : undefined });
      const waste = analyzeWaste(model);
      const blobs: NewBlobs = target && !args.dryRun
        ? { written: await write(model, plan, args, target) }
        : await estimateBlobs(model.image, plan.layers, args.compression).then((e) => ({ estimated: e.blobBytes, sampledBytes: e.sampledBytes }));
      const summary = optimizeSummary(model, waste, plan, from, blobs);
      if (args.json) process.stdout.write(`${JSON.stringify({ output: args.output ?? null, dryRun: !!args.dryRun, ...summary }, null, 2)}\n`);
      else process.stdout.write(renderOptimize(summary, args.output));
    });
  },
};

async function write(model: Parameters<typeof buildImage>[0], plan: Parameters<typeof buildImage>[1], args: Args, target: Target): Promise<number[]> {
  const scratch = await scratchFor(target, process.env.TMPDIR ?? tmpdir());
  const tty = process.stderr.isTTY;
  try {
    const img = await buildImage(model, plan, args.compression, scratch, tty ? (done, total) => process.stderr.write(`\rwriting layers ${done}/${total}`) : undefined);
    if (tty) process.stderr.write('\r\x1b[K');
    // --username/--password-stdin name the input's registry login; a push uses the stored logins
    if (target.kind === 'registry') await pushImage(img, target.ref, { insecure: args.insecure, timeoutMs: timeoutMs(args), onNote: warn });
    else await writeLocal(img, target);
    return img.layers.map((l) => l.size);
  } finally {
    await rm(scratch.dir, { recursive: true, force: true });
  }
}
