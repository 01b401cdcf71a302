/**
 * The CI gate: rules in (gate-rules.ts, dive-ci.ts), plain results out. Each rule is measured on
 * the inspect report (and the image model, for paths and dive's numbers), compared with its
 * failure limit, then its warning limit. Renderers: src/render/ci.ts.
 *
 * Comparisons: a `max-` rule fails when the measure is above the limit (equal passes), `min-` when
 * below; a `forbid-` rule when anything matches. A rule whose measure does not exist (compressed
 * size of plain-tar layers) is an `error` at the failure level: the gate could not be evaluated
 * (exit 2); at the warning level it is a warning. Growth rules without a baseline never get here (plan.ts).
 */
import { activeRules, knownCategories } from '../bloat/matching.js';
import { type BloatConfig } from '../bloat/section.js';
import { diveAnalysis } from '../dive-score.js';
import type { DiveKey, DiveRule } from './dive-ci.js';
import { StrataError } from '../../util/errors.js';
import { GlobSet } from '../../util/glob.js';
import { RULE_KIND, type GateRule, type GrowthSize, type Limit, type RuleKey } from './rules.js';
import type { ImageModel } from '../../model/read-image.js';
import type { Finding } from '../bloat/findings.js';
import type { InspectReport, LayerReport, PackageBrief } from '../report.js';
import { Kind } from '../../scan/records.js';
import { parentOf } from '../../util/paths.js';
import { humanBytes, plural } from '../../util/units.js';
import { instructionText } from '../../image/history.js';
import { ROOT_USER_REMEDY } from '../risks/risks.js';

export type Status = 'pass' | 'warn' | 'fail' | 'error';
export type Unit = 'bytes' | 'ratio' | 'count';

export interface Offender {
  title: string;
  category: string;
  bytes: number;
  /** Up to OFFENDER_FILES paths (absolute), largest first. */
  files: { path: string; bytes: number }[];
  fileCount: number;
  /** The layer that stored the bytes, and its instruction. */
  layer: number | null;
  instruction: string | null;
  removedBy: number | null;
  removedByInstruction: string | null;
  remedy: string | null;
}

export interface RuleResult {
  /** A strata rule key, or a dive key for rules read from .dive-ci. */
  rule: RuleKey | DiveKey;
  origin: string;
  status: Status;
  unit: Unit;
  /** The measure: bytes, a ratio or a count; for forbid- rules the bytes matched. null: not measurable. */
  measured: number | null;
  fail: Limit | null;
  warn: Limit | null;
  /** One line for people: the measure and the limit it was held to. */
  message: string;
  offenders: Offender[];
}

export interface Baseline {
  /** The image reference or report file it came from. */
  ref: string;
  summary: Pick<InspectReport['summary'], 'compressedSize' | 'uncompressedSize' | 'finalSize'>;
  /** `ecosystem:name` of each package it has (max-package-growth); null for a report that has none listed. */
  packages: string[] | null;
}

export interface GateInput {
  report: InspectReport;
  /** Null when the report came from the cache and no rule needs the image itself (gateNeedsModel). */
  model: ImageModel | null;
  bloat: BloatConfig;
  baseline?: Baseline | null;
}

export interface GateResult {
  verdict: Status;
  /** 0 pass (warnings allowed), 1 a rule failed, 2 a rule could not be evaluated. */
  exitCode: 0 | 1 | 2;
  counts: Record<Status, number>;
  rules: RuleResult[];
  /** Offenders of the failed and warned rules, once each, largest first. */
  offenders: Offender[];
}

const OFFENDER_FILES = 5;

/** Check what can be checked before reading the image: category names (growth rules without a baseline are planned out: plan.ts). */
export function checkRules(rules: GateRule[], bloat: BloatConfig): void {
  const known = new Set([...knownCategories(bloat), ...activeRules(bloat).map((r) => r.id)]);
  for (const r of rules) {
    if (r.key === 'forbid-categories') {
      for (const c of [...((r.fail as string[]) ?? []), ...((r.warn as string[]) ?? [])]) {
        if (!known.has(c)) throw new StrataError(`${r.origin}: unknown category or rule "${c}" (categories: ${knownCategories(bloat).join(', ')}; rules: ${activeRules(bloat).map((x) => x.id).join(', ')})`);
      }
    }
  }
}

/**
 * Whether evaluating these rules reads the image model, not just its report: forbidden paths walk the
 * final view, dive's rules redo dive's count, and a layer over a max-layer-size limit lists its files.
 */
export function gateNeedsModel(rules: GateRule[], diveRules: DiveRule[], report: InspectReport): boolean {
  if (diveRules.length || rules.some((r) => r.key === 'forbid-paths')) return true;
  const biggest = Math.max(0, ...report.layers.map((l) => l.size));
  return rules.some((r) => r.key === 'max-layer-size' && [r.fail, r.warn].some((limit) => typeof limit === 'number' && biggest > limit));
}

export function evaluateGate(input: GateInput, rules: GateRule[], diveRules: DiveRule[] = [], top = 5): GateResult {
  const ctx = new Measures(input, top);
  const results = [...rules.map((r) => ctx.strataRule(r)), ...diveRules.map((r) => ctx.diveRule(r))];
  const counts: Record<Status, number> = { pass: 0, warn: 0, fail: 0, error: 0 };
  for (const r of results) counts[r.status]++;
  const verdict: Status = counts.error ? 'error' : counts.fail ? 'fail' : counts.warn ? 'warn' : 'pass';
  const seen = new Set<string>();
  const offenders: Offender[] = [];
  for (const r of results) {
    if (r.status === 'pass') continue;
    for (const o of r.offenders) {
      const key = `${o.category}\0${o.layer}\0${o.title}`;
      if (seen.has(key)) continue;
      seen.add(key);
      offenders.push(o);
    }
  }
  offenders.sort((a, b) => urgency(a) - urgency(b) || b.bytes - a.bytes);
  return { verdict, exitCode: counts.error ? 2 : counts.fail ? 1 : 0, counts, rules: results, offenders: offenders.slice(0, top) };
}

/** Risks before bytes: a hidden secret first (everyone believes it gone), then other secrets, then risky files. */
function urgency(o: Offender): number {
  if (o.category === 'secret') return o.removedBy !== null ? 0 : 1;
  return ['setuid', 'setgid', 'capability', 'world-writable', 'root-user'].includes(o.category) ? 2 : 3;
}

/** Two decimals: a measure just over its limit must not print as the limit (27.01% > 27%). */
export const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const bytesText = (n: number): string => (Math.abs(n) < 1000 ? `${n} B` : `${n < 0 ? '-' : ''}${humanBytes(Math.abs(n))} (${n} B)`);

function show(unit: Unit, v: number): string {
  return unit === 'bytes' ? bytesText(v) : unit === 'ratio' ? pct(v) : String(v);
}

interface Measure {
  unit: Unit;
  value: number | null;
  /** Why there is no value. */
  missing?: string;
  /** What the value is, for the message: "final view", "wasted". */
  label: string;
  offenders: Offender[];
  /** Compare as a minimum (min-efficiency, lowestEfficiency). */
  min?: boolean;
}

class Measures {
  private readonly s: InspectReport['summary'];
  private dive?: { efficiency: number; wastedBytes: number; userBytes: number };

  constructor(
    private readonly input: GateInput,
    private readonly top: number,
  ) {
    this.s = input.report.summary;
  }

  private get model(): ImageModel {
    if (!this.input.model) throw new Error('the gate needs the image model here, and gateNeedsModel said otherwise');
    return this.input.model;
  }

  strataRule(rule: GateRule): RuleResult {
    const kind = RULE_KIND[rule.key];
    if (kind === 'categories' || kind === 'paths' || kind === 'packages') return this.forbidRule(rule);
    if (kind === 'switch') return this.riskRule(rule);
    const m = this.measure(rule.key, rule.size ?? 'uncompressed');
    return this.compare(rule.key, rule.origin, m, rule.fail as number | undefined, rule.warn as number | undefined);
  }

  diveRule(rule: DiveRule): RuleResult {
    const d = this.diveNumbers();
    const waste = this.findings((f) => f.kind === 'waste');
    const m: Measure =
      rule.key === 'lowestEfficiency'
        ? { unit: 'ratio', value: d.efficiency, label: "dive's efficiency", offenders: waste, min: true }
        : rule.key === 'highestWastedBytes'
          ? { unit: 'bytes', value: d.wastedBytes, label: "dive's wasted bytes", offenders: waste }
          : { unit: 'ratio', value: d.wastedBytes / d.userBytes, label: "dive's wasted bytes / bytes of all layers but the first", offenders: waste };
    return this.compare(rule.key, rule.origin, m, rule.limit, undefined);
  }

  private compare(rule: RuleKey | DiveKey, origin: string, m: Measure, fail: number | undefined, warn: number | undefined): RuleResult {
    const over = (limit: number) => (m.min ? m.value! < limit : m.value! > limit);
    const word = m.min ? 'at least' : 'at most';
    const result = (status: Status, message: string, offenders: Offender[]): RuleResult => ({ rule, origin, status, unit: m.unit, measured: m.value, fail: fail ?? null, warn: warn ?? null, message, offenders });
    if (m.value === null) return result(fail !== undefined ? 'error' : 'warn', `cannot measure: ${m.missing}`, []);
    // NaN (dive's 0/0) is over no limit, as in dive.
    const status: Status = fail !== undefined && over(fail) ? 'fail' : warn !== undefined && over(warn) ? 'warn' : 'pass';
    const limit = status === 'warn' ? warn! : (fail ?? warn!);
    const levelWord = status === 'warn' || fail === undefined ? 'warning' : 'limit';
    const message = `${m.label} ${show(m.unit, m.value)}, ${levelWord} ${word} ${show(m.unit, limit)}`;
    return result(status, message, status === 'pass' ? [] : m.offenders);
  }

  private measure(key: RuleKey, growthOf: GrowthSize): Measure {
    const s = this.s;
    const all = this.findings(() => true);
    const waste = this.findings((f) => f.kind === 'waste');
    switch (key) {
      case 'max-compressed-size':
        return s.compressedSize === null
          ? { unit: 'bytes', value: null, label: 'compressed', missing: 'the image stores its layers uncompressed (e.g. docker save), so it has no compressed size; gate on max-uncompressed-size, or read the image from a registry', offenders: [] }
          : { unit: 'bytes', value: s.compressedSize, label: 'compressed', offenders: all };
      case 'max-uncompressed-size':
        return { unit: 'bytes', value: s.uncompressedSize, label: 'uncompressed', offenders: all };
      case 'max-final-size':
        return { unit: 'bytes', value: s.finalSize, label: 'final view', offenders: this.findings((f) => f.kind !== 'waste') };
      case 'max-wasted-bytes':
        return { unit: 'bytes', value: s.wastedBytes, label: 'wasted', offenders: waste };
      case 'max-wasted-percent':
        return { unit: 'ratio', value: s.uncompressedSize === 0 ? 0 : s.wastedBytes / s.uncompressedSize, label: 'wasted / uncompressed', offenders: waste };
      case 'min-efficiency':
        return { unit: 'ratio', value: s.efficiency, label: 'efficiency', offenders: waste, min: true };
      case 'max-layers':
        return { unit: 'count', value: s.layerCount, label: 'layers', offenders: [] };
      case 'max-layer-size':
        return this.layerSize();
      case 'max-growth-bytes':
      case 'max-growth-percent':
        return this.growth(key, growthOf, all);
      case 'max-package-size': {
        const list = this.input.report.packages?.list ?? [];
        const big = list[0];
        return { unit: 'bytes', value: big?.bytes ?? 0, label: big ? `largest package (${big.ecosystem} ${big.name})` : 'largest package (no package database)', offenders: list.slice(0, this.top).map((p) => packageOffender(p, this.input.report)) };
      }
      case 'max-package-growth':
        return this.packageGrowth();
      default:
        throw new Error(`not a measured rule: ${key}`);
    }
  }

  private layerSize(): Measure {
    const layers = [...this.input.report.layers].sort((a, b) => b.size - a.size || a.index - b.index);
    const biggest = layers[0];
    const offenders = () => layers.slice(0, this.top).map((l) => this.layerOffender(l.index));
    return {
      unit: 'bytes',
      value: biggest ? biggest.size : 0,
      label: biggest ? `largest layer (layer ${biggest.index})` : 'largest layer',
      // read only when the rule does not pass: listing a layer's files needs the image model
      get offenders() {
        return offenders();
      },
    };
  }

  private growth(key: 'max-growth-bytes' | 'max-growth-percent', of: GrowthSize, offenders: Offender[]): Measure {
    const b = this.input.baseline;
    const unit: Unit = key === 'max-growth-bytes' ? 'bytes' : 'ratio';
    const label = `${of} growth`;
    if (!b) return { unit, value: null, label, missing: 'no --baseline', offenders: [] };
    const pick = (x: Baseline['summary']) => (of === 'compressed' ? x.compressedSize : of === 'final' ? x.finalSize : x.uncompressedSize);
    const before = pick(b.summary);
    const after = pick(this.s);
    if (before === null || after === null) return { unit, value: null, label, missing: `${before === null ? `the baseline (${b.ref})` : 'the image'} has no compressed size (layers stored uncompressed)`, offenders: [] };
    const delta = after - before;
    const value = unit === 'bytes' ? delta : before === 0 ? (delta > 0 ? Infinity : 0) : delta / before;
    return { unit, value, label: `${label} (${humanBytes(before)} -> ${humanBytes(after)} against ${b.ref})`, offenders };
  }

  /** Packages the image has (by ecosystem and name) that the baseline has not. */
  private packageGrowth(): Measure {
    const b = this.input.baseline;
    if (!b) return { unit: 'count', value: null, label: 'new packages', missing: 'no --baseline', offenders: [] };
    if (!b.packages) return { unit: 'count', value: null, label: 'new packages', missing: `the baseline (${b.ref}) lists no packages (a report of strata before packages: save it again)`, offenders: [] };
    const before = new Set(b.packages);
    const added = (this.input.report.packages?.list ?? []).filter((p) => !before.has(`${p.ecosystem}:${p.name}`));
    return { unit: 'count', value: added.length, label: `packages not in the baseline (${b.ref})`, offenders: added.slice(0, this.top).map((p) => packageOffender(p, this.input.report)) };
  }

  private forbidRule(rule: GateRule): RuleResult {
    const match = (list: string[]) => (rule.key === 'forbid-categories' ? this.forbiddenCategories(list) : rule.key === 'forbid-packages' ? this.forbiddenPackages(list) : this.forbiddenPaths(list));
    const fail = rule.fail as string[] | undefined;
    const warn = rule.warn as string[] | undefined;
    const f = fail?.length ? match(fail) : null;
    const w = warn?.length ? match(warn) : null;
    const hits = [f, w].filter((h) => h && h.count > 0) as NonNullable<typeof f>[];
    const status: Status = f && f.count ? 'fail' : w && w.count ? 'warn' : 'pass';
    const what = rule.key === 'forbid-categories' ? 'category' : rule.key === 'forbid-packages' ? 'package' : 'path';
    const describe = (h: NonNullable<typeof f>) => `${h.count} ${h.noun}${h.count === 1 ? '' : 's'}, ${bytesText(h.bytes)}, matching ${h.names.join(', ')}${h === w ? ' (warning)' : ''}`;
    const message = hits.length ? hits.map(describe).join('; ') : `no ${what} matches ${[...(fail ?? []), ...(warn ?? [])].join(', ')}`;
    // measured: the bytes of the list that decided the status
    const measured = hits[0]?.bytes ?? 0;
    return { rule: rule.key, origin: rule.origin, status, unit: 'bytes', measured, fail: fail ?? null, warn: warn ?? null, message, offenders: hits.flatMap((h) => h.offenders).slice(0, this.top) };
  }

  /** A forbid- rule on the report's risks: any finding of its kind fails (or warns). */
  private riskRule(rule: GateRule): RuleResult {
    const { found, message } = riskFindings(this.input.report, rule.key);
    const status: Status = found.length === 0 ? 'pass' : rule.fail !== undefined ? 'fail' : 'warn';
    const offenders = status === 'pass' ? [] : found.slice(0, this.top);
    return { rule: rule.key, origin: rule.origin, status, unit: 'count', measured: found.length, fail: rule.fail ?? null, warn: rule.warn ?? null, message, offenders };
  }

  /** Installed packages whose name (or `ecosystem:name`) matches a glob. */
  private forbiddenPackages(list: string[]) {
    const globs = list.map(packageGlob);
    const found = (this.input.report.packages?.list ?? []).filter((p) => globs.some((g) => g.test(p.name) || g.test(`${p.ecosystem}:${p.name}`)));
    const names = list.filter((_, i) => found.some((p) => globs[i].test(p.name) || globs[i].test(`${p.ecosystem}:${p.name}`)));
    return { count: found.length, noun: 'package', bytes: found.reduce((n, p) => n + p.bytes, 0), names, offenders: found.slice(0, this.top).map((p) => packageOffender(p, this.input.report)) };
  }

  /** Findings whose category or rule id is listed (the full list, before any --top). */
  private forbiddenCategories(list: string[]) {
    const found = this.input.report.findings.filter((f) => list.includes(f.category) || (f.rule !== null && list.includes(f.rule)));
    const names = [...new Set(found.flatMap((f) => [f.category, f.rule].filter((x): x is string => x !== null && list.includes(x))))];
    return { count: found.reduce((n, f) => n + f.files, 0), noun: 'file', bytes: found.reduce((n, f) => n + f.bytes, 0), names, offenders: found.slice(0, this.top).map(offenderOf) };
  }

  /** Entries of the final view matching a glob, or beneath a directory that does, grouped by the layer that set them. */
  private forbiddenPaths(list: string[]) {
    const { union: u, layers } = this.model;
    const top = layers.length - 1;
    const matchOf = subtreeMatcher(new GlobSet(list.map((g) => [g])));
    const byLayer = new Map<number, { path: string; bytes: number }[]>();
    const names = new Set<string>();
    const inodes = new Set<number>();
    let count = 0;
    let bytes = 0;
    for (const { node, version } of top < 0 ? [] : u.walk(top)) {
      const path = u.nodePath[node];
      const i = matchOf(path);
      if (i < 0) continue;
      names.add(list[i]);
      count++;
      const ino = u.inodeOf(version);
      const size = ino >= 0 && !inodes.has(ino) ? u.sizeOf(ino) : 0;
      if (ino >= 0) inodes.add(ino);
      bytes += size;
      const L = u.layerOf(version);
      let g = byLayer.get(L);
      if (!g) byLayer.set(L, (g = []));
      g.push({ path: `/${path}`, bytes: size });
    }
    const offenders = [...byLayer.entries()].map(([L, files]) => {
      const sum = files.reduce((n, f) => n + f.bytes, 0);
      const info = this.input.report.layers[L];
      return {
        title: `${files.length} forbidden path${files.length === 1 ? '' : 's'} set by layer ${L}`,
        category: 'forbidden-path',
        bytes: sum,
        files: [...files].sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1)).slice(0, OFFENDER_FILES),
        fileCount: files.length,
        layer: L,
        instruction: info ? instructionOf(info) : null,
        removedBy: null,
        removedByInstruction: null,
        remedy: 'Keep these paths out of the image: remove them in the step that creates them, keep them out of the build context with .dockerignore, or build in a separate stage and COPY only what you need.',
      } satisfies Offender;
    });
    offenders.sort((a, b) => b.bytes - a.bytes || a.layer - b.layer);
    return { count, noun: 'path', bytes, names: [...names], offenders: offenders.slice(0, this.top) };
  }

  private findings(keep: (f: Finding) => boolean): Offender[] {
    return this.input.report.findings.filter(keep).slice(0, this.top).map(offenderOf);
  }

  private layerOffender(L: number): Offender {
    const r = this.model.layers[L].records;
    const files: { path: string; bytes: number }[] = [];
    for (let i = 0; i < r.count; i++) if (r.kind[i] === Kind.file && r.size[i] > 0) files.push({ path: `/${r.path[i]}`, bytes: r.size[i] });
    files.sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1));
    const info = this.input.report.layers[L];
    return {
      title: `layer ${L} stores ${humanBytes(info.size)} in ${files.length} file${files.length === 1 ? '' : 's'}`,
      category: 'layer-size',
      bytes: info.size,
      files: files.slice(0, OFFENDER_FILES),
      fileCount: files.length,
      layer: L,
      instruction: instructionOf(info),
      removedBy: null,
      removedByInstruction: null,
      remedy: 'Split the step, or build in a separate stage and COPY only what the image needs (multi-stage build).',
    };
  }

  private diveNumbers() {
    if (!this.dive) {
      const { layers, union } = this.model;
      const d = diveAnalysis(union);
      // dive's "user" bytes: every layer but the first (its base image), sized by tar header sizes.
      this.dive = { ...d, userBytes: layers.slice(1).reduce((n, l) => n + l.size, 0) };
    }
    return this.dive;
  }
}

/**
 * The first glob matching a path or a directory above it (as `diff --ignore`: `/root` covers its
 * subtree), each directory matched once however many entries sit beneath it.
 */
function subtreeMatcher(sets: GlobSet): (path: string) => number {
  const dirs = new Map<string, number>();
  const earliest = (a: number, b: number) => (a < 0 ? b : b < 0 ? a : Math.min(a, b));
  const dir = (p: string): number => {
    if (p === '') return -1;
    let m = dirs.get(p);
    if (m === undefined) dirs.set(p, (m = earliest(sets.first(p), dir(parentOf(p)))));
    return m;
  };
  return (path) => earliest(sets.first(path), dir(parentOf(path)));
}

/** The report's risks a switch rule checks, as offenders, and one line saying what was found. */
function riskFindings(report: InspectReport, key: RuleKey): { found: Offender[]; message: string } {
  const k = report.risks;
  const countOf = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (key === 'forbid-secrets') {
    const found = [...k.secrets].sort((a, b) => Number(a.status === 'visible') - Number(b.status === 'visible')).map((s): Offender => ({
      title: `${s.description}: ${s.path} (${s.status === 'visible' ? 'visible' : `hidden by layer ${s.hiddenBy}, still stored`})`,
      category: 'secret',
      bytes: s.size,
      files: [{ path: s.path, bytes: s.size }],
      fileCount: 1,
      layer: s.layer,
      instruction: s.instruction,
      removedBy: s.hiddenBy,
      removedByInstruction: s.hiddenByInstruction,
      remedy: s.remedy,
    }));
    for (const c of k.config) {
      found.push({
        title: `${c.description}: ${c.field} (in the image config)`,
        category: 'secret',
        bytes: 0,
        files: [],
        fileCount: 0,
        layer: c.layer,
        instruction: null,
        removedBy: null,
        removedByInstruction: null,
        remedy: c.remedy,
      });
    }
    const hidden = k.counts.hiddenSecrets;
    const inLayers = k.secrets.length;
    const parts = [inLayers ? `${countOf(inLayers, 'secret')} in the layers${hidden ? ` (${hidden} hidden by a later layer but still stored)` : ''}` : '', k.config.length ? `${countOf(k.config.length, 'secret')} in the config` : ''].filter(Boolean);
    const shipped = k.shipped.length ? ` (${countOf(k.shipped.length, 'secret-looking file')} that packages ship: informational, not counted)` : '';
    return { found, message: `${found.length ? parts.join(', ') : 'no secret found'}${shipped}` };
  }
  if (key === 'forbid-root-user') {
    const found: Offender[] = k.user.root
      ? [{ title: `runs as root (${k.user.user === null ? 'the config names no user' : `User ${k.user.user}`})`, category: 'root-user', bytes: 0, files: [], fileCount: 0, layer: null, instruction: null, removedBy: null, removedByInstruction: null, remedy: ROOT_USER_REMEDY }]
      : [];
    return { found, message: k.user.root ? found[0].title : `runs as ${k.user.user}` };
  }
  const kinds = key === 'forbid-setuid' ? ['setuid', 'setgid', 'capability'] : ['world-writable'];
  const files = k.files.filter((f) => kinds.includes(f.kind));
  const found = files.map((f): Offender => ({
    title: `${f.kind}: ${f.path} (${f.capabilities ?? `${f.mode} ${f.type}`}, ${f.uid}:${f.gid})`,
    category: f.kind,
    bytes: 0,
    files: [{ path: f.path, bytes: 0 }],
    fileCount: 1,
    layer: f.layer,
    instruction: f.instruction,
    removedBy: null,
    removedByInstruction: null,
    remedy: f.remedy,
  }));
  const what = key === 'forbid-setuid' ? `setuid, setgid or capability file${k.baseLayers ? ` above the base's ${countOf(k.baseLayers, 'layer')}` : ''}` : 'world-writable entry without the sticky bit';
  const parts = kinds.map((x) => [files.filter((f) => f.kind === x).length, x] as const).filter(([n]) => n > 0);
  return { found, message: found.length ? `${countOf(found.length, 'file')}: ${parts.map(([n, x]) => `${n} ${x}`).join(', ')}` : `no ${what}` };
}

/** A package name glob: `*` and `?` as in a shell, matched whole. */
function packageGlob(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/** A package as an offender: one title whichever package rule names it, so that it is listed once. */
function packageOffender(p: PackageBrief, report: InspectReport): Offender {
  const info = report.layers[p.layer];
  return {
    title: `${p.ecosystem} ${p.name} ${p.version} (${plural(p.files, 'file')}), installed by layer ${p.layer}`,
    category: 'package',
    bytes: p.bytes,
    files: [],
    fileCount: 0,
    layer: p.layer,
    instruction: info ? instructionOf(info) : null,
    removedBy: null,
    removedByInstruction: null,
    remedy: null,
  };
}

function offenderOf(f: Finding): Offender {
  const files = [...f.items].sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1)).slice(0, OFFENDER_FILES);
  return {
    title: f.title,
    category: f.category,
    bytes: f.bytes,
    files: files.map((i) => ({ path: i.path, bytes: i.bytes })),
    fileCount: f.files,
    layer: f.layer,
    instruction: f.instruction,
    removedBy: f.removedBy,
    removedByInstruction: f.removedByInstruction,
    remedy: f.remedy,
  };
}

function instructionOf(l: LayerReport): string | null {
  return instructionText(l.createdBy ?? undefined, l.comment ?? undefined) || null;
}

/** The gate's report: the JSON output (docs/json.md, "ci") and every renderer's input. */
export interface CiReport extends GateResult {
  schemaVersion: 1;
  image: { ref: string; platform: string; configDigest: string; manifestDigest: string | null };
  baseline: (Baseline['summary'] & { ref: string }) | null;
  summary: Pick<InspectReport['summary'], 'layerCount' | 'compressedSize' | 'uncompressedSize' | 'finalSize' | 'wastedBytes' | 'efficiency' | 'diveEfficiency' | 'bloatBytes'>;
  /** The image's risks, whatever rules were checked: the SARIF report has one result per finding. */
  risks: InspectReport['risks'];
  /** The layers' digests, for locations in the SARIF report. */
  layers: { index: number; digest: string }[];
}

export function ciReport(input: GateInput, result: GateResult): CiReport {
  const { image, summary: s } = input.report;
  const b = input.baseline;
  return {
    schemaVersion: 1,
    verdict: result.verdict,
    exitCode: result.exitCode,
    counts: result.counts,
    image: { ref: image.ref, platform: image.platform, configDigest: image.configDigest, manifestDigest: image.manifestDigest },
    baseline: b ? { ref: b.ref, ...b.summary } : null,
    summary: {
      layerCount: s.layerCount,
      compressedSize: s.compressedSize,
      uncompressedSize: s.uncompressedSize,
      finalSize: s.finalSize,
      wastedBytes: s.wastedBytes,
      efficiency: s.efficiency,
      diveEfficiency: s.diveEfficiency,
      bloatBytes: s.bloatBytes,
    },
    rules: result.rules,
    offenders: result.offenders,
    risks: input.report.risks,
    layers: input.report.layers.map((l) => ({ index: l.index, digest: l.digest })),
  };
}
