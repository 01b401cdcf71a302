/**
 * The `secrets:` section of the config file: the content scan's limit, rules switched off, the
 * user's own content patterns and file names, and paths never reported (test fixtures, samples).
 */
import { globField, isMap, listField, type Fail } from '../../config/file.js';
import { CONTENT_RULES, DEFAULT_CONTENT_LIMIT, MAX_CONTENT_LIMIT, type ContentScanSettings } from '../../scan/secret-scan.js';
import { parseSize } from '../../util/units.js';
import { StrataError } from '../../util/errors.js';
import { NAME_RULES } from './name-rules.js';

export interface NameRule {
  id: string;
  paths: string[];
}

export interface SecretsConfig {
  /** What the scan reads small files for: part of the layer records (and their cache key). */
  scan: ContentScanSettings;
  /** Built-in file-name rules switched off. */
  disableNames: string[];
  /** The user's own file-name rules. */
  names: NameRule[];
  /** Globs of paths never reported as secrets or risky files. */
  allow: string[];
}

export function defaultSecretsConfig(): SecretsConfig {
  return { scan: { contentLimit: DEFAULT_CONTENT_LIMIT, disable: [], patterns: [] }, disableNames: [], names: [], allow: [] };
}

const KEYS = ['contentLimit', 'disable', 'patterns', 'paths', 'allow'];
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function parseSecretsSection(value: unknown, fail: Fail): SecretsConfig {
  const c = defaultSecretsConfig();
  if (value === null) return c;
  if (!isMap(value)) return fail('secrets', `expected a mapping with ${KEYS.join(', ')}`);
  for (const k of Object.keys(value)) if (!KEYS.includes(k)) fail(`secrets.${k}`, `unknown key (known: ${KEYS.join(', ')})`);
  if (value.contentLimit !== undefined) {
    let n: number;
    try {
      n = parseSize(value.contentLimit as string | number, 'secrets.contentLimit');
    } catch (e) {
      if (e instanceof StrataError) return fail('secrets.contentLimit', 'expected a size such as 64KiB');
      throw e;
    }
    if (n > MAX_CONTENT_LIMIT) fail('secrets.contentLimit', `at most 1MiB (each file read is held in memory while it is matched)`);
    c.scan.contentLimit = n;
  }
  const ids = new Set([...CONTENT_RULES.map((r) => r.id), ...NAME_RULES.map((r) => r.id)]);
  for (const [i, d] of (value.disable === undefined ? [] : listField(value.disable, 'secrets.disable', fail)).entries()) {
    if (typeof d !== 'string' || !ids.has(d)) fail(`secrets.disable[${i}]`, `expected a built-in rule id (${[...ids].join(', ')})`);
    if (CONTENT_RULES.some((r) => r.id === d)) c.scan.disable.push(d as string);
    else c.disableNames.push(d as string);
  }
  const own = (key: string, r: unknown): string => {
    if (!isMap(r)) return fail(key, 'expected a mapping with id and regex (patterns) or paths (paths)');
    if (typeof r.id !== 'string' || !ID.test(r.id)) return fail(`${key}.id`, 'expected a name made of letters, digits, ".", "_", "-"');
    if (ids.has(r.id)) fail(`${key}.id`, `"${r.id}" is already a rule id`);
    ids.add(r.id);
    return r.id;
  };
  for (const [i, r] of (value.patterns === undefined ? [] : listField(value.patterns, 'secrets.patterns', fail)).entries()) {
    const key = `secrets.patterns[${i}]`;
    const id = own(key, r);
    const m = r as Record<string, unknown>;
    for (const k of Object.keys(m)) if (!['id', 'regex'].includes(k)) fail(`${key}.${k}`, 'unknown key (known: id, regex)');
    if (typeof m.regex !== 'string' || m.regex === '') return fail(`${key}.regex`, 'expected a regular expression (JavaScript syntax)');
    try {
      new RegExp(m.regex, 'gm');
    } catch (e) {
      fail(`${key}.regex`, `bad regular expression: ${(e as Error).message}`);
    }
    c.scan.patterns.push({ id, regex: m.regex });
  }
  for (const [i, r] of (value.paths === undefined ? [] : listField(value.paths, 'secrets.paths', fail)).entries()) {
    const key = `secrets.paths[${i}]`;
    const id = own(key, r);
    const m = r as Record<string, unknown>;
    for (const k of Object.keys(m)) if (!['id', 'paths'].includes(k)) fail(`${key}.${k}`, 'unknown key (known: id, paths)');
    const paths = listField(m.paths, `${key}.paths`, fail).map((g, j) => globField(g, `${key}.paths[${j}]`, fail));
    if (paths.length === 0) fail(`${key}.paths`, 'expected at least one glob');
    c.names.push({ id, paths });
  }
  c.allow = (value.allow === undefined ? [] : listField(value.allow, 'secrets.allow', fail)).map((g, i) => globField(g, `secrets.allow[${i}]`, fail));
  return c;
}
