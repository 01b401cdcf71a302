/**
 * Mistyped command lines: a command name or an option that strata does not know is named, with the
 * closest one it does know, instead of being read as an image to pull (README, "Typos").
 */
import { existsSync } from 'node:fs';
import type { Arguments, Argv, CommandModule } from 'yargs';
import { StrataError } from '../util/errors.js';

/** What yargs has beyond its typings (yargs 18): a command's own middleware, the options of the command being parsed. */
interface YargsInternals {
  middleware(f: (argv: Arguments) => void, beforeValidation: boolean, global: boolean): Argv;
  getOptions(): KnownOptions;
}

interface KnownOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  boolean: string[];
}

/** A typo is at most this many edits (insert, delete, substitute, swap two neighbours) away. */
const MAX_TYPO_EDITS = 2;

/** Optimal string alignment distance: Levenshtein where swapping two neighbours is one edit (`inpsect`). */
export function typoDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known name closest to `word`, when it is within a typo of it. */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = MAX_TYPO_EDITS + 1;
  for (const k of known) {
    const d = typoDistance(word, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

/**
 * A lone word is taken for a mistyped command only when it is close to one AND starts with the same
 * letter (typos rarely hit the first letter; the Docker Hub official images within two edits of a
 * command, alt, docker, gcc, ros and unit, all differ there), is not on disk, and is not a
 * reference the user qualified (a registry or namespace `/`, a tag `:`, a digest `@`).
 */
export function mistypedCommand(word: string, commands: readonly string[]): string | undefined {
  if (/[/:@]/.test(word) || existsSync(word)) return undefined;
  const near = closest(word, commands);
  return near?.[0] === word[0] ? near : undefined;
}

/**
 * The default command (`strata IMAGE`) checked before it runs: more than one word means a command
 * was meant (the default takes one image); a lone word close to a command is refused, not pulled.
 */
export function withCommandTypos<T>(command: CommandModule<object, T>, commands: readonly string[]): CommandModule<object, T> {
  const check = (argv: Arguments) => {
    const word = String(argv.image ?? '');
    if (argv._.length) {
      const near = closest(word, commands);
      throw new StrataError(`unknown command ${word}; ${near ? `did you mean ${near}?` : `commands: ${commands.join(', ')}`}`);
    }
    const near = mistypedCommand(word, commands);
    if (near) throw new StrataError(`unknown command ${word}; did you mean ${near}? (for an image of that name: strata ${word}:latest)`);
  };
  return {
    ...command,
    // before validation: yargs' strict check would otherwise say "Unknown argument: IMG"
    builder: (y: Argv) => ((command.builder as (y: Argv) => Argv)(y) as unknown as YargsInternals).middleware(check, true, false) as never,
  };
}

/** Options yargs knows in the command that failed: its keys, their aliases, camelCase forms and `no-` negations. */
function knownOptions(options: KnownOptions): Set<string> {
  const known = new Set<string>();
  for (const k of Object.keys(options.key)) known.add(k).add(k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()));
  for (const list of Object.values(options.alias)) for (const a of list) known.add(a);
  for (const b of options.boolean) known.add(`no-${b}`);
  return known;
}

/**
 * The first option on the command line that the failing command (`parser`: the yargs instance, which
 * holds that command's options while it fails) does not know, as a message; yargs
 * reads `--bogus IMG` as the value of the flag and complains of a missing image instead.
 */
export function unknownOptionMessage(argv: readonly string[], parser: Argv): string | undefined {
  const options = (parser as unknown as YargsInternals).getOptions();
  const known = knownOptions(options);
  for (const arg of argv) {
    if (arg === '--') break;
    const long = /^--([^=]+)/.exec(arg);
    // a short flag group (`-h`), not a negative number (`--top -1` is refused by its own coerce)
    const names = long ? [long[1]] : /^-[^-\d]/.test(arg) ? [...arg.slice(1).split('=')[0]] : [];
    const unknown = names.find((n) => !known.has(n));
    if (unknown === undefined) continue;
    const flag = `${long ? '--' : '-'}${unknown}`;
    const near = long ? closest(unknown, Object.keys(options.key).filter((k) => k.length > 1)) : undefined;
    return `unknown option ${flag}${near ? `; did you mean --${near}?` : ''}`;
  }
  return undefined;
}
