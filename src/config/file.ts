/**
 * The strata config file: `.strata.yml` in the working directory, or `--config FILE`. YAML or
 * JSON (JSON is YAML). One top-level section per feature, each read by the parser its feature
 * gives (the bloat rules, the CI gate, diff, the explorer's keys), so that a typo fails loudly
 * with the key path (`bloat.rules[2].paths`) instead of being ignored. This module knows the file
 * and the field checks the section parsers share, none of the sections.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { yaml } from '../util/yaml.js';
import { StrataError } from '../util/errors.js';
import { compileGlob, GlobError } from '../util/glob.js';

export const DEFAULT_CONFIG_FILE = '.strata.yml';

/** Throws the one-line error for a key of the file: `FILE: key: msg`. */
export type Fail = (key: string, msg: string) => never;

/** Reads one top-level section's value into its part of the config; `source` names the file. */
export type SectionParser<C> = (config: C, value: unknown, fail: Fail, source: string) => void;

/**
 * The file's text: `file` given, it must exist; otherwise `.strata.yml` in `cwd` if present, else
 * null (no file: the defaults).
 */
export function readConfigText(opts: { file?: string; cwd?: string }): { text: string; source: string } | null {
  const path = opts.file ?? join(opts.cwd ?? process.cwd(), DEFAULT_CONFIG_FILE);
  try {
    return { text: readFileSync(path, 'utf8'), source: opts.file ?? DEFAULT_CONFIG_FILE };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && opts.file === undefined) return null;
    throw new StrataError(code === 'ENOENT' ? `${path}: no such config file` : `${path}: cannot read config (${code})`);
  }
}

/** Parses `text` and hands each top-level section to its parser; an unknown section is an error. */
export function parseSections<C>(text: string, source: string, config: C, sections: Record<string, SectionParser<C>>): C {
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (e) {
    if (e instanceof yaml().YAMLError) throw new StrataError(`${source}: ${e.message.split('\n')[0]}`);
    throw e;
  }
  const fail: Fail = (key, msg) => {
    throw new StrataError(`${source}: ${key}: ${msg}`);
  };
  if (doc === null || doc === undefined) return config;
  if (!isMap(doc)) return fail('(top level)', 'expected a mapping of sections (bloat: …)');
  for (const [key, value] of Object.entries(doc)) {
    const section = sections[key];
    if (!section) return fail(key, `unknown section (known: ${Object.keys(sections).join(', ')})`);
    section(config, value, fail, source);
  }
  return config;
}

export function globField(value: unknown, key: string, fail: Fail): string {
  if (typeof value !== 'string') return fail(key, 'expected a glob string');
  try {
    compileGlob(value);
  } catch (e) {
    if (e instanceof GlobError) fail(key, `bad glob: ${e.message}`);
    throw e;
  }
  return value;
}

export function listField(value: unknown, key: string, fail: Fail): unknown[] {
  if (!Array.isArray(value)) return fail(key, 'expected a list');
  return value;
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
