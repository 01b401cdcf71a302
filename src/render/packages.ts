/** The text and CSV of `strata packages`: a row per package by bytes, what no package owns, and per layer what changed. */
import { humanBytes, plural } from '../util/units.js';
import { terminalCopy } from '../util/terminal-text.js';
import { csvLine, table, truncate } from './text.js';
import { instructionText } from '../image/history.js';
import type { LayerPackages, PackageChange, PackagesReport } from '../analyze/packages/types.js';
import { pushAll } from '../util/arrays.js';

/** Unowned directories listed under the "no package" row; the rest are summed in one line. */
const UNOWNED_ROWS = 10;

export function renderPackages(raw: PackagesReport, width: number, opts: { top?: number } = {}): string {
  const r = terminalCopy(raw); // names, versions and paths come from the image
  const out: string[] = [];
  const shown = opts.top === undefined ? r.packages : r.packages.slice(0, opts.top);
  const rows = [['ECOSYSTEM', 'NAME', 'VERSION', 'ADDED', 'CHANGED', 'FILES', 'SIZE']];
  for (const p of shown) {
    rows.push([p.ecosystem, p.installedBy ? `${p.name} (${osName(p.installedBy)})` : p.name, p.version, `L${p.layer}`, `L${p.changedLayer}`, p.files.toLocaleString('en-US'), humanBytes(p.bytes)]);
  }
  if (shown.length < r.packages.length) {
    const rest = r.packages.slice(shown.length);
    rows.push(['', `… ${plural(rest.length, 'more package')}`, '', '', '', rest.reduce((s, p) => s + p.files, 0).toLocaleString('en-US'), humanBytes(rest.reduce((s, p) => s + p.bytes, 0))]);
  }
  rows.push(['', '(no package)', '', '', '', r.unowned.files.toLocaleString('en-US'), humanBytes(r.unowned.bytes)]);
  for (const d of r.unowned.dirs.slice(0, UNOWNED_ROWS)) rows.push(['', `  ${d.path}`, '', '', '', d.files.toLocaleString('en-US'), humanBytes(d.bytes)]);
  const more = r.unowned.dirs.slice(UNOWNED_ROWS);
  if (more.length) rows.push(['', `  … ${plural(more.length, 'more directory')}`, '', '', '', more.reduce((s, d) => s + d.files, 0).toLocaleString('en-US'), humanBytes(more.reduce((s, d) => s + d.bytes, 0))]);
  const nameCap = Math.max(20, Math.min(48, width - 60));
  pushAll(out, table(rows, ['l', 'l', 'l', 'r', 'r', 'r', 'r'], [undefined, nameCap, 32]).map((l) => truncate(l, width)));
  out.push('', summaryLine(r));
  const changes = r.layers.filter((l) => l.added.length + l.removed.length + l.changed.length > 0);
  if (changes.length) {
    out.push('', 'Package changes by layer:');
    for (const l of changes) out.push(...layerLines(l, width));
  }
  return `${out.join('\n')}\n`;
}

function osName(purl: string): string {
  const m = /^pkg:[a-z]+\/(?:[^/]+\/)?([^@?]+)/.exec(purl);
  return `from ${m ? decodeURIComponent(m[1]) : purl}`;
}

function summaryLine(r: PackagesReport): string {
  const owned = r.packages.reduce((s, p) => s + p.bytes, 0);
  const per = r.totals.map((t) => `${t.ecosystem} ${t.packages} · ${humanBytes(t.bytes)}`).join(', ');
  const share = r.finalSize > 0 ? ` (${((100 * owned) / r.finalSize).toFixed(1)}% of the ${humanBytes(r.finalSize)} final view)` : '';
  return `${plural(r.packages.length, 'package')}${per ? ` (${per})` : ''} own ${humanBytes(owned)}${share}; ${humanBytes(r.unowned.bytes)} in ${plural(r.unowned.files, 'file')} no package owns.`;
}

function layerLines(l: LayerPackages, width: number): string[] {
  const head = `  L${l.index} ${instructionText(l.createdBy ?? undefined)}`.trimEnd();
  const counts = [
    l.added.length ? `+${l.added.length} (${humanBytes(sum(l.added))})` : '',
    l.removed.length ? `-${l.removed.length} (${humanBytes(sum(l.removed))})` : '',
    l.changed.length ? `~${l.changed.length}` : '',
  ].filter(Boolean).join(' ');
  const lines = [truncate(`${head}: ${counts}`, width)];
  const item = (mark: string, c: PackageChange) =>
    truncate(`    ${mark} ${c.ecosystem} ${c.name} ${c.from && c.to ? `${c.from} -> ${c.to} (${c.direction})` : (c.to ?? c.from)}  ${humanBytes(c.bytes)}`, width);
  const list = [...l.added.map((c) => item('+', c)), ...l.removed.map((c) => item('-', c)), ...l.changed.map((c) => item('~', c))];
  return [...lines, ...list.slice(0, 20), ...(list.length > 20 ? [`    … ${list.length - 20} more (--json lists all)`] : [])];
}

const sum = (cs: PackageChange[]) => cs.reduce((s, c) => s + c.bytes, 0);

const CSV_COLUMNS = ['ecosystem', 'name', 'version', 'arch', 'layer', 'changed_layer', 'bytes', 'files', 'declared_size', 'purl', 'path', 'installed_by'] as const;

/** One row per package, then one per directory of bytes no package owns (empty ecosystem, the directory as name). */
export function packagesCsv(r: PackagesReport): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const p of r.packages) lines.push(csvLine([p.ecosystem, p.name, p.version, p.arch, p.layer, p.changedLayer, p.bytes, p.files, p.declaredSize, p.purl, p.path, p.installedBy]));
  for (const d of r.unowned.dirs) lines.push(csvLine(['', d.path, null, null, null, null, d.bytes, d.files, null, null, d.path, null]));
  return `${lines.join('\r\n')}\r\n`;
}
