/** `strata ci` reports: text (the CI log), Markdown (job summaries, PR comments), JUnit XML, JSON, SARIF (sarif.ts). */
import { truncate, wrapWords } from './text.js';
import { pct, type CiReport, type Offender, type RuleResult, type Status } from '../analyze/gate/gate.js';
import type { Limit } from '../analyze/gate/rules.js';
import { humanBytes } from '../util/units.js';
import { escapeMarkup } from '../util/markup.js';
import { markdownCode, markdownText, terminalCopy } from '../util/terminal-text.js';
import { renderCiSarif } from './sarif.js';

export const CI_FORMATS = ['text', 'json', 'junit', 'markdown', 'sarif'] as const;
export type CiFormat = (typeof CI_FORMATS)[number];

export function renderCi(r: CiReport, format: CiFormat, width = 100): string {
  switch (format) {
    case 'text':
      return renderCiText(r, width);
    case 'json':
      return `${JSON.stringify(r, null, 2)}\n`;
    case 'junit':
      return renderCiJunit(r);
    case 'markdown':
      return renderCiMarkdown(r);
    case 'sarif':
      return renderCiSarif(r);
  }
}

const LABEL: Record<Status, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', error: 'ERROR' };

function counts(r: CiReport): string {
  const c = r.counts;
  const parts = [`${c.fail} failed`, `${c.warn} warning${c.warn === 1 ? '' : 's'}`, `${c.pass} passed`];
  if (c.error) parts.unshift(`${c.error} could not be evaluated`);
  return parts.join(', ');
}

function verdictLine(r: CiReport): string {
  return `strata ci: ${LABEL[r.verdict]} ${r.image.ref} (${counts(r)})`;
}

function limitText(r: RuleResult, l: Limit | null): string {
  if (l === null) return '';
  if (Array.isArray(l)) return l.join(', ');
  return r.unit === 'bytes' ? humanBytes(l) : r.unit === 'ratio' ? pct(l) : String(l);
}

/** "fail 10 MB, warn 8 MB" */
function limits(r: RuleResult): string {
  return [r.fail !== null ? `fail ${limitText(r, r.fail)}` : '', r.warn !== null ? `warn ${limitText(r, r.warn)}` : ''].filter(Boolean).join('; ');
}

function measuredText(r: RuleResult): string {
  if (r.measured === null) return 'n/a';
  const m = r.measured;
  return r.unit === 'bytes' ? (m < 0 ? `-${humanBytes(-m)}` : humanBytes(m)) : r.unit === 'ratio' ? pct(m) : String(m);
}

const fileList = (o: Offender) =>
  o.files.map((f) => `${f.path} (${humanBytes(f.bytes)})`).join(', ') + (o.fileCount > o.files.length ? `, … ${o.fileCount - o.files.length} more` : '');

const layerText = (layer: number | null, ins: string | null) => (layer === null ? '' : `layer ${layer}${ins ? `: ${ins}` : ''}`);

export function renderCiText(report: CiReport, width = 100): string {
  const r = terminalCopy(report);
  const lines = [verdictLine(r)];
  if (r.baseline) lines.push(`baseline: ${r.baseline.ref}`);
  const name = Math.max(...r.rules.map((x) => x.rule.length), 4);
  for (const x of r.rules) lines.push(`  ${LABEL[x.status].padEnd(5)}  ${x.rule.padEnd(name)}  ${x.message}`);
  if (r.offenders.length) {
    lines.push('', 'Top offenders');
    const w = Math.max(width - 17, 40);
    for (const [i, o] of r.offenders.entries()) {
      const head = `  ${String(i + 1).padStart(2)}. ${humanBytes(o.bytes).padStart(7)}  `;
      const title = wrapWords(`${o.category}: ${o.title}`, Math.max(width - head.length, 40));
      lines.push(head + title[0], ...title.slice(1).map((l) => ' '.repeat(head.length) + l));
      // Whole text for what people act on (files, fix); instructions can be long scripts: cut.
      const row = (label: string, text: string[]) => text.forEach((t, n) => lines.push(`      ${(n ? '' : label).padEnd(11)}${t}`));
      if (o.files.length) row('files', wrapWords(fileList(o), w));
      if (o.layer !== null) row('stored by', [truncate(layerText(o.layer, o.instruction), w)]);
      if (o.removedBy !== null) row('hidden by', [truncate(layerText(o.removedBy, o.removedByInstruction), w)]);
      row('fix', wrapWords(o.remedy ?? '', w));
    }
  }
  if (listsShipped(r)) {
    lines.push('', SHIPPED_TITLE);
    for (const s of r.risks.shipped) lines.push(`  ${truncate(shippedText(s), width - 2)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** forbid-secrets leaves out what packages ship; every format lists those files beside its verdict. */
const listsShipped = (r: CiReport) => r.risks.shipped.length > 0 && r.rules.some((x) => x.rule === 'forbid-secrets');
const SHIPPED_TITLE = 'Informational: secret-looking files that packages ship (not counted by forbid-secrets)';
const shippedText = (s: CiReport['risks']['shipped'][number]) => `${s.path}  ${s.description}: ${s.shippedBy.reason}`;

const ICON: Record<Status, string> = { pass: '✅ PASS', warn: '⚠️ WARN', fail: '❌ FAIL', error: '⛔ ERROR' };

export function renderCiMarkdown(r: CiReport): string {
  const out = [`### strata ci: ${ICON[r.verdict]} ${markdownCode(r.image.ref)}`, '', `${counts(r)}${r.baseline ? `; baseline ${markdownCode(r.baseline.ref)}` : ''}`, ''];
  out.push('| result | rule | measured | limits | detail |', '|---|---|--:|---|---|');
  for (const x of r.rules) out.push(`| ${ICON[x.status]} | ${markdownCode(x.rule, true)} | ${markdownText(measuredText(x))} | ${markdownText(limits(x))} | ${markdownText(x.message)} |`);
  if (r.offenders.length) {
    out.push('', `<details${r.verdict === 'pass' ? '' : ' open'}><summary>Top offenders</summary>`, '');
    for (const [i, o] of r.offenders.entries()) {
      out.push(`${i + 1}. **${humanBytes(o.bytes)}** ${markdownText(o.category)}: ${markdownText(o.title)}`);
      if (o.files.length) out.push(`   - files: ${o.files.map((f) => `${markdownCode(f.path)} (${humanBytes(f.bytes)})`).join(', ')}${o.fileCount > o.files.length ? `, … ${o.fileCount - o.files.length} more` : ''}`);
      if (o.layer !== null) out.push(`   - stored by: layer ${o.layer}${o.instruction ? ` ${markdownCode(truncate(o.instruction, 200))}` : ''}`);
      if (o.removedBy !== null) out.push(`   - hidden by: layer ${o.removedBy}${o.removedByInstruction ? ` ${markdownCode(truncate(o.removedByInstruction, 200))}` : ''}`);
      if (o.remedy) out.push(`   - fix: ${markdownText(o.remedy)}`);
    }
    out.push('', '</details>');
  }
  if (listsShipped(r)) {
    out.push('', `<details><summary>${markdownText(SHIPPED_TITLE)}</summary>`, '');
    for (const s of r.risks.shipped) out.push(`- ${markdownCode(s.path)} ${markdownText(`${s.description}: ${s.shippedBy.reason}`)}`);
    out.push('', '</details>');
  }
  return `${out.join('\n')}\n`;
}

/**
 * One test suite, one test case per rule: FAIL is a <failure>, ERROR an <error>, WARN passes with
 * the warning in <system-out> (GitLab and Jenkins count it as passed and show the text).
 */
export function renderCiJunit(report: CiReport): string {
  // escapeMarkup drops what XML cannot hold; the copy shows it (and keeps messages one line each)
  const r = terminalCopy(report);
  const c = r.counts;
  const total = r.rules.length;
  const attrs = `tests="${total}" failures="${c.fail}" errors="${c.error}" skipped="0"`;
  const suite = `strata ci ${r.image.ref}`;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="strata ci" ${attrs}>`, `  <testsuite name="${escapeMarkup(suite)}" ${attrs}>`];
  for (const x of r.rules) {
    out.push(`    <testcase classname="strata.ci" name="${escapeMarkup(x.rule)}" time="0">`);
    const detail = escapeMarkup([`${x.message} (${x.origin})`, ...x.offenders.map(offenderText)].join('\n'));
    if (x.status === 'fail') out.push(`      <failure type="${escapeMarkup(x.rule)}" message="${escapeMarkup(x.message)}">${detail}</failure>`);
    if (x.status === 'error') out.push(`      <error type="${escapeMarkup(x.rule)}" message="${escapeMarkup(x.message)}">${detail}</error>`);
    const notes: string[] = [];
    if (x.status === 'warn') notes.push(`WARN ${detail}`);
    if (x.rule === 'forbid-secrets' && listsShipped(r)) notes.push(escapeMarkup([SHIPPED_TITLE, ...r.risks.shipped.map(shippedText)].join('\n')));
    if (notes.length) out.push(`      <system-out>${notes.join('\n')}</system-out>`);
    out.push('    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>');
  return `${out.join('\n')}\n`;
}

function offenderText(o: Offender): string {
  const lines = [`${humanBytes(o.bytes)} ${o.category}: ${o.title}`];
  if (o.files.length) lines.push(`  files: ${fileList(o)}`);
  if (o.layer !== null) lines.push(`  stored by: ${layerText(o.layer, o.instruction)}`);
  if (o.removedBy !== null) lines.push(`  hidden by: ${layerText(o.removedBy, o.removedByInstruction)}`);
  if (o.remedy) lines.push(`  fix: ${o.remedy}`);
  return lines.join('\n');
}
