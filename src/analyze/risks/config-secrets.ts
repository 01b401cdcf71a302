/**
 * Secrets in the image config itself: `ENV` values, labels, `CMD`/`ENTRYPOINT`, the history's
 * `created_by` lines (a token in an `ARG` or a `RUN` line) and any other string of it, readable by
 * anyone with `docker inspect` or `docker history`. Found in the raw config with the content rules,
 * walking its strings as scan/secret-mask.ts masks them (once, when the image is opened), so what
 * is listed here is what no analysis, renderer or cache ever sees.
 */
import type { Image, ImageConfig } from '../../image/image.js';
import { CONTENT_RULES } from '../../scan/secret-scan.js';
import { configScanner, readings, walk, AS_ENV, type Path } from '../../scan/secret-mask.js';
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

const describe = new Map(CONTENT_RULES.map((r) => [r.id, r.description]));

const REMEDY =
  'ENV, ARG and RUN lines are part of the image config: docker inspect and docker history show them to anyone who pulls the image. Pass build-time secrets with RUN --mount=type=secret, run-time ones with the container\'s environment or a secrets manager, and rotate this one.';

export function configSecrets(image: Image): ConfigSecret[] {
  const config = image.rawConfig ?? image.config;
  const layerOf = historyLayers(config);
  const out: ConfigSecret[] = [];
  walk(config, [], (path, key, text) => {
    const seen = new Set<string>();
    for (const reading of readings(key, text)) {
      for (const s of configScanner.spans(AS_ENV, reading)) {
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
