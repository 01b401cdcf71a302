/**
 * The rules of the CI gate (`strata ci`), as written in the config file (`rules:` in .strata.yml)
 * and as command-line flags of the same names. Parsing and validation only; evaluation is in gate.ts.
 *
 * A rule's value is its failure limit (`max-final-size: 100MB`), or a mapping that sets a warning
 * limit, a failure limit or both (`{warn: 80MB, fail: 100MB}`), or one limit and its level
 * (`{limit: 80MB, level: warn}`). `off` switches a rule off (a flag can so cancel a config rule).
 * On the command line `warn:VALUE` is a warning limit (`--max-final-size warn:80MB`).
 */
import { parseSize } from '../../util/units.js';
import { globField, isMap, type Fail } from '../../config/file.js';

export const RULE_KEYS = [
  'max-compressed-size',
  'max-uncompressed-size',
  'max-final-size',
  'max-wasted-bytes',
  'max-wasted-percent',
  'min-efficiency',
  'forbid-categories',
  'forbid-paths',
  'max-layers',
  'max-layer-size',
  'max-growth-bytes',
  'max-growth-percent',
  'forbid-secrets',
  'forbid-setuid',
  'forbid-world-writable',
  'forbid-root-user',
  'forbid-packages',
  'max-package-size',
  'max-package-growth',
] as const;

export type RuleKey = (typeof RULE_KEYS)[number];

/** How a rule's limit is written and compared. */
/** `switch`: a rule that is on or off, failing (or warning) on any finding of its kind. */
export type RuleKind = 'size' | 'ratio' | 'count' | 'categories' | 'paths' | 'packages' | 'switch';

export const RULE_KIND: Record<RuleKey, RuleKind> = {
  'max-compressed-size': 'size',
  'max-uncompressed-size': 'size',
  'max-final-size': 'size',
  'max-wasted-bytes': 'size',
  'max-wasted-percent': 'ratio',
  'min-efficiency': 'ratio',
  'forbid-categories': 'categories',
  'forbid-paths': 'paths',
  'max-layers': 'count',
  'max-layer-size': 'size',
  'max-growth-bytes': 'size',
  'max-growth-percent': 'ratio',
  'forbid-secrets': 'switch',
  'forbid-setuid': 'switch',
  'forbid-world-writable': 'switch',
  'forbid-root-user': 'switch',
  'forbid-packages': 'packages',
  'max-package-size': 'size',
  'max-package-growth': 'count',
};

export const RULE_DESCRIPTION: Record<RuleKey, string> = {
  'max-compressed-size': 'largest compressed size (the layer blobs as pulled)',
  'max-uncompressed-size': 'largest uncompressed size (file bytes in all layers)',
  'max-final-size': 'largest final view (file bytes visible in the image)',
  'max-wasted-bytes': 'most bytes stored in layers but not visible in the image',
  'max-wasted-percent': 'largest share of wasted bytes in the uncompressed size (20% or 0.2)',
  'min-efficiency': 'lowest efficiency: final view / uncompressed (90% or 0.9)',
  'forbid-categories': 'bloat categories or rule ids that must not appear (repeatable)',
  'forbid-paths': 'globs that must not match any path of the final image (repeatable)',
  'max-layers': 'most layers',
  'max-layer-size': 'largest single layer (file bytes)',
  'max-growth-bytes': 'most growth against --baseline (uncompressed size unless the config says size:)',
  'max-growth-percent': 'most growth against --baseline in percent (10% or 0.1)',
  'forbid-secrets': 'fail on any secret in any layer, hidden ones too (--no-forbid-secrets: off)',
  'forbid-setuid': 'fail on setuid/setgid files or file capabilities added above the base image',
  'forbid-world-writable': 'fail on world-writable files or directories without the sticky bit',
  'forbid-root-user': 'fail when the image runs as root (no USER, or USER 0/root)',
  'forbid-packages': 'package names (globs: gcc*, deb:*-dev) that must not be installed (repeatable)',
  'max-package-size': 'largest single package (bytes of its files in the final view)',
  'max-package-growth': 'most packages the image has that --baseline has not',
};

/** Growth rules compare one of the named sizes with the baseline's. */
export const GROWTH_SIZES = ['uncompressed', 'compressed', 'final'] as const;
export type GrowthSize = (typeof GROWTH_SIZES)[number];

export type Limit = number | string[];

export interface GateRule {
  key: RuleKey;
  fail?: Limit;
  warn?: Limit;
  /** Growth rules: the size compared with the baseline's. */
  size?: GrowthSize;
  /** Where the rule was written, for messages: `.strata.yml: rules.max-final-size`, `--max-final-size`. */
  origin: string;
}

/** The rules of one config file or command line; null marks a rule switched off with `off`. */
export type RuleSet = Partial<Record<RuleKey, GateRule | null>>;

/** The `rules:` section of the config file. */
export function parseRuleSection(value: unknown, source: string, fail: Fail): RuleSet {
  const out: RuleSet = {};
  if (value === null || value === undefined) return out;
  if (!isMap(value)) return fail('rules', `expected a mapping of rules (${RULE_KEYS.join(', ')})`);
  for (const [k, v] of Object.entries(value)) {
    if (!(RULE_KEYS as readonly string[]).includes(k)) fail(`rules.${k}`, `unknown rule (known: ${RULE_KEYS.join(', ')})`);
    out[k as RuleKey] = parseRuleValue(k as RuleKey, v, `rules.${k}`, `${source}: rules.${k}`, fail);
  }
  return out;
}

function parseRuleValue(key: RuleKey, value: unknown, at: string, origin: string, fail: Fail): GateRule | null {
  if (RULE_KIND[key] === 'switch') return parseSwitch(key, value, at, origin, fail);
  if (value === 'off') return null;
  const rule: GateRule = { key, origin };
  if (!isMap(value)) {
    rule.fail = parseLimit(key, value, at, fail);
    return rule;
  }
  const m = value as Record<string, unknown>;
  const known = ['fail', 'warn', 'limit', 'level', ...(isGrowth(key) ? ['size'] : [])];
  for (const k of Object.keys(m)) if (!known.includes(k)) fail(`${at}.${k}`, `unknown key (known: ${known.join(', ')})`);
  if ('limit' in m || 'level' in m) {
    if ('fail' in m || 'warn' in m) fail(at, 'write either {limit, level} or {warn, fail}, not both');
    if (!('limit' in m)) fail(`${at}.limit`, 'missing: the limit that level applies to');
    const level = m.level ?? 'fail';
    if (level !== 'fail' && level !== 'warn') fail(`${at}.level`, `expected fail or warn, got ${JSON.stringify(level)}`);
    rule[level as 'fail' | 'warn'] = parseLimit(key, m.limit, `${at}.limit`, fail);
  } else {
    if (!('fail' in m) && !('warn' in m)) fail(at, 'expected a limit, {warn: …, fail: …} or {limit: …, level: warn}');
    if ('fail' in m) rule.fail = parseLimit(key, m.fail, `${at}.fail`, fail);
    if ('warn' in m) rule.warn = parseLimit(key, m.warn, `${at}.warn`, fail);
    checkOrder(rule, String(m.warn), String(m.fail), at, fail);
  }
  if ('size' in m) {
    if (!(GROWTH_SIZES as readonly unknown[]).includes(m.size)) fail(`${at}.size`, `expected one of ${GROWTH_SIZES.join(', ')}`);
    rule.size = m.size as GrowthSize;
  }
  return rule;
}

/**
 * A switch rule: named with no value, `true`, `on` or `fail` fails on any finding; `warn` (or
 * `{level: warn}`) warns; `off` or `false` switches it off. Its limit is a count of 0.
 */
function parseSwitch(key: RuleKey, value: unknown, at: string, origin: string, fail: Fail): GateRule | null {
  const level = isMap(value) ? value.level : value;
  if (isMap(value)) for (const k of Object.keys(value)) if (k !== 'level') fail(`${at}.${k}`, 'unknown key (known: level)');
  if (level === 'off' || level === false) return null;
  if (level === null || level === undefined || level === true || level === 'on' || level === 'fail') return { key, origin, fail: 0 };
  if (level === 'warn') return { key, origin, warn: 0 };
  return fail(at, `expected true (or nothing), warn or off, got ${JSON.stringify(value)}`);
}

/** A warning limit that a failure would pass first would never be seen. */
function checkOrder(rule: GateRule, warn: string, fail: string, at: string, onError: Fail): void {
  if (typeof rule.warn !== 'number' || typeof rule.fail !== 'number') return;
  if (rule.key === 'min-efficiency' ? rule.warn < rule.fail : rule.warn > rule.fail) {
    onError(at, `the warning limit must be reached before the failure limit (warn ${warn}, fail ${fail})`);
  }
}

const isGrowth = (key: RuleKey) => key === 'max-growth-bytes' || key === 'max-growth-percent';

/** One limit of a rule: bytes, a ratio, a count, or a list of categories or globs. */
function parseLimit(key: RuleKey, value: unknown, at: string, fail: Fail): Limit {
  switch (RULE_KIND[key]) {
    case 'size':
      return size(value, at, fail);
    case 'ratio':
      return ratio(value, at, fail, key === 'max-growth-percent');
    case 'count':
      return count(value, at, fail);
    case 'categories':
      return strings(value, at, fail, (s, k) => (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(s) ? s : fail(k, `"${s}" is not a category or rule id`)));
    case 'paths':
      return strings(value, at, fail, (s, k) => globField(s, k, fail));
    case 'packages':
      return strings(value, at, fail, (s, k) => (/^(?:[a-z]+:)?[A-Za-z0-9@/._+*?~-]+$/.test(s) ? s : fail(k, `"${s}" is not a package name glob (like gcc*, deb:*-dev, npm:@scope/*)`)));
    case 'switch':
      return 0;
  }
}

function size(value: unknown, at: string, fail: Fail): number {
  if (typeof value !== 'number' && typeof value !== 'string') return fail(at, 'expected a size: bytes, or 10MB, 1.5GiB');
  try {
    return parseSize(value, at);
  } catch {
    return fail(at, `${JSON.stringify(value)} is not a size (use bytes, or 10MB, 1.5GiB)`);
  }
}

/** "20%" or 0.2. A bare number above 1 is refused: 20 could mean 20% or 2000%. */
function ratio(value: unknown, at: string, fail: Fail, above100: boolean): number {
  let r: number | undefined;
  if (typeof value === 'number' && value >= 0 && value <= 1) r = value;
  else if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value);
    if (m) r = Number(m[1]) / 100;
    else if (/^\s*(0(\.\d+)?|1(\.0+)?)\s*$/.test(value)) r = Number(value);
  }
  if (r === undefined) return fail(at, `${JSON.stringify(value)} is not a percent (write 20% or 0.2)`);
  if (!above100 && r > 1) return fail(at, `${JSON.stringify(value)} is above 100%`);
  return r;
}

function count(value: unknown, at: string, fail: Fail): number {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return fail(at, `${JSON.stringify(value)} is not a whole number >= 0`);
  return n;
}

function strings(value: unknown, at: string, fail: Fail, check: (s: string, at: string) => string): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((s, i) => {
    const k = Array.isArray(value) ? `${at}[${i}]` : at;
    return typeof s === 'string' ? check(s, k) : fail(k, 'expected a string');
  });
}

/**
 * Rules from flags: each occurrence is `VALUE`, `warn:VALUE` or `off`. List rules collect their
 * values; the others take at most one value per level.
 */
export function parseRuleFlags(flags: Partial<Record<RuleKey, string[]>>, fail: Fail): RuleSet {
  const out: RuleSet = {};
  for (const key of RULE_KEYS) {
    const values = flags[key];
    if (!values?.length) continue;
    const at = `--${key}`;
    if (RULE_KIND[key] === 'switch') {
      out[key] = parseSwitch(key, values[values.length - 1], at, at, fail);
      continue;
    }
    if (values.includes('off')) {
      if (values.length > 1) fail(at, '"off" cannot be combined with limits');
      out[key] = null;
      continue;
    }
    const rule: GateRule = { key, origin: at };
    const isList = RULE_KIND[key] === 'categories' || RULE_KIND[key] === 'paths' || RULE_KIND[key] === 'packages';
    const given = { warn: '', fail: '' };
    for (const raw of values) {
      const level = raw.startsWith('warn:') ? 'warn' : 'fail';
      const v = level === 'warn' ? raw.slice(5) : raw.startsWith('fail:') ? raw.slice(5) : raw;
      given[level] = v;
      const limit = parseLimit(key, v, at, fail);
      if (isList) rule[level] = [...((rule[level] as string[] | undefined) ?? []), ...(limit as string[])];
      else if (rule[level] !== undefined) fail(at, `given twice as a ${level === 'warn' ? 'warning' : 'failure'} limit`);
      else rule[level] = limit;
    }
    checkOrder(rule, given.warn, given.fail, at, fail);
    out[key] = rule;
  }
  return out;
}

/** Config rules, then flags on top: a flag replaces the config's rule of the same name. */
export function mergeRules(config: RuleSet, flags: RuleSet): GateRule[] {
  const merged: RuleSet = { ...config, ...flags };
  return RULE_KEYS.map((k) => merged[k]).filter((r): r is GateRule => !!r);
}
