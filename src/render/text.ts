/** Small text helpers shared by the text renderers. */
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

/** A Dockerfile-like rendering of a history entry's created_by. */
export function instruction(createdBy: string | undefined, comment?: string): string {
  if (!createdBy) return comment ? `(${comment})` : '';
  let s = createdBy.trim();
  const nop = /^\/bin\/sh -c #\(nop\)\s*/;
  if (nop.test(s)) return s.replace(nop, '').trim();
  if (s.startsWith('/bin/sh -c ')) return `RUN ${s.slice(11)}`;
  if (s.startsWith('|')) {
    // BuildKit/Docker: "|2 ARG=1 ARG2=2 /bin/sh -c cmd"
    const m = /^\|\d+ (?:\S+=\S* )*\/bin\/sh -c (.*)$/s.exec(s);
    if (m) s = `RUN ${m[1]}`;
  }
  return s.replace(/\s+/g, ' ');
}

export function truncate(s: string, width: number): string {
  if (width <= 1) return '';
  return s.length <= width ? s : `${s.slice(0, width - 1)}…`;
}

export function table(rows: string[][], align: ('l' | 'r')[]): string[] {
  const widths = align.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
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
