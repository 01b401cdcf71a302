/** The `diff:` section of the config file. */
import { globField, isMap, listField, type Fail } from '../../config/file.js';

export interface DiffConfig {
  /** Globs of paths `strata diff` leaves out (added to --ignore). */
  ignore: string[];
}

export function parseDiffSection(value: unknown, fail: Fail): DiffConfig {
  if (value === null) return { ignore: [] };
  if (!isMap(value)) return fail('diff', 'expected a mapping with ignore');
  for (const k of Object.keys(value)) if (k !== 'ignore') fail(`diff.${k}`, 'unknown key (known: ignore)');
  const raw = value.ignore;
  const ignore = raw === undefined || raw === null ? [] : typeof raw === 'string' ? [raw] : listField(raw, 'diff.ignore', fail);
  return { ignore: ignore.map((g, i) => globField(g, `diff.ignore[${i}]`, fail)) };
}
