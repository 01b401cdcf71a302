/**
 * Alpine and Wolfi packages (docs/packages.md#apk): apk's installed database, one package per
 * blank-line-separated block of `X:value` lines (P name, V version, A arch, o origin, L license,
 * I installed size in bytes, D depends; F a directory, then R the files in it), and etc/apk/world,
 * the packages asked for by name.
 *
 * apk-tools 2 knows lib/apk/db only; apk-tools 3 defaults to usr/lib/apk/db but uses lib/apk/db
 * when that exists. So does this reader: lib/apk/db/installed when the view has it, else
 * usr/lib/apk/db/installed (a merged-/usr image, lib -> usr/lib, stores only that one).
 */
import { shown } from '../../util/json-doc.js';
import { MAX_PATH_LENGTH } from '../../util/paths.js';
import { FileWarnings, MAX_FIELD_BYTES, byteText, decodePath, decodeValue, forEachLine, isBlank } from './control-fields.js';
import { PathBudget } from './path-budget.js';
import type { DocView, PackageEntry, PackageReader, ReadResult } from './types.js';

const INSTALLED = 'lib/apk/db/installed';
const INSTALLED_USR = 'usr/lib/apk/db/installed';
const WORLD = 'etc/apk/world';

export const apkReader: PackageReader = { ecosystem: 'apk', read: readApk };

function readApk(view: DocView, paths = new PathBudget()): ReadResult {
  const warnings: string[] = [];
  const path = view.get(INSTALLED) || view.oversized(INSTALLED) ? INSTALLED : view.get(INSTALLED_USR) ? INSTALLED_USR : undefined;
  const bytes = path && view.get(path);
  if (!path || !bytes) return { packages: [], warnings };
  if (path === INSTALLED && view.get(INSTALLED_USR)) {
    new FileWarnings(warnings, INSTALLED_USR, view.layerOf(INSTALLED_USR)).add(`not read: apk uses /${INSTALLED}, which the image also has`);
  }
  const w = new FileWarnings(warnings, path, view.layerOf(path));
  const layer = view.layerOf(path);
  const packages = parseInstalled(byteText(bytes), path, w, (p) => paths.take(p, path, layer));
  w.finish();
  const world = worldNames(view);
  if (world) for (const p of packages) p.auto = !world.has(p.name);
  return { packages, warnings };
}

interface Block {
  line: number;
  fields: Map<string, string>;
  files: string[];
  /** The directory of the last F line, '' for the root; null before the first. */
  dir: string | null;
  /** The first line of an R before any F (apk refuses such a database): its files are left out. */
  orphan: number;
  /** Why the block is unusable (a kept field over MAX_FIELD_BYTES). */
  problems: string[];
}

/**
 * The packages of an installed database; malformed blocks are skipped with a warning. Each file
 * path is charged by `take`; one longer than a path can be names no file and is left out.
 */
function parseInstalled(text: string, path: string, w: FileWarnings, take: (path: string) => boolean): PackageEntry[] {
  const out: PackageEntry[] = [];
  const seen = new Set<string>();
  let block: Block | null = null;
  const close = () => {
    if (!block) return;
    const e = entryOf(block, path, w);
    if (e && seen.has(e.name)) w.add(`line ${block.line}: package ${shown(e.name)} is listed again: skipped`);
    else if (e) {
      seen.add(e.name);
      out.push(e);
    }
    block = null;
  };
  forEachLine(text, (s, e, n) => {
    if (isBlank(text, s, e)) return close();
    if (e - s < 2 || text[s + 1] !== ':') return w.add(`line ${n}: not a "X:value" line: ignored`);
    const key = text[s];
    if (key === 'P' && block?.fields.has('P')) {
      w.add(`line ${n}: a package starts without a blank line before it`);
      close();
    }
    block ??= { line: n, fields: new Map(), files: [], dir: null, orphan: 0, problems: [] };
    const value = text.slice(s + 2, e);
    switch (key) {
      case 'F':
        block.dir = trimSlashes(decodePath(value));
        break;
      case 'R': {
        if (block.dir === null) {
          block.orphan ||= n;
          break;
        }
        const file = block.dir === '' ? decodePath(value) : `${block.dir}/${decodePath(value)}`;
        if (file.length <= MAX_PATH_LENGTH && take(file)) block.files.push(file);
        break;
      }
      case 'P':
      case 'V':
      case 'A':
      case 'I':
      case 'o':
      case 'L':
      case 'D':
        if (value.length > MAX_FIELD_BYTES) {
          if (block.problems.length < 3) block.problems.push(`its ${key}: line is longer than 1 MiB`);
        } else if (!block.fields.has(key)) block.fields.set(key, decodeValue(value).trim());
        break;
    }
  });
  close();
  return out;
}

/** A directory without slashes at either end (a loop: a regex for both ends is quadratic on a hostile line). */
function trimSlashes(dir: string): string {
  let start = 0;
  let end = dir.length;
  while (start < end && dir[start] === '/') start++;
  while (end > start && dir[end - 1] === '/') end--;
  return dir.slice(start, end);
}

function entryOf(b: Block, path: string, w: FileWarnings): PackageEntry | undefined {
  const name = b.fields.get('P');
  const version = b.fields.get('V');
  if (b.problems.length > 0) {
    w.add(`line ${b.line}: ${b.problems.join(', ')}: package skipped`);
    return undefined;
  }
  if (!name || !version) {
    w.add(`line ${b.line}: a package without ${name ? 'V: (version)' : 'P: (name)'}: skipped`);
    return undefined;
  }
  if (b.orphan) w.add(`line ${b.orphan}: package ${shown(name)} lists files (R) before any directory (F): those left out`);
  const e: PackageEntry = { ecosystem: 'apk', name, version, path, files: b.files };
  const arch = b.fields.get('A');
  if (arch) e.arch = arch;
  const origin = b.fields.get('o');
  if (origin) e.source = origin;
  const license = b.fields.get('L');
  if (license) e.license = license;
  const size = b.fields.get('I');
  if (size !== undefined) {
    if (/^\d{1,15}$/.test(size)) e.declaredSize = Number(size);
    else w.add(`line ${b.line}: package ${shown(name)} has the installed size ${shown(size)}, not a number of bytes: left out`);
  }
  const depends = dependencyNames(b.fields.get('D') ?? '');
  if (depends.length > 0) e.depends = depends;
  return e;
}

/**
 * Package names among apk dependencies (`D:` and the world file): `so:libc.musl-x86_64.so.1`,
 * `cmd:sh`, `pc:zlib` and `/bin/sh` name what a package provides, not a package, and are left
 * out, as are conflicts (`!name`); versions (`>=1.2`, `~1.2`, `><Q1…`) and pins (`@edge`) are cut.
 */
function dependencyNames(text: string): string[] {
  const names = new Set<string>();
  for (const dep of text.split(/\s+/)) {
    if (dep === '' || dep.startsWith('!') || dep.startsWith('/')) continue;
    const name = dep.split(/[<>=~@]/, 1)[0];
    if (name !== '' && !name.includes(':')) names.add(name);
  }
  return [...names];
}

/** The names in etc/apk/world, or undefined when the view has none. */
function worldNames(view: DocView): Set<string> | undefined {
  const bytes = view.get(WORLD);
  return bytes && new Set(dependencyNames(decodeValue(byteText(bytes))));
}
