/**
 * A path as a program in the container would open it after layer k: parent directories followed
 * through symlinks (`bin/bash` with `bin -> usr/bin` is `usr/bin/bash`), never above the root; the
 * last component is not followed. Package databases name files by the paths they were installed
 * at, which a merged-/usr image reaches through such links.
 */
import { Kind } from '../scan/records.js';
import type { Union } from './union.js';

/** As Linux's MAXSYMLINKS. */
const MAX_SYMLINKS = 40;

/** The node the path names in the view after layer k (visible there), or undefined. */
export function nodeAt(u: Union, k: number, path: string): number | undefined {
  const direct = u.nodeOf(path);
  if (direct !== undefined && u.versionAt(direct, k) >= 0) return direct;
  // its parent a directory of the view: every ancestor is one too (no link on the way), so the path
  // names nothing; the walk below, which looks up every prefix, is for paths through links
  const slash = path.lastIndexOf('/');
  const parent = slash > 0 ? u.nodeOf(path.slice(0, slash)) : undefined;
  const pv = parent === undefined ? -1 : u.versionAt(parent, k);
  if (pv >= 0 && u.kindOf(pv) === Kind.dir) return undefined;
  let parts = path.split('/').filter((p) => p !== '' && p !== '.');
  let hops = 0;
  for (let i = 0; i < parts.length - 1; i++) {
    if (parts[i] === '..') {
      parts.splice(Math.max(i - 1, 0), i === 0 ? 1 : 2);
      i = Math.max(i - 2, -1);
      continue;
    }
    const node = u.nodeOf(parts.slice(0, i + 1).join('/'));
    const v = node === undefined ? -1 : u.versionAt(node, k);
    if (v < 0) return undefined;
    const kind = u.kindOf(v);
    if (kind === Kind.dir) continue;
    if (kind !== Kind.symlink || ++hops > MAX_SYMLINKS) return undefined;
    const target = u.linkOf(v) ?? '';
    const base = target.startsWith('/') ? [] : parts.slice(0, i);
    parts = [...base, ...target.split('/').filter((p) => p !== '' && p !== '.'), ...parts.slice(i + 1)];
    i = -1; // start over: the target may itself go through links or `..`
  }
  const last = parts.join('/');
  const node = u.nodeOf(last);
  return node !== undefined && u.versionAt(node, k) >= 0 ? node : undefined;
}
