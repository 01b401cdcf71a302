import { StrataError } from './errors.js';

const units: Record<string, number> = {
  '': 1, b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** "10MB" (SI), "1.5GiB" (binary), "2048" (bytes) -> bytes. `what` names the setting in errors. */
export function parseSize(s: string | number, what: string): number {
  if (typeof s === 'number' && Number.isFinite(s) && s >= 0) return s;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(String(s));
  const factor = m ? units[m[2].toLowerCase()] : undefined;
  if (!m || factor === undefined) throw new StrataError(`${what}: "${s}" is not a size (use bytes, or 10MB, 1.5GiB)`);
  return Math.round(Number(m[1]) * factor);
}
