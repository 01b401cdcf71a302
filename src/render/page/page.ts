/**
 * The HTML report's script (bundled with d3-hierarchy by esbuild at build time, inlined by
 * src/render/html.ts). It reads the picture from the page's JSON block and draws the treemap as
 * absolutely placed divs (one innerHTML write: tens of thousands of tiles paint in well under a
 * second), the layer bars and the tables. It never fetches anything: the page's CSP forbids it.
 * Every string of the image goes through escapeMarkup before it reaches innerHTML.
 */
import { hierarchy, treemap, treemapSquarify, type HierarchyRectangularNode } from 'd3-hierarchy';
import { humanBytes } from '../../util/units.js';
import { escapeMarkup } from '../../util/markup.js';
import { sortable } from './table.js';
import type { Tile } from '../../analyze/picture/tile-tree.js';
import type { InspectPicture } from '../../analyze/picture/inspect-picture.js';
import type { PicturePackage, PicturePackages } from '../../analyze/picture/package-picture.js';
import { HIDDEN_BYTES, NO_PACKAGE, UNLISTED_PACKAGE } from '../../analyze/picture/package-classes.js';
import type { DiffPicture } from '../../analyze/picture/diff-picture.js';

type Picture = InspectPicture | DiffPicture;
type Node = HierarchyRectangularNode<Tile>;

const picture = JSON.parse(document.getElementById('strata-data')!.textContent!) as Picture;

/** Smallest tile drawn, in px² (2x3 px): smaller ones are part of their directory's frame. */
const MIN_AREA = 6;
/** Smallest directory frame drawn, in px²; the tiles of a smaller one are drawn without it. */
const MIN_FRAME = 600;
/** Most elements one draw writes. */
const MAX_DRAWN = 40_000;
const LABEL = 15;

const state = {
  /** The zoom: tiles from the top to the directory shown. */
  stack: [picture.tree] as Tile[],
  /** Colour dimension (an index into picture.dims). */
  dim: 0,
  /** The selected layer, or -1. */
  layer: -1,
  drawn: [] as Node[],
  /** Every leaf tile of the map shown, drawn or too small to draw: the legend's sizes are theirs. */
  leaves: [] as Node[],
};

const $ = (id: string) => document.getElementById(id)!;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const signed = (n: number) => (n > 0 ? `+${humanBytes(n)}` : n < 0 ? `−${humanBytes(-n)}` : '0 B');

// ---- colours

const FIXED: Record<string, string> = {
  none: '#c9ccd1',
  temp: '#e6a23c', log: '#d4b106', cache: '#f56c6c', vcs: '#9b59b6', build: '#e67e22', history: '#16a085', 'core-dump': '#c0392b',
  duplicate: '#3498db', deleted: '#e74c3c', overwritten: '#d35400', 'metadata-copy': '#8e44ad',
  same: '#c9ccd1', added: '#2ecc71', removed: '#e74c3c', grown: '#f39c12', shrunk: '#3498db', changed: '#9b59b6',
};

function layerColour(i: number): string {
  return i < 0 ? FIXED.none : `hsl(${(i * 137.508 + 200) % 360} 55% 62%)`;
}

/** The largest packages each get a colour of their own; the smaller ones (listed or not) share OTHER_PACKAGES. */
const PACKAGE_COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#17becf', '#bcbd22', '#8c564b'];
const OTHER_PACKAGES = PACKAGE_COLOURS.length;
const PACKAGE_GROUPS: Record<number, [string, string]> = {
  [OTHER_PACKAGES]: ['other packages', '#7f8c9a'],
  [NO_PACKAGE]: ['no package', FIXED.none],
  [HIDDEN_BYTES]: ['hidden in layers', '#e8eaed'],
};

const packageLabel = (r: PicturePackage) => `${r.ecosystem} ${r.name} ${r.version}`;

/** A package class (package-classes.ts) as the map colours it: a package of its own colour, the other packages, no package, hidden bytes. */
function packageGroup(c: number): number {
  return c === NO_PACKAGE || c === HIDDEN_BYTES || (c >= 0 && c < OTHER_PACKAGES) ? c : OTHER_PACKAGES;
}

function className(dim: number, c: number): string {
  if (picture.kind === 'diff') return picture.changes[c] ?? 'same';
  if (picture.dims[dim] === 'category') return c < 0 ? 'none' : picture.categories[c];
  if (picture.dims[dim] === 'package') {
    const g = packageGroup(c);
    return g >= 0 && g < OTHER_PACKAGES ? packageLabel(picture.packages!.rows[g]) : PACKAGE_GROUPS[g][0];
  }
  return `layer ${c}`;
}

function colourOf(dim: number, c: number): string {
  if (picture.kind === 'inspect' && picture.dims[dim] === 'layer') return layerColour(c);
  if (picture.kind === 'inspect' && picture.dims[dim] === 'package') {
    const g = packageGroup(c);
    return g >= 0 && g < OTHER_PACKAGES ? PACKAGE_COLOURS[g] : PACKAGE_GROUPS[g][1];
  }
  const name = className(dim, c);
  return FIXED[name] ?? layerColour(c + 3);
}

// ---- paths

/** The image path of a node: its components below the zoom, without strata's groupings. */
function pathOf(d: Node): string {
  const parts: string[] = [];
  for (const t of state.stack.slice(1)) if (!t.v) parts.push(t.n);
  for (const a of d.ancestors().reverse().slice(1)) if (!a.data.v && !a.data.x) parts.push(a.data.n);
  return `/${parts.join('/')}`;
}

/** The layer whose hidden bytes a node shows (it is under "hidden in layers / layer N"), or -1. */
function hiddenLayerOf(d: Node): number {
  for (const t of [...state.stack, ...d.ancestors().reverse().map((a) => a.data)]) {
    const m = t.v ? /^layer (\d+)$/.exec(t.n) : null;
    if (m) return Number(m[1]);
  }
  return -1;
}

// ---- treemap

function layout(top: Tile, w: number, h: number): Node {
  const root = hierarchy<Tile>(top, (t) => t.k)
    .sum((t) => (t.k ? 0 : t.s))
    .sort((a, b) => b.value! - a.value!);
  return treemap<Tile>()
    .tile(treemapSquarify)
    .size([w, h])
    .paddingInner(1)
    .paddingOuter(1)
    .paddingTop((n) => (n.depth > 0 && n.y1 - n.y0 > LABEL * 2 && n.x1 - n.x0 > 40 ? LABEL : 1))(root);
}

function draw(): void {
  const map = $('map');
  const w = map.clientWidth, h = map.clientHeight;
  const top = state.stack[state.stack.length - 1];
  const root = layout(top, w, h);
  const html: string[] = [];
  const drawn: Node[] = [];
  const sel = state.layer;
  // each tile's path and whether it is hidden come down the walk: climbing the tree per tile cost a walk of its ancestors
  const visit = (d: Node, base: string, inHidden: boolean) => {
    const t = d.data;
    const path = t.v || t.x ? base : `${base}/${t.n}`;
    const hidden = inHidden || !!t.v;
    const dw = d.x1 - d.x0, dh = d.y1 - d.y0;
    if (dw * dh < MIN_AREA || drawn.length >= MAX_DRAWN) return;
    if (d.children && dw * dh < MIN_FRAME && !t.v) {
      // a frame this small shows nothing but its border: its tiles alone (the browser paints half the elements)
      for (const c of d.children) visit(c, path, hidden);
      return;
    }
    const i = drawn.push(d) - 1;
    const box = `left:${d.x0.toFixed(1)}px;top:${d.y0.toFixed(1)}px;width:${dw.toFixed(1)}px;height:${dh.toFixed(1)}px`;
    const where = t.v ? `data-group="${escapeMarkup(t.n)}"` : `data-path="${escapeMarkup(path || '/')}"`;
    const attrs = `data-i="${i}" ${where} data-size="${t.s}"`;
    if (d.children) {
      const label = dh > LABEL * 2 && dw > 40 ? `<span>${escapeMarkup(t.n || '/')} <b>${humanBytes(t.s)}</b></span>` : '';
      html.push(`<div class="dir${t.v ? ' virt' : ''}" ${attrs} style="${box}">${label}</div>`);
      for (const c of d.children) visit(c, path, hidden);
      return;
    }
    const c = t.c?.[state.dim] ?? -1;
    const layer = picture.kind === 'inspect' ? (t.c?.[0] ?? -1) : -1;
    const cls = ['tile'];
    if (t.x) cls.push('folded');
    if (picture.kind === 'inspect' && hidden) cls.push('hidden');
    if (sel >= 0) cls.push(layer === sel ? 'hl' : 'dim');
    const label = dw > 50 && dh > 14 ? `<span>${escapeMarkup(t.x ? `${t.f} small files` : t.n)}</span>` : '';
    const extra = t.x ? ` data-folded="${t.f}"` : '';
    const layerAttr = layer >= 0 ? ` data-layer="${layer}"` : '';
    const colourAttr = ` data-colour="${escapeMarkup(className(state.dim, c))}"`;
    html.push(`<div class="${cls.join(' ')}" ${attrs}${extra}${layerAttr}${colourAttr} style="${box};background-color:${colourOf(state.dim, c)}">${label}</div>`);
  };
  const zoomed = state.stack.slice(1);
  const base = zoomed.filter((z) => !z.v).map((z) => `/${z.n}`).join('');
  if (root.children) for (const c of root.children) visit(c, base, zoomed.some((z) => z.v));
  map.innerHTML = html.join('');
  map.dataset.size = String(top.s);
  state.drawn = drawn;
  state.leaves = root.leaves();
  crumbs();
  legend();
}

function crumbs(): void {
  const el = $('crumbs');
  el.innerHTML = state.stack
    .map((t, i) => `<a href="#" data-depth="${i}">${escapeMarkup(i === 0 ? picture.kind === 'diff' ? 'A → B' : 'image' : t.n)}</a> <small>${humanBytes(t.s)}</small>`)
    .join(' / ');
}

function legend(): void {
  const seen = new Map<number, number>();
  // packages beyond the coloured ones share one key, as they share one colour
  const group = picture.kind === 'inspect' && picture.dims[state.dim] === 'package' ? packageGroup : (c: number) => c;
  // all leaves, not the drawn ones: a layer's size must not depend on how many of its tiles are big enough to draw
  for (const d of state.leaves) {
    if (!d.data.c) continue;
    const c = group(d.data.c[state.dim]);
    seen.set(c, (seen.get(c) ?? 0) + d.data.s);
  }
  const items = [...seen].sort((a, b) => b[1] - a[1]).slice(0, 16);
  $('legend').innerHTML = items
    .map(([c, bytes]) => `<span class="key"><i style="background:${colourOf(state.dim, c)}"></i>${escapeMarkup(className(state.dim, c))} <small>${humanBytes(bytes)}</small></span>`)
    .join('');
}

function tip(d: Node): string {
  const t = d.data;
  const lines = [`<b>${escapeMarkup(t.x ? `${t.f} small files in ${pathOf(d)}` : t.v ? t.n : pathOf(d))}</b>`, humanBytes(t.s)];
  if (t.f !== undefined && !t.x) lines[1] += ` · ${t.f.toLocaleString('en-US')} files`;
  if (picture.kind === 'diff') {
    if (t.a !== undefined && t.b !== undefined) lines.push(`A ${humanBytes(t.a)} → B ${humanBytes(t.b)} (${signed(t.b - t.a)})`);
    if (t.c) lines.push(className(0, t.c[0]));
    return lines.join('<br>');
  }
  const hl = hiddenLayerOf(d);
  if (t.c) {
    const [layer, category, removedBy, pkg] = t.c;
    const row = picture.layers[layer];
    if (hl >= 0) lines.push(`hidden: stored by layer ${layer}${removedBy >= 0 ? `, hidden by layer ${removedBy}` : ''}`);
    else lines.push(`${t.x ? 'mostly from ' : ''}layer ${layer}`);
    if (row?.instruction) lines.push(`<code>${escapeMarkup(clip(row.instruction))}</code>`);
    if (removedBy >= 0 && picture.layers[removedBy]?.instruction) lines.push(`hidden by <code>${escapeMarkup(clip(picture.layers[removedBy].instruction!))}</code>`);
    if (category >= 0) lines.push(`category: ${escapeMarkup(picture.categories[category])}`);
    const owner = pkg >= 0 ? picture.packages?.rows[pkg] : undefined;
    if (owner) lines.push(`${t.x ? 'mostly ' : ''}package: ${escapeMarkup(clip(packageLabel(owner)))}`);
    else if (pkg === UNLISTED_PACKAGE) lines.push(`${t.x ? 'mostly ' : ''}package: one of the smaller packages, not listed`);
  } else if (hl >= 0 && t.v) {
    const row = picture.layers[hl];
    lines.push(`bytes layer ${hl} stored that a later layer hid`);
    if (row?.instruction) lines.push(`<code>${escapeMarkup(clip(row.instruction))}</code>`);
  }
  return lines.join('<br>');
}

const clip = (s: string) => (s.length > 160 ? `${s.slice(0, 157)}…` : s);

function nodeAt(e: Event): Node | undefined {
  const el = (e.target as HTMLElement).closest<HTMLElement>('[data-i]');
  return el ? state.drawn[Number(el.dataset.i)] : undefined;
}

function wireMap(): void {
  const map = $('map');
  const tipEl = $('tip');
  map.addEventListener('mousemove', (e) => {
    const d = nodeAt(e);
    if (!d) return void (tipEl.style.display = 'none');
    tipEl.innerHTML = tip(d);
    tipEl.style.display = 'block';
    const x = Math.min(e.clientX + 14, window.innerWidth - tipEl.offsetWidth - 8);
    const y = e.clientY + 18 + tipEl.offsetHeight > window.innerHeight ? e.clientY - tipEl.offsetHeight - 8 : e.clientY + 18;
    tipEl.style.left = `${x}px`;
    tipEl.style.top = `${y}px`;
  });
  map.addEventListener('mouseleave', () => (tipEl.style.display = 'none'));
  // a click zooms one directory deeper, towards what was clicked
  map.addEventListener('click', (e) => {
    const d = nodeAt(e);
    if (!d) return;
    const step = d.ancestors().find((a) => a.depth === 1);
    if (step?.children) {
      state.stack.push(step.data);
      draw();
    }
  });
  $('crumbs').addEventListener('click', (e) => {
    const a = (e.target as HTMLElement).closest<HTMLElement>('[data-depth]');
    if (!a) return;
    e.preventDefault();
    state.stack.length = Number(a.dataset.depth) + 1;
    draw();
  });
  let pending = 0;
  window.addEventListener('resize', () => {
    clearTimeout(pending);
    pending = window.setTimeout(draw, 100);
  });
}


function inspectPage(p: InspectPicture): void {
  const s = p.summary;
  $('title').textContent = p.ref;
  const colour = $('colour');
  // the value is the dimension's index in p.dims, whichever are offered
  colour.innerHTML = p.dims
    .map((d, i) => [d, i] as const)
    .filter(([d]) => d !== 'removedBy' && (d !== 'package' || p.packages))
    .map(([d, i]) => `<label><input type="radio" name="dim" value="${i}"${i === 0 ? ' checked' : ''}> ${d}</label>`)
    .join(' ');
  colour.addEventListener('change', (e) => {
    state.dim = Number((e.target as HTMLInputElement).value);
    draw();
  });
  layers(p);
  const f = $('findings');
  if (!p.findings.length) f.innerHTML = '<p>No findings: nothing stored twice, deleted later, or left over from the build.</p>';
  else {
    sortable(f, p.findings, [
      { title: 'bytes', cell: (r) => humanBytes(r.bytes), key: (r) => r.bytes, num: true },
      { title: 'category', cell: (r) => escapeMarkup(r.category), key: (r) => r.category },
      { title: 'layer', cell: (r) => `${r.layer}${r.removedBy !== null && r.removedBy !== r.layer ? ` → ${r.removedBy}` : ''}`, key: (r) => r.layer, num: true },
      { title: 'files', cell: (r) => r.files.toLocaleString('en-US'), key: (r) => r.files, num: true },
      {
        title: 'finding and remedy',
        cell: (r) =>
          `<b>${escapeMarkup(r.title)}</b><br>${escapeMarkup(r.remedy)}${r.instruction ? `<br><code>${escapeMarkup(clip(r.instruction))}</code>` : ''}` +
          `<br><small>${r.paths.map((p) => escapeMarkup(p)).join(' · ')}${r.files > r.paths.length ? ' …' : ''}</small>`,
      },
    ]);
  }
  if (s.findingCount > p.findings.length) f.insertAdjacentHTML('beforeend', `<p><small>${p.findings.length} largest of ${s.findingCount} findings.</small></p>`);
  if (p.packages) packages(p.packages);
  risks(p.risks);
}

const plural = (n: number, one: string) => `${n.toLocaleString('en-US')} ${one}${n === 1 ? '' : 's'}`;

/** The packages table (the largest ones have the colour their files take in the map), the unowned bytes by directory, the readers' warnings. */
function packages(k: PicturePackages): void {
  $('packages-section').hidden = false;
  const owned = k.totals.map((x) => `${x.ecosystem} <b>${plural(x.packages, 'package')}</b> ${humanBytes(x.bytes)}`);
  $('package-totals').innerHTML = [...owned, `no package <b>${humanBytes(k.unowned.bytes)}</b> in ${plural(k.unowned.files, 'file')}`].join(' · ');
  const rows = k.rows.map((r, i) => ({ ...r, i }));
  const el = $('packages');
  if (!rows.length) el.innerHTML = '<p>The package databases list no package.</p>';
  else {
    sortable(el, rows, [
      { title: '', cell: (r) => (r.i < OTHER_PACKAGES ? `<i class="sw" style="background:${PACKAGE_COLOURS[r.i]}"></i>` : '') },
      { title: 'ecosystem', cell: (r) => escapeMarkup(r.ecosystem), key: (r) => r.ecosystem },
      { title: 'name', cell: (r) => escapeMarkup(r.name), key: (r) => r.name },
      { title: 'version', cell: (r) => `<code>${escapeMarkup(r.version)}</code>`, key: (r) => r.version },
      { title: 'layer', cell: (r) => String(r.layer), key: (r) => r.layer, num: true },
      { title: 'bytes', cell: (r) => humanBytes(r.bytes), key: (r) => r.bytes, num: true },
      { title: 'files', cell: (r) => r.files.toLocaleString('en-US'), key: (r) => r.files, num: true },
    ]);
  }
  if (k.count > k.rows.length) el.insertAdjacentHTML('beforeend', `<p><small>${k.rows.length} largest of ${k.count} packages.</small></p>`);
  const un = $('unowned');
  if (!k.unowned.dirs.length) un.innerHTML = '<p>Every file belongs to a package.</p>';
  else {
    sortable(un, k.unowned.dirs, [
      { title: 'directory', cell: (r) => `<code>${escapeMarkup(r.path)}</code>`, key: (r) => r.path },
      { title: 'bytes', cell: (r) => humanBytes(r.bytes), key: (r) => r.bytes, num: true },
      { title: 'files', cell: (r) => r.files.toLocaleString('en-US'), key: (r) => r.files, num: true },
    ]);
    if (k.unowned.dirCount > k.unowned.dirs.length) un.insertAdjacentHTML('beforeend', `<p><small>${k.unowned.dirs.length} largest of ${k.unowned.dirCount} directories.</small></p>`);
  }
  if (k.warningCount) {
    const more = k.warningCount > k.warnings.length ? `<li>… ${k.warningCount - k.warnings.length} more (strata packages lists them all)</li>` : '';
    $('package-warnings').innerHTML = `<h3>What the package databases could not say</h3><ul>${k.warnings.map((w) => `<li>${escapeMarkup(w)}</li>`).join('')}${more}</ul>`;
  }
}

interface RiskRow {
  kind: string;
  path: string;
  layer: number;
  hiddenBy: number | null;
  detail: string;
  remedy: string;
  instruction: string | null;
}

/** Secrets (visible, or hidden by a later layer but stored) and risky files, one sortable table. */
function risks(k: InspectPicture['risks']): void {
  $('risks-section').hidden = false;
  $('user').innerHTML = k.user.root
    ? `<b class="bad">Runs as root</b> (${k.user.user === null ? 'the config names no user' : `User ${escapeMarkup(k.user.user)}`}): add USER with a non-root uid.`
    : `Runs as user <b>${escapeMarkup(k.user.user ?? '')}</b>.`;
  const rows: RiskRow[] = [
    ...k.secrets.map((s) => ({
      kind: `secret: ${s.description}`,
      path: s.path,
      layer: s.layer,
      hiddenBy: s.hiddenBy,
      detail: `${s.status === 'visible' ? 'visible' : `<b class="bad">hidden by layer ${s.hiddenBy}, still stored</b>`}${s.matches.map((m) => `<br>${escapeMarkup(m.rule)} line ${m.line} <code>${escapeMarkup(m.fingerprint)}</code>`).join('')}`,
      remedy: s.remedy,
      instruction: s.instruction,
    })),
    ...k.config.map((c) => ({
      kind: `secret: ${c.description}`,
      path: `(config) ${c.field}`,
      layer: c.layer ?? -1,
      hiddenBy: null,
      detail: `in the image config <code>${escapeMarkup(c.fingerprint)}</code>`,
      remedy: c.remedy,
      instruction: null,
    })),
    ...k.files.map((f) => ({ kind: f.kind, path: f.path, layer: f.layer, hiddenBy: null, detail: escapeMarkup(f.capabilities ?? `${f.mode} ${f.type} ${f.uid}:${f.gid}`), remedy: f.remedy, instruction: f.instruction })),
  ];
  const el = $('risks');
  if (!rows.length) {
    el.innerHTML = `<p>No secrets and no risky files found${k.baseLayers ? ` (setuid, setgid and capabilities looked for above the base's ${k.baseLayers} layer${k.baseLayers === 1 ? '' : 's'})` : ''}.</p>`;
    return;
  }
  sortable(el, rows, [
    { title: 'kind', cell: (r) => escapeMarkup(r.kind), key: (r) => r.kind },
    { title: 'path', cell: (r) => `<code>${escapeMarkup(r.path)}</code>`, key: (r) => r.path },
    { title: 'layer', cell: (r) => (r.layer < 0 ? '–' : `${r.layer}${r.hiddenBy !== null ? ` → ${r.hiddenBy}` : ''}`), key: (r) => r.layer, num: true },
    { title: 'what', cell: (r) => r.detail },
    { title: 'remedy', cell: (r) => `${escapeMarkup(r.remedy)}${r.instruction ? `<br><code>${escapeMarkup(clip(r.instruction))}</code>` : ''}` },
  ]);
}

function layers(p: InspectPicture): void {
  const max = Math.max(1, ...p.layers.map((l) => l.size));
  const el = $('layers');
  el.innerHTML = p.layers
    .map((l) => {
      const vis = (l.visible / max) * 100, was = (l.wasted / max) * 100;
      return (
        `<div class="layer" data-layer="${l.index}"><span class="idx">${l.index}</span>` +
        `<span class="bar"><i class="vis" style="width:${vis}%;background:${layerColour(l.index)}"></i><i class="was" style="width:${was}%"></i></span>` +
        `<span class="num">${humanBytes(l.size)}</span><span class="num">${l.compressedSize === null ? 'plain' : humanBytes(l.compressedSize)}</span>` +
        `<span class="num">${l.size ? `${pct(l.wasted / l.size)} wasted` : '–'}</span>` +
        `<code title="${escapeMarkup(l.instruction ?? '')}">${escapeMarkup(clip(l.instruction ?? '(no history)'))}</code></div>`
      );
    })
    .join('');
  el.addEventListener('click', (e) => {
    const row = (e.target as HTMLElement).closest<HTMLElement>('.layer');
    if (!row) return;
    const i = Number(row.dataset.layer);
    state.layer = state.layer === i ? -1 : i;
    for (const r of el.querySelectorAll<HTMLElement>('.layer')) r.classList.toggle('sel', Number(r.dataset.layer) === state.layer);
    draw();
  });
}

function diffPage(p: DiffPicture): void {
  const s = p.summary;
  $('title').textContent = `${s.a.ref} → ${s.b.ref}`;
  $('colour').innerHTML = 'colour: change';
  $('layers-section').remove();
  sortable($('findings'), p.directories, [
    { title: 'directory', cell: (r) => escapeMarkup(r.path), key: (r) => r.path },
    { title: 'size delta', cell: (r) => signed(r.sizeDelta), key: (r) => r.sizeDelta, num: true },
    { title: 'changed files', cell: (r) => r.changed.toLocaleString('en-US'), key: (r) => r.changed, num: true },
  ]);
  $('findings-title').textContent = 'Size delta per directory';
  const cats = document.createElement('div');
  cats.id = 'categories';
  $('findings').after(cats);
  cats.insertAdjacentHTML('beforebegin', '<h2>Size delta per category</h2>');
  sortable(cats, p.categories, [
    { title: 'category', cell: (r) => escapeMarkup(r.category), key: (r) => r.category },
    { title: 'kind', cell: (r) => r.kind, key: (r) => r.kind },
    { title: 'A', cell: (r) => humanBytes(r.a), key: (r) => r.a, num: true },
    { title: 'B', cell: (r) => humanBytes(r.b), key: (r) => r.b, num: true },
    { title: 'delta', cell: (r) => signed(r.delta), key: (r) => r.delta, num: true },
  ]);
}

if (picture.kind === 'diff') diffPage(picture);
else inspectPage(picture);
wireMap();
draw();
document.body.dataset.ready = String(Math.round(performance.now())); // ms from navigation start to drawn
