/** `strata audit` reports: text (a row per image, then the fleet), CSV (a row per image), JSON as is. */
import type { FleetReport } from '../analyze/fleet/fleet.js';
import { humanBytes, plural } from '../util/units.js';
import { csvLine, table, truncate } from './text.js';
import { terminalCopy } from '../util/terminal-text.js';
import { pushAll } from '../util/arrays.js';

export const AUDIT_FORMATS = ['text', 'json', 'csv'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

export function renderFleet(r: FleetReport, format: AuditFormat, width: number): string {
  if (format === 'json') return `${JSON.stringify(r, null, 2)}\n`;
  if (format === 'csv') return renderCsv(r);
  return renderText(terminalCopy(r), width);
}

const size = (n: number | null) => (n === null ? '—' : humanBytes(n));

function renderText(r: FleetReport, width: number): string {
  const f = r.fleet;
  const lines = [`Images (${f.images}${f.failed ? `, ${f.failed} failed` : ''})`];
  const rows = [['IMAGE', 'COMPRESSED', 'UNCOMPRESSED', 'FINAL', 'WASTED', 'BLOAT', 'OPTIMIZE', 'SECRETS', 'VERDICT']];
  for (const i of r.images) {
    rows.push([i.ref, size(i.compressedSize), size(i.uncompressedSize), size(i.finalSize), size(i.wastedBytes), size(i.bloatBytes), size(i.optimizeSaves), i.secrets ? `${i.secrets}${i.hiddenSecrets ? ` (${i.hiddenSecrets} hidden)` : ''}` : '0', i.verdict]);
  }
  pushAll(lines, table(rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']).map((l) => `  ${truncate(l, width - 2)}`));
  for (const x of r.failed) lines.push(`  FAILED ${x.ref}${x.attempts > 1 ? ` (${x.attempts} attempts)` : ''}: ${x.error}`);
  lines.push('', 'Fleet');
  lines.push(`  layers        ${f.distinctLayers} distinct, ${humanBytes(f.distinctLayerBytes)} (${humanBytes(f.imageLayerBytes)} if no image shared one)`);
  lines.push(`  wasted        ${humanBytes(f.wastedBytes)} over all images; bloat ${humanBytes(f.bloatBytes)}`);
  lines.push(`  optimize      would take ${humanBytes(f.optimizeSaves)} of file bytes out (strata optimize, default settings, every image)`);
  lines.push(`  secrets       ${f.secrets}${f.hiddenSecrets ? ` (${f.hiddenSecrets} hidden by a later layer but still stored)` : ''}`);
  lines.push(`  verdicts      ${f.verdicts.lean} lean, ${f.verdicts['some-waste']} some waste, ${f.verdicts.bloated} bloated`);
  lines.push('', 'Layers shared by most images');
  if (!f.sharedLayers.length) lines.push('  none: no layer is in two images');
  else lines.push(...table(f.sharedLayers.map((l) => [plural(l.images, 'image'), humanBytes(l.size), l.diffId.slice(0, 19), l.instruction ?? '']), ['r', 'r', 'l', 'l']).map((l) => `  ${truncate(l, width - 2)}`));
  lines.push('', 'Waste by instruction');
  if (!f.wasteByInstruction.length) lines.push('  none');
  else lines.push(...table(f.wasteByInstruction.map((w) => [humanBytes(w.bytes), `${w.images} image${w.images === 1 ? '' : 's'}`, w.pattern]), ['r', 'r', 'l']).map((l) => `  ${truncate(l, width - 2)}`));
  lines.push('', 'The same content in several layers (files of 100 kB or more)');
  if (!f.duplicates.length) lines.push('  none');
  else lines.push(...table(f.duplicates.map((d) => [humanBytes(d.extraBytes), plural(d.layers, 'layer'), plural(d.images, 'image'), humanBytes(d.size), d.paths.join(', ')]), ['r', 'r', 'r', 'r', 'l']).map((l) => `  ${truncate(l, width - 2)}`));
  return `${lines.join('\n')}\n`;
}

/** One row per image (failed ones with their error); fields quoted as RFC 4180 asks, escaped as on a terminal (a row stays a line). */
function renderCsv(r: FleetReport): string {
  const head = ['ref', 'key', 'platform', 'compressed_bytes', 'uncompressed_bytes', 'final_bytes', 'wasted_bytes', 'bloat_bytes', 'optimize_saves_bytes', 'secrets', 'hidden_secrets', 'layers', 'verdict', 'error'];
  const rows = r.images.map((i) => [i.ref, i.key, i.platform, i.compressedSize, i.uncompressedSize, i.finalSize, i.wastedBytes, i.bloatBytes, i.optimizeSaves, i.secrets, i.hiddenSecrets, i.layers, i.verdict, '']);
  for (const x of r.failed) rows.push([x.ref, '', '', null, null, null, null, null, null, null, null, null, 'failed', x.error]);
  return [head, ...rows].map(csvLine).join('\r\n') + '\r\n';
}
