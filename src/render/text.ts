import { terminalText } from '../util/terminal-text.js';

/** Small text helpers shared by the text renderers. */
export function truncate(s: string, width: number): string {
  if (width <= 1) return '';
  return s.length <= width ? s : `${s.slice(0, width - 1)}…`;
}

/**
 * Rows as aligned columns. `caps`: the most a column is padded to, so that one long cell (a deep
 * path) does not push every other row's next column far right; a longer cell overflows its own line.
 */
export function table(rows: string[][], align: ('l' | 'r')[], caps: (number | undefined)[] = []): string[] {
  // a loop, not Math.max(...): a table may have more rows than the stack has room for arguments
  const widths = align.map((_, c) => {
    let w = -Infinity;
    for (const r of rows) w = Math.max(w, (r[c] ?? '').length);
    return Math.min(caps[c] ?? Infinity, w);
  });
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 && align[c] === 'l' ? cell : align[c] === 'r' ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd());
}

const typeChar: Record<string, string> = { dir: 'd', symlink: 'l', char: 'c', block: 'b', fifo: 'p', file: '-', hardlink: '-' };

export function modeString(type: string, mode: string): string {
  const m = parseInt(mode, 8);
  const rwx = (b: number, s: boolean, sc: string) => `${b & 4 ? 'r' : '-'}${b & 2 ? 'w' : '-'}${s ? (b & 1 ? sc : sc.toUpperCase()) : b & 1 ? 'x' : '-'}`;
  return (typeChar[type] ?? '?') + rwx((m >> 6) & 7, !!(m & 0o4000), 's') + rwx((m >> 3) & 7, !!(m & 0o2000), 's') + rwx(m & 7, !!(m & 0o1000), 't');
}

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
export function wrapWords(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

/**
 * One CSV record (RFC 4180 quoting). Control bytes are escaped as a terminal shows them (a CSV is
 * often read in one; so no raw TAB or CR), and a text cell starting with `= + - @` gets a `'`: a
 * spreadsheet would run a name from an image as a formula. A spreadsheet whose locale separates
 * with `;` starts a cell after each `;`, inside quotes or not: a formula there gets its `'` too,
 * and a cell holding a `;` is quoted (OWASP's CSV injection advice).
 */
export function csvLine(cells: (string | number | null)[]): string {
  return cells
    .map((v) => {
      if (v === null) return '';
      let s = terminalText(String(v));
      if (typeof v === 'string') s = s.replace(/(^|;)(?=[=+\-@])/g, "$1'");
      return /[",;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(',');
}
