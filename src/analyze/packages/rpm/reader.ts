/**
 * rpm packages (docs/packages.md#rpm): the one database rpm itself would open in the view, and of
 * each installed package's header its name, version, files and requirements.
 *
 * Which database: rpm reads one directory, its %_dbpath. That is /usr/lib/sysimage/rpm where the
 * distribution moved it (openSUSE since 2017, Fedora 36+; /var/lib/rpm is then a symlink to it, so
 * the view holds the files under the real path only), else upstream's /var/lib/rpm. In it, rpm
 * 4.16+ opens the configured backend's file when it exists, else the first found of rpmdb.sqlite,
 * Packages.db, Packages (lib/backend/dbi.cc, dbDetectBackend); the configuration is not in the view,
 * so strata takes that order.
 */
import { FileWarnings } from '../control-fields.js';
import { PathBudget } from '../path-budget.js';
import type { DocView, PackageEntry, PackageReader, ReadResult } from '../types.js';
import { readBdb } from './bdb.js';
import { Unreadable, type BlobReader } from './bytes.js';
import { readHeader, type RpmHeader } from './header.js';
import { readNdb } from './ndb.js';
import { readSqlite } from './sqlite.js';

const DIRS = ['usr/lib/sysimage/rpm', 'var/lib/rpm'];
const BACKENDS: [string, BlobReader][] = [
  ['rpmdb.sqlite', readSqlite],
  ['Packages.db', readNdb],
  ['Packages', readBdb],
];

export const rpmReader: PackageReader = { ecosystem: 'rpm', read };

function read(view: DocView, paths = new PathBudget()): ReadResult {
  const packages: PackageEntry[] = [];
  const warnings: string[] = [];
  const db = database(view);
  // a database over the scan's size cap is not kept: the caller warns about it
  const bytes = db && view.get(db.path);
  if (!db || !bytes) return { packages, warnings };
  const w = new FileWarnings(warnings, db.path, view.layerOf(db.path));
  const layer = view.layerOf(db.path);
  const take = (p: string) => paths.take(p, db.path, layer);
  let record = 0;
  try {
    db.read(bytes, (blob) => {
      record++;
      try {
        const h = readHeader(blob, take);
        // imported signing keys are stored as packages named gpg-pubkey (rpm -qa lists them); no files
        if (h.name !== 'gpg-pubkey') packages.push(entryOf(h, db.path));
      } catch (e) {
        if (!(e instanceof Unreadable)) throw e;
        w.add(`package record ${record}: ${e.message}: skipped`);
      }
    });
  } catch (e) {
    if (!(e instanceof Unreadable)) throw e;
    w.add(`${e.message}: ${record === 0 ? 'no package read' : `nothing read after package record ${record}`}`);
  }
  w.finish();
  return { packages, warnings };
}

/** The database file rpm would open, kept or over the cap. */
function database(view: DocView): { path: string; read: BlobReader } | undefined {
  for (const dir of DIRS) {
    for (const [file, read] of BACKENDS) {
      const path = `${dir}/${file}`;
      if (view.get(path) !== undefined || view.oversized(path)) return { path, read };
    }
  }
  return undefined;
}

function entryOf(h: RpmHeader, path: string): PackageEntry {
  const e: PackageEntry = { ecosystem: 'rpm', name: h.name, version: h.version, path, files: h.files, depends: h.requires };
  if (h.arch !== undefined) e.arch = h.arch;
  if (h.sourceRpm !== undefined) e.source = h.sourceRpm;
  if (h.license !== undefined) e.license = h.license;
  if (h.size !== undefined) e.declaredSize = h.size;
  return e;
}
