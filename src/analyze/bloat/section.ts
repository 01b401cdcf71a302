/** The `bloat:` section of the config file: rules switched off, the user's own rules, paths never reported. */
import { globField, isMap, listField, type Fail } from '../../config/file.js';
import { BUILTIN_RULES, RESERVED_CATEGORIES, RULE_CATEGORIES } from './rules.js';

export interface CustomRule {
  id: string;
  category: string;
  paths: string[];
  remedy?: string;
}

export interface BloatConfig {
  /** Built-in rule ids or categories switched off. */
  disable: string[];
  /** User rules, tried before the built-in ones. */
  rules: CustomRule[];
  /** Globs of visible files never reported as bloat. */
  ignore: string[];
}

export function defaultBloatConfig(): BloatConfig {
  return { disable: [], rules: [], ignore: [] };
}

export function parseBloatSection(value: unknown, fail: Fail): BloatConfig {
  if (value === null) return defaultBloatConfig();
  if (!isMap(value)) return fail('bloat', 'expected a mapping with disable, rules, ignore');
  for (const k of Object.keys(value)) if (!['disable', 'rules', 'ignore'].includes(k)) fail(`bloat.${k}`, 'unknown key (known: disable, rules, ignore)');
  const rules = (value.rules === undefined ? [] : listField(value.rules, 'bloat.rules', fail)).map((r, i) => customRule(r, `bloat.rules[${i}]`, fail));
  const ids = new Set(BUILTIN_RULES.map((r) => r.id));
  for (const [i, r] of rules.entries()) {
    if (ids.has(r.id)) fail(`bloat.rules[${i}].id`, `"${r.id}" is already a rule id (disable the built-in one, or choose another id)`);
    ids.add(r.id);
  }
  const categories = new Set<string>([...RULE_CATEGORIES, ...rules.map((r) => r.category)]);
  const disable = (value.disable === undefined ? [] : listField(value.disable, 'bloat.disable', fail)).map((d, i) => {
    const key = `bloat.disable[${i}]`;
    if (typeof d !== 'string') return fail(key, 'expected a rule id or category name');
    if (!ids.has(d) && !categories.has(d)) fail(key, `unknown rule or category "${d}" (categories: ${[...categories].join(', ')}; rules: ${[...ids].join(', ')})`);
    return d;
  });
  const ignore = (value.ignore === undefined ? [] : listField(value.ignore, 'bloat.ignore', fail)).map((g, i) => globField(g, `bloat.ignore[${i}]`, fail));
  return { disable, rules, ignore };
}

function customRule(value: unknown, key: string, fail: Fail): CustomRule {
  if (!isMap(value)) return fail(key, 'expected a mapping with id, category, paths and optionally remedy');
  const r = value;
  for (const k of Object.keys(r)) if (!['id', 'category', 'paths', 'remedy'].includes(k)) fail(`${key}.${k}`, 'unknown key (known: id, category, paths, remedy)');
  if (typeof r.id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(r.id)) fail(`${key}.id`, 'expected a name made of letters, digits, ".", "_", "-"');
  if (typeof r.category !== 'string' || !/^[a-z][a-z0-9-]*$/.test(r.category)) fail(`${key}.category`, `expected a lower-case name like "cache" (built-in: ${RULE_CATEGORIES.join(', ')})`);
  if (RESERVED_CATEGORIES.includes(r.category as string)) fail(`${key}.category`, `"${r.category}" is computed by strata, not matched by path rules`);
  if (r.paths === undefined) fail(`${key}.paths`, 'missing: expected a list of globs');
  const paths = listField(r.paths, `${key}.paths`, fail).map((g, i) => globField(g, `${key}.paths[${i}]`, fail));
  if (paths.length === 0) fail(`${key}.paths`, 'expected at least one glob');
  if (r.remedy !== undefined && typeof r.remedy !== 'string') fail(`${key}.remedy`, 'expected a string');
  const rule: CustomRule = { id: r.id as string, category: r.category as string, paths };
  if (r.remedy !== undefined) rule.remedy = r.remedy as string;
  return rule;
}
