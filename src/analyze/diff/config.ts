/** The image config part of a diff: platform, user, workdir, entrypoint, cmd, and keyed env, labels, ports, volumes. */
import { formatPlatform } from '../../image/platform.js';
import type { ImageModel } from '../../model/read-image.js';

export type ConfigField = 'platform' | 'user' | 'workdir' | 'entrypoint' | 'cmd' | 'env' | 'label' | 'exposedPort' | 'volume';

export interface ConfigChange {
  field: ConfigField;
  /** Variable, label or port/volume name for the keyed fields. */
  key?: string;
  a: string | null;
  b: string | null;
}

export function diffConfig(a: ImageModel, b: ImageModel): ConfigChange[] {
  const ca = a.image.config.config ?? {}, cb = b.image.config.config ?? {};
  const out: ConfigChange[] = [];
  const scalar = (field: ConfigField, x: string | null, y: string | null) => {
    if (x !== y) out.push({ field, a: x, b: y });
  };
  // secret values (a token in ENV or CMD) are compared and shown as their fingerprints
  const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
  scalar('platform', formatPlatform(a.image.platform), formatPlatform(b.image.platform));
  scalar('user', ca.User || null, cb.User || null);
  scalar('workdir', ca.WorkingDir || null, cb.WorkingDir || null);
  scalar('entrypoint', json(ca.Entrypoint), json(cb.Entrypoint));
  scalar('cmd', json(ca.Cmd), json(cb.Cmd));
  const envMap = (env: string[] | null | undefined) => new Map((env ?? []).map((e) => [e.split('=', 1)[0], e.slice(e.indexOf('=') + 1)]));
  keyed(out, 'env', envMap(ca.Env), envMap(cb.Env));
  const labels = (l: Record<string, string> | null | undefined) => new Map(Object.entries(l ?? {}));
  keyed(out, 'label', labels(ca.Labels), labels(cb.Labels));
  const set = (o: Record<string, object> | null | undefined) => new Map(Object.keys(o ?? {}).map((k) => [k, k]));
  keyed(out, 'exposedPort', set(ca.ExposedPorts), set(cb.ExposedPorts));
  keyed(out, 'volume', set(ca.Volumes), set(cb.Volumes));
  return out;
}

function keyed(out: ConfigChange[], field: ConfigField, a: Map<string, string>, b: Map<string, string>): void {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const key of keys) {
    const x = a.get(key) ?? null, y = b.get(key) ?? null;
    if (x !== y) out.push({ field, key, a: x, b: y });
  }
}
