/**
 * Path globs for bloat rules and config files, gitignore-like:
 *   - a pattern without `/` matches a file's base name at any depth (`*.log`, `core`);
 *   - a pattern with `/` is anchored at the image root (`/var/log/**`, `**\/.git/**`);
 *   - `*` and `?` stay within one path segment, `**` spans segments and must be a whole segment,
 *     `[abc]` / `[!abc]` are character classes, `{a,b}` are alternatives.
 * Paths given to the matcher are root-relative, as in the union (`var/log/x`).
 */
import { StrataError } from './errors.js';

export type PathMatcher = (path: string) => boolean;

export class GlobError extends StrataError {}

export function compileGlob(pattern: string): PathMatcher {
  const g = globSource(pattern);
  const re = new RegExp(`^${g.source}$`);
  return g.basename ? (path) => re.test(path.slice(path.lastIndexOf('/') + 1)) : (path) => re.test(`/${path}`);
}

/**
 * Noise control (`diff --ignore`): is this absolute path (`/var/log/x`), or a directory above it,
 * matched by any of the globs? Ignoring `/var/cache` ignores everything beneath it.
 */
export function ignoreMatcher(globs: readonly string[]): PathMatcher {
  if (globs.length === 0) return () => false;
  const set = new GlobSet([[...globs]]);
  return (abs) => {
    for (let p = abs.slice(1); p !== ''; p = p.slice(0, Math.max(p.lastIndexOf('/'), 0))) {
      if (set.first(p) >= 0) return true;
    }
    return false;
  };
}

/**
 * The regular expression (unanchored source) a glob compiles to, and what it is matched against:
 * the base name, or the path with a leading `/`. Lets callers combine many globs into one RegExp.
 */
export function globSource(pattern: string): { source: string; basename: boolean } {
  if (pattern === '') throw new GlobError('empty pattern');
  if (pattern.endsWith('/')) throw new GlobError(`"${pattern}" ends with "/": write "${pattern}**" to match everything beneath a directory`);
  if (!pattern.includes('/')) return { source: toRegex(pattern), basename: true };
  return { source: toRegex(pattern.startsWith('/') ? pattern : `/${pattern}`), basename: false };
}

/**
 * Several lists of globs matched in one pass: `first(path)` is the index of the first list with a
 * matching glob, or -1. One RegExp per target (base name, full path), ordered alternatives.
 *
 * Path globs ending in `/**` are kept apart: whether one matches `/dir/NAME` does not depend on NAME
 * (the only `/` before NAME ends `dir`, and `.*` takes any NAME), as long as NAME has no line break
 * (which `.` does not match). Callers matching many files of one directory ask `firstInDir(dir)`
 * once and `firstInFile(path, thatIndex)` per file; `sameForDir(path)` says when that is exact.
 */
export class GlobSet {
  /** Base-name globs that are plain names (`core`) or `*.EXT`: looked up, not matched (below). */
  private readonly exactName = new Map<string, number>();
  private readonly extName = new Map<string, number>();
  /**
   * lookupKey of every name and extension in the maps. Most file names share neither first
   * character and length with any of them: they are answered without slicing a string or hashing it.
   */
  private readonly exactKeys = new Set<number>();
  private readonly extKeys = new Set<number>();
  private readonly byName: RegExp | null;
  /** The first characters byName can match, when every one of its globs starts with a literal one. */
  private readonly nameStarts: Set<number> | null;
  private readonly byDir: RegExp | null;
  private readonly byPath: RegExp | null;
  /**
   * lookupKey of the last segment of every path glob, when each ends in a literal name
   * (`**\/.aws/credentials`): a file named otherwise is not matched against byPath at all.
   */
  private readonly pathNames: Set<number> | null;

  /** No globs at all: first() is -1 for every path. */
  readonly empty: boolean;

  constructor(lists: string[][]) {
    this.empty = lists.every((globs) => globs.length === 0);
    // Most base-name rules are a literal name or `*.EXT`. One regex of them all costs a scan of the
    // name per `[^/]*\.EXT` alternative, for every file; two map lookups give the same answer.
    lists.forEach((globs, i) => {
      for (const g of globs) {
        const l = targetOf(g) === 'name' ? lookupOf(g) : null;
        const m = l?.ext ? this.extName : this.exactName;
        if (l && !m.has(l.key)) m.set(l.key, i);
        if (l) (l.ext ? this.extKeys : this.exactKeys).add(lookupKey(l.key, 0, l.key.length));
      }
    });
    const group = (target: 'name' | 'dir' | 'path') => {
      let any = false;
      const alts = lists.map((globs) => {
        const src = globs.filter((g) => targetOf(g) === target && !(target === 'name' && lookupOf(g))).map((g) => globSource(g).source);
        if (src.length) any = true;
        return `(${src.length ? src.join('|') : '(?!)'})`;
      });
      return any ? new RegExp(`^(?:${alts.join('|')})$`) : null;
    };
    for (const globs of lists) globs.forEach(globSource); // invalid globs throw, whichever group they are in
    this.byName = group('name');
    // The names left for the regex (`core.[0-9]*`, `hs_err_pid*.log`) start with a literal: a name
    // starting otherwise is not tried at all.
    const rest = lists.flat().filter((g) => targetOf(g) === 'name' && !lookupOf(g));
    this.nameStarts = rest.every((g) => !/^[*?[\]{}\\]/.test(g)) ? new Set(rest.map((g) => g.charCodeAt(0))) : null;
    this.byDir = group('dir');
    this.byPath = group('path');
    const lastNames = lists.flat().filter((g) => targetOf(g) === 'path').map((g) => g.slice(g.lastIndexOf('/') + 1));
    this.pathNames = lastNames.every(isLiteral) ? new Set(lastNames.map((n) => lookupKey(n, 0, n.length))) : null;
  }

  first(path: string): number {
    const full = this.byDir ? `/${path}` : undefined;
    return this.firstInFile(path, full === undefined ? -1 : index(this.byDir!.exec(full)), full);
  }

  /** The index the `/**` globs give every file directly in `dir` whose name has no line break. */
  firstInDir(dir: string): number {
    return index(this.byDir?.exec(dir === '' ? '/x' : `/${dir}/x`));
  }

  /** first(path), given the index of its directory's `/**` globs (firstInDir or matched). */
  firstInFile(path: string, inDir: number, full?: string): number {
    const start = path.lastIndexOf('/') + 1; // the base name's
    const dot = path.lastIndexOf('.');
    let a = -1;
    if (this.exactKeys.has(lookupKey(path, start, path.length))) a = this.exactName.get(path.slice(start)) ?? -1;
    if (dot >= start && this.extKeys.has(lookupKey(path, dot + 1, path.length))) a = lowest(a, this.extName.get(path.slice(dot + 1)) ?? -1);
    // test() first: nearly every file matches nothing, and exec() builds an array of every group
    if (this.byName && (!this.nameStarts || this.nameStarts.has(path.charCodeAt(start)))) {
      const name = path.slice(start);
      if (this.byName.test(name)) a = lowest(a, index(this.byName.exec(name)));
    }
    let b = -1;
    if (this.byPath && (!this.pathNames || this.pathNames.has(lookupKey(path, start, path.length)))) {
      full ??= `/${path}`;
      if (this.byPath.test(full)) b = index(this.byPath.exec(full));
    }
    return lowest(lowest(a, b), inDir);
  }

  /**
   * Can first(path) be computed from firstInDir of its directory? (No line break in the path, from
   * `from` on: a caller that checked the directory passes where the base name starts.)
   */
  static sameForDir(path: string, from = 0): boolean {
    for (let i = from; i < path.length; i++) {
      const c = path.charCodeAt(i);
      if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) return false; // what `.` does not match
    }
    return true;
  }
}

/** s.slice(from, to) by its first character and length (capped): a prefilter for the lookups. */
function lookupKey(s: string, from: number, to: number): number {
  return from === to ? -1 : s.charCodeAt(from) * 4096 + Math.min(to - from, 4095);
}

/** A base-name glob answered by a map lookup: `*.EXT` (EXT literal, without a dot) or a literal name. */
function lookupOf(g: string): { ext: boolean; key: string } | null {
  if (!g.startsWith('*.')) return isLiteral(g) ? { ext: false, key: g } : null;
  const ext = g.slice(2);
  return ext !== '' && isLiteral(ext) && !ext.includes('.') ? { ext: true, key: ext } : null;
}

/** No glob syntax at all: the pattern matches only itself. */
function isLiteral(g: string): boolean {
  return !/[*?[\]{}\\]/.test(g);
}

function targetOf(glob: string): 'name' | 'dir' | 'path' {
  return !glob.includes('/') ? 'name' : glob.endsWith('/**') ? 'dir' : 'path';
}

function lowest(a: number, b: number): number {
  return a < 0 ? b : b < 0 ? a : Math.min(a, b);
}

function index(m: RegExpExecArray | null | undefined): number {
  if (!m) return -1;
  for (let i = 1; i < m.length; i++) if (m[i] !== undefined) return i - 1;
  return -1;
}

function toRegex(p: string): string {
  let re = '';
  let i = 0;
  while (i < p.length) {
    const c = p[i];
    if (c === '*' && p[i + 1] === '*') {
      const whole = (i === 0 || p[i - 1] === '/') && (i + 2 === p.length || p[i + 2] === '/');
      if (!whole) throw new GlobError(`"${p}": "**" must be a whole path segment (like a/**/b)`);
      if (i + 2 === p.length) {
        re += '.*';
        i += 2;
      } else {
        re += '(?:[^/]*/)*';
        i += 3;
      }
    } else if (c === '*') {
      re += '[^/]*';
      i++;
    } else if (c === '?') {
      re += '[^/]';
      i++;
    } else if (c === '[') {
      const end = p.indexOf(']', i + 2);
      if (end < 0) throw new GlobError(`"${p}": unclosed "["`);
      let body = p.slice(i + 1, end);
      const negate = body[0] === '!' || body[0] === '^';
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = end + 1;
    } else if (c === '{') {
      const end = p.indexOf('}', i);
      if (end < 0) throw new GlobError(`"${p}": unclosed "{"`);
      const alts = p.slice(i + 1, end).split(',');
      if (alts.some((a) => a.includes('{') || a.includes('/'))) throw new GlobError(`"${p}": "{a,b}" alternatives cannot nest or contain "/"`);
      re += `(?:${alts.map(toRegex).join('|')})`;
      i = end + 1;
    } else if (c === ']' || c === '}') {
      throw new GlobError(`"${p}": unmatched "${c}"`);
    } else {
      re += c.replace(/[.+^$()|\\]/g, '\\$&');
      i++;
    }
  }
  return re;
}
