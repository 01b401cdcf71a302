/** The text of `strata optimize`: before and after, the layers written, what --drop left out. */
import type { OptimizeSummary } from '../analyze/optimize/summary.js';
import { humanBytes, plural } from '../util/units.js';
import { table } from './text.js';
import { terminalCopy, terminalText } from '../util/terminal-text.js';

const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '0%');

export function renderOptimize(summary: OptimizeSummary, output: string | undefined): string {
  const s = terminalCopy(summary);
  const out = output === undefined ? undefined : terminalText(output);
  const lines: string[] = [];
  const est = s.written ? '' : '~';
  lines.push(out ? `${s.written ? 'Wrote' : 'Would write'} ${out}` : 'Plan (dry run: nothing written)');
  const from = { '--base-layers': 'as --base-layers says', '--base': 'the layers of --base', annotation: "the manifest's base annotation", history: 'read from the history' }[s.baseFrom];
  lines.push(s.baseLayers === 0 ? `Kept base   none (${from})` : `Kept base   layers 0-${s.baseLayers - 1} byte for byte (${from})`);
  lines.push('');
  lines.push(
    ...table(
      [
        ['', 'BEFORE', 'AFTER', 'SAVED'],
        ['layers', String(s.before.layers), String(s.after.layers), String(s.before.layers - s.after.layers)],
        ['blobs as stored', humanBytes(s.before.blobBytes), `${est}${humanBytes(s.after.blobBytes)}`, `${est}${humanBytes(s.saved.blobBytes)} (${pct(s.saved.blobBytes, s.before.blobBytes)})`],
        ['files stored', humanBytes(s.before.fileBytes), humanBytes(s.after.fileBytes), `${humanBytes(s.saved.fileBytes)} (${pct(s.saved.fileBytes, s.before.fileBytes)})`],
        ['wasted', humanBytes(s.before.wastedBytes), humanBytes(s.after.wastedBytes), humanBytes(s.before.wastedBytes - s.after.wastedBytes)],
      ],
      ['l', 'r', 'r', 'r'],
    ).map((l) => `  ${l}`),
  );
  if (!s.written) lines.push(`  (~ estimated from a ${humanBytes(s.sampledBytes ?? 0)} sample of the new layers, compressed as -o would; exact once written)`);
  if (s.after.wastedBytes > 0) lines.push(`  the ${humanBytes(s.after.wastedBytes)} still wasted are stored in the kept base layers`);
  lines.push('');
  lines.push('New layers');
  lines.push(
    ...table(
      [['#', 'FROM', 'ENTRIES', 'FILES', 'WHITEOUTS', 'SIZE', ...(s.written ? ['BLOB'] : [])], ...s.layers.map((l, j) => [String(s.baseLayers + j), fromText(l.from), String(l.entries), String(l.files), String(l.whiteouts), humanBytes(l.bytes), ...(s.written ? [humanBytes(l.blobBytes ?? 0)] : [])])],
      ['r', 'l', 'r', 'r', 'r', 'r', 'r'],
    ).map((l) => `  ${l}`),
  );
  if (s.dropped.length) {
    lines.push('');
    lines.push(`Dropped (--drop: the final view changes): ${plural(s.dropped.length, 'file')}, ${humanBytes(s.droppedBytes)}`);
    for (const d of s.dropped) lines.push(`  ${d.category.padEnd(8)} ${humanBytes(d.bytes).padStart(9)}  L${d.layer}  ${d.path}`);
  }
  return `${lines.join('\n')}\n`;
}

function fromText(from: number[]): string {
  if (from.length === 1) return `layer ${from[0]}`;
  return from.every((l, i) => i === 0 || l === from[i - 1] + 1) ? `layers ${from[0]}-${from[from.length - 1]}` : `layers ${from.join(',')}`;
}
