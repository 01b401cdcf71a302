/**
 * Secret values masked in the image config, ONCE, when an image is opened (sources/resolve.ts):
 * `masked` replaces each value the built-in content rules recognise by its fingerprint, in every
 * string and key, so that no analysis, renderer or cache ever sees one (docs/security.md).
 * analyze/risks/config-secrets.ts finds them in the raw config walking the same strings the same way.
 */
import { defaultContentScan, fingerprintOf, SecretScanner } from './secret-scan.js';

export const configScanner = new SecretScanner(defaultContentScan());
/** Config strings are matched as lines of a `.env` file (KEY=VALUE). */
export const AS_ENV = '.env';

/** `text` with every secret value the content rules find replaced by its fingerprint; `path`: the file it is, for the rules that go by name. */
export function maskSecrets(text: string, path = AS_ENV): string {
  const spans = configScanner.spans(path, text);
  if (!spans.length) return text;
  let out = '';
  let at = 0;
  for (const s of [...spans].sort((a, b) => a.start - b.start)) {
    if (s.start < at) continue; // found by two rules: masked once
    out += `${text.slice(at, s.start)}‹secret ${s.fingerprint}›`;
    at = s.end;
  }
  return out + text.slice(at);
}

/**
 * A URL read from an image (pip's `direct_url.json`) as it may be shown: its userinfo
 * (`user:password@`, or a token given as the user) masked whatever it holds, since no rule knows
 * every credential a URL may carry, then every secret the rules find in the rest.
 */
export function maskUrl(url: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)@/.exec(url);
  const rest = m ? url.slice(m[0].length) : url;
  return `${m ? `${m[1]}‹secret ${fingerprintOf(m[2])}›@` : ''}${maskSecrets(rest)}`;
}

/** A config string as the rules read it: alone, and as `KEY=value` when it is the value of a key. */
export function readings(key: string | undefined, value: string): string[] {
  return key === undefined ? [value] : [`${key}=${value}`, value];
}

/** `value` masked in each of its readings (a `KEY=` prefix the rules read it with is taken off again). */
function maskValue(key: string | undefined, value: string): string {
  let out = value;
  if (key !== undefined) {
    const whole = maskSecrets(`${key}=${value}`);
    out = whole.startsWith(`${key}=`) ? whole.slice(key.length + 1) : maskSecrets(value);
  }
  return maskSecrets(out);
}

/** Path of a config string: `config.Labels.k`, `history[2].created_by`. */
export type Path = (string | number)[];

/** Every string of a JSON value with its path and the key it is the value of (keys are strings too). */
export function walk(v: unknown, path: Path, visit: (path: Path, key: string | undefined, s: string) => void): void {
  if (typeof v === 'string') {
    const last = path[path.length - 1];
    visit(path, typeof last === 'string' ? last : undefined, v);
  } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i], visit));
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      visit([...path, k], undefined, k);
      walk(x, [...path, k], visit);
    }
  }
}

/** A deep copy of `v` with every secret value, in keys and values, masked. */
function maskDeep(v: unknown, key?: string): unknown {
  if (typeof v === 'string') return maskValue(key, v);
  if (Array.isArray(v)) return v.map((x) => maskDeep(x));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [maskSecrets(k), maskDeep(x, k)]));
  return v;
}

/** A config (or manifest annotations) as analyses, renderers and caches see it: every secret value the rules find, masked. */
export function masked<T>(value: T): T {
  return maskDeep(value) as T;
}

