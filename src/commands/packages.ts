import type { CommandModule } from 'yargs';
import { STRATA_VERSION } from '../util/version.js';
import { StrataError } from '../util/errors.js';
import { writeFileAtomic } from '../util/safe-write.js';
import { imageOptions, loadModel, textWidth, warn, wholeNumber, type ImageArgs } from './common.js';
import { packagesReport } from '../analyze/packages/packages.js';
import { packagesCsv, renderPackages } from '../render/packages.js';
import type { PackagesReport } from '../analyze/packages/types.js';

export const PACKAGE_FORMATS = ['text', 'json', 'csv', 'cyclonedx', 'spdx'] as const;
type Format = (typeof PACKAGE_FORMATS)[number];

interface Args extends ImageArgs {
  json?: boolean;
  csv?: boolean;
  format?: string;
  output?: string;
  top?: number;
}


export const packagesCommand: CommandModule<object, Args> = {
  command: 'packages <image>',
  describe: 'the packages of an image (dpkg, apk, rpm, Python, npm): bytes, files and layer of each, what no package owns, changes per layer; SBOMs',
  builder: (y) =>
    imageOptions(y)
      .option('json', { type: 'boolean', describe: 'the report as JSON (docs/json.md#packages); same as --format json' })
      .option('csv', { type: 'boolean', describe: 'one CSV row per package, then per directory of unowned bytes; same as --format csv' })
      .option('format', { type: 'string', describe: `output format: ${PACKAGE_FORMATS.join(', ')} (cyclonedx: CycloneDX 1.6 JSON; spdx: SPDX 2.3 JSON)` })
      .option('output', { alias: 'o', type: 'string', describe: 'write to FILE instead of stdout' })
      .option('top', { type: 'string', coerce: wholeNumber('top'), describe: 'packages listed in the text (default all; the rest are summed in one row)' }) as never,
  handler: async (args) => {
    const format = formatOf(args);
    const model = await loadModel(args);
    const report = packagesReport(model);
    for (const w of report.warnings) warn(w);
    const text = await render(report, format, args);
    if (args.output === undefined || args.output === '-') process.stdout.write(text);
    else await writeFileAtomic(args.output, text);
  },
};

function formatOf(args: Args): Format {
  const asked = [args.json && 'json', args.csv && 'csv', args.format].filter((f): f is string => typeof f === 'string');
  if (new Set(asked).size > 1) throw new StrataError(`give one output format, not ${asked.map((f) => `--${f === 'json' || f === 'csv' ? f : `format ${f}`}`).join(' and ')}`);
  const f = asked[0] ?? 'text';
  if (!(PACKAGE_FORMATS as readonly string[]).includes(f)) throw new StrataError(`--format ${f}: not a format strata writes (${PACKAGE_FORMATS.join(', ')})`);
  return f as Format;
}

async function render(report: PackagesReport, format: Format, args: Args): Promise<string> {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'csv':
      return packagesCsv(report);
    case 'cyclonedx': {
      const { cycloneDxOf } = await import('../render/sbom/cyclonedx.js');
      return `${cycloneDxOf(report, { toolVersion: STRATA_VERSION })}\n`;
    }
    case 'spdx': {
      const { spdxOf } = await import('../render/sbom/spdx.js');
      return `${spdxOf(report, { toolVersion: STRATA_VERSION })}\n`;
    }
    default:
      return renderPackages(report, args.output === undefined ? textWidth() : Infinity, { top: args.top });
  }
}
