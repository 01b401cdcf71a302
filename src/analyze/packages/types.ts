/**
 * Packages as strata reports them: one interface for every ecosystem's reader, and the plain data
 * of `strata packages --json` (docs/json.md#packages, docs/packages.md).
 */
import type { PathBudget } from './path-budget.js';

/** The purl type of each ecosystem strata reads. */
export type Ecosystem = 'deb' | 'apk' | 'rpm' | 'pypi' | 'npm';
export const ECOSYSTEMS: readonly Ecosystem[] = ['deb', 'apk', 'rpm', 'pypi', 'npm'];
/** Operating-system package managers: where one claims a file a language package also lists, it owns its bytes. */
export const OS_ECOSYSTEMS: ReadonlySet<Ecosystem> = new Set(['deb', 'apk', 'rpm']);

/** One package as its database states it, before the union says which of its files are in the view. */
export interface PackageEntry {
  ecosystem: Ecosystem;
  name: string;
  /** As the ecosystem writes it: deb `[epoch:]upstream[-revision]`, rpm `[epoch:]version-release`, apk `1.2.3-r0`. */
  version: string;
  arch?: string;
  /** The source package (deb Source, apk `o:`, rpm SOURCERPM), when it differs from the name or is stated. */
  source?: string;
  license?: string;
  /** Bytes its database declares (dpkg Installed-Size × 1024, apk `I:`, rpm SIZE): reported as read, never used for `bytes`. */
  declaredSize?: number;
  /** Root-relative path (no leading slash) of the metadata it was read from: the status file, the dist-info directory, package.json. */
  path: string;
  /** Root-relative paths the database says the package installed (directories may be among them: they are never counted). */
  files: string[];
  /** npm: the package's directory; it owns every file below it except those under a nested node_modules. */
  dir?: string;
  /** deb: marked automatically installed in apt's extended_states (a dependency, not asked for). */
  auto?: boolean;
  /** pypi: where pip installed it from when not from an index (PEP 610 direct_url.json: a local wheel, a VCS URL). */
  directUrl?: string;
  /** Names of packages it depends on, as the database lists them (alternatives and versions dropped). */
  depends?: string[];
}

/** What one reader made of the databases of one view: packages, and warnings naming the file. */
export interface ReadResult {
  packages: PackageEntry[];
  warnings: string[];
}

/**
 * The package database files visible in one view, as the scan kept them (scan/package-files.ts):
 * root-relative path -> bytes, and the layer each came from (for warnings).
 */
export interface DocView {
  /** Paths of the kept files visible in the view, in no particular order. */
  paths(): Iterable<string>;
  get(path: string): Uint8Array | undefined;
  /** A file of the view the scan saw but did not keep (over the size cap): named in a warning. */
  oversized(path: string): boolean;
  /** The layer that wrote the visible copy, for messages. */
  layerOf(path: string): number;
}

/**
 * One ecosystem's reader: pure, never throws on bad input (a warning names the layer and file).
 * Every path it lists is charged to `paths`, the view's budget shared by all readers (a fresh one
 * when not given).
 */
export interface PackageReader {
  ecosystem: Ecosystem;
  read(view: DocView, paths?: PathBudget): ReadResult;
}

// ---- the report (strata packages --json) ------------------------------------------------------

export interface PackageRow {
  ecosystem: Ecosystem;
  name: string;
  version: string;
  arch: string | null;
  source: string | null;
  license: string | null;
  /** Package URL (https://github.com/package-url/purl-spec): `pkg:deb/debian/curl@7.88.1-10+deb12u5?arch=amd64&distro=debian-12`. */
  purl: string;
  /** Absolute path of its metadata in the image. */
  path: string;
  /** The layer where it appeared (and stayed until the end), and that layer's instruction. */
  layer: number;
  createdBy: string | null;
  /** The last layer that changed its version or one of its files. */
  changedLayer: number;
  /** Bytes of the files it owns in the final view (hardlinks once, as every size strata shows). */
  bytes: number;
  files: number;
  declaredSize: number | null;
  /** A language package whose files an OS package installed: that package's purl (it owns the bytes). */
  installedBy: string | null;
}

export interface UnownedDir {
  /** `/usr/local`, `/app/src`: at most two levels deep; a file at the top level is its own row. */
  path: string;
  bytes: number;
  files: number;
}

export interface PackageChange {
  ecosystem: Ecosystem;
  name: string;
  /** Version before the layer (null: added), after it (null: removed). */
  from: string | null;
  to: string | null;
  /** For a changed package: which way its version went (by the ecosystem's own ordering). */
  direction?: 'upgrade' | 'downgrade' | 'rebuild';
  /** Bytes of the package in the view after the layer (removed: before it). */
  bytes: number;
}

export interface LayerPackages {
  index: number;
  createdBy: string | null;
  /** false: the layer wrote no package database; its state is the previous layer's. */
  database: boolean;
  added: PackageChange[];
  removed: PackageChange[];
  changed: PackageChange[];
}

export interface EcosystemTotal {
  ecosystem: Ecosystem;
  packages: number;
  bytes: number;
  files: number;
}

/** The operating system the image says it is (/etc/os-release), for purls and SBOMs. */
export interface Distro {
  id: string;
  versionId: string | null;
  prettyName: string | null;
}

export interface PackagesReport {
  schemaVersion: number;
  image: { ref: string; configDigest: string; manifestDigest: string | null; platform: string; created: string | null };
  distro: Distro | null;
  /** Sorted by bytes, largest first. */
  packages: PackageRow[];
  unowned: { bytes: number; files: number; dirs: UnownedDir[] };
  totals: EcosystemTotal[];
  finalSize: number;
  layers: LayerPackages[];
  warnings: string[];
}
