/**
 * The Dockerfile `strata dockerfile` writes, and the summary it prints. Every path and value comes
 * from the image: a comment is escaped so that no line break can end it (terminalText); a shell
 * word is single-quoted, and a command whose words a shell line cannot hold (a line break in a file
 * name) is written in exec form with the words as positional parameters (JSON escapes anything);
 * COPY destinations are JSON words with `$` and `\` escaped, since COPY expands variables.
 */
import { humanBytes, plural } from '../util/units.js';
import { terminalText } from '../util/terminal-text.js';
import type { ConfigLine, DockerfilePlan, PackageStep } from '../analyze/dockerfile/types.js';
import { expandedWord, jsonText, UNWRITABLE } from '../analyze/dockerfile/config-lines.js';

export interface DockerfileSource {
  ref: string;
  configDigest: string;
  version: string;
}

/** What FROM may name: registry host, path, tag, digest (the reference grammar's characters, no space or quote). */
const IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._\-/:@+]{0,254}$/;
/** What FROM says of the base: its name when it is one a Dockerfile can hold, else null (the placeholder). */
export function fromName(base: DockerfilePlan['base']): string | null {
  return base.ref !== null && IMAGE_NAME.test(base.ref) ? base.ref : null;
}

/** The build argument that names an unnamed base. */
export const BASE_ARG = 'BASE';
const PLACEHOLDER = 'REPLACE-WITH-THE-BASE-IMAGE';
/** Left-out paths listed one per line in the Dockerfile's comment block before it summarises. */
const LISTED = 200;


const PLAIN = /^[A-Za-z0-9_./:,@%+=^~-]+$/;
/** A word a shell line cannot show as it is: control and format characters (UNWRITABLE, and TAB). */
const UNSHELLABLE = new RegExp(`[\\t]|${UNWRITABLE.source}`, 'u');

function shellWord(w: string): string {
  return PLAIN.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** A word of a script that is already shell syntax (a glob, `&&`): passed through. */
class Raw {
  constructor(readonly text: string) {}
}
type Word = string | Raw;

/**
 * The most a RUN's script may weigh: `/bin/sh -c SCRIPT` passes it as one argument, and Linux refuses
 * one longer than 128 KiB (MAX_ARG_STRLEN). A long list (a hostile image's 100,000 deletions) is cut
 * into commands, and the commands into RUNs, under this.
 */
const MAX_SCRIPT = 64 * 1024;

/** RUN instructions for the commands: joined by `&&` as long as they fit one script, then a new RUN. */
function run(commands: Word[][]): string {
  const out: string[] = [];
  let batch: Word[][] = [];
  let size = 0;
  for (const c of commands.flatMap(split)) {
    const n = weight(c);
    if (batch.length && size + n > MAX_SCRIPT) {
      out.push(oneRun(batch));
      batch = [];
      size = 0;
    }
    batch.push(c);
    size += n;
  }
  if (batch.length) out.push(oneRun(batch));
  return out.join('\n');
}

const weight = (c: Word[]) => c.reduce((s, w) => s + (w instanceof Raw ? w.text.length : w.length * 2 + 8), 0);

/** A command longer than a script may be, as several with the same command, options and (chown, chmod) owner or mode. */
function split(c: Word[]): Word[][] {
  if (weight(c) <= MAX_SCRIPT) return [c];
  const head = c.findIndex((w, i) => i > 0 && !(w instanceof Raw) && !w.startsWith('-'));
  const kept = head < 0 ? c.length : head + (c[0] === 'chown' || c[0] === 'chmod' ? 1 : 0);
  const prefix = c.slice(0, kept);
  const out: Word[][] = [];
  const base = weight(prefix);
  let cur: Word[] = [...prefix];
  let size = base;
  for (const w of c.slice(prefix.length)) {
    const n = weight([w]);
    if (cur.length > prefix.length && size + n > MAX_SCRIPT) {
      out.push(cur);
      cur = [...prefix];
      size = base;
    }
    cur.push(w);
    size += n;
  }
  out.push(cur);
  return out;
}

/** One RUN: shell form when every word fits on a line, else exec form with the words as parameters. */
function oneRun(commands: Word[][]): string {
  if (commands.every((c) => c.every((w) => w instanceof Raw || !UNSHELLABLE.test(w)))) {
    const lines = commands.map((c) => c.map((w) => (w instanceof Raw ? w.text : shellWord(w))).join(' '));
    return `RUN ${lines.join(' \\\n && ')}`;
  }
  const args: string[] = [];
  const script = commands.map((c) => c.map((w) => {
    if (w instanceof Raw) return w.text;
    if (!UNSHELLABLE.test(w)) return shellWord(w);
    args.push(w);
    return `"\${${args.length}}"`;
  }).join(' ')).join(' && ');
  return `RUN ${jsonText(['/bin/sh', '-c', script, 'sh', ...args])}`;
}

/** A JSON word of an instruction that expands variables and reads quotes (COPY, ADD): `\`, `$` and both quotes escaped. */
function copyWord(w: string): string {
  return jsonText(expandedWord(w));
}

/** One comment line: a line break in the text (a file name's) is written as `\n`, never as a new line. */
function comment(text: string): string {
  return `# ${terminalText(text)}`.trimEnd();
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0');
const owner = (uid: number, gid: number) => `${uid}:${gid}`;

export function renderDockerfile(plan: DockerfilePlan, source: DockerfileSource): string {
  const out: string[] = [];
  const section = (title: string, ...lines: string[]) => {
    if (lines.length) out.push('', comment(title), ...lines);
  };
  out.push(comment(`Written by strata ${source.version} (strata dockerfile) from ${source.ref}`));
  out.push(comment(`config ${source.configDigest}; the build context is the context/ directory beside this file:`));
  out.push(comment('  docker build -f Dockerfile context'));
  if (plan.history.length) {
    out.push('#', comment('The original history, oldest first:'));
    for (const h of plan.history) out.push(comment(`  ${h.replace(/\s+/g, ' ').trim() || '(empty)'}`));
  }
  out.push('');
  const base = plan.base;
  const from = fromName(base);
  if (from !== null) out.push(`FROM ${from}`);
  else if (base.layers === 0) out.push('FROM scratch');
  else {
    if (base.ref !== null) out.push(comment(`The base's name ${base.ref} is not an image reference a Dockerfile can hold.`));
    out.push(comment(`The base (${plural(base.layers, 'layer')}, read from ${base.from}) has no name here: build with --build-arg ${BASE_ARG}=IMAGE, or name it with strata dockerfile --from.`));
    out.push(`ARG ${BASE_ARG}=${PLACEHOLDER}`, `FROM \${${BASE_ARG}}`);
  }
  const env = plan.config.filter((l) => l.instruction === 'ENV' || l.instruction === 'ARG');
  for (const l of env) out.push(...configLine(l));
  // the steps install and chown as root whatever user the base ends with; the config's USER comes last
  out.push('USER 0');

  // FROM scratch: nothing runs before the files are there (the shell is one of them)
  const scratch = base.layers === 0;
  const files = () => {
    const copies = plan.copies.filter((c) => !c.manifests);
    if (copies.length) {
      const bytes = copies.reduce((s, c) => s + c.bytes, 0);
      section(`Files no package owns (${plural(copies.reduce((s, c) => s + c.entries, 0), 'file')}, ${humanBytes(bytes)})`, ...copies.map(copyLine));
    }
    if (plan.linked) {
      section(`Hardlinked files (${plural(plan.linked.paths.length, 'path')}, ${humanBytes(plan.linked.bytes)}): ADD unpacks a tar and keeps them one file; COPY would store each name apart`, `ADD [${copyWord(plan.linked.source)}, "/"]`);
    }
  };
  if (scratch) files();
  if (plan.removed.length) section(`Deleted from the base (${plural(plan.removed.length, 'path')})`, run([['rm', '-rf', ...plan.removed]]));
  const dirs = dirCommands(plan, scratch);
  if (dirs.length) section(`Directories (${plural(plan.dirs.length, 'directory')})`, run(dirs));
  for (const step of plan.packages.filter((s) => s.ecosystem === 'deb' || s.ecosystem === 'apk' || s.ecosystem === 'rpm')) {
    const cmds = osCommands(step);
    if (cmds.length) section(packageTitle(step), run(cmds));
  }
  for (const step of plan.packages.filter((s) => s.ecosystem === 'npm' && s.manifests)) {
    const copies = plan.copies.filter((c) => c.manifests && `${c.dest}/` === `${step.where}/`);
    section(packageTitle(step), ...copies.map(copyLine), run([['cd', step.where!], ['npm', step.manifests!.length > 1 ? 'ci' : 'install', '--cache', '/tmp/npm-cache'], ['rm', '-rf', '/tmp/npm-cache']]));
  }
  if (!scratch) files();
  // pip after the COPY trees: the python it runs may be one of them (a venv's bin/python and pyvenv.cfg)
  for (const step of plan.packages.filter((s) => s.ecosystem === 'pypi' && s.install.length)) section(packageTitle(step), run(pipCommands(step)));
  const links = plan.hardlinks.map((l): Word[] => ['ln', '-f', l.target, l.path]);
  if (links.length) section('Hardlinks to what the build does not copy', run(links));
  const modes = plan.modes.flatMap((m): Word[][] => [
    ...(m.mode & 0o7000 ? [['chmod', octal(m.mode), m.path]] : []),
    ...(m.capabilities ? [['setcap', m.capabilities, m.path]] : []),
    ...Object.entries(m.xattrs ?? {}).map(([name, value]): Word[] => ['setfattr', '-n', name, '-v', `0s${value}`, m.path]),
  ]);
  if (modes.length) section('Modes COPY cannot carry (setuid, setgid, sticky), capabilities, extended attributes', run(modes));

  const tail = plan.config.filter((l) => l.instruction !== 'ENV' && l.instruction !== 'ARG');
  if (!tail.some((l) => l.instruction === 'USER')) tail.push({ instruction: 'USER', text: '0', note: 'the image runs as root (its config names no user)' });
  if (tail.length) section('The image config', ...tail.flatMap(configLine));
  out.push('', ...leftOutBlock(plan));
  return `${out.join('\n')}\n`;
}

function configLine(l: ConfigLine): string[] {
  return [...(l.note ? [comment(l.note)] : []), `${l.instruction} ${l.text}`];
}

/** TOPS entries named above a COPY; the rest are counted. */
const TOPS = 8;

function copyLine(c: DockerfilePlan['copies'][number]): string {
  const chown = c.uid || c.gid ? `--chown=${owner(c.uid, c.gid)} ` : '';
  const dest = c.dest === '/' ? '/' : `${c.dest}/`;
  const tops = c.tops.slice(0, TOPS).map((t) => `${t.path}${t.files > 1 ? ` (${t.files} files)` : ''}`);
  if (c.tops.length > TOPS) tops.push(`… ${c.tops.length - TOPS} more`);
  return `${comment(tops.join(', '))}\nCOPY ${chown}[${copyWord(`${c.source}/`)}, ${copyWord(dest)}]`;
}

/**
 * New directories (leaf-most; mkdir -p makes the parents), then owners, then modes (chown clears
 * special bits). After the COPYs (FROM scratch) a COPY may have made a directory with its own
 * owner: every one is given its owner then.
 */
function dirCommands(plan: DockerfilePlan, afterCopies: boolean): Word[][] {
  const made = plan.dirs.filter((d) => !d.existed).map((d) => d.path);
  const parents = new Set(made.flatMap((p) => p.split('/').slice(1, -1).map((_, i, parts) => `/${parts.slice(0, i + 1).join('/')}`)));
  const leaves = made.filter((p) => !parents.has(p));
  const cmds: Word[][] = leaves.length ? [['mkdir', '-p', ...leaves]] : [];
  const byOwner = group(plan.dirs.filter((d) => d.uid || d.gid || d.existed || afterCopies), (d) => owner(d.uid, d.gid));
  for (const [o, ds] of byOwner) if (o !== '0:0' || afterCopies || ds.some((d) => d.existed)) cmds.push(['chown', o, ...ds.map((d) => d.path)]);
  const byMode = group(plan.dirs.filter((d) => d.mode !== 0o755 || d.existed), (d) => octal(d.mode));
  for (const [m, ds] of byMode) cmds.push(['chmod', m, ...ds.map((d) => d.path)]);
  return cmds;
}

function group<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    const g = m.get(k);
    if (g) g.push(i);
    else m.set(k, [i]);
  }
  return m;
}

function packageTitle(step: PackageStep): string {
  const what = [
    step.install.length ? `${plural(step.install.length, 'package')} installed` : '',
    step.remove.length ? `${step.remove.length} removed` : '',
  ].filter(Boolean).join(', ');
  const where = step.where ? ` in ${step.where}` : '';
  return `Packages (${step.ecosystem}${where}): ${what || 'none reinstalled'}`;
}

const APT_LEFTOVERS = ['/var/lib/apt/lists/*', '/var/log/apt/*', '/var/log/dpkg.log', '/var/log/alternatives.log', '/var/cache/debconf/*-old', '/var/lib/dpkg/*-old', '/var/cache/ldconfig/aux-cache'];

function osCommands(step: PackageStep): Word[][] {
  const pins = step.install.map((p) => `${p.name}${step.ecosystem === 'rpm' ? '-' : '='}${p.version}`);
  const cmds: Word[][] = [];
  if (step.ecosystem === 'deb') {
    if (pins.length) cmds.push(['apt-get', 'update'], ['apt-get', 'install', '-y', '--no-install-recommends', ...pins]);
    if (step.remove.length) cmds.push(['apt-get', 'purge', '-y', ...step.remove]);
    if (cmds.length) cmds.push(['apt-get', 'clean'], ['rm', '-rf', ...APT_LEFTOVERS.map((p) => new Raw(p))]);
  } else if (step.ecosystem === 'apk') {
    if (pins.length) cmds.push(['apk', 'add', '--no-cache', ...pins]);
    if (step.remove.length) cmds.push(['apk', 'del', '--no-cache', ...step.remove]);
  } else {
    if (pins.length) cmds.push(['dnf', 'install', '-y', '--setopt=install_weak_deps=False', ...pins]);
    if (step.remove.length) cmds.push(['dnf', 'remove', '-y', ...step.remove]);
    if (cmds.length) cmds.push(['dnf', 'clean', 'all']);
  }
  return cmds;
}

/** pip: the packages asked for by name, their dependencies pinned through a constraints file. */
function pipCommands(step: PackageStep): Word[][] {
  const asked = new Set(step.explicit ?? []);
  const named = step.install.filter((p) => asked.has(p.name)).map((p) => `${p.name}==${p.version}`);
  const pinned = step.install.filter((p) => !asked.has(p.name)).map((p) => `${p.name}==${p.version}`);
  const flags = ['--no-cache-dir', ...(step.breakSystemPackages ? ['--break-system-packages'] : [])];
  if (!pinned.length) return [[step.where!, '-m', 'pip', 'install', ...flags, ...named]];
  const constraints = '/tmp/strata-constraints.txt';
  return [
    ['printf', new Raw("'%s\\n'"), ...pinned, new Raw('>'), constraints],
    [step.where!, '-m', 'pip', 'install', ...flags, '-c', constraints, ...named],
    ['rm', '-f', constraints],
  ];
}

function leftOutBlock(plan: DockerfilePlan): string[] {
  const lines: string[] = [];
  const bytes = plan.leftOut.reduce((s, l) => s + l.bytes, 0);
  lines.push(comment(`Left out: ${plural(plan.leftOut.length, 'path')}, ${humanBytes(bytes)} (leftovers the build does not need; strata dockerfile --json lists them all)`));
  for (const l of plan.leftOut.slice(0, LISTED)) lines.push(comment(`  ${l.category.padEnd(11)} ${humanBytes(l.bytes).padStart(9)}  ${l.path}`));
  if (plan.leftOut.length > LISTED) lines.push(comment(`  … and ${plan.leftOut.length - LISTED} more`));
  if (plan.secrets.length) {
    lines.push('#', comment(`Secrets not copied (${plan.secrets.length}): give them to the build with RUN --mount=type=secret,id=NAME,target=PATH, or to the container at run time; rotate them, the original image still holds them`));
    for (const s of plan.secrets) lines.push(comment(`  ${s.path}  ${s.rule}${s.fingerprint ? `  ${s.fingerprint}` : ''}`));
  }
  if (plan.notes.length) {
    lines.push('#', comment('Not carried over, or worth knowing:'));
    for (const n of plan.notes) lines.push(comment(`  ${n}`));
  }
  return lines;
}

/** The summary printed after the files are written (terminal text: every image string escaped). */
export function renderDockerfileSummary(plan: DockerfilePlan, output: string): string {
  const out: string[] = [];
  const files = plan.copies.reduce((s, c) => s + c.entries, 0);
  const bytes = plan.copies.reduce((s, c) => s + c.bytes, 0);
  out.push(`Wrote ${output}/Dockerfile and ${output}/context/ (${plural(files, 'file')}, ${humanBytes(bytes)})`);
  const b = plan.base;
  const from = fromName(b);
  out.push(from !== null
    ? `FROM ${from} (${plural(b.layers, 'layer')}, from ${b.from})`
    : b.layers === 0 ? 'FROM scratch (no base layers)' : `FROM: a placeholder: the base is ${plural(b.layers, 'layer')} (from ${b.from}) with no name: build with --build-arg ${BASE_ARG}=IMAGE, or give --from`);
  for (const s of plan.packages) {
    const parts = [
      s.install.length ? `install ${s.install.slice(0, 8).map((p) => `${p.name}=${p.version}`).join(' ')}${s.install.length > 8 ? ` … (${s.install.length})` : ''}` : '',
      s.remove.length ? `remove ${s.remove.join(' ')}` : '',
      s.copied?.length ? `${s.copied.length} copied instead` : '',
    ].filter(Boolean);
    out.push(`Packages ${s.ecosystem}${s.where ? ` ${s.where}` : ''}: ${parts.join('; ')}`);
  }
  out.push(`Files: ${plural(files, 'file')} in ${plural(plan.copies.length, 'COPY line')}, ${plural(plan.dirs.length, 'directory')}, ${plural(plan.symlinks.length + plan.hardlinks.length, 'link')}, ${plural(plan.removed.length, 'deletion')}, ${plural(plan.modes.length, 'special mode')}`);
  const byCategory = group(plan.leftOut, (l) => l.category);
  const cats = [...byCategory].map(([c, ls]) => `${c} ${ls.length} (${humanBytes(ls.reduce((s, l) => s + l.bytes, 0))})`);
  out.push(`Left out: ${plural(plan.leftOut.length, 'path')}, ${humanBytes(plan.leftOut.reduce((s, l) => s + l.bytes, 0))}${cats.length ? `: ${cats.join(', ')}` : ''}`);
  if (plan.secrets.length) {
    out.push(`Secrets not copied: ${plan.secrets.length}`);
    for (const s of plan.secrets) out.push(`  ${s.path}  ${s.rule}${s.fingerprint ? `  ${s.fingerprint}` : ''}`);
  }
  for (const n of plan.notes) out.push(`Note: ${n}`);
  // every line holds the image's strings somewhere: each is escaped whole (a line break in a name stays on its line)
  return `${out.map(terminalText).join('\n')}\n`;
}

/** The plan as `--json` prints it: the context's file lists stay in the context. */
export function dockerfileJson(plan: DockerfilePlan): unknown {
  const { layer, ...linked } = plan.linked ?? { layer: undefined };
  void layer;
  return { ...plan, copies: plan.copies.map(({ items, dirs, ...c }) => { void items; void dirs; return c; }), linked: plan.linked ? linked : null };
}
