/**
 * The package view of an image: what every view's package databases say (readers.ts), which files
 * each package owns in the final view (ownership.ts), and what each layer added, removed or changed.
 * A layer that wrote no package database keeps the previous state; a whiteout of a database (or of
 * a package's files) is honoured because the databases are read from the union like any file.
 */
import type { ImageModel } from '../../model/read-image.js';
import { formatPlatform } from '../../image/platform.js';
import { humanBytes } from '../../util/units.js';
import { packageFileCap } from '../../scan/package-files.js';
import { ImageDocs } from './docs-in-view.js';
import { distroOf } from './os-release.js';
import { ownership, type Ownership } from './ownership.js';
import { PathBudget } from './path-budget.js';
import { purlOf } from './purl.js';
import { READERS } from './readers.js';
import { compareVersions } from './version-order.js';
import {
  ECOSYSTEMS,
  OS_ECOSYSTEMS,
  type Distro,
  type EcosystemTotal,
  type LayerPackages,
  type PackageChange,
  type PackageEntry,
  type PackageRow,
  type PackagesReport,
} from './types.js';
import { pushAll } from '../../util/arrays.js';

export const PACKAGES_SCHEMA_VERSION = 1;

/** The package view of one image: the report's data, and the owner of each file of the final view. */
export interface ImagePackages {
  distro: Distro | null;
  /** Sorted by bytes, largest first. */
  rows: PackageRow[];
  /** The database entries of the rows, row for row (what the databases said: auto-installed, depends, files). */
  entries: PackageEntry[];
  unowned: PackagesReport['unowned'];
  totals: EcosystemTotal[];
  layers: LayerPackages[];
  warnings: string[];
  /** The row that owns a node of the final view, if any. */
  ownerOf(node: number): PackageRow | undefined;
}

interface State {
  key: string;
  entries: PackageEntry[];
  distro: Distro | null;
}

const EMPTY: State = { key: '', entries: [], distro: null };

/**
 * One package across views: an OS package by name and architecture; a language package by where it
 * is installed (a venv's `requests` and the system's are two packages; an upgrade in place is one).
 */
export function packageKey(e: PackageEntry): string {
  if (OS_ECOSYSTEMS.has(e.ecosystem)) return `${e.ecosystem}\0${e.name}\0${e.arch ?? ''}`;
  if (e.ecosystem === 'npm') return `npm\0${e.dir ?? e.path}`;
  const site = e.path.slice(0, Math.max(e.path.lastIndexOf('/'), 0));
  return `${e.ecosystem}\0${site}\0${e.name.toLowerCase().replace(/[-_.]+/g, '-')}`;
}

const memo = new WeakMap<ImageModel, ImagePackages>();

export function analyzePackages(model: ImageModel): ImagePackages {
  let done = memo.get(model);
  if (!done) memo.set(model, (done = analyze(model)));
  return done;
}

function analyze(model: ImageModel): ImagePackages {
  const u = model.union;
  const n = model.layers.length;
  const docs = new ImageDocs(u);
  const warnings = new Set<string>();
  const createdBy = (k: number) => model.layers[k].history?.created_by ?? null;
  // each view's budget may reuse the lists the view read before it parsed
  let paths: PathBudget | undefined;
  const read = (at: ViewDocs) => readState(at, warnings, (paths = new PathBudget(paths)));
  // per package key: the layer it appeared in (and stayed), and the layer its version last changed
  const since = new Map<string, number>();
  const versionLayer = new Map<string, number>();
  const layers: LayerPackages[] = [];
  let prev = EMPTY;
  // ownership costs a pass over the packages' files: taken only where a layer changed packages,
  // after the layer for what it added or changed, before it for what it removed
  let last: { state: State; k: number; own: Ownership } | null = null;
  const ownedAt = (state: State, k: number): Ownership => {
    if (last?.state !== state || last.k !== k) last = { state, k, own: ownership(u, k, state.entries) };
    return last.own;
  };
  for (let k = 0; k < n; k++) {
    const at = docs.any ? docs.at(k) : null;
    if (!at || at.key === prev.key) {
      layers.push({ index: k, createdBy: createdBy(k), database: false, added: [], removed: [], changed: [] });
      continue;
    }
    const state = read(at);
    const before = byKey(prev.entries);
    const after = byKey(state.entries);
    const added: PackageChange[] = [];
    const removed: PackageChange[] = [];
    const changed: PackageChange[] = [];
    const beforeBytes = removedBytes(prev, before, after, k, ownedAt);
    const bytesAfter = (i: number) => ownedAt(state, k).owned[i].bytes;
    for (const [key, i] of after) {
      const e = state.entries[i];
      const j = before.get(key);
      if (j === undefined) {
        added.push({ ecosystem: e.ecosystem, name: e.name, from: null, to: e.version, bytes: bytesAfter(i) });
        since.set(key, k);
        versionLayer.set(key, k);
      } else if (prev.entries[j].version !== e.version) {
        const order = compareVersions(e.ecosystem, prev.entries[j].version, e.version);
        changed.push({ ecosystem: e.ecosystem, name: e.name, from: prev.entries[j].version, to: e.version, direction: order < 0 ? 'upgrade' : order > 0 ? 'downgrade' : 'rebuild', bytes: bytesAfter(i) });
        versionLayer.set(key, k);
      }
    }
    for (const [key, j] of before) {
      if (after.has(key)) continue;
      const e = prev.entries[j];
      removed.push({ ecosystem: e.ecosystem, name: e.name, from: e.version, to: null, bytes: beforeBytes.get(j) ?? 0 });
      since.delete(key);
      versionLayer.delete(key);
    }
    const order = (a: PackageChange, b: PackageChange) => b.bytes - a.bytes || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    layers.push({ index: k, createdBy: createdBy(k), database: true, added: added.sort(order), removed: removed.sort(order), changed: changed.sort(order) });
    prev = state;
  }

  const final = prev;
  const own = n === 0 ? ownership(u, -1, []) : ownedAt(final, n - 1);
  const purls = final.entries.map((e) => purlOf(e, final.distro));
  const rows: PackageRow[] = final.entries.map((e, i) => {
    const key = packageKey(e);
    const o = own.owned[i];
    const layer = since.get(key) ?? 0;
    return {
      ecosystem: e.ecosystem,
      name: e.name,
      version: e.version,
      arch: e.arch ?? null,
      source: e.source ?? null,
      license: e.license ?? null,
      purl: purls[i],
      path: `/${e.path}`,
      layer,
      createdBy: n === 0 ? null : createdBy(layer),
      changedLayer: Math.max(versionLayer.get(key) ?? layer, o.lastLayer),
      bytes: o.bytes,
      files: o.files,
      declaredSize: e.declaredSize ?? null,
      installedBy: own.installedBy[i] >= 0 ? purls[own.installedBy[i]] : null,
    };
  });
  const order = rows.map((_, i) => i).sort((a, b) => rows[b].bytes - rows[a].bytes || cmp(rows[a], rows[b]));
  const rank = new Int32Array(rows.length);
  order.forEach((i, r) => (rank[i] = r));
  const sortedRows = order.map((i) => rows[i]);
  return {
    distro: final.distro,
    rows: sortedRows,
    entries: order.map((i) => final.entries[i]),
    get unowned() {
      return own.unowned;
    },
    totals: totalsOf(sortedRows),
    layers,
    warnings: [...warnings],
    ownerOf: (node) => {
      const i = own.owner.get(node);
      return i === undefined ? undefined : sortedRows[rank[i]];
    },
  };
}

/** Bytes of the packages a layer removed, in the view before it (taken before the view after it is). */
function removedBytes(prev: State, before: Map<string, number>, after: Map<string, number>, k: number, ownedAt: (s: State, k: number) => Ownership): Map<number, number> {
  const gone = [...before].filter(([key]) => !after.has(key)).map(([, j]) => j);
  if (gone.length === 0 || k === 0) return new Map();
  const own = ownedAt(prev, k - 1);
  return new Map(gone.map((j) => [j, own.owned[j].bytes]));
}

type ViewDocs = ReturnType<ImageDocs['at']>;

/**
 * What every reader makes of the databases of one view, their paths charged to one budget; their
 * warnings (and files over a cap, and the budget's) added to `warnings`.
 */
function readState(at: ViewDocs, warnings: Set<string>, paths = new PathBudget()): State {
  for (const o of at.oversized) warnings.add(`layer ${o.layer} /${o.path}: larger than the ${humanBytes(packageFileCap(o.path))} kept of a package database file: not read`);
  const entries: PackageEntry[] = [];
  for (const reader of READERS) {
    const r = reader.read(at.view, paths);
    pushAll(entries, r.packages);
    for (const w of r.warnings) warnings.add(w);
  }
  const over = paths.warning();
  if (over) warnings.add(over);
  return { key: at.key, entries, distro: distroOf(at.view) };
}

/** One package of a view, as a diff compares them. */
export interface ViewPackage {
  key: string;
  entry: PackageEntry;
  bytes: number;
  files: number;
}

/** The packages of the view after layer k, with their bytes there (a diff side need not be an image's top). */
export function packagesAt(model: ImageModel, k: number): ViewPackage[] {
  if (k === model.layers.length - 1) {
    const p = analyzePackages(model);
    return p.rows.map((r, i) => ({ key: packageKey(p.entries[i]), entry: p.entries[i], bytes: r.bytes, files: r.files }));
  }
  const docs = new ImageDocs(model.union);
  if (!docs.any || k < 0) return [];
  const state = readState(docs.at(k), new Set());
  const own = ownership(model.union, k, state.entries);
  return state.entries.map((entry, i) => ({ key: packageKey(entry), entry, bytes: own.owned[i].bytes, files: own.owned[i].files }));
}

function cmp(a: PackageRow, b: PackageRow): number {
  return ECOSYSTEMS.indexOf(a.ecosystem) - ECOSYSTEMS.indexOf(b.ecosystem) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

function byKey(entries: PackageEntry[]): Map<string, number> {
  const m = new Map<string, number>();
  entries.forEach((e, i) => {
    const key = packageKey(e);
    if (!m.has(key)) m.set(key, i); // a database listing a package twice: the first stanza counts, as dpkg reads it
  });
  return m;
}

function totalsOf(rows: PackageRow[]): EcosystemTotal[] {
  return ECOSYSTEMS.map((ecosystem) => {
    const of = rows.filter((r) => r.ecosystem === ecosystem);
    return { ecosystem, packages: of.length, bytes: of.reduce((s, r) => s + r.bytes, 0), files: of.reduce((s, r) => s + r.files, 0) };
  }).filter((t) => t.packages > 0);
}

/** `strata packages --json` (docs/json.md#packages). */
export function packagesReport(model: ImageModel): PackagesReport {
  const p = analyzePackages(model);
  const image = model.image;
  return {
    schemaVersion: PACKAGES_SCHEMA_VERSION,
    image: { ref: image.ref, configDigest: image.configDigest, manifestDigest: image.manifestDigest ?? null, platform: formatPlatform(image.platform), created: image.config.created ?? null },
    distro: p.distro,
    packages: p.rows,
    unowned: p.unowned,
    totals: p.totals,
    // every byte of the view is a package's or no package's: the two add up to inspect's finalSize
    finalSize: p.rows.reduce((s, r) => s + r.bytes, 0) + p.unowned.bytes,
    layers: p.layers,
    warnings: p.warnings,
  };
}
