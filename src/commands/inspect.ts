import type { CommandModule } from 'yargs';
import { imageOptions, newReport, openForArgs, Loading, textWidth, wholeNumber, wholeReport, type ImageArgs } from './common.js';
import { narrowFindings, type InspectReport, type ReportOptions } from '../analyze/report.js';
import { renderInspect } from '../render/inspect.js';
import { loadConfig } from './config-file.js';
import { knownCategories } from '../analyze/bloat/matching.js';
import { StrataError } from '../util/errors.js';
import { htmlOptionText, writeHtmlReport } from './html-output.js';

interface Args extends ImageArgs {
  more?: string[];
  json?: boolean;
  top?: number;
  category?: string[];
  config?: string;
  html?: string;
}

/** Findings shown in the text report when --top is not given. */
const DEFAULT_TOP = 10;

export const inspectCommand: CommandModule<object, Args> = {
  command: 'inspect <image> [more..]',
  describe: 'summarise images: config, sizes, a table of layers, waste and bloat (layers shared by several images are read once)',
  builder: (y) =>
    imageOptions(y)
      .positional('more', { type: 'string', array: true, describe: 'more images, each reported in turn' })
      .option('json', { type: 'boolean', describe: 'print the report as JSON (docs/json.md)' })
      .option('top', { type: 'string', coerce: wholeNumber('top'), describe: `findings to list, largest first (text default ${DEFAULT_TOP}; JSON default all)` })
      .option('category', { type: 'string', array: true, nargs: 1, describe: 'only findings of this category (repeatable): see docs/bloat.md' })
      .option('config', { type: 'string', describe: 'config file (default: .strata.yml in the current directory)' })
      .option('html', { type: 'string', describe: htmlOptionText }) as never,
  handler: async (args) => {
    const config = loadConfig({ file: args.config });
    const known = knownCategories(config.bloat);
    for (const c of args.category ?? []) {
      if (!known.includes(c)) throw new StrataError(`--category: unknown category "${c}" (known: ${known.join(', ')})`);
    }
    const top = args.top ?? (args.json ? undefined : DEFAULT_TOP);
    const refs = [args.image, ...(args.more ?? [])];
    if (args.html !== undefined && refs.length > 1) throw new StrataError('--html draws one image: give one, or run inspect once per image');
    const settings = { bloat: config.bloat, secrets: config.secrets, top, categories: args.category };
    const reports = await Loading.with((loading) => Promise.all(refs.map((image) => report({ ...args, image }, settings, loading))));
    const width = textWidth();
    // One image: one JSON object (docs/json.md); several: an array of them.
    if (args.json) process.stdout.write(`${JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2)}\n`);
    else process.stdout.write(reports.map((r) => renderInspect(r, width)).join('\n'));
  },
};

/** The report of one image, from the report cache when the same layers were inspected the same way. */
async function report(args: Args, settings: ReportOptions, loading: Loading): Promise<InspectReport> {
  const opened = await openForArgs(args, { loading, secrets: settings.secrets?.scan });
  if (args.html !== undefined) {
    // the page draws the final view, so the layers are read even when the report is cached
    const model = await opened.read();
    const full = await wholeReport(opened, model, settings);
    const { inspectPicture } = await import('../analyze/picture/inspect-picture.js');
    await writeHtmlReport(args.html, inspectPicture(model, full));
    return { ...full, findings: narrowFindings(full.findings, settings) };
  }
  const hit = await opened.reports?.find(opened.image, settings);
  if (hit) return hit;
  // saved whole, so that another --top, --category or --json (or strata ci) of these layers analyses nothing
  const full = await newReport(opened, await opened.read(), settings);
  return { ...full, findings: narrowFindings(full.findings, settings) };
}
