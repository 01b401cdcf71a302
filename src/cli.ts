import type { CommandModule } from 'yargs';
import { StrataError } from './util/errors.js';
import { terminalText } from './util/terminal-text.js';
import { startEarly } from './commands/early-start.js';

/**
 * yargs-parser reads a lone `-` as an empty flag (the positional becomes ""), so `-` (an image on
 * stdin) is swapped for a placeholder before parsing and restored in the parsed arguments.
 */
const STDIN_ARG = '\u0000stdin';

function restoreStdinArg(args: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(args)) {
    if (v === STDIN_ARG) args[k] = '-';
    else if (Array.isArray(v)) args[k] = v.map((x) => (x === STDIN_ARG ? '-' : x));
  }
}

/**
 * yargs and the commands, loaded after the scan workers have been started (commands/early-start.ts).
 * The named commands come first; a mistyped command is matched against their names (commands/typos.ts).
 */
async function loadCommands() {
  const [{ default: yargs }, inspect, ls, packages, diff, ci, optimize, dockerfile, audit, worker, explore, typos] = await Promise.all([
    import('yargs'),
    import('./commands/inspect.js'),
    import('./commands/ls.js'),
    import('./commands/packages.js'),
    import('./commands/diff.js'),
    import('./commands/ci.js'),
    import('./commands/optimize.js'),
    import('./commands/dockerfile.js'),
    import('./commands/audit.js'),
    import('./commands/worker.js'),
    import('./commands/explore.js'),
    import('./commands/typos.js'),
  ]);
  const named = [inspect.inspectCommand, ls.lsCommand, packages.packagesCommand, diff.diffCommand, ci.ciCommand, optimize.optimizeCommand, dockerfile.dockerfileCommand, audit.auditCommand, worker.workerCommand, explore.exploreCommand] as CommandModule<object, never>[];
  return { yargs, named, defaultCommand: explore.defaultCommand, ...typos };
}

/** Exit codes: 0 success, 1 policy failure (ci, diff --exit-code), 2 any error. */
export async function main(argv: string[]): Promise<number> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0); // `strata ls … | head`
  });
  try {
    startEarly(argv);
    const { yargs, named, defaultCommand, withCommandTypos, unknownOptionMessage } = await loadCommands();
    const commandNames = named.map((c) => String(c.command).split(' ')[0]);
    const cli = yargs(argv.map((a) => (a === '-' ? STDIN_ARG : a)))
      .middleware(restoreStdinArg, true)
      .scriptName('strata');
    for (const command of named) cli.command(command);
    await cli
      .command(withCommandTypos(defaultCommand, commandNames))
      .demandCommand(1, `name an image or a command: ${commandNames.join(', ')}`)
      .strict()
      .help()
      .version()
      .fail((msg, err) => {
        // yargs' own errors (YError: a failed coerce, say) are about the command line, not bugs
        if (err && err.name !== 'YError') throw err;
        // an unknown flag first: yargs takes the word after it for its value and complains of that
        throw new StrataError(unknownOptionMessage(argv, cli) ?? err?.message ?? msg);
      })
      .parseAsync();
    return Number(process.exitCode ?? 0); // a command may report a policy failure (1) this way
  } catch (e) {
    const err = e as Error;
    if (process.env.STRATA_DEBUG) process.stderr.write(`${err.stack}\n`);
    const known = err instanceof StrataError;
    // One line, and no control character, whatever the message quotes (input, a registry's error text).
    const message = terminalText(known ? err.message : `internal error: ${err.message}`);
    process.stderr.write(`strata: ${message}\n`);
    return 2;
  }
}

