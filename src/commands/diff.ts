import { existsSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { Loading, loginFlags, openForArgs, sourceFlags, textWidth, wholeNumber, wholeReport, type ImageArgs, type OpenedImage } from './common.js';
import { StrataError } from '../util/errors.js';
import { markdownBlock } from '../util/terminal-text.js';
import { writeHtmlReport } from './html-output.js';
import { type DiffOptions, type DiffReport } from '../analyze/diff/diff.js';
import { type DiffSide } from '../analyze/diff/side.js';
import { keymapOf, type Keymap } from '../tui/keymap.js';
import { fullScreen, importReact, keyboard, type Keyboard } from './full-screen.js';
import type { ImageModel } from '../model/read-image.js';
import { configName, loadConfig } from './config-file.js';
import type { InspectReport, ReportOptions } from '../analyze/report.js';
import type { ContentScanSettings } from '../scan/secret-scan.js';

interface Args extends Omit<ImageArgs, 'image'> {
  a: string;
  b?: string;
  layers?: string;
  platform?: string;
  'platform-a'?: string;
  'platform-b'?: string;
  file?: string[];
  content?: boolean;
  'content-limit': number;
  ignore?: string[];
  'ignore-mtime': boolean;
  json?: boolean;
  markdown?: boolean;
  'exit-code'?: boolean;
  config?: string;
  tui?: boolean;
  html?: string;
}

/** `--file` reads past --content-limit up to this: the user named the file. */
const FILE_LIMIT = 16 * 1024 * 1024;

export const diffCommand: CommandModule<object, Args> = {
  command: 'diff <a> [b]',
  describe: 'compare two images, or two layers of one (A@N: the view after layer N)',
  builder: (y) =>
    loginFlags(sourceFlags(y))
      .positional('a', { type: 'string', demandOption: true, describe: 'image reference; REF@N compares the view after layer N' })
      .positional('b', { type: 'string', describe: 'second image reference (REF@N as for A)' })
      .option('layers', { type: 'string', describe: 'M..N: with one image, compare the views after layers M and N' })
      .option('platform', { type: 'string', describe: 'os/arch[/variant] for both sides' })
      .option('platform-a', { type: 'string', describe: 'platform for A (overrides --platform)' })
      .option('platform-b', { type: 'string', describe: 'platform for B (overrides --platform)' })
      .option('file', { type: 'string', coerce: list, describe: 'print the content diff of this file only (repeatable)' })
      .option('content', { type: 'boolean', describe: 'inline diffs of modified text files under --content-limit' })
      .option('content-limit', { type: 'string', default: 64 * 1024, coerce: wholeNumber('content-limit'), describe: 'largest file, in bytes, that --content reads' })
      .option('ignore', { type: 'string', coerce: list, describe: 'glob of paths to leave out (repeatable; also diff.ignore in .strata.yml)' })
      .option('ignore-mtime', { type: 'boolean', default: true, describe: 'mtimes are never compared (always on)' })
      .option('json', { type: 'boolean', describe: 'print the report as JSON (docs/json.md)' })
      .option('markdown', { type: 'boolean', describe: 'print the report as Markdown, for PR comments' })
      .option('exit-code', { type: 'boolean', describe: 'exit 1 when the sides differ, 0 when identical' })
      .option('config', { type: 'string', describe: 'config file (default: .strata.yml in the current directory)' })
      .option('tui', { type: 'boolean', describe: 'browse the diff in the terminal: the tree with A→B statuses and the summary' })
      .option('html', { type: 'string', describe: 'also write the diff as one self-contained HTML page (both views by change, size delta per directory and category) to FILE' })
      .conflicts('json', 'markdown')
      .conflicts('tui', ['json', 'markdown', 'file', 'html'])
      .conflicts('html', 'file') as never,
  handler: async (args) => {
    if (!args['ignore-mtime']) throw new StrataError('--no-ignore-mtime: strata never compares mtimes (every rebuild changes them)');
    if (args.tui && !process.stdout.isTTY) throw new StrataError('--tui needs a terminal: stdout is not one (without --tui, strata diff prints the report)');
    const keys = args.tui ? keyboard([args.a, args.b].includes('-'), '--tui', 'without --tui, strata diff prints the report') : undefined;
    const config = loadConfig({ file: args.config });
    const [a, b] = await loadSides(args, config.secrets.scan);
    const ignore = [...config.diff.ignore, ...(args.ignore ?? [])];
    const compare = async () => {
      const [ra, rb] = await withReports([a, b], { bloat: config.bloat, secrets: config.secrets });
      return comparing(ra, rb, { ignore, bloat: config.bloat });
    };
    if (keys) return browse(a, b, await compare(), keymapOf(config.keys, configName(config)), keys);
    // loaded here, not with the CLI: jsdiff and the diff model serve this command only
    const [{ contentDiffs }, { renderContent, renderDiffMarkdown, renderDiffText }] = await Promise.all([import('../analyze/diff/content.js'), import('../render/diff.js')]);
    let different: boolean;
    if (args.file?.length) {
      const contents = await contentDiffs(a, b, args.file, Math.max(args['content-limit'], FILE_LIMIT));
      different = contents.some((c) => !c.identical);
      const text = contents.map(renderContent).join('');
      process.stdout.write(args.json ? `${JSON.stringify({ schemaVersion: 1, contents }, null, 2)}\n` : args.markdown ? `${markdownBlock('diff', text)}\n` : text);
    } else {
      const report = await compare();
      if (args.html !== undefined) {
        const { diffPicture } = await import('../analyze/picture/diff-picture.js');
        await writeHtmlReport(args.html, diffPicture(b, report));
      }
      if (args.content) {
        const limit = args['content-limit'];
        // files over the limit are listed as too-large (not read), so the reader knows they were skipped
        const paths = report.files.filter((f) => f.change === 'modified' && isFile(f.a!.type) && isFile(f.b!.type)).map((f) => f.path);
        report.contents = await contentDiffs(a, b, paths, limit);
      }
      different = !report.summary.identical;
      process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : args.markdown ? renderDiffMarkdown(report) : renderDiffText(report, textWidth()));
    }
    if (args['exit-code'] && different) process.exitCode = 1;
  },
};

/**
 * diffImages, saying so on a terminal while it runs: it is synchronous, and takes seconds on images
 * of hundreds of thousands of files, after the loading bars are gone. The line is erased after.
 */
export async function comparing(a: DiffSide, b: DiffSide, opts: DiffOptions, out: NodeJS.WriteStream = process.stderr): Promise<DiffReport> {
  const { diffImages } = await import('../analyze/diff/diff.js');
  if (!out.isTTY) return diffImages(a, b, opts);
  const n = (s: DiffSide) => s.model.union.nodeCount - 1;
  out.write(`strata: comparing ${n(a).toLocaleString('en-US')} paths with ${n(b).toLocaleString('en-US')}…`);
  try {
    return diffImages(a, b, opts);
  } finally {
    out.write('\r\x1b[K');
  }
}

/** The diff view (src/tui/diff-app.tsx) on the alternate screen. */
async function browse(a: DiffSide, b: DiffSide, report: DiffReport, keymap: Keymap, keys: Keyboard): Promise<void> {
  const [{ createElement }, { DiffApp }, { DiffTree }] = await Promise.all([importReact(), import('../tui/diff-app.js'), import('../tui/diff-tree.js')]);
  await fullScreen(createElement(DiffApp, { report, tree: new DiffTree(a, b, report), keymap }), keys);
}

/** Repeatable options without yargs' greedy arrays, which would swallow the B positional. */
const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

const isFile = (t: string) => t === 'file' || t === 'hardlink';

interface SideRef {
  ref: string;
  layer?: number;
  platform?: string;
}

/** `REF@N` -> the view after layer N (negative counts from the end), unless REF@N is itself a file. */
export function parseSideRef(s: string): { ref: string; layer?: number } {
  const m = /^(.+)@(-?\d+)$/.exec(s);
  if (!m || existsSync(s)) return { ref: s };
  return { ref: m[1], layer: Number(m[2]) };
}

type LoadedSide = DiffSide & { opened: OpenedImage };

async function loadSides(args: Args, secrets: ContentScanSettings): Promise<[LoadedSide, LoadedSide]> {
  const sides: SideRef[] = [parseSideRef(args.a)];
  if (args.layers !== undefined) {
    const m = /^(-?\d+)\.\.(-?\d+)$/.exec(args.layers);
    if (!m) throw new StrataError(`--layers "${args.layers}": expected M..N, e.g. 2..5`);
    if (args.b !== undefined) throw new StrataError('--layers compares two views of one image; for two images use A@M B@N');
    if (sides[0].layer !== undefined) throw new StrataError(`--layers with ${args.a}: give the layers once`);
    sides[0].layer = Number(m[1]);
    sides.push({ ref: sides[0].ref, layer: Number(m[2]) });
  } else if (args.b !== undefined) {
    sides.push(parseSideRef(args.b));
  } else {
    throw new StrataError('diff needs two images (A B), or one image with --layers M..N');
  }
  sides[0].platform = args['platform-a'] ?? args.platform;
  sides[1].platform = args['platform-b'] ?? args.platform;
  // The same image on both sides is read once.
  const images = new Map<string, Promise<{ opened: OpenedImage; model: ImageModel }>>();
  const out = await Loading.with((loading) => Promise.all(
    sides.map(async (s) => {
      const key = `${s.ref}\0${s.platform ?? ''}`;
      let p = images.get(key);
      if (!p) images.set(key, (p = openForArgs({ ...args, image: s.ref, platform: s.platform }, { loading, secrets }).then(async (opened) => ({ opened, model: await opened.read() }))));
      const { opened, model } = await p;
      const n = model.layers.length;
      const layer = s.layer === undefined ? n - 1 : s.layer < 0 ? s.layer + n : s.layer;
      if (!Number.isInteger(layer) || layer < 0 || layer >= n) throw new StrataError(`${s.ref}@${s.layer}: the image has layers 0..${n - 1}`);
      return { model, layer, opened };
    }),
  ));
  return [out[0], out[1]];
}

/** Sides that are their image's top carry its report (once per image), for the comparison's waste and bloat totals. */
function withReports(sides: LoadedSide[], settings: ReportOptions): Promise<DiffSide[]> {
  const reports = new Map<ImageModel, Promise<InspectReport>>();
  return Promise.all(
    sides.map(async ({ model, layer, opened }) => {
      if (layer !== model.layers.length - 1) return { model, layer };
      let report = reports.get(model);
      if (!report) reports.set(model, (report = wholeReport(opened, model, settings)));
      return { model, layer, report: await report };
    }),
  );
}
