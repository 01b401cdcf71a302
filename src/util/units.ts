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

/** A size for people: 999 B, 1.2 kB, 34 MB (powers of 1000, as parseSize reads them). */
export function humanBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return 'n/a';
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** "1 file", "2 files", "2 directories": a count with its word, for people. */
export function plural(n: number, word: string): string {
  if (n === 1) return `${n} ${word}`;
  return /[^aeiou]y$/.test(word) ? `${n} ${word.slice(0, -1)}ies` : `${n} ${word}s`;
}
