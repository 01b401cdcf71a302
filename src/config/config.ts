/**
 * The strata config file: `.strata.yml` in the working directory, or `--config FILE`. YAML or
 * JSON (JSON is YAML). One top-level section per feature; each section has a validator below so
 * that a typo fails loudly with the key path (`bloat.rules[2].paths`) instead of being ignored.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { yaml } from '../util/yaml.js';
import { StrataError } from '../util/errors.js';
import { compileGlob, GlobError } from '../util/glob.js';
import { BUILTIN_RULES, RESERVED_CATEGORIES, RULE_CATEGORIES } from '../analyze/bloat/rules.js';
import { parseRuleSection, type RuleSet } from '../analyze/gate/rules.js';

export const DEFAULT_CONFIG_FILE = '.strata.yml';

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

export interface DiffConfig {
  /** Globs of paths `strata diff` leaves out (added to --ignore). */
  ignore: string[];
}

export interface StrataConfig {
  /** The file it came from, or null for the defaults. */
  source: string | null;
  bloat: BloatConfig;
  diff: DiffConfig;
  /** Explorer key bindings, action -> keys; the explorer (src/tui/keymap.ts) checks action names and keys. */
  keys: Record<string, unknown>;
  /** The CI gate's rules (`strata ci`): src/analyze/gate/rules.ts. */
  rules: RuleSet;
}

export function defaultConfig(): StrataConfig {
  return { source: null, bloat: { disable: [], rules: [], ignore: [] }, diff: { ignore: [] }, keys: {}, rules: {} };
}

/** `file` given: it must exist. Otherwise `.strata.yml` in `cwd` if present, else the defaults. */
export function loadConfig(opts: { file?: string; cwd?: string } = {}): StrataConfig {
  const path = opts.file ?? join(opts.cwd ?? process.cwd(), DEFAULT_CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && opts.file === undefined) return defaultConfig();
    throw new StrataError(code === 'ENOENT' ? `${path}: no such config file` : `${path}: cannot read config (${code})`);
  }
  return parseConfig(text, opts.file ?? DEFAULT_CONFIG_FILE);
}

export function parseConfig(text: string, source: string): StrataConfig {
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (e) {
    if (e instanceof yaml().YAMLError) throw new StrataError(`${source}: ${e.message.split('\n')[0]}`);
    throw e;
  }
  const fail = (key: string, msg: string): never => {
    throw new StrataError(`${source}: ${key}: ${msg}`);
  };
  const config = defaultConfig();
  config.source = source;
  if (doc === null || doc === undefined) return config;
  if (!isMap(doc)) return fail('(top level)', 'expected a mapping of sections (bloat: …)');
  for (const [key, value] of Object.entries(doc)) {
    const section = sections[key];
    if (!section) return fail(key, `unknown section (known: ${Object.keys(sections).join(', ')})`);
    section(config, value, fail, source);
  }
  return config;
}

type Fail = (key: string, msg: string) => never;

const sections: Record<string, (config: StrataConfig, value: unknown, fail: Fail, source: string) => void> = {
  bloat: (config, value, fail) => {
    if (value === null) return;
    if (!isMap(value)) fail('bloat', 'expected a mapping with disable, rules, ignore');
    const b = value as Record<string, unknown>;
    for (const k of Object.keys(b)) if (!['disable', 'rules', 'ignore'].includes(k)) fail(`bloat.${k}`, 'unknown key (known: disable, rules, ignore)');
    const rules = (b.rules === undefined ? [] : list(b.rules, 'bloat.rules', fail)).map((r, i) => customRule(r, `bloat.rules[${i}]`, fail));
    const ids = new Set(BUILTIN_RULES.map((r) => r.id));
    for (const [i, r] of rules.entries()) {
      if (ids.has(r.id)) fail(`bloat.rules[${i}].id`, `"${r.id}" is already a rule id (disable the built-in one, or choose another id)`);
      ids.add(r.id);
    }
    const categories = new Set<string>([...RULE_CATEGORIES, ...rules.map((r) => r.category)]);
    const disable = (b.disable === undefined ? [] : list(b.disable, 'bloat.disable', fail)).map((d, i) => {
      const key = `bloat.disable[${i}]`;
      if (typeof d !== 'string') return fail(key, 'expected a rule id or category name');
      if (!ids.has(d) && !categories.has(d)) fail(key, `unknown rule or category "${d}" (categories: ${[...categories].join(', ')}; rules: ${[...ids].join(', ')})`);
      return d;
    });
    const ignore = (b.ignore === undefined ? [] : list(b.ignore, 'bloat.ignore', fail)).map((g, i) => glob(g, `bloat.ignore[${i}]`, fail));
    config.bloat = { disable, rules, ignore };
  },
  keys: (config, value, fail) => {
    if (value === null) return;
    if (!isMap(value)) fail('keys', 'expected a mapping of action: key or [keys]');
    config.keys = value as Record<string, unknown>;
  },
  diff: (config, value, fail) => {
    if (value === null) return;
    if (!isMap(value)) fail('diff', 'expected a mapping with ignore');
    const d = value as Record<string, unknown>;
    for (const k of Object.keys(d)) if (k !== 'ignore') fail(`diff.${k}`, 'unknown key (known: ignore)');
    const ignore = d.ignore === undefined || d.ignore === null ? [] : typeof d.ignore === 'string' ? [d.ignore] : list(d.ignore, 'diff.ignore', fail);
    config.diff = { ignore: ignore.map((g, i) => glob(g, `diff.ignore[${i}]`, fail)) };
  },
  rules: (config, value, fail, source) => {
    config.rules = parseRuleSection(value, source, fail);
  },
};

function customRule(value: unknown, key: string, fail: Fail): CustomRule {
  if (!isMap(value)) return fail(key, 'expected a mapping with id, category, paths and optionally remedy');
  const r = value as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!['id', 'category', 'paths', 'remedy'].includes(k)) fail(`${key}.${k}`, 'unknown key (known: id, category, paths, remedy)');
  if (typeof r.id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(r.id)) fail(`${key}.id`, 'expected a name made of letters, digits, ".", "_", "-"');
  if (typeof r.category !== 'string' || !/^[a-z][a-z0-9-]*$/.test(r.category)) fail(`${key}.category`, `expected a lower-case name like "cache" (built-in: ${RULE_CATEGORIES.join(', ')})`);
  if (RESERVED_CATEGORIES.includes(r.category as string)) fail(`${key}.category`, `"${r.category}" is computed by strata, not matched by path rules`);
  if (r.paths === undefined) fail(`${key}.paths`, 'missing: expected a list of globs');
  const paths = list(r.paths, `${key}.paths`, fail).map((g, i) => glob(g, `${key}.paths[${i}]`, fail));
  if (paths.length === 0) fail(`${key}.paths`, 'expected at least one glob');
  if (r.remedy !== undefined && typeof r.remedy !== 'string') fail(`${key}.remedy`, 'expected a string');
  const rule: CustomRule = { id: r.id as string, category: r.category as string, paths };
  if (r.remedy !== undefined) rule.remedy = r.remedy as string;
  return rule;
}

function glob(value: unknown, key: string, fail: Fail): string {
  if (typeof value !== 'string') return fail(key, 'expected a glob string');
  try {
    compileGlob(value);
  } catch (e) {
    if (e instanceof GlobError) fail(key, `bad glob: ${e.message}`);
    throw e;
  }
  return value;
}

function list(value: unknown, key: string, fail: Fail): unknown[] {
  if (!Array.isArray(value)) return fail(key, 'expected a list');
  return value;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
