/**
 * Tree filter patterns. A pattern with glob wildcards (`*`, `?`, `[`) and none of the
 * regex-only constructs (`.*`, `\`, `(`, `|`, `+`, `^`, `$`, `{`) is a glob matched against the whole
 * path from the root (`/usr/lib/*.so`, `usr/lib/*.so`; `**` crosses directories), or against the
 * base name when it has no `/` (`*.pyc`); a directory that matches brings its subtree. Anything else is a regular expression
 * searched anywhere in the path (`/tmp`, `\.so(\.\d+)*$`). Paths are absolute: `/etc/passwd`.
 */
import { StrataError } from '../util/errors.js';

export type PathTest = (absPath: string) => boolean;

/** A PathTest that can also take a root-relative path (`etc/passwd`) as it is, sparing the `/` + path string. */
export type FilterTest = PathTest & { relative?: (relPath: string) => boolean };

export function compileFilter(pattern: string): FilterTest {
  if (isGlob(pattern)) {
    const body = globToRegex(pattern);
    // like the bloat rules' globs: with a `/` anchored at the root, without one any base name
    const re = pattern.includes('/') ? new RegExp(`^${pattern.startsWith('/') ? '' : '/'}${body}(?:/.*)?$`) : new RegExp(`(?:^|/)${body}(?:/.*)?$`);
    return (p) => re.test(p);
  }
  if (!/[.*+?^${}()|[\]\\]/.test(pattern)) return literal(pattern);
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (e) {
    throw new StrataError(`filter: ${(e as Error).message}`);
  }
  return (p) => re.test(p);
}

/**
 * A pattern without regex syntax (`node_modules`, `/f7/`) is a substring: found in `/` + path where
 * it is in the path, or where its leading `/` is the root's. Over 500k paths this spares building
 * each `/`-prefixed string (docs/performance.md).
 */
function literal(pattern: string): FilterTest {
  const rootAnchored = pattern.startsWith('/') ? pattern.slice(1) : null;
  const relative = (rel: string) => rel.includes(pattern) || (rootAnchored !== null && rel.startsWith(rootAnchored));
  return Object.assign((abs: string) => abs.includes(pattern), { relative });
}

export function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern) && !/\.\*|[\\(|+^${]/.test(pattern);
}

function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more directories; a trailing `**` matches everything below
        if (glob[i + 2] === '/') {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i++;
        }
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        const inner = glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        out += `[${inner}]`;
        i = end;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return out;
}

/** The part of a screen's state the filter prompt edits: the applied filter and the text being typed after `/`. */
export interface FilterPrompt {
  filter: string;
  editing: string | null;
  message: string;
}

/**
 * Typing the filter: printable keys append, backspace deletes, Enter applies, Esc cancels.
 * `check` throws (a StrataError) for a pattern that cannot be applied; the prompt stays open with its message.
 */
export function editFilter<S extends FilterPrompt>(s: S, name: string, check: (pattern: string) => void): S {
  const text = s.editing ?? '';
  if (name === 'escape') return { ...s, editing: null };
  if (name === 'backspace' || name === 'delete') return { ...s, editing: text.slice(0, -1) };
  if (name === 'space') return { ...s, editing: `${text} ` };
  if (name !== 'enter') return [...name].length === 1 ? { ...s, editing: text + name, message: '' } : s;
  try {
    check(text);
  } catch (err) {
    return { ...s, message: (err as Error).message };
  }
  return { ...s, filter: text, editing: null, message: '' };
}
