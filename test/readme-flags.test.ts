/**
 * The README and `--help` tell the same story: every flag the README gives a command is in that
 * command's `--help`, every flag of a `--help` is documented somewhere in the README, and no help
 * line runs into the next.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, runStrata } from './helpers/cli.js';

const COMMANDS = ['inspect', 'ls', 'packages', 'diff', 'ci', 'optimize', 'dockerfile', 'audit', 'worker', 'explore'] as const;
/** `strata IMAGE` (the default command): its help is `strata --help`. */
const DEFAULT = '';

/** Sections about one command whose heading does not name it as `strata CMD`. */
const SECTION_COMMAND: Record<string, string[]> = {
  'Diff': ['diff'],
  'Explorer (TUI)': ['explore', DEFAULT],
  'Waste and bloat': ['inspect'],
  'CI gate': ['ci'],
};

/** Tools other than strata (and Dockerfile instructions) the README quotes: the flags after them in a code span are theirs. */
const FOREIGN = String.raw`(?<![\w./-])(?:npm|npx|docker|dive|podman|skopeo|umoci|git|tar|printf|echo|setpriv|apt-get|node(?! bin/strata\.js)|COPY|ADD|RUN)\s`;

/** yargs' own flags, the same on every command. */
const BUILTIN = new Set(['--help', '--version']);

/** A foreign tool, a strata command (`strata CMD`, or a code span that starts with `CMD `), or a flag. */
const TOKEN = new RegExp(String.raw`(${FOREIGN})|(?:strata(?:\.js)? |^)(\w+)(?= )|(?<![\w-])--[a-z][a-z0-9-]*`, 'g');

interface Mention {
  flag: string;
  /** The commands whose help must have it; empty: any command's (a section shared by all). */
  commands: string[];
  line: number;
}

/**
 * Every `--flag` in the README, attributed to the command of its section, or to the command a
 * `strata CMD` named before it in the same sentence. Paragraphs are read whole (a code span may
 * wrap); a list item or a code line is a paragraph of its own. Output samples (fences without a
 * language) are not read: the flags there are the image's (`COPY --chown`, `RUN --mount`).
 */
function readmeMentions(readme: string): Mention[] {
  const out: Mention[] = [];
  let h2: string[] = [];
  let section: string[] = [];
  let fence: string | undefined;
  let paragraph: string[] = [];
  let first = 0;
  const flush = () => {
    let commands = section;
    let line = first;
    for (const [i, piece] of paragraph.join('\n').split('`').entries()) {
      let foreign = false;
      // prose (even pieces) that ends a sentence gives the section back its flags
      if (i % 2 === 0 && /[.;](?:\s|$)/.test(piece)) commands = section;
      for (const m of piece.matchAll(TOKEN)) {
        if (m[1] !== undefined) foreign = true;
        else if (m[2] !== undefined) {
          if ((COMMANDS as readonly string[]).includes(m[2])) [commands, foreign] = [[m[2]], false];
          else if (m[0].startsWith('strata') && /^[A-Z]/.test(m[2])) [commands, foreign] = [[DEFAULT], false]; // strata IMAGE
        } else if (!foreign) out.push({ flag: m[0], commands, line: line + (piece.slice(0, m.index).match(/\n/g)?.length ?? 0) + 1 });
      }
      line += piece.match(/\n/g)?.length ?? 0;
    }
    paragraph = [];
  };
  for (const [n, text] of readme.split('\n').entries()) {
    const f = /^\s*```(\w*)/.exec(text);
    const heading = /^(#{2,3}) (.*)$/.exec(text);
    if (f || heading || text.trim() === '' || fence !== undefined || /^\s*(?:[-*]|\d+\.) /.test(text)) flush();
    if (f) {
      fence = fence === undefined ? f[1] : undefined;
      continue;
    }
    if (fence === '') continue;
    if (heading) {
      const named = /strata (\w+)/.exec(heading[2])?.[1];
      const own = named && (COMMANDS as readonly string[]).includes(named) ? [named] : SECTION_COMMAND[heading[2]];
      if (heading[1] === '##') h2 = own ?? [];
      section = own ?? h2;
    }
    if (paragraph.length === 0) first = n;
    paragraph.push(text);
  }
  flush();
  return out;
}

/** `strata ci` takes each rule of the README's rule table as a flag of the same name (said there once). */
function ruleFlags(readme: string): string[] {
  return [...readme.matchAll(/^\| `([a-z][a-z-]+)` \|/gm)].map((m) => `--${m[1]}`);
}

/** The flags a help declares (its options column, not the flags its descriptions mention). */
function declaredFlags(help: string): Set<string> {
  const flags = new Set<string>();
  for (const line of help.split('\n')) {
    const m = /^\s+(?:-\w, )?(--[a-z][\w-]*(?:, --[a-z][\w-]*)*)\s/.exec(line);
    if (m) for (const f of m[1].split(', ')) flags.add(f);
  }
  return flags;
}

const helps = new Map<string, Promise<string>>(
  [...COMMANDS, DEFAULT].map((c) => [c, runStrata(c ? [c, '--help'] : ['--help']).then((r) => (r.code === 0 ? r.stdout : Promise.reject(new Error(`strata ${c} --help: exit ${r.code}: ${r.stderr}`))))]),
);
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

/** `--no-cache` is yargs' negation of the boolean `--cache`. */
const has = (flags: Set<string>, flag: string) => flags.has(flag) || (flag.startsWith('--no-') && flags.has(`--${flag.slice(5)}`));

test('the attribution reads sections, a strata command on the line, and leaves other tools alone', (t) => {
  const text = [
    '## Cache', '`--cache-dir DIR`', '### `strata ls IMAGE [--layer N]`', 'with `--changes`; `strata diff A B --html F`',
    '## CI gate', '- run: strata inspect X --json', '    - echo "$P" | docker login r -u u --password-stdin', '`npm install -g --allow-scripts=x`',
    '', 'a paragraph on `strata worker --queue Q`', 'goes on (`--jobs N`), and `diff --tui` too. Then', '`--top` and `setpriv', '--pdeathsig`', '```', 'COPY --chown=1 x', '```',
  ].join('\n');
  t.deepEqual(readmeMentions(text).map((m) => `${m.line} ${m.flag} ${m.commands.join('|')}`), [
    '2 --cache-dir ', '3 --layer ls', '4 --changes ls', '4 --html diff', '6 --json inspect', '10 --queue worker', '11 --jobs worker', '11 --tui diff', '12 --top ci',
  ]);
});

test('every flag the README documents for a command is in its --help', async (t) => {
  const declared = new Map<string, Set<string>>();
  for (const [c, help] of helps) declared.set(c, declaredFlags(await help));
  const all = new Set([...declared.values()].flatMap((s) => [...s]));
  const missing = readmeMentions(readme)
    .filter((m) => (m.commands.length ? !m.commands.some((c) => has(declared.get(c)!, m.flag)) : !has(all, m.flag)))
    .map((m) => `README.md:${m.line}: ${m.flag} is not in the help of ${m.commands.length ? m.commands.map((c) => `strata ${c}`.trim()).join(' / ') : 'any command'}`);
  t.deepEqual(missing, []);
});

test('every flag of every --help is documented in the README', async (t) => {
  const documented = new Set([...readmeMentions(readme).flatMap((m) => [m.flag, m.flag.replace(/^--no-/, '--')]), ...ruleFlags(readme)]);
  const undocumented: string[] = [];
  for (const [c, help] of helps) {
    for (const f of declaredFlags(await help)) if (!BUILTIN.has(f) && !documented.has(f)) undocumented.push(`strata ${c} ${f}`.replace('  ', ' '));
  }
  t.deepEqual(undocumented, []);
});

test('no help line runs into the next: a description is never glued to its [type]', async (t) => {
  const glued: string[] = [];
  for (const [c, help] of helps) {
    for (const line of (await help).split('\n')) if (/\S\[(?:string|boolean|array|number|required|default|choices)/.test(line)) glued.push(`strata ${c} --help: ${line.trim()}`);
  }
  t.deepEqual(glued, []);
});

test('diff takes the cache, registry and login flags every image command takes', async (t) => {
  const diff = declaredFlags(await helps.get('diff')!);
  for (const f of ['--cache-dir', '--cache', '--cache-max', '--username', '--password-stdin', '--insecure', '--timeout']) t.true(diff.has(f), f);
  t.notRegex(await helps.get('diff')!, /treemap, layers, findings/); // inspect's page, not the diff's
  t.regex((await helps.get('ci')!).replace(/\s+/g, ' '), /\.sarif/);
  t.regex((await helps.get('inspect')!).replace(/\s+/g, ' '), /else \$HOME\/\.cache\/strata/);
  t.regex((await helps.get('ls')!).replace(/\s+/g, ' '), /= unchanged/);
});
