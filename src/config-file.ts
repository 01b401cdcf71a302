/**
 * The optional project config file, `.strata.yml` in the working directory. Each command reads its
 * own key (`diff.ignore`: a list of globs); unknown keys are left alone for other commands.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { StrataError } from './layers/errors.js';

export const CONFIG_FILE = '.strata.yml';

export function readConfigFile(path = CONFIG_FILE): Record<string, unknown> {
  if (!existsSync(path)) return {};
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new StrataError(`${path}: not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new StrataError(`${path}: expected a mapping at the top`);
  return doc as Record<string, unknown>;
}

/** `key.sub` as a list of strings (a single string is a list of one); [] when absent. */
export function stringList(config: Record<string, unknown>, key: string, sub: string, path = CONFIG_FILE): string[] {
  const section = config[key];
  if (section === undefined || section === null) return [];
  const v = typeof section === 'object' ? (section as Record<string, unknown>)[sub] : undefined;
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  if (!list.every((x) => typeof x === 'string')) throw new StrataError(`${path}: ${key}.${sub}: expected a list of strings`);
  return list as string[];
}
