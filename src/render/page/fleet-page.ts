/**
 * The fleet page's script (`strata audit --html`, bundled by esbuild like page.ts): a bar per image
 * (final view, wasted and bloat within what its layers store), sortable, then the fleet's shared
 * layers, waste by instruction and duplicate content. No fetch: the page's CSP forbids it.
 */
import { humanBytes } from '../../util/units.js';
import { escapeMarkup } from '../../util/markup.js';
import { sortable } from './table.js';
import type { FleetPicture } from '../../analyze/picture/fleet-picture.js';

const $ = (id: string) => document.getElementById(id)!;
const { report } = JSON.parse($('strata-data').textContent!) as FleetPicture;
const f = report.fleet;
const size = (n: number | null) => (n === null ? '—' : humanBytes(n));
const max = Math.max(1, ...report.images.map((i) => i.uncompressedSize));

$('title').textContent = `fleet of ${f.images} image${f.images === 1 ? '' : 's'}`;
$('facts').innerHTML = [
  `${f.distinctLayers} distinct layers, <b>${humanBytes(f.distinctLayerBytes)}</b> (${humanBytes(f.imageLayerBytes)} without sharing)`,
  `wasted <b>${humanBytes(f.wastedBytes)}</b>`,
  `bloat <b>${humanBytes(f.bloatBytes)}</b>`,
  `optimize would save <b>${humanBytes(f.optimizeSaves)}</b>`,
  f.secrets ? `<span class="verdict bloated">${f.secrets} secret${f.secrets === 1 ? '' : 's'}</span>` : 'no secrets',
  `${f.verdicts.lean} lean · ${f.verdicts['some-waste']} some waste · ${f.verdicts.bloated} bloated`,
].join(' · ');

sortable($('images'), report.images, [
  { title: 'image', cell: (r) => `<code>${escapeMarkup(r.ref)}</code>`, key: (r) => r.ref },
  {
    title: 'stored in layers',
    cell: (r) => {
      const w = (n: number) => `${((n / max) * 100).toFixed(2)}%`;
      const visible = Math.max(0, r.finalSize - r.bloatBytes);
      return `<span class="bar" title="final ${humanBytes(r.finalSize)}, of which bloat ${humanBytes(r.bloatBytes)}; wasted ${humanBytes(r.wastedBytes)}"><i class="vis" style="width:${w(visible)}"></i><i class="blo" style="width:${w(r.bloatBytes)}"></i><i class="was" style="width:${w(r.wastedBytes)}"></i></span> ${humanBytes(r.uncompressedSize)}`;
    },
    key: (r) => r.uncompressedSize,
    num: true,
  },
  { title: 'compressed', cell: (r) => size(r.compressedSize), key: (r) => r.compressedSize ?? -1, num: true },
  { title: 'final', cell: (r) => humanBytes(r.finalSize), key: (r) => r.finalSize, num: true },
  { title: 'wasted', cell: (r) => humanBytes(r.wastedBytes), key: (r) => r.wastedBytes, num: true },
  { title: 'bloat', cell: (r) => humanBytes(r.bloatBytes), key: (r) => r.bloatBytes, num: true },
  { title: 'optimize saves', cell: (r) => humanBytes(r.optimizeSaves), key: (r) => r.optimizeSaves, num: true },
  { title: 'secrets', cell: (r) => (r.secrets ? `<b class="bad">${r.secrets}${r.hiddenSecrets ? ` (${r.hiddenSecrets} hidden)` : ''}</b>` : '0'), key: (r) => r.secrets, num: true },
  { title: 'verdict', cell: (r) => `<span class="verdict ${r.verdict}">${r.verdict}</span>`, key: (r) => r.verdict },
]);
if (report.failed.length) {
  $('failed').innerHTML = `<h2>Failed</h2><ul>${report.failed.map((x) => `<li><code>${escapeMarkup(x.ref)}</code>: ${escapeMarkup(x.error)}${x.attempts > 1 ? ` (${x.attempts} attempts)` : ''}</li>`).join('')}</ul>`;
}
sortable($('shared'), f.sharedLayers, [
  { title: 'images', cell: (r) => String(r.images), key: (r) => r.images, num: true },
  { title: 'size', cell: (r) => humanBytes(r.size), key: (r) => r.size, num: true },
  { title: 'layer', cell: (r) => `<code title="${escapeMarkup(r.diffId)}">${escapeMarkup(r.diffId.slice(0, 19))}</code>` },
  { title: 'instruction', cell: (r) => `<code>${escapeMarkup(r.instruction ?? '')}</code>` },
]);
sortable($('waste'), f.wasteByInstruction, [
  { title: 'wasted', cell: (r) => humanBytes(r.bytes), key: (r) => r.bytes, num: true },
  { title: 'images', cell: (r) => String(r.images), key: (r) => r.images, num: true },
  { title: 'instruction', cell: (r) => `<code>${escapeMarkup(r.pattern)}</code>`, key: (r) => r.pattern },
]);
sortable($('duplicates'), f.duplicates, [
  { title: 'stored again', cell: (r) => humanBytes(r.extraBytes), key: (r) => r.extraBytes, num: true },
  { title: 'layers', cell: (r) => String(r.layers), key: (r) => r.layers, num: true },
  { title: 'images', cell: (r) => String(r.images), key: (r) => r.images, num: true },
  { title: 'file size', cell: (r) => humanBytes(r.size), key: (r) => r.size, num: true },
  { title: 'paths', cell: (r) => r.paths.map((p) => `<code>${escapeMarkup(p)}</code>`).join(' · ') },
]);
document.body.dataset.ready = String(Math.round(performance.now()));
