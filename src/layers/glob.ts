/**
 * Path globs for bloat rules and config files, gitignore-like:
 *   - a pattern without `/` matches a file's base name at any depth (`*.log`, `core`);
 *   - a pattern with `/` is anchored at the image root (`/var/log/**`, `**\/.git/**`);
 *   - `*` and `?` stay within one path segment, `**` spans segments and must be a whole segment,
 *     `[abc]` / `[!abc]` are character classes, `{a,b}` are alternatives.
 * Paths given to the matcher are root-relative, as in the union (`var/log/x`).
 */
export type PathMatcher = (path: string) => boolean;

export class GlobError extends Error {}

export function compileGlob(pattern: string): PathMatcher {
  if (pattern === '') throw new GlobError('empty pattern');
  if (pattern.endsWith('/')) throw new GlobError(`"${pattern}" ends with "/": write "${pattern}**" to match everything beneath a directory`);
  if (!pattern.includes('/')) {
    const re = new RegExp(`^${toRegex(pattern)}$`);
    return (path) => re.test(path.slice(path.lastIndexOf('/') + 1));
  }
  const anchored = pattern.startsWith('/') ? pattern : `/${pattern}`;
  const re = new RegExp(`^${toRegex(anchored)}$`);
  return (path) => re.test(`/${path}`);
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
