/**
 * Which of two versions of a package is newer, by its ecosystem's own rules (docs/packages.md):
 * dpkg's (`dpkg --compare-versions`), rpm's rpmvercmp over epoch:version-release, apk-tools'
 * version comparison, PEP 440 for Python and semver 2 for npm. A layer that changes a package's
 * version is an upgrade, a downgrade or, when the two compare equal, a rebuild.
 *
 * Every comparison takes any string, however malformed, and is linear in its length: a PEP 440 or
 * semver string that does not parse sorts before every valid one (among themselves: digit runs as
 * numbers, the rest character by character).
 */
import { Buffer } from 'node:buffer';
import type { Ecosystem } from './types.js';

/** <0 when a is older than b, 0 when the ecosystem takes them as equal, >0 when a is newer. */
export function compareVersions(ecosystem: Ecosystem, a: string, b: string): number {
  if (a === b) return 0;
  switch (ecosystem) {
    case 'deb':
      return Math.sign(compareDpkg(a, b));
    case 'rpm':
      return compareRpm(a, b);
    case 'apk':
      return compareApk(a, b);
    case 'pypi':
      return comparePep440(a, b);
    case 'npm':
      return compareSemver(a, b);
  }
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 48 && c <= 57;
const isAlpha = (c: number | undefined): boolean => c !== undefined && ((c >= 65 && c <= 90) || (c >= 97 && c <= 122));
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Two runs of ASCII digits as the numbers they write, however long. */
function compareDigits(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (a.charCodeAt(i) === 48) i++;
  while (b.charCodeAt(j) === 48) j++;
  return Math.sign(a.length - i - (b.length - j)) || cmp(a.slice(i), b.slice(j));
}

// ---- dpkg: [epoch:]upstream[-revision] (deb-version(7), lib/dpkg/version.c) --------------------

function compareDpkg(a: string, b: string): number {
  const x = splitDpkg(a);
  const y = splitDpkg(b);
  return compareDigits(x.epoch, y.epoch) || verrevcmp(x.upstream, y.upstream) || verrevcmp(x.revision, y.revision);
}

/** dpkg's parse, lenient where dpkg refuses (a non-numeric epoch is part of the upstream version). */
function splitDpkg(v: string): { epoch: string; upstream: string; revision: string } {
  v = v.trim();
  let epoch = '0';
  const colon = v.indexOf(':');
  if (colon > 0 && /^\d+$/.test(v.slice(0, colon))) {
    epoch = v.slice(0, colon);
    v = v.slice(colon + 1);
  }
  const hyphen = v.lastIndexOf('-');
  return hyphen < 0 ? { epoch, upstream: v, revision: '' } : { epoch, upstream: v.slice(0, hyphen), revision: v.slice(hyphen + 1) };
}

/**
 * A character's weight between digit runs: `~` before the end, the end before letters, letters
 * before everything else. On bytes, as dpkg on amd64 (signed char): a byte over 0x7f weighs its
 * value, between the letters and the ASCII punctuation.
 */
function dpkgOrder(c: number | undefined): number {
  if (c === undefined || isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126) return -1;
  return c >= 128 ? c : c + 256;
}

function verrevcmp(sa: string, sb: string): number {
  const a = Buffer.from(sa, 'utf8');
  const b = Buffer.from(sb, 'utf8');
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = dpkgOrder(a[i]);
      const bc = dpkgOrder(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === 48) i++;
    while (b[j] === 48) j++;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (!firstDiff) firstDiff = a[i] - b[j];
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

// ---- rpm: [epoch:]version[-release] (rpmio/rpmver.c, rpmvercmp.c) -------------------------------

function compareRpm(a: string, b: string): number {
  const x = splitRpm(a);
  const y = splitRpm(b);
  const c = rpmvercmp(x.epoch, y.epoch) || rpmvercmp(x.version, y.version);
  if (c || x.release === y.release) return c;
  // rpmverCmp: a release, whatever it is, is newer than none
  return x.release === undefined ? -1 : y.release === undefined ? 1 : rpmvercmp(x.release, y.release);
}

/** rpmverParse: leading digits and `:` are the epoch (none or empty: 0), after the last `-` the release. */
function splitRpm(evr: string): { epoch: string; version: string; release: string | undefined } {
  let i = 0;
  while (isDigit(evr.charCodeAt(i))) i++;
  const dash = evr.lastIndexOf('-');
  const hasEpoch = evr.charCodeAt(i) === 58;
  const start = hasEpoch ? i + 1 : 0;
  return {
    epoch: hasEpoch && i > 0 ? evr.slice(0, i) : '0',
    version: evr.slice(start, dash >= start ? dash : evr.length),
    release: dash >= start ? evr.slice(dash + 1) : undefined,
  };
}

const isAlnumAt = (s: string, i: number) => isDigit(s.charCodeAt(i)) || isAlpha(s.charCodeAt(i));

/**
 * rpmvercmp: alternating runs of digits (as numbers) and letters (as strings), anything else a
 * separator; `~` sorts before everything, even the end; `^` after the end but before anything else.
 */
function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnumAt(a, i) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnumAt(b, j) && b[j] !== '~' && b[j] !== '^') j++;
    const ca = a[i] ?? '';
    const cb = b[j] ?? '';
    if (ca === '~' || cb === '~') {
      if (ca !== '~') return 1;
      if (cb !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (ca === '^' || cb === '^') {
      if (ca === '') return -1;
      if (cb === '') return 1;
      if (ca !== '^') return 1;
      if (cb !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (ca === '' || cb === '') break;
    const numeric = isDigit(ca.charCodeAt(0));
    const inRun = numeric ? (s: string, k: number) => isDigit(s.charCodeAt(k)) : (s: string, k: number) => isAlpha(s.charCodeAt(k));
    let ei = i;
    let ej = j;
    while (ei < a.length && inRun(a, ei)) ei++;
    while (ej < b.length && inRun(b, ej)) ej++;
    // a number is newer than letters
    if (ej === j) return numeric ? 1 : -1;
    const c = numeric ? compareDigits(a.slice(i, ei), b.slice(j, ej)) : cmp(a.slice(i, ei), b.slice(j, ej));
    if (c) return c;
    i = ei;
    j = ej;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

// ---- apk: digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#} (apk-tools src/version.c) --------

const T_INITIAL_DIGIT = 0;
const T_DIGIT = 1;
const T_LETTER = 2;
const T_SUFFIX = 3;
const T_SUFFIX_NO = 4;
const T_COMMIT_HASH = 5;
const T_REVISION_NO = 6;
const T_END = 7;
const T_INVALID = 8;

/** apk's suffix order: the pre-release ones before "no suffix" (5), the post-release ones after. */
const SUFFIXES = new Map([
  ['alpha', 1],
  ['beta', 2],
  ['pre', 3],
  ['rc', 4],
  ['cvs', 6],
  ['svn', 7],
  ['git', 8],
  ['hg', 9],
  ['p', 10],
]);
const SUFFIX_NONE = 5;

interface Token {
  token: number;
  suffix: number;
  /** Its number in decimal digits (compareDigits). */
  number: string;
  value: string;
}

/**
 * A run of digits as apk_blob_pull_uint reads it, modulo 2^64, in decimal: up to 19 digits it is
 * below 2^64 and stays as written.
 */
function uint64(digits: string): string {
  if (digits.length <= 19) return digits;
  let v = 0n;
  for (let i = 0; i < digits.length; i += 15) {
    const chunk = digits.slice(i, i + 15);
    v = BigInt.asUintN(64, v * (chunk.length === 15 ? 10n ** 15n : 10n ** BigInt(chunk.length)) + BigInt(chunk));
  }
  return v.toString();
}

function span(s: string, at: number, ok: (c: number) => boolean): number {
  while (at < s.length && ok(s.charCodeAt(at))) at++;
  return at;
}

const isLower = (c: number) => c >= 97 && c <= 122;
const isHex = (c: number) => isDigit(c) || (c >= 97 && c <= 102);

function parseDigits(t: Token, s: string, at: number): number {
  const end = span(s, at, isDigit);
  t.value = s.slice(at, end);
  t.number = uint64(t.value);
  if (t.value === '') t.token = T_INVALID;
  return end;
}

/** The next token after t, from s at `at`; returns where it ends. */
function nextToken(t: Token, s: string, at: number): number {
  if (at >= s.length) {
    t.token = T_END;
    return at;
  }
  const c = s.charCodeAt(at);
  const invalid = () => {
    t.token = T_INVALID;
    return at;
  };
  if (isLower(c)) {
    if (t.token > T_DIGIT) return invalid();
    t.value = s[at];
    t.token = T_LETTER;
    return at + 1;
  }
  if (c === 46 /* . */ || isDigit(c)) {
    if (c === 46) {
      if (t.token > T_DIGIT) return invalid();
      at++;
    }
    if (t.token === T_INITIAL_DIGIT || t.token === T_DIGIT) t.token = T_DIGIT;
    else if (t.token === T_SUFFIX) t.token = T_SUFFIX_NO;
    else return invalid();
    return parseDigits(t, s, at);
  }
  if (c === 95 /* _ */) {
    if (t.token > T_SUFFIX_NO) return invalid();
    const end = span(s, at + 1, isLower);
    t.value = s.slice(at + 1, end);
    const suffix = SUFFIXES.get(t.value);
    if (suffix === undefined) return invalid();
    t.suffix = suffix;
    t.token = T_SUFFIX;
    return end;
  }
  if (c === 126 /* ~ */) {
    if (t.token >= T_COMMIT_HASH) return invalid();
    const end = span(s, at + 1, isHex);
    if (end === at + 1) return invalid();
    t.value = s.slice(at + 1, end);
    t.token = T_COMMIT_HASH;
    return end;
  }
  if (c === 45 /* - */) {
    if (t.token >= T_REVISION_NO || s[at + 1] !== 'r') return invalid();
    t.token = T_REVISION_NO;
    return parseDigits(t, s, at + 2);
  }
  return invalid();
}

function compareTokens(a: Token, b: Token): number {
  // a leading zero after a dot compares as a string, as Gentoo does
  if (a.token === T_DIGIT && (a.value[0] === '0' || b.value[0] === '0')) return cmp(a.value, b.value);
  switch (a.token) {
    case T_DIGIT:
    case T_INITIAL_DIGIT:
    case T_SUFFIX_NO:
    case T_REVISION_NO:
      return compareDigits(a.number, b.number);
    case T_LETTER:
      return cmp(a.value, b.value);
    case T_SUFFIX:
      return Math.sign(a.suffix - b.suffix);
    default:
      return cmp(a.value, b.value);
  }
}

function compareApk(a: string, b: string): number {
  const ta: Token = { token: T_INITIAL_DIGIT, suffix: 0, number: '', value: '' };
  const tb: Token = { token: T_INITIAL_DIGIT, suffix: 0, number: '', value: '' };
  let ia = parseDigits(ta, a, 0);
  let ib = parseDigits(tb, b, 0);
  while (ta.token === tb.token && ta.token < T_END) {
    const r = compareTokens(ta, tb);
    if (r) return r;
    ia = nextToken(ta, a, ia);
    ib = nextToken(tb, b, ib);
  }
  if (ta.token === tb.token) return 0;
  // the versions agree up to where one goes on: the longer is newer, unless it goes on with a
  // pre-release suffix (or ends where the other has a token that sorts before the end)
  if (ta.token === T_SUFFIX && ta.suffix < SUFFIX_NONE) return -1;
  if (tb.token === T_SUFFIX && tb.suffix < SUFFIX_NONE) return 1;
  return ta.token > tb.token ? -1 : 1;
}

// ---- PEP 440 (Python) ---------------------------------------------------------------------------

/** packaging's VERSION_PATTERN (case-insensitive, surrounding whitespace allowed). */
const PEP440 =
  /^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/i;
/** Longer strings are no version anyone wrote; not parsing them keeps the regex cheap. */
const MAX_PARSED = 256;

interface Pep440 {
  epoch: string;
  release: string[];
  /** a = 0, b = 1, rc = 2, and its number. */
  pre?: [number, string];
  post?: string;
  dev?: string;
  local?: string[];
}

function parsePep440(v: string): Pep440 | undefined {
  const m = v.length <= MAX_PARSED ? PEP440.exec(v) : null;
  if (!m) return undefined;
  const [, epoch, release, preL, preN, postN1, postL, postN2, devL, devN, local] = m;
  const release0 = release.split('.');
  while (release0.length > 0 && /^0+$/.test(release0[release0.length - 1])) release0.pop();
  const out: Pep440 = { epoch: epoch ?? '0', release: release0 };
  if (preL) {
    const l = preL.toLowerCase();
    out.pre = [l.startsWith('a') ? 0 : l.startsWith('b') ? 1 : 2, preN ?? '0'];
  }
  if (postN1 !== undefined || postL) out.post = postN1 ?? postN2 ?? '0';
  if (devL) out.dev = devN ?? '0';
  if (local) out.local = local.toLowerCase().split(/[-_.]/);
  return out;
}

/** -1 for "before everything" (−∞), 1 for "after everything" (+∞), else 0 and compare the values. */
function compareOptional(a: string | undefined, b: string | undefined, missing: -1 | 1): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? missing : -missing;
  return compareDigits(a, b);
}

function comparePep440(a: string, b: string): number {
  const x = parsePep440(a);
  const y = parsePep440(b);
  if (!x || !y) return x ? 1 : y ? -1 : natural(a, b);
  let c = compareDigits(x.epoch, y.epoch) || compareSequence(x.release, y.release, compareDigits);
  if (c) return c;
  // a dev release of a final version (1.0.dev0) comes before its pre-releases
  const preRank = (v: Pep440) => (v.pre ? 0 : v.post === undefined && v.dev !== undefined ? -1 : 1);
  c = preRank(x) - preRank(y);
  if (c) return Math.sign(c);
  if (x.pre && y.pre) c = x.pre[0] - y.pre[0] || compareDigits(x.pre[1], y.pre[1]);
  return Math.sign(
    c ||
      compareOptional(x.post, y.post, -1) ||
      compareOptional(x.dev, y.dev, 1) ||
      (x.local && y.local ? compareSequence(x.local, y.local, compareLocal) : x.local ? 1 : y.local ? -1 : 0),
  );
}

/** Local version segments: numbers compare as numbers and after any word. */
function compareLocal(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) return compareDigits(a, b);
  return na ? 1 : nb ? -1 : cmp(a, b);
}

function compareSequence(a: string[], b: string[], by: (x: string, y: string) => number): number {
  for (let i = 0; i < a.length && i < b.length; i++) {
    const c = by(a[i], b[i]);
    if (c) return c;
  }
  return Math.sign(a.length - b.length);
}

// ---- semver 2 (npm) -----------------------------------------------------------------------------

/** MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], with npm's tolerance of a leading `v` or `=`. */
const SEMVER = /^\s*[v=]*\s*(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*$/;

function compareSemver(a: string, b: string): number {
  const x = a.length <= MAX_PARSED ? SEMVER.exec(a) : null;
  const y = b.length <= MAX_PARSED ? SEMVER.exec(b) : null;
  if (!x || !y) return x ? 1 : y ? -1 : natural(a, b);
  const c = compareDigits(x[1], y[1]) || compareDigits(x[2], y[2]) || compareDigits(x[3], y[3]);
  if (c) return c;
  // a pre-release comes before its release; build metadata does not count
  if (x[4] === undefined || y[4] === undefined) return x[4] === y[4] ? 0 : x[4] === undefined ? 1 : -1;
  return compareSequence(x[4].split('.'), y[4].split('.'), (p, q) => {
    const np = /^\d+$/.test(p);
    const nq = /^\d+$/.test(q);
    if (np && nq) return compareDigits(p, q);
    return np ? -1 : nq ? 1 : cmp(p, q);
  });
}

/** Strings that are no version: digit runs as numbers, other runs as strings, run by run. */
function natural(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const da = isDigit(a.charCodeAt(i));
    const db = isDigit(b.charCodeAt(j));
    const ei = span(a, i, (c) => isDigit(c) === da);
    const ej = span(b, j, (c) => isDigit(c) === db);
    const c = da && db ? compareDigits(a.slice(i, ei), b.slice(j, ej)) : cmp(a.slice(i, ei), b.slice(j, ej));
    if (c) return c;
    i = ei;
    j = ej;
  }
  return Math.sign(a.length - i - (b.length - j));
}
