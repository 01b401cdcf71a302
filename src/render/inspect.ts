/** The text of `strata inspect`: image details, sizes, the layer table, then efficiency, bloat and findings. */
import type { InspectReport } from '../analyze/report.js';
import { instructionText } from '../image/history.js';
import { humanBytes, plural } from '../util/units.js';
import { table, truncate, wrapWords } from './text.js';
import { terminalCopy, terminalText } from '../util/terminal-text.js';
import { pushAll } from '../util/arrays.js';

export function renderInspect(report: InspectReport, width: number): string {
  const r = terminalCopy(report);
  const i = r.image;
  const c = i.config;
  const none = '—';
  // argv as JSON of the raw strings: JSON names the control characters itself, terminalText the rest
  const argv = (a: string[] | null) => (a ? terminalText(JSON.stringify(a)) : none);
  const kv: [string, string][] = [
    ['Image', i.ref],
    ['Source', i.source],
    ['Tags', i.tags.join(', ') || none],
    ['Platform', i.platform],
    ['Manifest', i.manifestDigest ?? none],
    ['Config', i.configDigest],
    ['Created', i.created ?? none],
    ['Entrypoint', argv(report.image.config.entrypoint)],
    ['Cmd', argv(report.image.config.cmd)],
    ['User', c.user ?? none],
    ['Workdir', c.workdir ?? none],
    ...c.env.map((e, n): [string, string] => [n === 0 ? 'Env' : '', e]),
    ...(c.exposedPorts.length ? [['Ports', c.exposedPorts.join(', ')] as [string, string]] : []),
    ...(c.volumes.length ? [['Volumes', c.volumes.join(', ')] as [string, string]] : []),
    ...Object.entries(c.labels).map(([k, v], n): [string, string] => [n === 0 ? 'Labels' : '', `${k}=${v}`]),
  ];
  const s = r.summary;
  const lines = kv.map(([k, v]) => `${k.padEnd(11)} ${v}`);
  lines.push('', 'Sizes');
  lines.push(`  compressed    ${s.compressedSize === null ? 'n/a (layers stored uncompressed)' : humanBytes(s.compressedSize)}`);
  lines.push(`  uncompressed  ${humanBytes(s.uncompressedSize)} (files in all layers, overwritten and deleted copies included)`);
  lines.push(`  final view    ${humanBytes(s.finalSize)} (${s.finalEntries} entries; files visible in the image, hardlinks once)`);
  lines.push('', `Layers (${s.layerCount})`);
  const rows = [['#', 'SIZE', 'COMPRESSED', 'ADDED', 'MODIFIED', 'REMOVED', 'INSTRUCTION']];
  for (const l of r.layers) {
    const ch = l.changes;
    rows.push([
      String(l.index),
      humanBytes(l.size),
      l.compressedSize === null ? '—' : humanBytes(l.compressedSize),
      String(ch.added),
      ch.metadata ? `${ch.modified}+${ch.metadata}m` : String(ch.modified),
      String(ch.removed),
      instructionText(l.createdBy ?? undefined, l.comment ?? undefined),
    ]);
  }
  const t = table(rows, ['r', 'r', 'r', 'r', 'r', 'r', 'l']);
  const prefix = t[0].indexOf('INSTRUCTION');
  lines.push(...t.map((line) => `  ${truncate(line, Math.max(width - 2, prefix + 12))}`));
  lines.push('  (MODIFIED: content changes, plus "Nm" entries whose mode/owner/xattrs alone changed)');
  lines.push(...renderBloat(r, width));
  return `${lines.join('\n')}\n`;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Efficiency, waste, bloat by category, top findings and a verdict. */
function renderBloat(r: InspectReport, width: number): string[] {
  const s = r.summary;
  const lines = ['', 'Efficiency'];
  lines.push(`  efficiency    ${pct(s.efficiency)} (final view ${humanBytes(s.finalSize)} of ${humanBytes(s.uncompressedSize)} stored in layers)`);
  lines.push(`  dive score    ${pct(s.diveEfficiency)} (dive's "image efficiency", computed its way; see docs/bloat.md)`);
  const parts = Object.entries(s.waste).filter(([, n]) => n > 0).map(([c, n]) => `${c} ${humanBytes(n)}`);
  lines.push(
    s.wastedBytes === 0
      ? '  wasted        0 B (every stored byte is visible in the image)'
      : `  wasted        ${humanBytes(s.wastedBytes)} (${parts.join(', ')}): stored in layers, not visible in the image`,
  );
  lines.push('', 'Bloat in the final image');
  const cats = Object.entries(s.bloat).filter(([, n]) => n > 0);
  if (cats.length === 0) lines.push('  none found');
  else {
    const rows = cats.map(([c, n]) => [c, humanBytes(n), plural(s.bloatFiles[c] ?? 0, 'file')]);
    lines.push(...table(rows, ['l', 'r', 'l']).map((l) => `  ${l}`));
  }
  const shown = r.findings.length;
  lines.push('', shown === s.findingCount ? `Findings (${shown}, largest first)` : `Findings (${shown} of ${s.findingCount}, largest first; --top / --category)`);
  if (s.findingCount === 0) lines.push('  none');
  const w = Math.max(width - 15, 40);
  for (const [i, f] of r.findings.entries()) {
    const head = `  ${String(i + 1).padStart(2)}. ${humanBytes(f.bytes).padStart(7)}  ${f.category}: `;
    const title = wrapWords(f.title, Math.max(width - head.length, 40));
    lines.push(head + title[0], ...title.slice(1).map((l) => ' '.repeat(head.length) + l));
    const label = (name: string, text: string[]) => text.map((l, n) => `      ${(n === 0 ? name : '').padEnd(11)}${l}`);
    lines.push(...label('stored by', [truncate(`layer ${f.layer}${f.instruction ? `: ${f.instruction}` : ''}`, w)]));
    if (f.removedBy !== null) lines.push(...label('hidden by', [truncate(`layer ${f.removedBy}${f.removedByInstruction ? `: ${f.removedByInstruction}` : ''}`, w)]));
    lines.push(...label('fix', wrapWords(f.remedy, w)));
  }
  lines.push(...renderPackagesSummary(r, width));
  lines.push(...renderRisks(r, width));
  lines.push('', `Verdict: ${verdictLine(r)}${risksClause(r)}`);
  return lines;
}

/** Packages the text lists; `strata packages` lists them all. */
const PACKAGES_SHOWN = 5;

/** The largest packages, the totals per ecosystem and what no package owns (`strata packages` for all). */
function renderPackagesSummary(r: InspectReport, width: number): string[] {
  const p = r.packages;
  if (!p) return [];
  const per = p.totals.map((t) => `${t.ecosystem} ${t.packages} (${humanBytes(t.bytes)})`).join(', ');
  const lines = ['', `Packages (${p.count}${per ? `: ${per}` : ''}; strata packages lists them all)`];
  const rows = p.list.slice(0, PACKAGES_SHOWN).map((x) => [`  ${x.ecosystem}`, x.name, x.version, `layer ${x.layer}`, humanBytes(x.bytes)]);
  rows.push(['  ', 'no package', '', '', humanBytes(p.unownedBytes)]);
  lines.push(...table(rows, ['l', 'l', 'l', 'l', 'r'], [undefined, 40, 30]).map((l) => truncate(l, width)));
  for (const w of p.warnings) lines.push(truncate(`  warning: ${w}`, width));
  return lines;
}

/** Secrets (by name and content, visible or hidden but stored), risky files and the user. */
function renderRisks(r: InspectReport, width: number): string[] {
  const k = r.risks;
  const w = Math.max(width - 17, 40);
  const label = (name: string, text: string[]) => text.map((l, n) => `      ${(n === 0 ? name : '').padEnd(11)}${l}`);
  const layer = (L: number, instruction: string | null) => truncate(`layer ${L}${instruction ? `: ${instruction}` : ''}`, w);
  const lines = ['', 'Risks'];
  lines.push(`  user          ${k.user.root ? `root (${k.user.user === null ? 'the config names no user' : `User ${k.user.user}`}): add USER with a non-root uid` : k.user.user}`);
  const hidden = k.counts.hiddenSecrets;
  lines.push(`  secrets       ${k.secrets.length === 0 ? 'none found' : `${k.secrets.length}${hidden ? ` (${hidden} hidden by a later layer but still stored)` : ''}`}`);
  for (const [i, s] of k.secrets.entries()) {
    const state = s.status === 'visible' ? 'visible' : `HIDDEN by layer ${s.hiddenBy}, still stored`;
    lines.push(`  ${String(i + 1).padStart(3)}. ${truncate(`${s.path}  ${s.description}  [${state}]`, width - 7)}`);
    lines.push(...label('stored by', [layer(s.layer, s.instruction)]));
    if (s.hiddenBy !== null) lines.push(...label('hidden by', [layer(s.hiddenBy, s.hiddenByInstruction)]));
    if (s.matches.length) lines.push(...label('found', s.matches.map((m) => `${m.rule} at line ${m.line}, fingerprint ${m.fingerprint}`)));
    lines.push(...label('fix', wrapWords(s.remedy, w)));
  }
  if (k.shipped.length) {
    lines.push(`  informational ${plural(k.shipped.length, 'secret-looking file')} that packages ship: not secrets of this image, not counted`);
    for (const [i, s] of k.shipped.entries()) {
      lines.push(`  ${String(i + 1).padStart(3)}. ${truncate(`${s.path}  ${s.description}`, width - 7)}`);
      lines.push(...label('stored by', [layer(s.layer, s.instruction)]));
      lines.push(...label('why', wrapWords(s.remedy, w)));
    }
  }
  if (k.config.length) {
    lines.push(`  config        ${k.config.length} secret${k.config.length === 1 ? '' : 's'} in the image config (docker inspect shows them to anyone; printed here as fingerprints)`);
    for (const s of k.config) lines.push(`      ${truncate(`${s.field}  ${s.description}, fingerprint ${s.fingerprint}`, width - 6)}`);
    lines.push(...label('fix', wrapWords(k.config[0].remedy, w)));
  }
  const c = k.counts;
  const counts = [[c.setuid, 'setuid'], [c.setgid, 'setgid'], [c.capability, 'with capabilities'], [c.worldWritable, 'world-writable']].filter(([n]) => n).map(([n, t]) => `${n} ${t}`);
  lines.push(`  risky files   ${counts.length ? counts.join(', ') : 'none found'}${k.baseLayers ? ` (setuid, setgid and capabilities above the base's ${plural(k.baseLayers, 'layer')})` : ''}`);
  if (k.files.length) {
    const rows = k.files.map((f) => [f.kind, f.path, f.capabilities ?? `${f.mode} ${f.type}`, `${f.uid}:${f.gid}`, layer(f.layer, f.instruction)]);
    pushAll(lines, table(rows, ['l', 'l', 'l', 'l', 'l']).map((l) => `      ${truncate(l, width - 6)}`));
    for (const remedy of new Set(k.files.map((f) => f.remedy))) lines.push(...wrapWords(remedy, w).map((l, n) => `      ${(n === 0 ? 'fix' : '').padEnd(11)}${l}`));
  }
  return lines;
}


/** The verdict is about size; the risks, when there are any, are said after it. */
function risksClause(r: InspectReport): string {
  const k = r.risks;
  const parts = [
    k.secrets.length + k.config.length ? `${plural(k.secrets.length + k.config.length, 'secret')}${k.counts.hiddenSecrets ? ` (${k.counts.hiddenSecrets} hidden but stored)` : ''}` : '',
    k.files.length ? plural(k.files.length, 'risky file') : '',
    k.user.root ? 'runs as root' : '',
  ].filter(Boolean);
  return parts.length ? ` Risks: ${parts.join(', ')}.` : '';
}

function verdictLine(r: InspectReport): string {
  const s = r.summary;
  const label = { lean: 'lean', 'some-waste': 'some waste', bloated: 'bloated' }[s.verdict];
  const reclaim = s.wastedBytes + s.bloatBytes;
  if (reclaim === 0) return `${label}: nothing wasted and no bloat found.`;
  const first = r.findings[0];
  const fix = first ? `; start with layer ${first.layer} (${first.category}, ${humanBytes(first.bytes)})` : '';
  return `${label}: ${humanBytes(reclaim)} (${pct(s.reclaimableShare)} of the stored bytes) could go: ${humanBytes(s.wastedBytes)} wasted, ${humanBytes(s.bloatBytes)} bloat${fix}.`;
}
