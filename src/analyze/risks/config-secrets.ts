/**
 * Secrets in the image config itself: `ENV` values and the history's `created_by` lines (a token in
 * an `ARG` or a `RUN` line), readable by anyone with `docker inspect` or `docker history`. Found
 * with the content rules (an Env entry also as a `.env` line), and masked wherever strata prints an
 * instruction or an Env entry: the value is replaced by its fingerprint.
 */
import type { Image } from '../../image/image.js';
import { CONTENT_RULES, defaultContentScan, SecretScanner } from '../../scan/secret-scan.js';
import { instructionText } from '../../image/history.js';

export interface ConfigSecret {
  /** `env`: config.Env[index]; `label`, `cmd`, `entrypoint`: those fields; `history`: config.history[index]. */
  where: 'env' | 'label' | 'cmd' | 'entrypoint' | 'history';
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

/** `text` with every secret value the content rules find replaced by its fingerprint. */
export function maskSecrets(text: string): string {
  const spans = scanner.spans(AS_ENV, text);
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

export function configSecrets(image: Image): ConfigSecret[] {
  const out: ConfigSecret[] = [];
  const add = (where: ConfigSecret['where'], index: number, name: string, field: string, layer: number | null, text: string) => {
    const seen = new Set<string>();
    for (const s of scanner.spans(AS_ENV, text)) {
      if (seen.has(s.fingerprint)) continue; // one value, several rules
      seen.add(s.fingerprint);
      out.push({ where, index, name, field, layer, rule: s.rule, description: describe.get(s.rule) ?? s.rule, fingerprint: s.fingerprint, remedy: REMEDY });
    }
  };
  const c = image.config.config ?? {};
  (c.Env ?? []).forEach((e, i) => add('env', i, e.split('=')[0], `ENV ${e.split('=')[0]}`, null, e));
  Object.entries(c.Labels ?? {}).forEach(([k, v], i) => add('label', i, k, `LABEL ${k}`, null, `${k}=${v}`));
  if (c.Cmd) add('cmd', 0, 'CMD', 'CMD', null, c.Cmd.join(' '));
  if (c.Entrypoint) add('entrypoint', 0, 'ENTRYPOINT', 'ENTRYPOINT', null, c.Entrypoint.join(' '));
  let layer = 0;
  (image.config.history ?? []).forEach((h, i) => {
    const text = `${h.created_by ?? ''}\n${h.comment ?? ''}`;
    const word = instructionText(h.created_by, h.comment).split(' ')[0] || 'history';
    add('history', i, word, `history ${i}: ${word}${h.empty_layer ? '' : ` (layer ${layer})`}`, h.empty_layer ? null : layer, text);
    if (!h.empty_layer) layer++;
  });
  return out;
}
