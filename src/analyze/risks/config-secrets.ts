/**
 * Secrets in the image config itself: `ENV` values, labels, `CMD`/`ENTRYPOINT`, the history's
 * `created_by` lines (a token in an `ARG` or a `RUN` line) and any other string of it, readable by
 * anyone with `docker inspect` or `docker history`. Found with the content rules (a `KEY: value`
 * entry also as the `.env` line `KEY=value`), and masked ONCE, when an image is opened
 * (sources/resolve.ts): `masked` replaces each value by its fingerprint, so no analysis,
 * renderer or cache ever sees one. Finding and masking walk the same strings the same way.
 */
import type { Image, ImageConfig } from '../../image/image.js';
import { CONTENT_RULES, defaultContentScan, SecretScanner } from '../../scan/secret-scan.js';
import { instructionText } from '../../image/history.js';

export interface ConfigSecret {
  /** `env`: config.Env[index]; `label`, `cmd`, `entrypoint`: those fields; `history`: config.history[index]; `config`: any other string. */
  where: 'env' | 'label' | 'cmd' | 'entrypoint' | 'history' | 'config';
  index: number;
  /** The variable's or label's name, or the instruction's first word (history). */
  name: string;
  /** Where, for people: `ENV GITHUB_TOKEN`, `LABEL ci.token`, `CMD`, `history 2: RUN (layer 1)`. */
  field: string;
  /** The layer the history entry made, or null (Env, and history entries without a layer). */
  layer: number | null;
  rule: string;
  description: string;
  fingerprint: string;
  remedy: string;
}

const scanner = new SecretScanner(defaultContentScan());
/** An Env entry is matched as a line of a `.env` file too (KEY=VALUE). */
const AS_ENV = '.env';
const describe = new Map(CONTENT_RULES.map((r) => [r.id, r.description]));

const REMEDY =
  'ENV, ARG and RUN lines are part of the image config: docker inspect and docker history show them to anyone who pulls the image. Pass build-time secrets with RUN --mount=type=secret, run-time ones with the container\'s environment or a secrets manager, and rotate this one.';

/** `text` with every secret value the content rules find replaced by its fingerprint; `path`: the file it is, for the rules that go by name. */
export function maskSecrets(text: string, path = AS_ENV): string {
  const spans = scanner.spans(path, text);
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

/** A config string as the rules read it: alone, and as `KEY=value` when it is the value of a key. */
function readings(key: string | undefined, value: string): string[] {
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
type Path = (string | number)[];

/** Every string of a JSON value with its path and the key it is the value of (keys are strings too). */
function walk(v: unknown, path: Path, visit: (path: Path, key: string | undefined, s: string) => void): void {
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

export function configSecrets(image: Image): ConfigSecret[] {
  const config = image.rawConfig ?? image.config;
  const layerOf = historyLayers(config);
  const out: ConfigSecret[] = [];
  walk(config, [], (path, key, text) => {
    const seen = new Set<string>();
    for (const reading of readings(key, text)) {
      for (const s of scanner.spans(AS_ENV, reading)) {
        if (seen.has(s.fingerprint)) continue; // one value, several rules or readings
        seen.add(s.fingerprint);
        out.push({ ...placeOf(path, config, layerOf), rule: s.rule, description: describe.get(s.rule) ?? s.rule, fingerprint: s.fingerprint, remedy: REMEDY });
      }
    }
  });
  return out.sort((a, b) => ORDER.indexOf(a.where) - ORDER.indexOf(b.where));
}

/** The order findings are listed in (stable within a kind): the run-time config first, the history last. */
const ORDER: ConfigSecret['where'][] = ['env', 'label', 'cmd', 'entrypoint', 'config', 'history'];

/** The layer each history entry made (null for empty layers). */
function historyLayers(config: ImageConfig): (number | null)[] {
  let layer = 0;
  return (config.history ?? []).map((h) => (h?.empty_layer ? null : layer++));
}

/** Where a config string sits, for people and for SARIF. */
function placeOf(path: Path, config: ImageConfig, layerOf: (number | null)[]): Pick<ConfigSecret, 'where' | 'index' | 'name' | 'field' | 'layer'> {
  const [top, second, third] = path;
  if (top === 'config' && second === 'Env' && typeof third === 'number') {
    const name = (config.config?.Env?.[third] ?? '').split('=')[0];
    return { where: 'env', index: third, name, field: `ENV ${name}`, layer: null };
  }
  if (top === 'config' && second === 'Labels' && typeof third === 'string') {
    return { where: 'label', index: Object.keys(config.config?.Labels ?? {}).indexOf(third), name: third, field: `LABEL ${third}`, layer: null };
  }
  if (top === 'config' && (second === 'Cmd' || second === 'Entrypoint')) {
    const word = second === 'Cmd' ? 'CMD' : 'ENTRYPOINT';
    return { where: word === 'CMD' ? 'cmd' : 'entrypoint', index: 0, name: word, field: word, layer: null };
  }
  if (top === 'history' && typeof second === 'number') {
    const h = config.history?.[second];
    const word = instructionText(h?.created_by, h?.comment).split(' ')[0] || 'history';
    const layer = layerOf[second] ?? null;
    return { where: 'history', index: second, name: word, field: `history ${second}: ${word}${layer === null ? '' : ` (layer ${layer})`}`, layer };
  }
  const field = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
  return { where: 'config', index: 0, name: String(path[path.length - 1] ?? ''), field, layer: null };
}
