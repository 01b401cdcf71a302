import type { CommandModule } from 'yargs';
import { imageOptions, openForArgs, wholeReport, type ImageArgs } from './common.js';
import { configName, loadConfig } from './config-file.js';
import { keymapOf } from '../tui/keymap.js';
import { wasteOfReport } from '../tui/waste.js';
import type { InspectReport } from '../analyze/report.js';
import type { Loader } from '../tui/root.js';
import { inspectCommand } from './inspect.js';
import { fullScreen, importReact, keyboard } from './full-screen.js';

interface Args extends ImageArgs {
  config?: string;
}

export const exploreCommand: CommandModule<object, Args> = {
  command: 'explore <image>',
  describe: 'browse the layers and the file tree of an image in the terminal',
  builder: (y) => imageOptions(y).option('config', { type: 'string', describe: 'config file (default: .strata.yml in the current directory)' }) as never,
  handler: (args) => explore(args),
};

/** `strata IMAGE`: the explorer on a terminal, the inspect summary otherwise or with --json (inspect's options apply). */
export const defaultCommand: CommandModule<object, Args> = {
  command: '$0 <image>',
  describe: 'explore IMAGE on a terminal; print `inspect` when the output is not a terminal',
  builder: inspectCommand.builder as never,
  handler: (args) => (process.stdout.isTTY && !(args as { json?: boolean }).json ? explore(args) : (inspectCommand.handler as (a: ImageArgs) => Promise<void>)(args)),
};

async function explore(args: Args): Promise<void> {
  const keys = keyboard(args.image === '-', 'strata explore', 'strata inspect prints the report');
  const [{ createElement }, { Root }] = await Promise.all([importReact(), import('../tui/root.js')]);
  const config = loadConfig({ file: args.config });
  const keymap = keymapOf(config.keys, configName(config));
  const settings = { bloat: config.bloat, secrets: config.secrets };
  // The image-details pane shows the inspect report's findings (from the report cache, or saved there).
  let report: InspectReport | undefined;
  const analyze = () => wasteOfReport(report!); // the explorer asks once the loader below has set it
  let reading = true;
  const load: Loader = async (onProgress) => {
    try {
      const opened = await openForArgs(args, { onProgress, secrets: config.secrets.scan });
      const model = await opened.read();
      report = await wholeReport(opened, model, settings);
      return model;
    } finally {
      reading = false;
    }
  };
  await fullScreen(createElement(Root, { load, keymap, analyze }), keys);
  // Quit while loading: the layers still being read would keep the process alive until they end.
  if (reading) process.exit(0);
}
