/**
 * The text databases of dpkg and apk read as bytes: lines, field values decoded one at a time, and
 * dpkg's stanzas (deb822: `Name: value`, continuation lines, blank-line separators). Only the fields
 * a reader asks for are kept, so a stanza of a million other fields or a 50 MB Description costs
 * one pass over the bytes, and a kept value is capped (MAX_FIELD_BYTES).
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { shown } from '../../util/json-doc.js';

/** A value of a field the readers keep (a name, a version, a Depends line) is far below this. */
export const MAX_FIELD_BYTES = 1024 * 1024;
/** Warnings one file may add; the rest are counted in one more line. */
const MAX_WARNINGS_PER_FILE = 10;

const CR = 13;
const SPACE = 32;
const TAB = 9;
const COLON = 58;
const NON_ASCII = /[\x80-\xff]/;

/**
 * A file as a string of one character per byte (Latin-1): decoded at memory speed, searched with
 * string functions, and any piece of it turned back into its bytes for decodeValue/decodePath.
 */
export function byteText(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** A value of byteText as text: UTF-8, or Latin-1 when its bytes are not UTF-8 (an old Maintainer line). */
export function decodeValue(raw: string): string {
  if (!NON_ASCII.test(raw)) return raw;
  const b = Buffer.from(raw, 'latin1');
  return isUtf8(b) ? b.toString('utf8') : raw;
}

/** A path of byteText as text, decoded as the tar parser decodes member names, so the two compare equal. */
export function decodePath(raw: string): string {
  return NON_ASCII.test(raw) ? Buffer.from(raw, 'latin1').toString('utf8') : raw;
}

/**
 * Calls `line` with each line's [start, end) in text and its 1-based number, without the LF and a
 * CR before it; the last line also when the file does not end with a newline.
 */
export function forEachLine(text: string, line: (start: number, end: number, n: number) => void): void {
  let n = 0;
  for (let at = 0; at < text.length; ) {
    const nl = text.indexOf('\n', at);
    const next = nl < 0 ? text.length : nl + 1;
    let end = nl < 0 ? text.length : nl;
    if (end > at && text.charCodeAt(end - 1) === CR) end--;
    line(at, end, ++n);
    at = next;
  }
}

const isSpace = (c: number) => c === SPACE || c === TAB || c === CR;

/** Whether [start, end) is only spaces, tabs and CRs: a stanza separator, as dpkg takes it. */
export function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isSpace(text.charCodeAt(i))) return false;
  return true;
}

/** [start, end) without the spaces and tabs at both ends. */
function trimRange(text: string, start: number, end: number): [number, number] {
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return [start, end];
}

export interface Stanza {
  /** 1-based line of its first field, for messages. */
  line: number;
  /** The wanted fields it has, by lower-case name; continuation lines joined with '\n'. */
  fields: Map<string, string>;
  /** Problems that make the stanza unusable (a kept field over MAX_FIELD_BYTES), for a warning. */
  problems: string[];
  /** Wanted fields given more than once (the first value is kept). */
  duplicates: string[];
}

/** The longest field name looked up; a longer one is no wanted field. */
const MAX_NAME = 64;

interface Open {
  stanza: Stanza;
  parts: Map<string, string[]>;
  sizes: Map<string, number>;
}

/**
 * The stanzas of a deb822 file (its byteText), with the fields named in `wanted` (lower case)
 * only. Field names are case-insensitive; a line that is neither a field nor a continuation is
 * reported to `skip`.
 */
export function parseStanzas(text: string, wanted: ReadonlySet<string>, skip: (line: number, why: string) => void): Stanza[] {
  const out: Stanza[] = [];
  let cur: Open | null = null;
  let field: string | null = null; // the wanted field continuation lines extend, or null
  let inField = false; // a field (wanted or not) is open: continuation lines belong to it

  const close = () => {
    if (!cur) return;
    for (const [name, parts] of cur.parts) {
      if (cur.sizes.get(name)! > MAX_FIELD_BYTES) cur.stanza.problems.push(`its ${name} field is longer than 1 MiB`);
      else cur.stanza.fields.set(name, decodeValue(parts.join('\n')).trim());
    }
    out.push(cur.stanza);
    cur = null;
  };
  const append = (open: Open, name: string, start: number, end: number) => {
    const size = (open.sizes.get(name) ?? 0) + (end - start) + 1;
    open.sizes.set(name, size);
    if (size <= MAX_FIELD_BYTES) open.parts.get(name)!.push(text.slice(start, end));
  };

  forEachLine(text, (start, end, n) => {
    if (isBlank(text, start, end)) {
      close();
      field = null;
      inField = false;
      return;
    }
    const first = text.charCodeAt(start);
    if (first === SPACE || first === TAB) {
      if (!inField) skip(n, 'a continuation line outside a field');
      else if (field !== null) append(cur!, field, ...trimRange(text, start, end));
      return;
    }
    let colon = start;
    while (colon < end && text.charCodeAt(colon) !== COLON) colon++;
    if (colon === start || colon === end) {
      skip(n, 'a line that is not a field');
      field = null;
      inField = false;
      return;
    }
    const open: Open = (cur ??= { stanza: { line: n, fields: new Map(), problems: [], duplicates: [] }, parts: new Map(), sizes: new Map() });
    inField = true;
    field = null;
    const [ns, ne] = trimRange(text, start, colon);
    if (ne - ns > MAX_NAME) return;
    const name = text.slice(ns, ne).toLowerCase();
    if (!wanted.has(name)) return;
    if (open.parts.has(name)) {
      if (!open.stanza.duplicates.includes(name)) open.stanza.duplicates.push(name);
      return;
    }
    open.parts.set(name, []);
    field = name;
    append(open, name, ...trimRange(text, colon + 1, end));
  });
  close();
  return out;
}

/**
 * The warnings of one file, `layer L /path: …`, at most MAX_WARNINGS_PER_FILE of them and then one
 * line counting the rest: a hostile database of a million bad stanzas adds eleven lines.
 */
export class FileWarnings {
  private count = 0;
  private readonly where: string;

  constructor(
    private readonly out: string[],
    path: string,
    layer: number,
  ) {
    this.where = `layer ${layer} ${shown(`/${path}`)}`;
  }

  add(message: string): void {
    if (this.count++ < MAX_WARNINGS_PER_FILE) this.out.push(`${this.where}: ${message}`);
  }

  /** Adds the line counting the warnings not shown, if any. */
  finish(): void {
    if (this.count > MAX_WARNINGS_PER_FILE) this.out.push(`${this.where}: ${this.count - MAX_WARNINGS_PER_FILE} more problems not listed`);
  }
}
