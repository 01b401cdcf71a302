/**
 * The HTML report: one self-contained file (the picture as a JSON block, the page's script bundled
 * with d3-hierarchy, the styles) that opens offline from a file:// URL. Its Content-Security-Policy
 * allows no fetch of any kind, so the page cannot reach the network even by mistake.
 */
import { readFileSync } from 'node:fs';
import type { InspectPicture } from '../analyze/picture/inspect-picture.js';
import type { DiffPicture } from '../analyze/picture/diff-picture.js';
import type { FleetPicture } from '../analyze/picture/fleet-picture.js';
import { escapeMarkup } from '../util/markup.js';
import { humanBytes } from '../util/units.js';
import { signedBytes } from './diff.js';

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

const scripts = new Map<string, string>();

/** A page script, built by `npm run build` (esbuild) next to this module: bundle.js (inspect, diff), fleet-bundle.js. */
function pageScript(name: 'bundle.js' | 'fleet-bundle.js'): string {
  let script = scripts.get(name);
  if (script === undefined) {
    script = readFileSync(new URL(`./page/${name}`, import.meta.url), 'utf8');
    // a bug of the build, not of the input: the bundle could not sit inside <script>
    if (/<\/script/i.test(script)) throw new Error(`page/${name} contains "</script": it cannot be inlined`);
    scripts.set(name, script);
  }
  return script;
}

/** `<` as an escape, so that no string in the data or the script can close its <script> element. */
const inert = (s: string) => s.replace(/</g, '\\u003c');

export function renderHtml(picture: InspectPicture | DiffPicture | FleetPicture): string {
  if (picture.kind === 'fleet') {
    return page(`fleet of ${picture.report.fleet.images} images`, picture, 'fleet-bundle.js', '', `
<section><h2>Images</h2><p class="hint">Bar: what the image's layers store; solid: its final view, light: bloat in it, striped: wasted (hidden by a later layer).</p><div id="images"></div><div id="failed"></div></section>
<section><h2>Layers shared by most images</h2><div id="shared"></div></section>
<section><h2>Waste by instruction</h2><div id="waste"></div></section>
<section><h2>The same content in several layers</h2><p class="hint">Files of 100 kB or more stored in more than one distinct layer: "stored again" is what one shared copy would save.</p><div id="duplicates"></div></section>`);
  }
  const title = picture.kind === 'diff' ? `${picture.summary.a.ref} → ${picture.summary.b.ref}` : picture.ref;
  return page(title, picture, 'bundle.js', facts(picture), `
<section><h2>Where the bytes are</h2>
<div class="bar-line"><nav id="crumbs"></nav><span id="colour"></span></div>
<div id="map"></div><div id="legend"></div></section>
<section id="layers-section"><h2>Layers</h2><p class="hint">Bar: bytes the layer stored; solid: still visible, striped: hidden by a later layer. Click a layer to light up what it set.</p><div id="layers"></div></section>
<section><h2 id="findings-title">Findings</h2><div id="findings"></div></section>${picture.kind === 'inspect' ? PACKAGES_SECTION : ''}
<section id="risks-section" hidden><h2>Risks</h2><p id="user"></p><div id="risks"></div></section>
<div id="tip"></div>`);
}

/** Shown by the page script when the image has a package database. */
const PACKAGES_SECTION = `
<section id="packages-section" hidden><h2>Packages</h2><p id="package-totals" class="hint"></p><p class="hint">The largest packages have a colour of their own when the map is coloured by package (the swatch beside them); the others share one.</p><div id="packages"></div>
<h3>Files no package owns, by directory</h3><div id="unowned"></div><div id="package-warnings"></div></section>`;

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * The header's facts, written here rather than by the page script, in the text report's words: a
 * compressed size only when every layer is stored compressed ("n/a" otherwise, never the stored size).
 */
function facts(p: InspectPicture | DiffPicture): string {
  if (p.kind === 'diff') {
    const s = p.summary;
    return [
      `<span class="verdict ${s.identical ? 'lean' : 'some-waste'}">${s.identical ? 'identical' : 'different'}</span>`,
      `A <b>${humanBytes(s.a.size)}</b> → B <b>${humanBytes(s.b.size)}</b> (${signedBytes(s.sizeDelta)})`,
      `compressed ${s.compressedSizeDelta === null ? 'n/a' : signedBytes(s.compressedSizeDelta)}`,
      `${s.files.added} added, ${s.files.removed} removed, ${s.files.modified} modified, ${s.files.metadata + s.files.type + s.files.retarget} other changes`,
    ].join(' · ');
  }
  const s = p.summary;
  const secrets = p.risks.secrets.length + p.risks.config.length;
  return [
    `<span class="verdict ${s.verdict}">${s.verdict}</span>`,
    ...(secrets ? [`<span class="verdict bloated">${secrets} secret${secrets === 1 ? '' : 's'}</span>`] : []),
    escapeMarkup(p.platform),
    `final view <b>${humanBytes(s.finalSize)}</b> (${s.finalEntries.toLocaleString('en-US')} entries)`,
    `stored in layers <b>${humanBytes(s.uncompressedSize)}</b>`,
    `compressed <b>${humanBytes(s.compressedSize)}</b>`,
    `wasted <b>${humanBytes(s.wastedBytes)}</b>`,
    `bloat <b>${humanBytes(s.bloatBytes)}</b>`,
    `reclaimable <b>${pct(s.reclaimableShare)}</b>`,
  ].join(' · ');
}

/** The page around a picture: its header's facts, its sections, the data block and the script that draws them. */
function page(title: string, picture: object, script: 'bundle.js' | 'fleet-bundle.js', header: string, sections: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>strata: ${escapeMarkup(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>strata <span id="title"></span></h1><p id="facts">${header}</p></header>${sections}
<script id="strata-data" type="application/json">${inert(JSON.stringify(picture))}</script>
<script>${pageScript(script)}</script>
</body>
</html>
`;
}

const STYLE = `
:root { font: 13px/1.4 system-ui, sans-serif; color: #1f2328; background: #fff; }
body { margin: 0 16px 32px; }
h1 { font-size: 18px; margin: 12px 0 4px; } h1 span { font-weight: 400; }
h2 { font-size: 15px; margin: 20px 0 6px; }
code { font: 12px ui-monospace, monospace; }
.verdict { padding: 1px 8px; border-radius: 9px; color: #fff; font-weight: 600; }
.verdict.lean { background: #1a7f37; } .verdict.some-waste { background: #bf8700; } .verdict.bloated { background: #cf222e; }
.bad { color: #cf222e; }
.bar-line { display: flex; justify-content: space-between; gap: 12px; margin-bottom: 4px; }
#crumbs a { color: #0969da; text-decoration: none; } #crumbs small { color: #656d76; }
#map { position: relative; height: 62vh; min-height: 360px; background: #f6f8fa; overflow: hidden; user-select: none; }
#map div { position: absolute; box-sizing: border-box; overflow: hidden; white-space: nowrap; cursor: pointer; }
#map .dir { border: 1px solid #8c959f; background: rgba(255,255,255,.35); }
#map .dir.virt { border: 1px dashed #cf222e; background: rgba(207,34,46,.06); }
#map .dir > span { position: absolute; left: 3px; top: 0; font-size: 11px; line-height: 14px; color: #1f2328; }
#map .tile > span { position: absolute; left: 2px; top: 1px; font-size: 10px; color: rgba(0,0,0,.7); }
/* tiles are set apart by the layout's 1 px gaps: a border on each cost 0.4 s of paint on 10k tiles, a gradient 0.7 s */
#map .tile.folded { opacity: .7; }
#map .tile.hidden { background-image: repeating-linear-gradient(45deg, rgba(255,255,255,.45) 0 3px, transparent 3px 7px); }
#map .tile.dim { opacity: .18; } #map .tile.hl { outline: 2px solid #0969da; outline-offset: -2px; z-index: 1; }
#legend { margin-top: 6px; display: flex; flex-wrap: wrap; gap: 4px 14px; }
h3 { font-size: 13px; margin: 14px 0 4px; }
.sw { display: inline-block; width: 10px; height: 10px; }
#legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
#legend small, .hint { color: #656d76; }
#tip { position: fixed; display: none; max-width: 520px; padding: 6px 8px; background: #1f2328; color: #fff; border-radius: 4px; pointer-events: none; z-index: 10; font-size: 12px; }
#tip code { color: #ffd8b5; white-space: pre-wrap; }
.layer { display: grid; grid-template-columns: 28px 260px 72px 72px 118px 1fr; gap: 8px; align-items: center; padding: 2px 4px; cursor: pointer; border-radius: 3px; }
.layer:hover { background: #f6f8fa; } .layer.sel { background: #ddf4ff; }
.layer .idx { text-align: right; color: #656d76; }
.layer .bar { display: flex; height: 12px; background: #eaeef2; }
.layer .bar i { display: block; height: 100%; }
.layer .bar .was { background: repeating-linear-gradient(45deg, #cf222e 0 3px, #ffb3b3 3px 6px); }
.layer code { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#images .bar { display: inline-flex; width: 180px; height: 10px; background: #eaeef2; vertical-align: middle; }
#images .bar i { display: block; height: 100%; } #images .bar .vis { background: #54aeff; } #images .bar .blo { background: #d4a72c; }
#images .bar .was { background: repeating-linear-gradient(45deg, #cf222e 0 3px, #ffb3b3 3px 6px); }
.num, th[data-num] { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid #d8dee4; }
th.sort { cursor: pointer; color: #0969da; } th.desc::after { content: " ▾"; } th.asc::after { content: " ▴"; }
td small { color: #656d76; word-break: break-all; }
`;
