import { appendFileSync, readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { imageOptions, newReport, openForArgs, textWidth, warn, wholeNumber, type ImageArgs, type OpenedImage } from './common.js';
import { loadConfig } from './config-file.js';
import { loadDiveCi } from '../analyze/gate/dive-ci.js';
import { z } from 'zod';
import { parseJson } from '../util/json-doc.js';
import { StrataError } from '../util/errors.js';
import { writeFileAtomic } from '../util/safe-write.js';
import { checkRules, ciReport, evaluateGate, gateNeedsModel, type Baseline } from '../analyze/gate/gate.js';
import { planGate } from '../analyze/gate/plan.js';
import { mergeRules, parseRuleFlags, RULE_DESCRIPTION, RULE_KEYS, RULE_KIND, type RuleKey } from '../analyze/gate/rules.js';
import type { InspectReport, ReportOptions } from '../analyze/report.js';
import type { ImageModel } from '../model/read-image.js';
import { CI_FORMATS, renderCi, type CiFormat } from '../render/ci.js';

type Args = ImageArgs & Partial<Record<RuleKey, string[]>> & {
  config?: string;
  'dive-ci'?: string;
  baseline?: string;
  'save-baseline'?: string;
  format?: string[];
  output?: string[];
  top: number;
};

/** Repeatable options without yargs' greedy arrays, which would swallow the image positional. */
const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

export const ciCommand: CommandModule<object, Args> = {
  command: 'ci <image>',
  describe: 'check an image against size rules: exit 0 pass, 1 a rule failed, 2 could not evaluate',
  builder: (y) => {
    let b = imageOptions(y)
      .option('config', { type: 'string', describe: 'config file with a rules: section (default: .strata.yml in the current directory)' })
      .option('dive-ci', { type: 'string', alias: 'ci-config', describe: "dive's CI rules file (default: .dive-ci in the current directory, when present)" })
      .option('baseline', { type: 'string', describe: 'compare with this image, or a report saved with --save-baseline (a file ending in .json)' })
      .option('save-baseline', { type: 'string', describe: "write this image's report (JSON) for a later --baseline" })
      .option('format', { type: 'string', coerce: list, describe: `report format: ${CI_FORMATS.join(', ')} (repeatable; the Nth --format goes to the Nth --output)` })
      .option('output', { type: 'string', coerce: list, describe: `write a report to FILE (repeatable; - is stdout; without --format the extension decides: ${Object.keys(BY_EXTENSION).map((e) => `.${e}`).join(' ')})` })
      .option('top', { type: 'string', default: 5, coerce: wholeNumber('top'), describe: 'offenders to list' });
    for (const key of RULE_KEYS) {
      // a switch is a boolean flag: a value would swallow the image positional after it
      b = RULE_KIND[key] === 'switch'
        ? b.option(key, { type: 'boolean', coerce: (v: boolean) => [v ? 'on' : 'off'], describe: RULE_DESCRIPTION[key] })
        : b.option(key, { type: 'string', coerce: list, describe: `${RULE_DESCRIPTION[key]}; warn:VALUE for a warning, off to drop` });
    }
    return b as never;
  },
  handler: async (args) => {
    const fail = (key: string, msg: string): never => {
      throw new StrataError(`${key}: ${msg}`);
    };
    const config = loadConfig({ file: args.config });
    const given = mergeRules(config.rules, parseRuleFlags(args, fail));
    const givenDive = loadDiveCi({ file: args['dive-ci'] });
    const outputs = pairOutputs(args.format ?? [], args.output ?? []);
    checkRules(given, config.bloat);
    // --save-baseline alone saves (a main branch's job), it checks nothing
    const saveOnly = given.length === 0 && givenDive === null && !!args['save-baseline'];
    const { rules, diveRules, notes } = saveOnly ? { rules: [], diveRules: [], notes: [] } : planGate(given, givenDive, args.baseline !== undefined);
    for (const n of notes) warn(n);
    const { report, model } = await gateInput(await openForArgs(args, { secrets: config.secrets.scan }), { bloat: config.bloat, secrets: config.secrets }, (r) => gateNeedsModel(rules, diveRules, r));
    const baseline = args.baseline === undefined ? null : await loadBaseline(args.baseline, args, { bloat: config.bloat, secrets: config.secrets });
    if (args['save-baseline']) await writeFileAtomic(args['save-baseline'], `${JSON.stringify(report, null, 2)}\n`);
    if (saveOnly) {
      process.stdout.write(`strata ci: no rules to check; baseline written to ${args['save-baseline']}\n`);
      return;
    }
    const input = { report, model, bloat: config.bloat, baseline };
    const r = ciReport(input, evaluateGate(input, rules, diveRules, args.top));
    for (const o of outputs) if (o.file !== '-') await writeFileAtomic(o.file, renderCi(r, o.format, textWidth(null)));
    const summaryFile = process.env.GITHUB_STEP_SUMMARY;
    if (summaryFile) {
      try {
        appendFileSync(summaryFile, renderCi(r, 'markdown'));
      } catch (e) {
        throw new StrataError(`$GITHUB_STEP_SUMMARY (${summaryFile}): cannot append (${(e as NodeJS.ErrnoException).code})`);
      }
    }
    const toStdout = outputs.find((o) => o.file === '-')?.format ?? 'text';
    process.stdout.write(renderCi(r, toStdout, textWidth()));
    if (r.exitCode === 2) {
      const bad = r.rules.filter((x) => x.status === 'error').map((x) => `${x.origin}: ${x.message}`);
      throw new StrataError(`could not evaluate ${bad.join('; ')}`);
    }
    if (r.exitCode === 1) process.exitCode = 1;
  },
};

interface Output {
  format: CiFormat;
  file: string;
}

const BY_EXTENSION: Record<string, CiFormat> = { json: 'json', xml: 'junit', md: 'markdown', markdown: 'markdown', txt: 'text', sarif: 'sarif' };

/**
 * --format and --output pair by position: the Nth format goes to the Nth file. Without --output, one
 * --format replaces the text on stdout. Without --format, each file's extension names its format.
 */
export function pairOutputs(formats: string[], files: string[]): Output[] {
  for (const f of formats) if (!(CI_FORMATS as readonly string[]).includes(f)) throw new StrataError(`--format: unknown format "${f}" (known: ${CI_FORMATS.join(', ')})`);
  if (files.length === 0) {
    if (formats.length > 1) throw new StrataError('--format given more than once: give each its --output FILE (in the same order)');
    return formats.length ? [{ format: formats[0] as CiFormat, file: '-' }] : [];
  }
  if (formats.length && formats.length !== files.length) {
    throw new StrataError(`${formats.length} --format for ${files.length} --output: give one --format per --output (in the same order), or none to go by the file extensions`);
  }
  const out = files.map((file, i) => {
    if (formats.length) return { format: formats[i] as CiFormat, file };
    const format = BY_EXTENSION[file.slice(file.lastIndexOf('.') + 1).toLowerCase()];
    if (!format || !file.includes('.')) throw new StrataError(`--output ${file}: name its format with --format (or use .json, .xml, .md, .txt, .sarif)`);
    return { format, file };
  });
  if (out.filter((o) => o.file === '-').length > 1) throw new StrataError('--output -: stdout can take only one report');
  return out;
}

/**
 * The image's report, from the report cache when its layers were analysed before with the same
 * settings (`strata ci` again, `inspect --json`, a rebuild that changed only a label), and its model
 * only when no such report exists or a rule needs the image itself.
 */
async function gateInput(opened: OpenedImage, settings: ReportOptions, needsModel: (r: InspectReport) => boolean): Promise<{ report: InspectReport; model: ImageModel | null }> {
  const cached = await opened.reports?.find(opened.image, settings);
  if (cached && !needsModel(cached)) return { report: cached, model: null };
  const model = await opened.read();
  return { report: cached ?? (await newReport(opened, model, settings)), model };
}

/** A report file (`.json`: from --save-baseline, `strata inspect --json` or `strata ci --format json`), else an image. */
async function loadBaseline(ref: string, args: ImageArgs, settings: ReportOptions): Promise<Baseline> {
  if (!ref.toLowerCase().endsWith('.json')) {
    // --username/--password-stdin belong to the image (stdin is read once); the baseline uses stored logins.
    const opened = await openForArgs({ ...args, image: ref, username: undefined, passwordStdin: false }, { secrets: settings.secrets?.scan });
    // only its sizes count: a report from the cache (the previous release, gated before) will do
    const { summary, packages } = (await gateInput(opened, settings, () => false)).report;
    return { ref, summary: { compressedSize: summary.compressedSize, uncompressedSize: summary.uncompressedSize, finalSize: summary.finalSize }, packages: packageKeys(packages) };
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(ref);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StrataError(`--baseline ${ref}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code})`}`);
  }
  const { summary, packages } = parseJson(bytes, BaselineDoc, `--baseline ${ref} (a strata report, as written by --save-baseline)`);
  return { ref, summary, packages: packageKeys(packages) };
}

/** A report's packages as max-package-growth compares them; none listed (a report from before packages): null. */
function packageKeys(p: { list: { ecosystem: string; name: string }[] } | null | undefined): string[] | null {
  return p ? p.list.map((x) => `${x.ecosystem}:${x.name}`) : null;
}

/** What a baseline report must hold: the sizes a growth rule compares. */
const size = z.number().nonnegative().finite();
const BaselineDoc = z.looseObject({
  schemaVersion: z.literal(1),
  summary: z.looseObject({ compressedSize: size.nullable(), uncompressedSize: size, finalSize: size }),
  packages: z.looseObject({ list: z.array(z.looseObject({ ecosystem: z.string().max(16), name: z.string().max(4096) })).max(1_000_000) }).nullish(),
});
