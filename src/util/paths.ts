import { StrataError } from './errors.js';
import { excerpt } from './json-doc.js';

/**
 * The longest path strata accepts, in UTF-16 units: Linux's PATH_MAX (4096 bytes), which no path
 * Linux can open exceeds (a UTF-8 byte is at most one unit). It bounds every path tree strata
 * builds to 2048 levels, so walkers over the tree (union, dive's score, tiles, TUI) may recurse.
 */
export const MAX_PATH_LENGTH = 4096;

/** Refuse a path too long to be one (checked where names become paths: entries and symlink resolution). */
export function checkPathLength(path: string): void {
  if (path.length > MAX_PATH_LENGTH) {
    throw new StrataError(`path ${excerpt(path)} is ${path.length} characters long, more than the ${MAX_PATH_LENGTH} a path may have (Linux PATH_MAX)`);
  }
}

/**
 * Normalise a tar entry name to a root-relative path without a trailing slash: `./a//b/` -> `a/b`,
 * `/etc` -> `etc`, `./` -> `` (the root). Names with a `..` component are refused, even those that
 * stay inside (`a/../b`): no union, extraction or report may be built on them, and none is resolved;
 * so are names longer than MAX_PATH_LENGTH.
 */
export function normalizeEntryPath(raw: string): string {
  checkPathLength(raw);
  // Fast path: most names are already clean ("usr/bin/env", "etc/"): no ".", "..", "//" or leading "/".
  if (raw.length > 0 && raw[0] !== '/' && raw[0] !== '.' && !raw.includes('/.') && !raw.includes('//')) {
    return raw.endsWith('/') ? raw.slice(0, -1) : raw;
  }
  const out: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new StrataError(`entry ${excerpt(raw)} has a ".." component; strata refuses those`);
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
