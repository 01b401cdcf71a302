import yargs, { type CommandModule } from 'yargs';
import { StrataError } from './util/errors.js';
import { terminalText } from './util/terminal-text.js';
import { inspectCommand } from './commands/inspect.js';
import { lsCommand } from './commands/ls.js';
import { packagesCommand } from './commands/packages.js';
import { diffCommand } from './commands/diff.js';
import { defaultCommand, exploreCommand } from './commands/explore.js';
import { ciCommand } from './commands/ci.js';
import { optimizeCommand } from './commands/optimize.js';
import { dockerfileCommand } from './commands/dockerfile.js';
import { auditCommand } from './commands/audit.js';
import { workerCommand } from './commands/worker.js';
import { unknownOptionMessage, withCommandTypos } from './commands/typos.js';

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

/** The named commands; a mistyped command is matched against their names (commands/typos.ts). */
const commands = [inspectCommand, lsCommand, packagesCommand, diffCommand, ciCommand, optimizeCommand, dockerfileCommand, auditCommand, workerCommand, exploreCommand] as CommandModule<object, never>[];
const commandNames = commands.map((c) => String(c.command).split(' ')[0]);

/** Exit codes: 0 success, 1 policy failure (ci, diff --exit-code), 2 any error. */
export async function main(argv: string[]): Promise<number> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0); // `strata ls … | head`
  });
  try {
    const cli = yargs(argv.map((a) => (a === '-' ? STDIN_ARG : a)))
      .middleware(restoreStdinArg, true)
      .scriptName('strata');
    for (const command of commands) cli.command(command);
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

