/**
 * Path globs for noise control (`--ignore`). Matched against absolute image paths (`/var/log/x`):
 * `*` and `?` stay inside one path component, `**` crosses them; a pattern without a leading `/`
 * matches at any depth (`*.pyc`, `__pycache__`); a match on a directory covers everything under it.
 */
export function globToRegExp(glob: string): RegExp {
  let re = glob.startsWith('/') ? '^' : '^(?:.*/)?';
  const g = glob.replace(/^\/+/, '').replace(/\/+$/, '');
  for (let i = 0; i < g.length; i++) {
    const c = g[i];
    if (c === '*' && g[i + 1] === '*') {
      const slash = g[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${re}(?:/.*)?$`);
}

/** A predicate for "is this absolute path ignored by any of the globs". */
export function ignoreMatcher(globs: readonly string[]): (path: string) => boolean {
  if (globs.length === 0) return () => false;
  const res = globs.map(globToRegExp);
  return (path) => res.some((r) => r.test(path.slice(1)));
}
