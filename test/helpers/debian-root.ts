/**
 * A Debian root made of this machine's own installed packages (it runs Debian 12), for `docker
 * import`: the files the `required`-priority packages, dpkg, apt and their dependencies installed,
 * with a dpkg database trimmed to exactly those packages. No debootstrap, no network, no apt in a
 * vfs engine: a tar of files already on disk, about a second.
 *
 * Paths are stored as a usrmerged image has them: `/bin/bash` as the package lists it is the file
 * `usr/bin/bash` under the `bin -> usr/bin` symlink; a listed file this machine does not have (a
 * container's excluded docs) is not in the root, as in any slimmed image.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const DPKG = '/var/lib/dpkg';
/** Written from the trimmed database, never copied from this machine's. */
const STAGED = ['var/lib/dpkg/status', 'var/lib/dpkg/diversions', 'var/lib/dpkg/statoverride', 'var/lib/dpkg/info/', 'var/lib/dpkg/triggers/', 'etc/passwd', 'etc/group'];

export interface Stanza {
  /** The stanza as the status file has it (no trailing blank line). */
  text: string;
  fields: Map<string, string>;
}

export interface DebianRoot {
  /** The tar for `docker import`. */
  tar: string;
  /** The packages of its dpkg database, in the status file's order. */
  packages: string[];
}

/** The stanzas of a dpkg status file; field names as written, continuation lines kept in the value. */
export function parseStatus(text: string): Stanza[] {
  return text.split(/\n\n+/).filter((s) => s.trim() !== '').map((s) => {
    const fields = new Map<string, string>();
    let last = '';
    for (const line of s.split('\n')) {
      if (/^\s/.test(line) && last) fields.set(last, `${fields.get(last)}\n${line}`);
      else {
        const colon = line.indexOf(':');
        last = line.slice(0, colon);
        fields.set(last, line.slice(colon + 1).trim());
      }
    }
    return { text: s.replace(/\n+$/, ''), fields };
  });
}

/**
 * The root in `dir` (a staging directory for the generated database, and the tar): the packages of
 * priority required, `closure` and everything they depend on, and `alone` without their
 * dependencies (a package whose database entry and files a test reads, and whose programs it never
 * runs: python3-six without python3). A package named but not installed here throws, naming it.
 */
export function debianRoot(dir: string, opts: { closure: string[]; alone: string[] }): DebianRoot {
  const installed = parseStatus(readFileSync(join(DPKG, 'status'), 'utf8')).filter((s) => s.fields.get('Status') === 'install ok installed');
  const byName = new Map(installed.map((s) => [s.fields.get('Package')!, s]));
  const providers = new Map<string, string>();
  for (const s of installed) for (const p of names(s.fields.get('Provides'))) if (!providers.has(p)) providers.set(p, s.fields.get('Package')!);
  for (const name of [...opts.closure, ...opts.alone]) if (!byName.has(name)) throw new Error(`${name} is not installed on this machine: apt-get install ${name}`);

  const chosen = new Set<string>();
  const todo = [...installed.filter((s) => s.fields.get('Priority') === 'required').map((s) => s.fields.get('Package')!), ...opts.closure];
  while (todo.length) {
    const name = todo.pop()!;
    if (chosen.has(name)) continue;
    chosen.add(name);
    const s = byName.get(name)!;
    for (const clause of [s.fields.get('Pre-Depends'), s.fields.get('Depends')].flatMap((d) => (d ? d.split(',') : []))) {
      // the first alternative this machine has installed, as apt would have kept it
      const pick = names(clause.replaceAll('|', ',')).map((n) => (byName.has(n) ? n : providers.get(n))).find((n) => n !== undefined);
      if (pick) todo.push(pick);
    }
  }
  for (const name of opts.alone) chosen.add(name);
  const stanzas = installed.filter((s) => chosen.has(s.fields.get('Package')!));

  const stage = join(dir, 'stage');
  mkdirSync(join(stage, 'var/lib/dpkg/info'), { recursive: true });
  mkdirSync(join(stage, 'etc'));
  writeFileSync(join(stage, 'var/lib/dpkg/status'), stanzas.map((s) => `${s.text}\n\n`).join(''));
  const infoOf = new Set(stanzas.flatMap((s) => [s.fields.get('Package')!, `${s.fields.get('Package')}:${s.fields.get('Architecture')}`]));
  const info = readdirSync(join(DPKG, 'info')).filter((f) => infoOf.has(f.slice(0, f.lastIndexOf('.'))));
  for (const f of info) copyFileSync(join(DPKG, 'info', f), join(stage, 'var/lib/dpkg/info', f));
  // a diversion is three lines (from, to, package): kept for the packages of the root
  const div = readFileSync(join(DPKG, 'diversions'), 'utf8').split('\n');
  const kept: string[] = [];
  for (let i = 0; i + 2 < div.length; i += 3) if (chosen.has(div[i + 2])) kept.push(div[i], div[i + 1], div[i + 2]);
  writeFileSync(join(stage, 'var/lib/dpkg/diversions'), kept.map((l) => `${l}\n`).join(''));
  writeFileSync(join(stage, 'var/lib/dpkg/statoverride'), '');
  // the trigger interests of the root's packages (none pending): without them dpkg rebuilds its
  // trigger database on the next run and leaves the interested packages triggers-pending
  mkdirSync(join(stage, 'var/lib/dpkg/triggers'));
  const triggers = ['File', 'Unincorp', ...readdirSync(join(DPKG, 'triggers')).filter((f) => /^[a-z0-9][a-z0-9.+-]*$/.test(f))];
  for (const f of triggers) {
    const lines = f === 'Unincorp' ? [] : readFileSync(join(DPKG, 'triggers', f), 'utf8').split('\n').filter(Boolean);
    // File: "PATH PACKAGE[/noawait]"; a named trigger: "PACKAGE[/noawait]" per interested package
    const kept = lines.filter((l) => chosen.has(l.slice(f === 'File' ? l.lastIndexOf(' ') + 1 : 0).split('/')[0]));
    if (kept.length > 0 || f === 'File' || f === 'Unincorp') writeFileSync(join(stage, 'var/lib/dpkg/triggers', f), kept.map((l) => `${l}\n`).join(''));
  }
  // what base-passwd's postinst writes on a fresh system
  copyFileSync('/usr/share/base-passwd/passwd.master', join(stage, 'etc/passwd'));
  copyFileSync('/usr/share/base-passwd/group.master', join(stage, 'etc/group'));

  const files = new Set<string>();
  for (const f of info.filter((f) => f.endsWith('.list'))) {
    for (const p of readFileSync(join(DPKG, 'info', f), 'utf8').split('\n')) {
      if (!p.startsWith('/') || p === '/.') continue;
      const rel = resolvedPath(p);
      if (rel !== undefined && !STAGED.some((s) => (s.endsWith('/') ? rel.startsWith(s) : rel === s))) files.add(rel);
    }
  }
  // the usrmerge symlinks no package lists (bin/ and sbin/ are base-files' directories, lib64 libc6's)
  for (const top of ['bin', 'sbin', 'lib', 'lib64']) if (existsSync(`/${top}`) && lstatSync(`/${top}`).isSymbolicLink()) files.add(top);
  const staged = ['var/lib/dpkg/status', 'var/lib/dpkg/diversions', 'var/lib/dpkg/statoverride', 'etc/passwd', 'etc/group', ...info.map((f) => `var/lib/dpkg/info/${f}`), 'var/lib/dpkg/triggers', ...readdirSync(join(stage, 'var/lib/dpkg/triggers')).map((f) => `var/lib/dpkg/triggers/${f}`)];
  // one list: this machine's files from /, then `--directory` to the staging directory for the database
  const list = join(dir, 'files');
  writeFileSync(list, [...[...files].sort(), `--directory=${stage}`, ...staged].map((l) => `${l}\n`).join(''));
  const tar = join(dir, 'root.tar');
  execFileSync('tar', ['-C', '/', '--no-recursion', '--numeric-owner', '-cf', tar, '-T', list], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { tar, packages: stanzas.map((s) => s.fields.get('Package')!) };
}

/** Package names of a dependency field: versions, architecture qualifiers and alternatives' bars dropped. */
function names(field: string | undefined): string[] {
  if (!field) return [];
  return field.split(',').map((d) => d.trim().split(/[\s(]/)[0].replace(/:\w+$/, '')).filter(Boolean);
}

/** The root-relative path of a listed path with its directories resolved (`/bin/sh` -> `usr/bin/sh`), or undefined when it is not on disk. */
function resolvedPath(p: string): string | undefined {
  try {
    const rel = join(realpathSync(dirname(p)), basename(p)).slice(1);
    lstatSync(`/${rel}`);
    return rel;
  } catch {
    return undefined;
  }
}
