import { StrataError } from './errors.js';

/**
 * Normalise a tar entry name to a root-relative path without a trailing slash: `./a//b/` -> `a/b`,
 * `/etc` -> `etc`, `./` -> `` (the root). Names that climb out of the root are refused: no union,
 * extraction or report may be built on them.
 */
export function normalizeEntryPath(raw: string): string {
  // Fast path: most names are already clean ("usr/bin/env", "etc/"): no ".", "..", "//" or leading "/".
  if (raw.length > 0 && raw[0] !== '/' && raw[0] !== '.' && !raw.includes('/.') && !raw.includes('//')) {
    return raw.endsWith('/') ? raw.slice(0, -1) : raw;
  }
  const out: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new StrataError(`entry "${raw}" climbs out of the root ("..")`);
    out.push(part);
  }
  return out.join('/');
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}
