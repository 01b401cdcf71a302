import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { StrataError } from './layers/errors.js';
import { inspectCommand } from './commands/inspect.js';
import { lsCommand } from './commands/ls.js';
import { diffCommand } from './commands/diff.js';

/** Exit codes: 0 success, 1 policy failure (ci, diff --exit-code), 2 any error. */
export async function main(argv: string[]): Promise<number> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0); // `strata ls … | head`
  });
  try {
    await yargs(argv)
      .scriptName('strata')
      .command(inspectCommand)
      .command(lsCommand)
      .command(diffCommand)
      .demandCommand(1, 'name a command: inspect, ls')
      .strict()
      .help()
      .version()
      .fail((msg, err) => {
        throw err ?? new StrataError(msg);
      })
      .parseAsync();
    return Number(process.exitCode ?? 0); // a command may report a policy failure (1) this way
  } catch (e) {
    const err = e as Error;
    if (process.env.STRATA_DEBUG) process.stderr.write(`${err.stack}\n`);
    const known = err instanceof StrataError;
    process.stderr.write(`strata: ${known ? err.message : `internal error: ${err.message}`}\n`);
    return 2;
  }
}

export { hideBin };
