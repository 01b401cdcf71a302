/**
 * The packages of the HTML page (analyze/packages/packages.ts): the table of the largest packages,
 * the unowned bytes by directory, and each file's class for the treemap coloured by package. A tile
 * carries the index of its package in the table, never a string, so the page grows by a number per
 * tile; names and versions are clipped, as a database may hold values of a megabyte.
 */
import type { ImageModel } from '../../model/read-image.js';
import { analyzePackages } from '../packages/packages.js';
import type { Ecosystem, EcosystemTotal, PackageRow, UnownedDir } from '../packages/types.js';
import { NO_PACKAGE, UNLISTED_PACKAGE } from './package-classes.js';

export interface PicturePackage {
  ecosystem: Ecosystem;
  name: string;
  version: string;
  /** The layer it appeared in. */
  layer: number;
  bytes: number;
  files: number;
}

export interface PicturePackages {
  /** The largest packages (at most PACKAGES_LISTED), largest first. */
  rows: PicturePackage[];
  /** Packages in the image, listed or not. */
  count: number;
  totals: EcosystemTotal[];
  /** What no package owns; `dirs`: the largest UNOWNED_DIRS_LISTED of its `dirCount` directories. */
  unowned: { bytes: number; files: number; dirs: UnownedDir[]; dirCount: number };
  /** The readers' warnings (the first WARNINGS_LISTED). */
  warnings: string[];
  warningCount: number;
}

/** A Debian image has hundreds of packages, a node_modules tree thousands: ~90 bytes each on the page. */
const PACKAGES_LISTED = 2000;
const UNOWNED_DIRS_LISTED = 100;
const WARNINGS_LISTED = 20;
const TEXT_CHARS = 200;

const clipped = (s: string) => (s.length > TEXT_CHARS ? `${s.slice(0, TEXT_CHARS - 1)}…` : s);

/** The page's packages (null: the image has no package database), and the package class (package-classes.ts) of a node of the final view. */
export function packagePicture(model: ImageModel): { packages: PicturePackages | null; classOf: (node: number) => number } {
  const p = analyzePackages(model);
  if (p.rows.length === 0 && p.warnings.length === 0) return { packages: null, classOf: () => NO_PACKAGE };
  const listed = p.rows.slice(0, PACKAGES_LISTED);
  const index = new Map<PackageRow, number>(listed.map((r, i) => [r, i]));
  return {
    packages: {
      rows: listed.map((r) => ({ ecosystem: r.ecosystem, name: clipped(r.name), version: clipped(r.version), layer: r.layer, bytes: r.bytes, files: r.files })),
      count: p.rows.length,
      totals: p.totals,
      unowned: {
        bytes: p.unowned.bytes,
        files: p.unowned.files,
        dirs: p.unowned.dirs.slice(0, UNOWNED_DIRS_LISTED).map((d) => ({ ...d, path: clipped(d.path) })),
        dirCount: p.unowned.dirs.length,
      },
      warnings: p.warnings.slice(0, WARNINGS_LISTED).map(clipped),
      warningCount: p.warnings.length,
    },
    classOf: (node) => {
      const row = p.ownerOf(node);
      return row === undefined ? NO_PACKAGE : (index.get(row) ?? UNLISTED_PACKAGE);
    },
  };
}
