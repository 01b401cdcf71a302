/**
 * The one way strata reads a JSON document it did not write itself (issue 29): a size cap, strict
 * UTF-8, JSON.parse, then a zod schema. Every failure is a one-line StrataError naming the document,
 * the field path and what was expected; no message quotes more than a short escaped excerpt of the
 * input (Node's own JSON.parse message quotes it whole).
 */
import type { z } from 'zod';
import { StrataError } from './errors.js';
import { humanBytes } from './units.js';

/** Largest JSON document read when the caller sets no cap of its own. */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;
/** Characters of input an error message may show, escaped. */
const EXCERPT_CHARS = 20;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parse `bytes` as JSON and validate it against `schema`; `where` names the document in errors (StrataError). */
export function parseJson<S extends z.ZodType>(bytes: Buffer | string, schema: S, where: string, opts?: { maxBytes?: number }): z.output<S> {
  checkJsonSize(typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length, where, opts?.maxBytes);
  let text: string;
  if (typeof bytes === 'string') text = bytes;
  else {
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new StrataError(`${where}: not valid UTF-8 at byte ${firstBadUtf8(bytes)}`);
    }
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    const at = jsonErrorOffset(text);
    throw new StrataError(`${where}: not valid JSON at byte ${Buffer.byteLength(text.slice(0, at))} (${jsonExcerpt(text.slice(at))})`);
  }
  const deep = tooDeepAt(text);
  if (deep >= 0) throw new StrataError(`${where}: nested deeper than ${MAX_JSON_DEPTH} levels at byte ${Buffer.byteLength(text.slice(0, deep))}`);
  return validateJson(doc, schema, where);
}

/**
 * Deepest nesting of arrays and objects a document may have. Every format strata reads is a few
 * levels deep; JSON.parse takes any depth, but what walks the value after it (the secret masking
 * of a config, JSON.stringify into a cache) recurses, and a 4 KB config 2,000 levels deep in a field
 * nobody reads would exhaust the stack.
 */
export const MAX_JSON_DEPTH = 256;

/** Where valid JSON `text` opens its level MAX_JSON_DEPTH + 1, or -1. */
function tooDeepAt(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // the escaped character, whatever it is
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) return i;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return -1;
}

/** Refuse a document too large to parse, before anyone reads it whole. */
export function checkJsonSize(size: number, where: string, max = MAX_JSON_BYTES): void {
  if (size > max) throw new StrataError(`${where}: is ${humanBytes(size)}, more than the ${humanBytes(max)} a JSON document may be`);
}

/** Validate a value already parsed (a document looked at before its shape was known) as parseJson does. */
export function validateJson<S extends z.ZodType>(doc: unknown, schema: S, where: string): z.output<S> {
  const r = schema.safeParse(doc, { error: describeIssue });
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = fieldPath(issue.path);
  throw new StrataError(`${where}: ${path ? `${path} ` : ''}${issue.message}`);
}

/** Input text in a message: a short plain token as it is, anything else as an escaped excerpt. */
export function shown(s: string): string {
  return /^[\x21-\x7e]{1,80}$/.test(s) && !s.includes('"') ? s : excerpt(s);
}

/** A short piece of untrusted text, escaped so that it shows no control byte and cannot span lines. */
export function excerpt(s: string): string {
  if (s.length === 0) return 'end of input';
  // JSON.stringify leaves DEL and the C1 controls raw; a terminal acts on them
  // eslint-disable-next-line no-control-regex
  return JSON.stringify(s.length > EXCERPT_CHARS ? `${s.slice(0, EXCERPT_CHARS)}…` : s).replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The excerpt of a JSON document where parsing stopped, with any token-like run cut to its first
 * characters: the document may be a config or a token answer, and no message may carry a usable
 * part of a secret.
 */
function jsonExcerpt(rest: string): string {
  const piece = rest.slice(0, EXCERPT_CHARS + 1).replace(TOKEN_LIKE, (run) => `${run.slice(0, 4)}…`);
  return excerpt(piece);
}

/** A run of characters tokens are made of, long enough to be (part of) one. */
const TOKEN_LIKE = /[A-Za-z0-9+/=_-]{9,}/g;

/** `manifests[0].annotations["org.x"]`: the JSON path of a field, keys escaped and shortened. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else if (typeof k === 'string' && /^[A-Za-z_$][\w$]{0,40}$/.test(k)) out += out ? `.${k}` : k;
    else out += `[${/^[\x20-\x7e]{1,80}$/.test(String(k)) ? JSON.stringify(k) : excerpt(String(k))}]`;
  }
  return out;
}

/** What a JSON value is, for "must be X, not Y": its type alone, so that no input is quoted. */
function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

const EXPECTED: Record<string, string> = { object: 'an object', array: 'an array', string: 'a string', number: 'a number', int: 'an integer', boolean: 'true or false', record: 'an object' };

/** The per-parse zod error map: schemas state their own message for refinements; this covers the rest. */
function describeIssue(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `is missing (expected ${EXPECTED[issue.expected] ?? issue.expected})`;
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${describeValue(issue.input)}`;
    case 'invalid_value':
      if (issue.input === undefined) return `is missing (expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')})`;
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, not ${describeValue(issue.input)}`;
    case 'too_small':
      return issue.origin === 'array' ? `must hold at least ${issue.minimum} entries` : `must be at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array' ? `must hold at most ${issue.maximum} entries` : `must be at most ${issue.maximum}`;
    case 'invalid_format':
      return `must be ${issue.format === 'regex' ? 'a string of the expected form' : `a ${issue.format}`}, not ${describeValue(issue.input)}`;
    default:
      return 'is not what was expected';
  }
}

/** Offset (in UTF-16 units) of the first byte JSON.parse refused: a scan run only after it failed. */
export function jsonErrorOffset(s: string): number {
  let i = 0;
  const ws = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  // each reader advances `i` past what it accepted and says whether the token was whole
  const string = (): boolean => {
    i++;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c !== 0x5c) i++;
      else if (s[i + 1] === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) i += 6;
      else if (s[i + 1] !== undefined && '"\\/bfnrt'.includes(s[i + 1])) i += 2;
      else return false;
    }
    return false;
  };
  const scalar = (): boolean => {
    for (const lit of ['true', 'false', 'null']) {
      if (s.startsWith(lit, i)) {
        i += lit.length;
        return true;
      }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(s.slice(i, i + 400));
    if (!m) return false;
    i += m[0].length;
    return true;
  };
  // iterative over nesting: a hostile document may be a million brackets deep
  const stack: string[] = [];
  for (;;) {
    ws();
    // a value
    if (s[i] === '{' || s[i] === '[') {
      const open = s[i++];
      ws();
      if (s[i] === (open === '{' ? '}' : ']')) i++;
      else {
        stack.push(open);
        if (open === '{') {
          if (s[i] !== '"' || !string()) return i;
          ws();
          if (s[i++] !== ':') return i - 1;
        }
        continue;
      }
    } else if (s[i] === '"') {
      if (!string()) return i;
    } else if (!scalar()) return i;
    // after a value: close containers or move to the next member
    for (;;) {
      ws();
      const top = stack[stack.length - 1];
      if (top === undefined) return i;
      if (s[i] === (top === '{' ? '}' : ']')) {
        stack.pop();
        i++;
        continue;
      }
      if (s[i] !== ',') return i;
      i++;
      if (top === '{') {
        ws();
        if (s[i] !== '"' || !string()) return i;
        ws();
        if (s[i++] !== ':') return i - 1;
      }
      break;
    }
  }
}

/** Byte offset of the first malformed UTF-8 sequence (only called once decoding failed). */
function firstBadUtf8(b: Buffer): number {
  let lo = 0;
  let hi = b.length;
  // the longest prefix that decodes ends at or before the bad byte: bisect over prefixes
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (isUtf8Prefix(b.subarray(0, mid))) lo = mid;
    else hi = mid;
  }
  return lo;
}

function isUtf8Prefix(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b, { stream: true });
    return true;
  } catch {
    return false;
  }
}
