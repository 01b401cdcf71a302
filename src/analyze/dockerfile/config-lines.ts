/**
 * The image config as Dockerfile instructions. The config strata holds is already masked (every
 * secret value replaced by `‹secret sha256:…›` when the image was opened, scan/secret-mask.ts), so
 * no value can leak here; a line that held one is not carried over as it was: an ENV becomes an ARG
 * with a note, anything else a note. Every value is hostile: what the Dockerfile syntax cannot hold
 * exactly (a line break in an ENV value, a malformed port) is left out with a note, never written
 * half-escaped.
 */
import type { ImageConfig } from '../../image/image.js';
import type { ConfigLine } from './types.js';

const MASK = '‹secret ';
// not starting with `-`: a Dockerfile reads a leading `--` as a flag of the instruction
const SAFE_WORD = /^[A-Za-z0-9_./:,@%+][A-Za-z0-9_./:,@%+=-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** What a Dockerfile line must not hold raw: C0 but TAB, DEL, C1, and the format characters that reorder or hide text (bidi, zero-width). */
// eslint-disable-next-line no-control-regex
export const UNWRITABLE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]/u;
const UNWRITABLE_ALL = new RegExp(UNWRITABLE.source, 'gu');

/** JSON text with every character UNWRITABLE matches as a `\uXXXX` escape (JSON.stringify leaves C1, bidi and zero-width ones raw). */
export function jsonText(value: unknown): string {
  // by UTF-16 unit: a format character past U+FFFF (a tag character) is a surrogate pair, both escaped
  return JSON.stringify(value).replace(UNWRITABLE_ALL, (c) => [...c.split('')].map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''));
}

/** A word of an instruction that expands variables (ENV, LABEL, WORKDIR…): `$`, `\` and quotes escaped. */
export function dockerWord(s: string): string | undefined {
  if (UNWRITABLE.test(s)) return undefined;
  return SAFE_WORD.test(s) ? s : `"${s.replace(/[\\"$]/g, '\\$&')}"`;
}

/** A JSON array for the exec forms (CMD, ENTRYPOINT, SHELL): no variable expansion there. */
export function execForm(words: string[]): string {
  return jsonText(words);
}

/** A word of an instruction that expands variables and reads quotes (COPY, ADD, VOLUME), as it must be written to mean itself. */
export function expandedWord(w: string): string {
  return w.replace(/[\\$'"]/g, '\\$&');
}

/** A JSON array for an instruction that does expand variables and reads quotes (VOLUME): `$`, `\` and quotes escaped. */
function expandingArray(words: string[]): string | undefined {
  if (words.some((w) => UNWRITABLE.test(w))) return undefined;
  return jsonText(words.map(expandedWord));
}

type RawConfig = NonNullable<ImageConfig['config']> & {
  Healthcheck?: { Test?: unknown; Interval?: unknown; Timeout?: unknown; StartPeriod?: unknown; Retries?: unknown } | null;
  StopSignal?: unknown;
  Shell?: unknown;
};

interface Lines {
  lines: ConfigLine[];
  notes: string[];
}

function collector(): Lines & { skip: (what: string, why: string) => void } {
  const out: Lines = { lines: [], notes: [] };
  return { ...out, skip: (what, why) => out.notes.push(`${what}: ${why}; not carried over`) };
}

/** ENV, written right after FROM: the build steps run with it, as they did in the original. */
export function envLines(config: ImageConfig): Lines {
  const c = (config.config ?? {}) as RawConfig;
  const { lines, notes, skip } = collector();
  for (const kv of strings(c.Env)) {
    const eq = kv.indexOf('=');
    const name = eq < 0 ? kv : kv.slice(0, eq);
    const value = eq < 0 ? '' : kv.slice(eq + 1);
    if (!ENV_NAME.test(name)) {
      skip('an ENV entry', 'its name is not a variable name');
      continue;
    }
    if (value.includes(MASK)) {
      lines.push({ instruction: 'ARG', text: name, note: `ENV ${name} held a secret (${fingerprints(value)}): pass it when the container runs (docker run -e ${name}), or at build time with RUN --mount=type=secret` });
      continue;
    }
    const word = dockerWord(value);
    if (word === undefined) skip(`ENV ${name}`, 'its value holds a control character a Dockerfile cannot write');
    else lines.push({ instruction: 'ENV', text: `${name}=${word}` });
  }
  return { lines, notes };
}

/** The instructions after the build steps (USER last but for ENTRYPOINT and CMD: the steps run as root). */
export function finalLines(config: ImageConfig): Lines {
  const c = (config.config ?? {}) as RawConfig;
  const { lines, notes, skip } = collector();
  for (const [key, value] of Object.entries(c.Labels ?? {})) {
    if (typeof value !== 'string') continue;
    if (key.includes(MASK) || value.includes(MASK)) {
      skip(`LABEL ${key.includes(MASK) ? '(masked key)' : key}`, `it held a secret (${fingerprints(key + value)})`);
      continue;
    }
    const k = dockerWord(key), v = dockerWord(value);
    // a Dockerfile splits KEY=VALUE at the first `=`, quoted or not: such a key cannot be written
    if (k !== undefined && key.includes('=')) skip(`LABEL ${k}`, 'its key holds `=`, which a Dockerfile reads as the end of the key');
    else if (k === undefined || v === undefined) skip(`LABEL ${k ?? 'with a control character'}`, 'a Dockerfile cannot write it');
    else lines.push({ instruction: 'LABEL', text: `${k}=${v}` });
  }
  for (const port of Object.keys(c.ExposedPorts ?? {})) {
    if (/^\d{1,5}(\/(tcp|udp|sctp))?$/.test(port) && parseInt(port, 10) <= 65535) lines.push({ instruction: 'EXPOSE', text: port });
    else skip('an EXPOSE entry', 'it is not PORT[/tcp|udp|sctp]');
  }
  const volumes: string[] = [];
  for (const v of Object.keys(c.Volumes ?? {})) {
    if (v.trim()) volumes.push(v);
    else skip('a VOLUME entry', 'it is empty (a build refuses one)');
  }
  if (volumes.length) {
    const v = expandingArray(volumes);
    if (v === undefined) skip('VOLUME', 'a path holds a control character');
    else lines.push({ instruction: 'VOLUME', text: v });
  }
  const signal = c.StopSignal;
  if (typeof signal === 'string' && signal) {
    if (/^[A-Z0-9+]{1,20}$/.test(signal)) lines.push({ instruction: 'STOPSIGNAL', text: signal });
    else skip('STOPSIGNAL', 'it is not a signal name or number');
  }
  const health = healthcheck(c.Healthcheck);
  if (typeof health === 'object') lines.push(health.text.includes(MASK) ? { ...health, note: `HEALTHCHECK held a secret (${fingerprints(health.text)}): written masked; give the value at run time` } : health);
  else if (health) skip('HEALTHCHECK', health);
  const shell = strings(c.Shell);
  if (shell.length) lines.push({ instruction: 'SHELL', text: execForm(shell) });
  if (typeof c.WorkingDir === 'string' && c.WorkingDir) {
    const w = c.WorkingDir.includes(MASK) ? undefined : dockerWord(c.WorkingDir);
    // a relative WORKDIR is taken from the one before it (`/`): not the config's
    if (!c.WorkingDir.startsWith('/')) skip('WORKDIR', 'it is not an absolute path');
    else if (w === undefined) skip('WORKDIR', 'a Dockerfile cannot write it');
    else lines.push({ instruction: 'WORKDIR', text: w });
  }
  if (typeof c.User === 'string' && c.User) {
    if (/^[A-Za-z0-9_.][A-Za-z0-9_.-]*(:[A-Za-z0-9_.-]+)?$/.test(c.User)) lines.push({ instruction: 'USER', text: c.User });
    else skip('USER', 'it is not a user[:group] name or id');
  }
  for (const [word, value] of [['ENTRYPOINT', c.Entrypoint], ['CMD', c.Cmd]] as const) {
    const args = strings(value);
    if (!args.length) continue;
    const masked = args.some((a) => a.includes(MASK));
    lines.push({ instruction: word, text: execForm(args), ...(masked ? { note: `${word} held a secret (${fingerprints(args.join(' '))}): written masked; give the value at run time` } : {}) });
  }
  return { lines, notes };
}

/** The HEALTHCHECK line, or why a Dockerfile cannot write the config's (undefined: it has none). */
function healthcheck(h: RawConfig['Healthcheck']): ConfigLine | string | undefined {
  if (!h) return undefined;
  if (typeof h !== 'object') return 'it is not one a Dockerfile can write';
  const test = strings(h.Test);
  if (test[0] === 'NONE') return { instruction: 'HEALTHCHECK', text: 'NONE' };
  const opts: string[] = [];
  for (const [flag, ns] of [['interval', h.Interval], ['timeout', h.Timeout], ['start-period', h.StartPeriod]] as const) {
    if (ns === undefined || ns === null || ns === 0) continue; // the default
    // a build takes a Go duration of at least 1ms; nanoseconds exactly, whole milliseconds where they are
    if (typeof ns !== 'number' || !Number.isSafeInteger(ns) || ns < 1e6) return `its ${flag} is not a duration a Dockerfile can write`;
    opts.push(`--${flag}=${ns % 1e6 ? `${ns}ns` : `${ns / 1e6}ms`}`);
  }
  const retries = h.Retries;
  if (retries !== undefined && retries !== null && retries !== 0) {
    // read as a 32-bit integer, never negative
    if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0 || retries > 2 ** 31 - 1) return 'its retries are not a count a Dockerfile can write';
    opts.push(`--retries=${retries}`);
  }
  const prefix = opts.length ? `${opts.join(' ')} ` : '';
  if (test[0] === 'CMD' && test.length > 1) return { instruction: 'HEALTHCHECK', text: `${prefix}CMD ${execForm(test.slice(1))}` };
  if (test[0] !== 'CMD-SHELL' || test.length !== 2) return 'it is not one a Dockerfile can write';
  // CMD-SHELL is the shell form, written raw up to the end of the line: only a text the parser reads back as it is
  const why = shellFormProblem(test[1]);
  return why ?? { instruction: 'HEALTHCHECK', text: `${prefix}CMD ${test[1]}` };
}

/** Why a Dockerfile would not read `text`, written raw at the end of a line, as that text. */
function shellFormProblem(text: string): string | undefined {
  if (UNWRITABLE.test(text)) return 'its command holds a control character a Dockerfile cannot write';
  if (!text.trim() || text.trim() !== text) return 'its command is empty or begins or ends with white space, which a Dockerfile drops';
  if (text.endsWith('\\')) return 'its command ends with `\\`, which a Dockerfile reads as a line continuation';
  if (text.startsWith('[') && jsonArray(text)) return 'its command reads as a JSON array, which a Dockerfile takes for the exec form';
  return undefined;
}

function jsonArray(text: string): boolean {
  try {
    return Array.isArray(JSON.parse(text));
  } catch {
    return false;
  }
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

function fingerprints(text: string): string {
  return [...text.matchAll(/‹secret (sha256:[0-9a-f]+)›/g)].map((m) => m[1]).join(', ') || 'masked';
}
