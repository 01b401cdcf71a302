/** `strata diff` reports as text (terminal, like `git diff --stat` plus more) and as Markdown (PR comments). */
import type { ContentDiff } from '../analyze/diff/content.js';
import { type ConfigChange } from '../analyze/diff/config.js';
import { type DiffReport } from '../analyze/diff/diff.js';
import { type FileDiff } from '../analyze/diff/files.js';
import { type HistoryLine, type LayerPair } from '../analyze/diff/layers.js';
import { type SideSummary } from '../analyze/diff/side.js';
import type { PackageDiffRow } from '../analyze/diff/packages.js';
import { table, truncate } from './text.js';
import { humanBytes } from '../util/units.js';
import { instructionText } from '../image/history.js';
import { markdownBlock, markdownCode, markdownText, terminalCopy, terminalLines } from '../util/terminal-text.js';

/** Paths are padded to at most this many columns: a longer one overflows its own line only. */
const PATH_COLUMN = 60;

export function signedBytes(n: number): string {
  return n > 0 ? `+${humanBytes(n)}` : n < 0 ? `-${humanBytes(-n)}` : '0 B';
}

export const changeMark: Record<FileDiff['change'], string> = { added: 'A', removed: 'D', modified: 'M', metadata: 'm', type: 'T', retarget: 'L' };

function sideName(s: SideSummary): string {
  return `${s.ref} (after layer ${s.layer} of 0..${s.layerCount - 1}, ${s.platform})`;
}

function fileCounts(r: DiffReport): string {
  const f = r.summary.files;
  if (f.total === 0) return 'no changes';
  const parts = (['added', 'removed', 'modified', 'metadata', 'type', 'retarget'] as const)
    .filter((k) => f[k])
    .map((k) => `${f[k]} ${k === 'metadata' ? 'metadata-only' : k === 'type' ? 'type changed' : k === 'retarget' ? 'symlink retargeted' : k}`);
  return `${f.total} changed: ${parts.join(', ')}`;
}

function compressedLine(r: DiffReport): string {
  const { a, b } = r.summary;
  const d = r.summary.compressedSizeDelta;
  return `${humanBytes(a.compressedSize)} -> ${humanBytes(b.compressedSize)}${d === null ? '  (n/a: a side stores layers uncompressed)' : `  (${signedBytes(d)})`}`;
}

/** The metadata fields that differ on a path both sides have, each with both values: `mode 0644 -> 0755`. */
export function metadataChanges(f: FileDiff): string[] {
  const { a, b } = f;
  if (!a || !b) return [];
  return (f.metadata ?? []).map((m) => {
    if (m === 'mode') return `mode ${a.mode} -> ${b.mode}`;
    if (m === 'uid') return `uid ${a.uid} -> ${b.uid}`;
    if (m === 'gid') return `gid ${a.gid} -> ${b.gid}`;
    // the views keep xattr values in the layer records only: the JSON of the two images names them
    if (m === 'xattrs') return 'xattrs differ';
    return a.links === b.links ? `hardlinks ${b.links}, bytes counted at ${f.sizeDelta > 0 ? 'this path now' : 'another path now'}` : `hardlinks ${a.links} -> ${b.links}`;
  });
}

/** What changed besides the kind: mode 0644 -> 0755, uid, links, target... */
export function fileDetail(f: FileDiff): string {
  const a = f.a, b = f.b;
  const out: string[] = [];
  if (a && b) {
    if (f.change === 'type') out.push(`${a.type} -> ${b.type}`);
    if (f.change === 'retarget') out.push(`${a.linkTarget} -> ${b.linkTarget}`);
    if (f.change === 'modified' && a.size === b.size) out.push('same size, content differs');
    out.push(...metadataChanges(f));
  } else {
    const s = (a ?? b)!;
    if (s.type !== 'file' && s.type !== 'hardlink') out.push(s.linkTarget === undefined ? s.type : `${s.type} -> ${s.linkTarget}`);
  }
  return out.join(', ');
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function efficiencyLine(r: DiffReport): string {
  const { a, b } = r.bloat.efficiency;
  return `${pct(a)} -> ${pct(b)}`;
}

/** Categories either side has bytes in, biggest change first (the report's order). */
function categoryRows(r: DiffReport): string[][] {
  return r.bloat.categories.filter((c) => c.a || c.b).map((c) => [c.category, c.kind, humanBytes(c.a), humanBytes(c.b), signedBytes(c.delta)]);
}

function layerCell(l: LayerPair['a']): [string, string, string] {
  if (!l) return ['', '', '—'];
  return [String(l.index), humanBytes(l.size), instructionText(l.createdBy ?? undefined)];
}

const matchMark: Record<LayerPair['match'], string> = { identical: '==', instruction: '~', unmatched: '≠' };

function configLine(c: ConfigChange): [string, string, string] {
  const name = c.key === undefined ? c.field : `${c.field} ${c.key}`;
  const show = (v: string | null) => (v === null ? '(unset)' : v);
  return [name, show(c.a), show(c.b)];
}

function historyPrefix(h: HistoryLine): string {
  return h.op === 'added' ? '+' : h.op === 'removed' ? '-' : ' ';
}

export function renderContent(content: ContentDiff): string {
  const c = terminalCopy({ ...content, patch: undefined });
  const size = (s: ContentDiff['a']) => (s ? `${humanBytes(s.size)} ${s.sha256 ?? s.contentHash ?? ''}`.trim() : 'absent');
  switch (c.kind) {
    case 'text':
      return terminalLines(content.patch!); // its lines kept, each escaped
    case 'identical':
      return `${c.path}: identical (${size(c.a)})\n`;
    case 'not-a-file':
      return `${c.path}: not a regular file (${c.a?.type ?? 'absent'} -> ${c.b?.type ?? 'absent'})\n`;
    case 'too-large':
    case 'binary':
      return `${c.path}: ${c.kind === 'binary' ? 'binary' : 'over the content limit'}: ${size(c.a)} -> ${size(c.b)}\n`;
  }
}

export function renderDiffText(report: DiffReport, width: number): string {
  // contents are multi-line: renderContent escapes them line by line
  const r = terminalCopy({ ...report, contents: undefined });
  const s = r.summary;
  const lines: string[] = [];
  lines.push(`A  ${sideName(s.a)}`, `B  ${sideName(s.b)}`, '');
  lines.push(s.identical ? 'Identical (files, config and history)' : 'Summary');
  lines.push(`  size        ${humanBytes(s.a.size)} -> ${humanBytes(s.b.size)}  (${signedBytes(s.sizeDelta)})`);
  lines.push(`  compressed  ${compressedLine(r)}`);
  lines.push(`  files       ${fileCounts(r)}${s.ignored.length ? `  (ignoring ${s.ignored.join(', ')})` : ''}`);
  lines.push(`  config      ${r.config.length ? `${r.config.length} changed` : 'no changes'}`);
  const w = r.bloat.wastedBytes;
  lines.push(`  wasted      ${humanBytes(w.a)} -> ${humanBytes(w.b)}  (${signedBytes(w.delta)}; stored in layers, hidden in the view)`);
  lines.push(`  efficiency  ${efficiencyLine(r)}  (view / stored in layers)`);
  lines.push(`  packages    ${packagesLine(r)}`);
  const cats = categoryRows(r);
  if (cats.length) {
    lines.push('', 'Bloat and waste by category (biggest change first; see docs/bloat.md)');
    lines.push(...table([['CATEGORY', 'KIND', 'A', 'B', 'DELTA'], ...cats], ['l', 'l', 'r', 'r', 'r']).map((l) => `  ${l}`));
  }

  const pkgs = packageRows(r);
  if (pkgs.length) {
    lines.push('', 'Packages (added, removed, other version; then other size)');
    lines.push(...table([['', 'ECOSYSTEM', 'NAME', 'A', 'B', 'DELTA'], ...pkgs.slice(0, PACKAGE_ROWS)], ['l', 'l', 'l', 'l', 'l', 'r'], [undefined, undefined, 40, 30, 30]).map((l) => truncate(`  ${l}`, width)));
    if (pkgs.length > PACKAGE_ROWS) lines.push(`  … ${pkgs.length - PACKAGE_ROWS} more (strata diff --json lists all)`);
  }

  lines.push('', 'Layers');
  const base = r.layers.sharedBase;
  lines.push(`  ${base === 0 ? 'no shared base layers' : base === 1 ? 'first layer identical' : `first ${base} layers identical`}`);
  if (r.layers.pairs.length) {
    const half = Math.max(16, Math.floor((width - 36) / 2));
    const rows = [['A', 'SIZE', 'INSTRUCTION', '', 'B', 'SIZE', 'INSTRUCTION']];
    for (const p of r.layers.pairs) {
      const [ai, as, ax] = layerCell(p.a);
      const [bi, bs, bx] = layerCell(p.b);
      rows.push([ai, as, truncate(ax, half), matchMark[p.match], bi, bs, truncate(bx, half)]);
    }
    lines.push(...table(rows, ['r', 'r', 'l', 'l', 'r', 'r', 'l']).map((l) => `  ${l}`));
    lines.push('  (== same diffID, ~ same instruction, ≠ unmatched)');
  }

  if (r.config.length) {
    lines.push('', 'Config');
    lines.push(...table([['FIELD', 'A', 'B'], ...r.config.map(configLine)], ['l', 'l', 'l']).map((l) => `  ${truncate(l, width - 2)}`));
  }
  if (r.history.some((h) => h.op !== 'same')) {
    lines.push('', 'History');
    for (const h of r.history) lines.push(truncate(`  ${historyPrefix(h)} ${h.instruction}${h.emptyLayer ? '  (no layer)' : ''}`, width));
  }
  if (r.files.length) {
    lines.push('', 'Files');
    const rows = r.files.map((f) => [changeMark[f.change], f.sizeDelta ? signedBytes(f.sizeDelta) : '', f.path, fileDetail(f)]);
    for (const row of table(rows, ['l', 'r', 'l', 'l'], [undefined, undefined, PATH_COLUMN])) lines.push(`  ${row}`);
    lines.push('  (A added, D removed, M content, m metadata only, T type, L symlink target)');
    const dirs = r.directories.filter((d) => d.sizeDelta !== 0).slice(0, 10);
    if (dirs.length) {
      lines.push('', 'Directories (size delta of everything below, biggest first)');
      for (const row of table(dirs.map((d) => [signedBytes(d.sizeDelta), d.path, `${d.changed} changed`]), ['r', 'l', 'l'], [undefined, PATH_COLUMN])) lines.push(`  ${row}`);
    }
  }
  if (report.contents?.length) {
    lines.push('', 'Content');
    for (const c of report.contents) lines.push(renderContent(c).trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

const MARKDOWN_FILES = 100;
/** Package rows in the text diff; --json lists all. */
const PACKAGE_ROWS = 40;

const packageMark: Record<PackageDiffRow['change'], string> = { added: 'A', removed: 'D', upgrade: '↑', downgrade: '↓', rebuild: '~', size: 's' };

function packagesLine(r: DiffReport): string {
  const p = r.packages;
  if (p.a.packages + p.b.packages === 0) return 'none (no package database on either side)';
  const parts = [p.added && `${p.added} added`, p.removed && `${p.removed} removed`, p.changed && `${p.changed} other version`].filter(Boolean);
  return `${p.a.packages} -> ${p.b.packages} (${parts.length ? parts.join(', ') : 'same packages'}; ${humanBytes(p.a.bytes)} -> ${humanBytes(p.b.bytes)})`;
}

function packageRows(r: DiffReport): string[][] {
  return r.packages.rows.map((p) => [packageMark[p.change], p.ecosystem, p.name, p.a ?? '', p.b ?? '', signedBytes(p.delta)]);
}

/** An efficiency change in percentage points. */
function points(d: number): string {
  const v = (d * 100).toFixed(1);
  return `${d > 0 && v !== '0.0' ? '+' : ''}${v === '-0.0' ? '0.0' : v} pt`;
}

/**
 * A PR comment: summary table, then collapsible sections. Long file lists are cut at 100 rows.
 * Image-controlled strings go through markdownText (cells, prose), markdownCode or markdownBlock;
 * the terminal copy keeps each of them one line for the code blocks.
 */
export function renderDiffMarkdown(report: DiffReport): string {
  const r = terminalCopy({ ...report, contents: undefined });
  const s = r.summary;
  const out: string[] = [];
  out.push(`### strata diff: ${markdownCode(s.a.ref)}@${s.a.layer} → ${markdownCode(s.b.ref)}@${s.b.layer}`, '');
  if (s.identical) out.push('**Identical** (files, config and history).', '');
  out.push('| | A | B | Δ |', '|---|---:|---:|---:|');
  out.push(`| size | ${humanBytes(s.a.size)} | ${humanBytes(s.b.size)} | ${signedBytes(s.sizeDelta)} |`);
  out.push(`| compressed | ${humanBytes(s.a.compressedSize)} | ${humanBytes(s.b.compressedSize)} | ${s.compressedSizeDelta === null ? 'n/a' : signedBytes(s.compressedSizeDelta)} |`);
  out.push(`| layers | ${s.a.layer + 1} | ${s.b.layer + 1} | first ${r.layers.sharedBase} identical |`);
  const w = r.bloat.wastedBytes, e = r.bloat.efficiency;
  out.push(`| wasted | ${humanBytes(w.a)} | ${humanBytes(w.b)} | ${signedBytes(w.delta)} |`);
  out.push(`| efficiency | ${pct(e.a)} | ${pct(e.b)} | ${points(e.b - e.a)} |`);
  out.push('', `**Files:** ${fileCounts(r)}${s.ignored.length ? ` (ignoring ${s.ignored.map((g) => markdownCode(g)).join(', ')})` : ''}`);
  const cats = categoryRows(r);
  if (cats.length) {
    out.push('', '<details><summary>Bloat and waste by category</summary>', '', '| category | kind | A | B | Δ |', '|---|---|---:|---:|---:|');
    for (const row of cats) out.push(`| ${row.map(markdownText).join(' | ')} |`);
    out.push('', '</details>');
  }
  const pkgs = packageRows(r);
  if (pkgs.length) {
    out.push('', `<details><summary>Packages: ${markdownText(packagesLine(r))}</summary>`, '', '| | ecosystem | name | A | B | Δ |', '|---|---|---|---|---|---:|');
    for (const row of pkgs.slice(0, MARKDOWN_FILES)) out.push(`| ${row.map(markdownText).join(' | ')} |`);
    if (pkgs.length > MARKDOWN_FILES) out.push('', `… and ${pkgs.length - MARKDOWN_FILES} more (\`strata diff --json\` lists all).`);
    out.push('', '</details>');
  }
  if (r.config.length) {
    out.push('', '<details><summary>Config changes</summary>', '', '| field | A | B |', '|---|---|---|');
    for (const c of r.config) out.push(`| ${configLine(c).map(markdownText).join(' | ')} |`);
    out.push('', '</details>');
  }
  if (r.layers.pairs.length) {
    out.push('', '<details><summary>Layers</summary>', '', '| A | instruction | | B | instruction |', '|---:|---|---|---:|---|');
    for (const p of r.layers.pairs) {
      const [ai, , ax] = layerCell(p.a);
      const [bi, , bx] = layerCell(p.b);
      out.push(`| ${ai} | ${markdownText(truncate(ax, 80))} | ${matchMark[p.match]} | ${bi} | ${markdownText(truncate(bx, 80))} |`);
    }
    out.push('', '</details>');
  }
  if (r.history.some((h) => h.op !== 'same')) {
    out.push('', '<details><summary>History</summary>', '', markdownBlock('diff', r.history.map((h) => `${historyPrefix(h)} ${h.instruction}`).join('\n')), '', '</details>');
  }
  if (r.files.length) {
    out.push('', '<details><summary>Files</summary>', '', '| | path | Δ size | detail |', '|---|---|---:|---|');
    for (const f of r.files.slice(0, MARKDOWN_FILES)) out.push(`| ${changeMark[f.change]} | ${markdownCode(f.path, true)} | ${f.sizeDelta ? signedBytes(f.sizeDelta) : ''} | ${markdownText(fileDetail(f))} |`);
    if (r.files.length > MARKDOWN_FILES) out.push('', `… and ${r.files.length - MARKDOWN_FILES} more (\`strata diff --json\` lists all).`);
    const dirs = r.directories.filter((d) => d.sizeDelta !== 0).slice(0, 10);
    if (dirs.length) {
      out.push('', '| directory | Δ size | changed |', '|---|---:|---:|');
      for (const d of dirs) out.push(`| ${markdownCode(d.path, true)} | ${signedBytes(d.sizeDelta)} | ${d.changed} |`);
    }
    out.push('', '</details>');
  }
  if (report.contents?.length) {
    out.push('', '<details><summary>Content</summary>', '');
    for (const c of report.contents) {
      if (c.kind === 'text') out.push(markdownBlock('diff', c.patch!.trimEnd()));
      else out.push(markdownText(renderContent(c).trimEnd()), '');
    }
    out.push('', '</details>');
  }
  return `${out.join('\n')}\n`;
}
