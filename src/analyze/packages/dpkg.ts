/**
 * Debian packages (docs/packages.md#deb): dpkg's status file and distroless's status.d, the file
 * lists in var/lib/dpkg/info, and apt's record of what was installed automatically.
 *
 * Installed means files on disk: a package counts when its Status state is one dpkg has unpacked
 * files in (installed, unpacked, half-configured, half-installed, triggers-awaited/-pending),
 * whatever its selection (a `deinstall ok installed` package still has all its files). It does
 * not when the state is config-files (removed, its conffiles kept) or not-installed; a stanza
 * without Status (status.d, hand-made databases) is installed.
 */
import { shown } from '../../util/json-doc.js';
import { MAX_PATH_LENGTH } from '../../util/paths.js';
import { FileWarnings, byteText, decodePath, forEachLine, isBlank, parseStanzas, type Stanza } from './control-fields.js';
import { PathBudget } from './path-budget.js';
import type { DocView, PackageEntry, PackageReader, ReadResult } from './types.js';

const STATUS = 'var/lib/dpkg/status';
const STATUS_D = 'var/lib/dpkg/status.d/';
const INFO = 'var/lib/dpkg/info/';
const EXTENDED_STATES = 'var/lib/apt/extended_states';

const FIELDS = new Set(['package', 'version', 'architecture', 'source', 'status', 'installed-size', 'depends', 'pre-depends']);
const ON_DISK = new Set(['installed', 'unpacked', 'half-configured', 'half-installed', 'triggers-awaited', 'triggers-pending']);
const NOT_ON_DISK = new Set(['not-installed', 'config-files']);
/** Installed-Size in KiB; more digits than these would not be a safe integer once × 1024. */
const KIB = /^\d{1,12}$/;

export const dpkgReader: PackageReader = { ecosystem: 'deb', read: readDpkg };

function readDpkg(view: DocView, paths = new PathBudget()): ReadResult {
  const warnings: string[] = [];
  const packages: PackageEntry[] = [];
  const statusD: string[] = [];
  const lists = new Map<string, string>(); // "name" or "name:arch" -> path of its .list
  for (const p of view.paths()) {
    if (p.startsWith(STATUS_D)) {
      const base = p.slice(STATUS_D.length);
      // distroless ships status.d/NAME (a control stanza) and status.d/NAME.md5sums (its files)
      if (base !== '' && !base.includes('/') && !base.endsWith('.md5sums')) statusD.push(p);
    } else if (p.startsWith(INFO) && p.endsWith('.list') && !p.includes('/', INFO.length)) {
      lists.set(p.slice(INFO.length, -'.list'.length), p);
    }
  }
  const auto = autoInstalled(view, warnings);
  const seen = new Set<string>();
  const databases = [...(view.get(STATUS) ? [STATUS] : []), ...statusD.sort()];
  for (const path of databases) {
    const w = new FileWarnings(warnings, path, view.layerOf(path));
    const stanzas = parseStanzas(byteText(view.get(path)!), FIELDS, (line, why) => w.add(`line ${line}: ${why}: ignored`));
    for (const s of stanzas) {
      const e = entryOf(s, path, w);
      if (!e) continue;
      const key = `${e.name}:${e.arch ?? ''}`;
      if (seen.has(key)) {
        w.add(`line ${s.line}: package ${shown(e.arch ? `${e.name}:${e.arch}` : e.name)} is listed again: skipped`);
        continue;
      }
      seen.add(key);
      e.files = filesOf(view, e, path, lists, warnings, paths);
      if (auto) e.auto = auto.get(`${e.name}:${e.arch ?? ''}`) ?? (e.arch === 'all' || e.arch === undefined ? auto.get(e.name) : undefined) ?? false;
      packages.push(e);
    }
    w.finish();
  }
  return { packages, warnings };
}

/** The entry a stanza describes, or undefined (with a warning when it is malformed, silently when not installed). */
function entryOf(s: Stanza, path: string, w: FileWarnings): PackageEntry | undefined {
  const f = s.fields;
  const name = f.get('package');
  const version = f.get('version');
  if (s.problems.length > 0) {
    w.add(`line ${s.line}: ${s.problems.join(', ')}: stanza skipped`);
    return undefined;
  }
  if (!name || !version) {
    w.add(`line ${s.line}: a stanza without ${name ? 'Version' : 'Package'}: skipped`);
    return undefined;
  }
  if (s.duplicates.length > 0) w.add(`line ${s.line}: package ${shown(name)} gives ${s.duplicates.join(', ')} more than once: the first kept`);
  const status = f.get('status');
  if (status !== undefined) {
    const state = status.split(/\s+/)[2];
    if (NOT_ON_DISK.has(state)) return undefined;
    if (!ON_DISK.has(state)) {
      w.add(`line ${s.line}: package ${shown(name)} has the status ${shown(status)}, not dpkg's: skipped`);
      return undefined;
    }
  }
  const e: PackageEntry = { ecosystem: 'deb', name, version, path, files: [] };
  const arch = f.get('architecture');
  if (arch) e.arch = arch;
  const source = f.get('source')?.split(/[\s(]/, 1)[0];
  if (source) e.source = source;
  const size = f.get('installed-size');
  if (size !== undefined) {
    if (KIB.test(size)) e.declaredSize = Number(size) * 1024;
    else w.add(`line ${s.line}: package ${shown(name)} has the Installed-Size ${shown(size)}, not a number of KiB: left out`);
  }
  const depends = dependencyNames([f.get('pre-depends'), f.get('depends')]);
  if (depends.length > 0) e.depends = depends;
  return e;
}

/**
 * Names in Depends/Pre-Depends: `libc6 (>= 2.36), debconf | debconf-2.0, perl:any` gives libc6,
 * debconf, perl (the first alternative, without version, architecture qualifier or restriction).
 */
function dependencyNames(fields: (string | undefined)[]): string[] {
  const names = new Set<string>();
  for (const field of fields) {
    for (const group of field?.split(',') ?? []) {
      const name = /^\s*([^\s|(\[<:,]+)/.exec(group)?.[1];
      if (name) names.add(name);
    }
  }
  return [...names];
}

/**
 * The files of a package: its info/NAME:ARCH.list or info/NAME.list (Multi-Arch: same packages
 * have the first); a status.d package without one (distroless) has status.d/NAME.md5sums, which
 * lists its regular files only. Paths are root-relative; `/.` (the root) is left out.
 */
function filesOf(view: DocView, e: PackageEntry, db: string, lists: Map<string, string>, warnings: string[], paths: PathBudget): string[] {
  const list = (e.arch && lists.get(`${e.name}:${e.arch}`)) || lists.get(e.name);
  // a list parsed once however many stanzas fall back to it (`a.list` for every architecture of a)
  if (list) return paths.list(view.get(list)!, list, view.layerOf(list), (take) => listedPaths(view.get(list)!, take, (line) => line));
  if (db === STATUS) return [];
  const md5 = [...(e.arch ? [`${STATUS_D}${e.name}:${e.arch}.md5sums`] : []), `${STATUS_D}${e.name}.md5sums`].find((p) => view.get(p));
  if (!md5) return [];
  return paths.list(view.get(md5)!, md5, view.layerOf(md5), (take) => {
    const w = new FileWarnings(warnings, md5, view.layerOf(md5));
    const files = listedPaths(view.get(md5)!, take, (line, n) => {
      // "<md5>  <path>": 32 hex digits, two spaces (or a space and '*', binary mode)
      const m = /^[0-9a-fA-F]{32} [ *]/.exec(line.slice(0, 34));
      if (!m) w.add(`line ${n}: not "<md5>  <path>": ignored`);
      return m ? line.slice(34) : '';
    });
    w.finish();
    return files;
  });
}

/**
 * The root-relative paths of a list file, one a line, each taken from its line by `pick` and
 * charged by `take`; one longer than a path can be names no file and is left out.
 */
function listedPaths(bytes: Uint8Array, take: (path: string) => boolean, pick: (line: string, n: number) => string): string[] {
  const out: string[] = [];
  const text = byteText(bytes);
  forEachLine(text, (s, e, n) => {
    if (isBlank(text, s, e)) return;
    const p = pick(decodePath(text.slice(s, e)), n).replace(/^(\.?\/)+/, '');
    if (p !== '' && p !== '.' && p.length <= MAX_PATH_LENGTH && take(p)) out.push(p);
  });
  return out;
}

/** apt's Auto-Installed marks by "name:arch" and by name, or undefined when the view has no extended_states. */
function autoInstalled(view: DocView, warnings: string[]): Map<string, boolean> | undefined {
  const bytes = view.get(EXTENDED_STATES);
  if (!bytes) return undefined;
  const w = new FileWarnings(warnings, EXTENDED_STATES, view.layerOf(EXTENDED_STATES));
  const marks = new Map<string, boolean>();
  for (const s of parseStanzas(byteText(bytes), new Set(['package', 'architecture', 'auto-installed']), (line, why) => w.add(`line ${line}: ${why}: ignored`))) {
    const name = s.fields.get('package');
    if (!name) continue;
    const auto = s.fields.get('auto-installed') === '1';
    const arch = s.fields.get('architecture');
    // apt records an Architecture: all package under the native architecture
    if (arch) marks.set(`${name}:${arch}`, auto);
    if (!marks.has(name)) marks.set(name, auto);
  }
  w.finish();
  return marks;
}
