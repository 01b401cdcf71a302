/**
 * The packages of two views compared: what B added, removed or holds at another version, and the
 * bytes each way. "Why is the commit build different from the Dockerfile build" is mostly this.
 */
import { packagesAt, type ViewPackage } from '../packages/packages.js';
import { compareVersions } from '../packages/version-order.js';
import type { Ecosystem } from '../packages/types.js';
import type { DiffSide } from './side.js';

export interface PackageDiffRow {
  ecosystem: Ecosystem;
  name: string;
  /** Version in A (null: only in B), in B (null: only in A). */
  a: string | null;
  b: string | null;
  change: 'added' | 'removed' | 'upgrade' | 'downgrade' | 'rebuild' | 'size';
  bytesA: number;
  bytesB: number;
  delta: number;
}

export interface PackagesDelta {
  a: { packages: number; bytes: number };
  b: { packages: number; bytes: number };
  added: number;
  removed: number;
  changed: number;
  /** Every package that differs in version or presence, then those whose bytes alone differ; biggest |delta| first. */
  rows: PackageDiffRow[];
}

export function diffPackages(a: DiffSide, b: DiffSide): PackagesDelta {
  const pa = packagesAt(a.model, a.layer);
  const pb = packagesAt(b.model, b.layer);
  const inA = new Map(pa.map((p) => [p.key, p]));
  const inB = new Map(pb.map((p) => [p.key, p]));
  const rows: PackageDiffRow[] = [];
  const row = (x: ViewPackage | undefined, y: ViewPackage | undefined, change: PackageDiffRow['change']): PackageDiffRow => {
    const e = (y ?? x)!.entry;
    const bytesA = x?.bytes ?? 0, bytesB = y?.bytes ?? 0;
    return { ecosystem: e.ecosystem, name: e.name, a: x?.entry.version ?? null, b: y?.entry.version ?? null, change, bytesA, bytesB, delta: bytesB - bytesA };
  };
  for (const [key, y] of inB) {
    const x = inA.get(key);
    if (!x) rows.push(row(undefined, y, 'added'));
    else if (x.entry.version !== y.entry.version) {
      const order = compareVersions(y.entry.ecosystem, x.entry.version, y.entry.version);
      rows.push(row(x, y, order < 0 ? 'upgrade' : order > 0 ? 'downgrade' : 'rebuild'));
    } else if (x.bytes !== y.bytes) rows.push(row(x, y, 'size'));
  }
  for (const [key, x] of inA) if (!inB.has(key)) rows.push(row(x, undefined, 'removed'));
  const rank = (r: PackageDiffRow) => (r.change === 'size' ? 1 : 0);
  rows.sort((x, y) => rank(x) - rank(y) || Math.abs(y.delta) - Math.abs(x.delta) || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const total = (ps: ViewPackage[]) => ({ packages: ps.length, bytes: ps.reduce((s, p) => s + p.bytes, 0) });
  return {
    a: total(pa),
    b: total(pb),
    added: rows.filter((r) => r.change === 'added').length,
    removed: rows.filter((r) => r.change === 'removed').length,
    changed: rows.filter((r) => r.change === 'upgrade' || r.change === 'downgrade' || r.change === 'rebuild').length,
    rows,
  };
}
