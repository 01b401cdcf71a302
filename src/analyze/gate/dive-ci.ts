/**
 * dive's CI config (`.dive-ci`), read so that dive users can switch without rewriting it. Its three
 * rules are evaluated the way dive evaluates them, on dive's own numbers (src/analyze/dive-score.ts),
 * so a `.dive-ci` gives the verdict dive gave. The mapping to strata's rules is in the README.
 *
 *   rules:
 *     lowestEfficiency: 0.95          # fail when dive's efficiency < 0.95
 *     highestWastedBytes: 20MB        # fail when dive's wasted bytes > 20 MB
 *     highestUserWastedPercent: 0.20  # fail when dive's wasted bytes / bytes of all layers but the first > 0.2
 *
 * As in dive, a key left out takes dive's default (0.9, disabled, 0.1) and `disabled` switches a rule off.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { yaml } from '../../util/yaml.js';
import { StrataError } from '../../util/errors.js';

export const DIVE_CI_FILE = '.dive-ci';

export const DIVE_KEYS = ['lowestEfficiency', 'highestWastedBytes', 'highestUserWastedPercent'] as const;
export type DiveKey = (typeof DIVE_KEYS)[number];

const DIVE_DEFAULTS: Record<DiveKey, string> = { lowestEfficiency: '0.9', highestWastedBytes: 'disabled', highestUserWastedPercent: '0.1' };

export interface DiveRule {
  key: DiveKey;
  limit: number;
  /** `.dive-ci: rules.lowestEfficiency`, or `(dive default)` for a key the file left out. */
  origin: string;
}

/** `file` given: it must exist. Otherwise `.dive-ci` in `cwd` when present, else null. */
export function loadDiveCi(opts: { file?: string; cwd?: string } = {}): DiveRule[] | null {
  const path = opts.file ?? join(opts.cwd ?? process.cwd(), DIVE_CI_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && opts.file === undefined) return null;
    throw new StrataError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code})`);
  }
  return parseDiveCi(text, opts.file ?? DIVE_CI_FILE);
}

/** dive's rules when nothing is configured (what `dive --ci` checks without a `.dive-ci`): `strata ci` without rules. */
export function diveDefaults(): DiveRule[] {
  return parseDiveCi('', DIVE_CI_FILE);
}

export function parseDiveCi(text: string, source: string): DiveRule[] {
  const fail = (key: string, msg: string): never => {
    throw new StrataError(`${source}: ${key}: ${msg}`);
  };
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (e) {
    return fail('(top level)', `not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  const top = doc ?? {};
  if (!isMap(top)) return fail('(top level)', 'expected a mapping with rules');
  for (const k of Object.keys(top)) if (k !== 'rules') fail(k, 'unknown key (dive reads only rules)');
  const rules = top.rules ?? {};
  if (!isMap(rules)) return fail('rules', `expected a mapping of ${DIVE_KEYS.join(', ')}`);
  for (const k of Object.keys(rules)) if (!(DIVE_KEYS as readonly string[]).includes(k)) fail(`rules.${k}`, `unknown rule (dive knows ${DIVE_KEYS.join(', ')})`);
  const out: DiveRule[] = [];
  for (const key of DIVE_KEYS) {
    const given = key in rules && rules[key] !== null;
    const raw = given ? String(rules[key]).trim() : DIVE_DEFAULTS[key];
    if (raw === 'disabled') continue;
    const at = `rules.${key}`;
    let limit: number;
    if (key === 'highestWastedBytes') {
      const bytes = humanizeBytes(raw);
      limit = bytes ?? fail(at, `"${raw}" is not a size (dive reads sizes like 20MB, 1.5GiB, 1000)`);
    } else {
      limit = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw) ? Number(raw) : fail(at, `"${raw}" is not a number`);
      if (limit < 0 || limit > 1) fail(at, `${raw} is outside the allowed range 0-1 (dive reads a ratio: 0.9 for 90%)`);
    }
    out.push({ key, limit, origin: given ? `${source}: ${at}` : `(dive default for ${key})` });
  }
  return out;
}

const SI = ['', 'k', 'm', 'g', 't', 'p', 'e'];

/**
 * Sizes as dive reads them (go-humanize ParseBytes): a number (commas allowed) and a unit, case
 * ignored; `k`, `kb` … are powers of 1000, `ki`, `kib` … powers of 1024; fractions are truncated.
 */
export function humanizeBytes(s: string): number | null {
  const m = /^([\d.,]*)(.*)$/.exec(s)!;
  const num = m[1].replace(/,/g, '');
  if (!/^(\d+\.?\d*|\.\d+)$/.test(num)) return null;
  const unit = m[2].trim().toLowerCase();
  const u = /^([kmgtpe]?)(i?)(b?)$/.exec(unit);
  if (!u || (u[1] === '' && u[2] === 'i')) return null;
  const base = u[2] ? 1024 : 1000;
  return Math.trunc(Number(num) * base ** SI.indexOf(u[1]));
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
