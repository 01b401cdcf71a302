/**
 * Python distributions (pypi): the `*.dist-info` and `*.egg-info` metadata installers write next to
 * the code, read as importlib.metadata and pip read them (docs/packages.md#pypi). strata cannot
 * know an interpreter's sys.path, so the place of the metadata decides:
 * - its parent is a `site-packages` or `dist-packages` directory (any depth: venvs, ~/.local, the
 *   system's): listed, as every interpreter using that directory sees it;
 * - it lies deeper below one (`setuptools/_vendor/packaging-24.0.dist-info`): a copy vendored inside
 *   another distribution, whose RECORD lists its files: not listed;
 * - anywhere else (`pip install --target /deps`, a Lambda layer's /opt/python): listed only with the
 *   file list an installer writes (RECORD, installed-files.txt); an egg-info without one is a source
 *   tree's build leftover, and a dist-info without RECORD is no installed distribution.
 */
import { baseName, MAX_PATH_LENGTH, parentOf } from '../../util/paths.js';
import { excerpt } from '../../util/json-doc.js';
import { maskUrl } from '../../scan/secret-mask.js';
import { PathBudget } from './path-budget.js';
import type { DocView, PackageEntry, PackageReader, ReadResult } from './types.js';

type InfoKind = 'dist-info' | 'egg-info' | 'egg-file';

interface InfoDir {
  kind: InfoKind;
  /** A kept file of it, for the layer a warning names. */
  seen: string;
}

const DIST_INFO_FILES = new Set(['METADATA', 'RECORD', 'INSTALLER']);
const EGG_INFO_FILES = new Set(['PKG-INFO', 'installed-files.txt']);
const SITE_DIRS = new Set(['site-packages', 'dist-packages']);
/** PEP 508 project names: what pip can install, and so what a distribution may be called. */
const PROJECT_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
/** The name that starts a Requires-Dist value (`requests[socks] (>=2) ; python_version < "3.8"`). */
const REQUIREMENT_NAME = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/;
/** A `License:` longer than this (or folded over lines) is the license's text, not its name. */
const MAX_LICENSE_NAME = 100;

// the core metadata is UTF-8; a stray byte in an old PKG-INFO becomes U+FFFD (a name holding one is refused)
const utf8 = new TextDecoder();

export const pypiReader: PackageReader = { ecosystem: 'pypi', read };

function read(view: DocView, paths = new PathBudget()): ReadResult {
  const dirs = new Map<string, InfoDir>();
  for (const p of view.paths()) {
    const found = infoDirOf(p);
    if (found && !dirs.has(found.dir)) dirs.set(found.dir, { kind: found.kind, seen: p });
  }
  const packages: PackageEntry[] = [];
  const warnings: string[] = [];
  for (const dir of [...dirs.keys()].sort()) {
    const info = dirs.get(dir)!;
    if (!importable(view, dir, info.kind)) continue;
    const e = readDistribution(view, dir, info, warnings, paths);
    if (e) packages.push(e);
  }
  return { packages, warnings };
}

/** The metadata directory (or distutils' single file) a kept path belongs to. */
function infoDirOf(path: string): { dir: string; kind: InfoKind } | undefined {
  const base = baseName(path);
  const dir = parentOf(path);
  const dirName = baseName(dir);
  if (DIST_INFO_FILES.has(base) && dirName.endsWith('.dist-info') && dirName.length > '.dist-info'.length) return { dir, kind: 'dist-info' };
  if (EGG_INFO_FILES.has(base) && dirName.endsWith('.egg-info') && dirName.length > '.egg-info'.length) return { dir, kind: 'egg-info' };
  if (base.endsWith('.egg-info') && base.length > '.egg-info'.length) return { dir: path, kind: 'egg-file' };
  return undefined;
}

/** Whether an interpreter could see the distribution (see the file's comment). */
function importable(view: DocView, dir: string, kind: InfoKind): boolean {
  const parent = parentOf(dir);
  if (SITE_DIRS.has(baseName(parent))) return true;
  if (parent.split('/').some((s) => SITE_DIRS.has(s))) return false;
  const has = (p: string) => view.get(p) !== undefined || view.oversized(p);
  if (kind === 'dist-info') return has(`${dir}/RECORD`);
  if (kind === 'egg-info') return has(`${dir}/installed-files.txt`);
  return false;
}

function readDistribution(view: DocView, dir: string, info: InfoDir, warnings: string[], paths: PathBudget): PackageEntry | undefined {
  const metaPath = info.kind === 'dist-info' ? `${dir}/METADATA` : info.kind === 'egg-info' ? `${dir}/PKG-INFO` : dir;
  const bytes = view.get(metaPath);
  if (bytes === undefined) {
    // over its cap: the caller already warns that it was not read
    if (!view.oversized(metaPath)) warnings.push(`layer ${view.layerOf(info.seen)} /${dir}: no ${baseName(metaPath)}: not listed`);
    return undefined;
  }
  const where = `layer ${view.layerOf(metaPath)} /${metaPath}`;
  const h = headers(utf8.decode(bytes));
  const name = first(h, 'name');
  const version = first(h, 'version');
  if (name === undefined || version === undefined) {
    warnings.push(`${where}: no ${name === undefined ? 'Name' : 'Version'}: not listed`);
    return undefined;
  }
  if (!PROJECT_NAME.test(name)) {
    warnings.push(`${where}: Name ${excerpt(name)} is not a distribution name: not listed`);
    return undefined;
  }
  const license = licenseOf(h);
  const directUrl = info.kind === 'dist-info' ? directUrlOf(view.get(`${dir}/direct_url.json`)) : undefined;
  return {
    ecosystem: 'pypi',
    name,
    version,
    ...(license === undefined ? {} : { license }),
    path: dir,
    files: filesOf(view, dir, info.kind, paths),
    depends: dependsOf(h),
    ...(directUrl === undefined ? {} : { directUrl }),
  };
}

/** PEP 610's `url`, when the file is JSON with a string url of sane length, its credentials masked (it is printed); anything else says nothing. */
function directUrlOf(bytes: Uint8Array | undefined): string | undefined {
  if (bytes === undefined) return undefined;
  try {
    const url: unknown = (JSON.parse(utf8.decode(bytes)) as { url?: unknown } | null)?.url;
    return typeof url === 'string' && url.length > 0 && url.length <= 4096 ? maskUrl(url) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The header fields of core metadata (RFC 822, as Python's email parser reads them), names
 * lower-cased, each with its values in order. The first blank line ends them (the body is the long
 * description), and so does a line that is neither a field nor a continuation.
 */
function headers(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let last: string[] | undefined;
  let i = 0;
  while (i < text.length) {
    const nl = text.indexOf('\n', i);
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(i, text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    i = end + 1;
    if (line[0] === ' ' || line[0] === '\t') {
      if (!last) break;
      last[last.length - 1] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    const key = colon > 0 ? line.slice(0, colon) : '';
    // a blank line, or a line that is no field (Python's email parser starts the body there)
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(key)) break;
    const values = out.get(key.toLowerCase()) ?? [];
    values.push(line.slice(colon + 1).trim());
    out.set(key.toLowerCase(), values);
    last = values;
  }
  return out;
}

/** The first value of a field, as importlib.metadata's `metadata[key]` gives it; empty counts as absent. */
function first(h: Map<string, string[]>, key: string): string | undefined {
  const v = h.get(key)?.[0]?.trim();
  return v ? v : undefined;
}

/** License-Expression (metadata 2.4), else a License that names one, else the License classifiers. */
function licenseOf(h: Map<string, string[]>): string | undefined {
  const expression = first(h, 'license-expression');
  if (expression !== undefined) return expression;
  const license = first(h, 'license');
  if (license !== undefined && license !== 'UNKNOWN' && !license.includes('\n') && license.length <= MAX_LICENSE_NAME) return license;
  const named = (h.get('classifier') ?? [])
    .filter((c) => c.startsWith('License ::'))
    .map((c) => c.slice(c.lastIndexOf('::') + 2).trim())
    .filter((n) => n !== '' && n !== 'OSI Approved');
  return named.length > 0 ? [...new Set(named)].join(', ') : undefined;
}

/**
 * Requires-Dist names, as written. A requirement conditional on an extra is left out: the
 * distribution does not install it unless asked (pip show leaves it out too); other markers
 * (python_version, sys_platform) are kept, the image's interpreter being unknown here.
 */
function dependsOf(h: Map<string, string[]>): string[] {
  const out = new Set<string>();
  for (const r of h.get('requires-dist') ?? []) {
    const semi = r.indexOf(';');
    if (semi >= 0 && /\bextra\b/.test(r.slice(semi))) continue;
    const m = REQUIREMENT_NAME.exec(r);
    if (m) out.add(m[1]);
  }
  return [...out];
}

/**
 * The files the installer recorded, root-relative: RECORD paths are relative to the directory that
 * holds the dist-info directory, installed-files.txt paths to the egg-info directory itself.
 */
function filesOf(view: DocView, dir: string, kind: InfoKind, paths: PathBudget): string[] {
  if (kind === 'egg-file') return [];
  const listPath = kind === 'dist-info' ? `${dir}/RECORD` : `${dir}/installed-files.txt`;
  const bytes = view.get(listPath);
  if (bytes === undefined) return [];
  // every view that sees this copy of the list sees the same files: parsed once (a RECORD may hold 100,000 rows)
  return paths.list(bytes, listPath, view.layerOf(listPath), (take) => {
    const out = new Set<string>();
    const inRoot = resolver(kind === 'dist-info' ? parentOf(dir) : dir);
    let room = true;
    const add = (rel: string) => {
      // a path longer than a path can be names no file: left out
      const p = room && rel.length <= MAX_PATH_LENGTH ? inRoot(rel) : undefined;
      if (p === undefined || p.length > MAX_PATH_LENGTH) return;
      // charged before the duplicate check, so a row repeated a million times costs its rows
      if ((room = take(p))) out.add(p);
    };
    const text = utf8.decode(bytes);
    if (kind === 'dist-info') {
      for (const [path] of csvRecords(text)) if (path !== undefined) add(path);
    } else {
      for (const line of text.split('\n')) add(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    return [...out];
  });
}

/**
 * Resolves `rel` (relative to `base`, or absolute: from the image's root) to a root-relative path;
 * undefined when it is empty or climbs above the root (never followed out of the image). The
 * ancestors of `base` are found once, so a row costs its own length, never the base's.
 */
function resolver(base: string): (rel: string) => string | undefined {
  // base.slice(0, ends[i]) is base's ancestor i + 1 levels up
  const ends: number[] = [];
  for (let i = base.lastIndexOf('/'); i >= 0; i = i === 0 ? -1 : base.lastIndexOf('/', i - 1)) ends.push(i);
  const depth = base === '' ? 0 : ends.length + 1;
  return (rel) => {
    if (rel === '') return undefined;
    // most rows are plain (`pkg/mod.py`): no `.` or `..` part, no empty part, not absolute
    if (rel[0] !== '/' && rel[0] !== '.' && !rel.includes('/.') && !rel.includes('//') && !rel.endsWith('/')) return base === '' ? rel : `${base}/${rel}`;
    const out: string[] = [];
    let up = 0; // `..` parts that climb above rel into base
    for (const part of rel.split('/')) {
      if (part === '' || part === '.') continue;
      if (part !== '..') out.push(part);
      else if (out.pop() === undefined) up++;
    }
    const from = rel[0] === '/' ? 0 : depth;
    if (up > from) return undefined;
    const root = up === from ? '' : up === 0 ? base : base.slice(0, ends[up - 1]);
    const tail = out.join('/');
    return root === '' ? tail || undefined : tail === '' ? root : `${root}/${tail}`;
  };
}

/**
 * The records of a CSV text (RFC 4180, as Python's csv module writes RECORD): a field in double
 * quotes may hold commas, line breaks and `""` for a quote; records end at CRLF, LF or CR. As
 * Python reads it, text after a closing quote joins the field, an unclosed quote runs to the end,
 * and a blank line is a record of no field.
 */
export function* csvRecords(text: string): Generator<string[]> {
  const n = text.length;
  let fields: string[] = [];
  let i = 0;
  while (i < n) {
    const c0 = text.charCodeAt(i);
    if (fields.length === 0 && (c0 === 10 || c0 === 13)) {
      // a blank line: a record of no field
      yield [];
      i += c0 === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
      continue;
    }
    let value = '';
    if (c0 === 34) {
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) {
          value += text.slice(j);
          i = n;
          break;
        }
        value += text.slice(j, q);
        if (text.charCodeAt(q + 1) !== 34) {
          i = q + 1;
          break;
        }
        value += '"';
        j = q + 2;
      }
    }
    let j = i;
    for (; j < n; j++) {
      const c = text.charCodeAt(j);
      if (c === 44 || c === 10 || c === 13) break;
    }
    fields.push(j === i ? value : value + text.slice(i, j));
    if (text.charCodeAt(j) === 44) {
      i = j + 1;
      if (i === n) fields.push('');
      continue;
    }
    yield fields;
    fields = [];
    i = j + (text.charCodeAt(j) === 13 && text.charCodeAt(j + 1) === 10 ? 2 : 1);
  }
  if (fields.length > 0) yield fields;
}
