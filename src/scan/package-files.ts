/**
 * The package databases a layer scan keeps the bytes of, as the secret scan keeps its matches: the
 * files are small next to the layer and pass by anyway, so no blob is read twice. The readers
 * (analyze/packages/) parse them from the union, which says which copy a view sees.
 *
 * Every kept file is capped by its kind, and a layer keeps at most MAX_KEPT_PER_LAYER in all: a
 * hostile layer of a million package.json files or one "status" of 10 GB costs memory bounded by
 * the caps, and a file over its cap is flagged (Flag.packageFileOversized) so the report warns.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

/** Package metadata of one package (package.json, METADATA, PKG-INFO …). */
export const MAX_PACKAGE_META_BYTES = 1 * MiB;
/** A file list or a small database (RECORD, dpkg .list, extended_states, os-release …). */
export const MAX_PACKAGE_LIST_BYTES = 16 * MiB;
/** A distribution's whole text database (dpkg status, apk installed). */
export const MAX_PACKAGE_DB_BYTES = 64 * MiB;
/** An rpm database (sqlite, BerkeleyDB, NDB): Fedora's is tens of MB. */
export const MAX_RPM_DB_BYTES = 256 * MiB;
/** All kept package files of one layer together. */
export const MAX_KEPT_PER_LAYER = 512 * MiB;

/** Exact root-relative paths kept, with their caps. */
const EXACT = new Map<string, number>([
  ['var/lib/dpkg/status', MAX_PACKAGE_DB_BYTES],
  ['var/lib/apt/extended_states', MAX_PACKAGE_LIST_BYTES],
  ['lib/apk/db/installed', MAX_PACKAGE_DB_BYTES],
  ['usr/lib/apk/db/installed', MAX_PACKAGE_DB_BYTES],
  ['etc/apk/world', MAX_PACKAGE_LIST_BYTES],
  ['etc/os-release', MAX_PACKAGE_META_BYTES],
  ['usr/lib/os-release', MAX_PACKAGE_META_BYTES],
  ...['var/lib/rpm', 'usr/lib/sysimage/rpm'].flatMap((d) => ['Packages', 'rpmdb.sqlite', 'Packages.db'].map((f): [string, number] => [`${d}/${f}`, MAX_RPM_DB_BYTES])),
]);

/** The cap of a regular file the scan keeps, or 0 when it is not a package database file. */
export function packageFileCap(path: string): number {
  const exact = EXACT.get(path);
  if (exact !== undefined) return exact;
  const slash = path.lastIndexOf('/');
  if (slash < 0) return 0;
  const base = path.slice(slash + 1);
  switch (base) {
    case 'package.json':
      return inNodeModules(path, slash) ? MAX_PACKAGE_META_BYTES : 0;
    case 'METADATA':
    case 'INSTALLER':
    case 'direct_url.json':
      return parentEndsWith(path, slash, '.dist-info') ? MAX_PACKAGE_META_BYTES : 0;
    case 'RECORD':
      return parentEndsWith(path, slash, '.dist-info') ? MAX_PACKAGE_LIST_BYTES : 0;
    case 'PKG-INFO':
      return parentEndsWith(path, slash, '.egg-info') ? MAX_PACKAGE_META_BYTES : 0;
    case 'installed-files.txt':
      return parentEndsWith(path, slash, '.egg-info') ? MAX_PACKAGE_LIST_BYTES : 0;
  }
  if (base.endsWith('.egg-info')) return MAX_PACKAGE_META_BYTES; // distutils: PKG-INFO as a file of that name
  if (path.startsWith('var/lib/dpkg/')) {
    if (slash === 'var/lib/dpkg/status.d'.length && path.startsWith('var/lib/dpkg/status.d/')) return MAX_PACKAGE_LIST_BYTES;
    if (slash === 'var/lib/dpkg/info'.length && path.startsWith('var/lib/dpkg/info/') && base.endsWith('.list')) return MAX_PACKAGE_LIST_BYTES;
  }
  return 0;
}

function parentEndsWith(path: string, slash: number, suffix: string): boolean {
  return path.startsWith(suffix, slash - suffix.length) && slash > suffix.length;
}

/** `…node_modules/NAME/package.json` or `…node_modules/@SCOPE/NAME/package.json`. */
function inNodeModules(path: string, slash: number): boolean {
  const dir = path.lastIndexOf('/', slash - 1); // before NAME
  if (dir < 0) return false;
  // a scope directory (`node_modules/@s`) holds packages; it is none itself
  if (isNodeModules(path, dir)) return path.charCodeAt(dir + 1) !== 64 /* @ */;
  const scope = path.lastIndexOf('/', dir - 1); // before @SCOPE
  return scope >= 0 && path.charCodeAt(scope + 1) === 64 /* @ */ && isNodeModules(path, scope);
}

/** Whether the component that ends at `end` (exclusive) is `node_modules`. */
function isNodeModules(path: string, end: number): boolean {
  return path.startsWith('node_modules', end - 12) && (end === 12 || path.charCodeAt(end - 13) === 47);
}
