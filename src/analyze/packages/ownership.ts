/**
 * Which package owns each file of a view, and so what each package costs. One owner per file:
 * operating-system packages claim first (their databases list every file they installed), then
 * Python distributions (RECORD), then npm packages (their directory minus nested node_modules); a
 * file already claimed stays with its first owner. Bytes are counted as every size strata shows
 * (counted-bytes.ts: a hardlink group once), so the packages and the unowned rest add up to the view.
 */
import { Kind } from '../../scan/records.js';
import type { Union } from '../../model/union.js';
import { countedBytes } from '../../model/counted-bytes.js';
import { nodeAt } from '../../model/path-at.js';
import { OS_ECOSYSTEMS, type PackageEntry, type UnownedDir } from './types.js';

export interface Owned {
  bytes: number;
  files: number;
  /** The last layer that wrote one of its files in the view (-1: it owns none). */
  lastLayer: number;
}

export interface Ownership {
  /** Per entry, in the order given. */
  owned: Owned[];
  /** Per entry: the entry whose files include its metadata (a language package an OS package installed), or -1. */
  installedBy: number[];
  unowned: { bytes: number; files: number; dirs: UnownedDir[] };
  /** node -> entry index, for every claimed non-directory node of the view. */
  owner: Map<number, number>;
}

const claimOrder = (e: PackageEntry) => (OS_ECOSYSTEMS.has(e.ecosystem) ? 0 : e.ecosystem === 'pypi' ? 1 : 2);

export function ownership(u: Union, k: number, entries: PackageEntry[]): Ownership {
  const counted = countedBytes(u, k);
  const owner = new Map<number, number>();
  const owned: Owned[] = entries.map(() => ({ bytes: 0, files: 0, lastLayer: -1 }));
  const claim = (node: number, i: number) => {
    if (owner.has(node)) return;
    const v = u.versionAt(node, k);
    if (v < 0 || u.kindOf(v) === Kind.dir) return;
    owner.set(node, i);
    const o = owned[i];
    o.bytes += counted.of(v);
    o.files++;
    o.lastLayer = Math.max(o.lastLayer, u.layerOf(v));
  };
  const order = entries.map((_, i) => i).sort((a, b) => claimOrder(entries[a]) - claimOrder(entries[b]) || a - b);
  for (const i of order) {
    const e = entries[i];
    // a path the database lists files below is a directory to the package, even where the image
    // has a symlink there (merged /usr: dpkg lists /bin, the image links it to usr/bin)
    const dirs = new Set(e.files.map((f) => f.slice(0, Math.max(f.lastIndexOf('/'), 0))));
    for (const f of e.files) {
      if (dirs.has(f)) continue;
      const node = nodeAt(u, k, f);
      if (node !== undefined) claim(node, i);
    }
    if (e.dir !== undefined) {
      const dir = nodeAt(u, k, e.dir);
      if (dir !== undefined) claimTree(u, k, dir, (node) => claim(node, i));
    }
  }
  const installedBy = entries.map((e) => {
    if (OS_ECOSYSTEMS.has(e.ecosystem)) return -1;
    const meta = nodeAt(u, k, e.path);
    const by = meta === undefined ? undefined : (owner.get(meta) ?? ownerBelow(u, k, meta, owner));
    return by !== undefined && OS_ECOSYSTEMS.has(entries[by].ecosystem) ? by : -1;
  });
  let unowned: Ownership['unowned'] | undefined;
  return {
    owned,
    installedBy,
    owner,
    // a pass over the whole view: taken when asked for (an image without packages is not walked for inspect)
    get unowned() {
      return (unowned ??= unownedOf(u, k, owner, counted.of.bind(counted)));
    },
  };
}

/** Every non-directory node below `dir` in the view, nested node_modules left out (other packages' code). */
function claimTree(u: Union, k: number, dir: number, claim: (node: number) => void): void {
  const stack = [dir];
  while (stack.length) {
    const n = stack.pop()!;
    for (let c = u.firstChildOf(n); c >= 0; c = u.nextSiblingOf(c)) {
      if (u.isHidden(c)) continue;
      const v = u.versionAt(c, k);
      if (v < 0) continue;
      if (u.kindOf(v) !== Kind.dir) claim(c);
      else if (!u.nodePath[c].endsWith('/node_modules')) stack.push(c);
    }
  }
}

/** A dist-info directory is metadata too: its first owned file says who installed it. */
function ownerBelow(u: Union, k: number, dir: number, owner: Map<number, number>): number | undefined {
  for (let c = u.firstChildOf(dir); c >= 0; c = u.nextSiblingOf(c)) {
    const by = owner.get(c);
    if (by !== undefined && u.versionAt(c, k) >= 0) return by;
  }
  return undefined;
}

/** What no package owns, by directory two levels down (`/usr/local`, `/app/src`): the application and the bloat. */
function unownedOf(u: Union, k: number, owner: Map<number, number>, bytesOf: (v: number) => number): Ownership['unowned'] {
  const dirs = new Map<string, UnownedDir>();
  let bytes = 0;
  let files = 0;
  for (const v of u.visibleAt(k)) {
    if (u.kindOf(v) === Kind.dir) continue;
    const node = u.nodeOfVersion(v);
    if (owner.has(node)) continue;
    const b = bytesOf(v);
    bytes += b;
    files++;
    const path = u.nodePath[node];
    const first = path.indexOf('/');
    const second = first < 0 ? -1 : path.indexOf('/', first + 1);
    const top = `/${first < 0 ? path : second < 0 ? path.slice(0, first) : path.slice(0, second)}`;
    const d = dirs.get(top) ?? { path: top, bytes: 0, files: 0 };
    d.bytes += b;
    d.files++;
    dirs.set(top, d);
  }
  return { bytes, files, dirs: [...dirs.values()].sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1)) };
}
