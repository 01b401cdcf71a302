/**
 * Image- and registry-controlled text made safe to show (issue 29). A terminal acts on control
 * characters (ESC sequences clear the screen or set the clipboard, CR hides what was printed, LF
 * forges lines) and Unicode format characters reorder or hide text (bidi overrides, zero-width
 * characters); Markdown turns `<img …>` into HTML and `|` into a new table cell. Terminal text is
 * escaped by terminalText, Markdown by markdownText; the rest here builds on them.
 *
 * The notation is the one of C and JavaScript strings: `\n`, `\r`, `\t`, `\xHH` for the other C0,
 * DEL and C1 characters, `\uHHHH` for format characters. It is ASCII, one column per character (so
 * widths and truncation stay right), known to every reader, and names the exact character. A
 * backslash is left as it is: history lines are full of `\` continuations, and this text is for
 * reading, not for parsing back (the JSON outputs carry the exact values).
 */

/** C0 (TAB, LF, CR, ESC…), DEL and C1 (Cc); format characters (Cf: bidi, zero-width, BOM, tags); line and paragraph separators. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  const code = c.codePointAt(0)!;
  if (SHORT[c]) return SHORT[c];
  if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
  return code < 0x10000 ? `\\u${code.toString(16).padStart(4, '0')}` : `\\u{${code.toString(16)}}`;
}

/** `s` with every control and format character written visibly; `s` itself (no copy) when it has none. */
export function terminalText(s: string): string {
  // one test first: honest strings (a million `ls` lines) are neither scanned twice nor copied
  return UNSAFE.test(s) ? s.replace(UNSAFE_ALL, escapeChar) : s;
}

/** Text of several lines (a content diff): each line escaped, the line ends kept. */
export function terminalLines(s: string): string {
  return UNSAFE.test(s) ? s.split('\n').map(terminalText).join('\n') : s;
}

/**
 * A copy of a report (JSON-like data) with every string, object keys included, escaped by
 * terminalText: the text renderers draw from it, so every field, present or future, is escaped
 * once and widths are measured on what is printed. Parts without such characters are shared, not
 * copied.
 */
export function terminalCopy<T>(value: T): T {
  return escapeStrings(value) as T;
}

function escapeStrings(v: unknown): unknown {
  if (typeof v === 'string') return terminalText(v);
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = escapeStrings(v[i]);
      if (x !== v[i]) (out ??= v.slice())[i] = x;
    }
    return out ?? v;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (terminalText(k) !== k || escapeStrings(o[k]) !== o[k]) {
      // rebuilt whole: fromEntries defines keys (a `__proto__` label stays a label)
      return Object.fromEntries(Object.entries(o).map(([key, x]) => [terminalText(key), escapeStrings(x)]));
    }
  }
  return o;
}

/** Markdown's inline syntax, and `&` (an entity such as `&#x202e;` would bring a bidi override back). */
const MARKDOWN_SPECIAL = /[\\`*_[\]|~<&]/g;

/**
 * Image-controlled text in Markdown prose or a table cell: shown as terminalText shows it, with no
 * HTML, emphasis, link, code span or cell break of its own.
 */
export function markdownText(s: string): string {
  return terminalText(s).replace(MARKDOWN_SPECIAL, (c) => (c === '<' ? '&lt;' : c === '&' ? '&amp;' : `\\${c}`));
}

/**
 * Image-controlled text as an inline code span (literal: Markdown reads no HTML nor entities in it);
 * its fence is longer than any backtick run inside. In a table cell (`inTable`) a pipe is written
 * `\|`, which GitHub's tables read as a pipe inside the code; elsewhere it would show the backslash.
 */
export function markdownCode(s: string, inTable = false): string {
  const text = terminalText(s);
  if (!text) return '';
  const fence = '`'.repeat(longestRun(text, '`') + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${inTable ? text.replace(/\|/g, '\\|') : text}${pad}${fence}`;
}

/** Lines of image-controlled text (a patch, history) as a fenced code block no line inside can close (no final newline). */
export function markdownBlock(language: string, text: string): string {
  const body = terminalLines(text).replace(/\n$/, '');
  const fence = '`'.repeat(Math.max(3, longestRun(body, '`') + 1));
  return `${fence}${language}\n${body}\n${fence}`;
}

function longestRun(s: string, c: string): number {
  let best = 0;
  for (let i = s.indexOf(c); i >= 0; ) {
    let j = i;
    while (s[j] === c) j++;
    best = Math.max(best, j - i);
    i = s.indexOf(c, j);
  }
  return best;
}
