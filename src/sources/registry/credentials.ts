/**
 * Where registry credentials come from, in the order podman/skopeo look (docker reads only its own):
 * `--username`/`--password-stdin`, $REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json,
 * then $DOCKER_CONFIG/config.json (or ~/.docker/config.json) with its `credHelpers` and `credsStore`.
 */
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJson } from '../../util/json-doc.js';
import { StrataError } from '../../util/errors.js';
import { DOCKER_HUB } from './reference.js';

export type Credentials =
  | { kind: 'basic'; username: string; password: string; from: string }
  /** An OAuth2 refresh token (docker login with an identity provider): traded at the token endpoint. */
  | { kind: 'identity'; username: string; token: string; from: string };

/** Docker's config.json and containers' auth.json, as far as logins go (the rest of the file is ignored). */
const AuthEntry = z.looseObject({ auth: z.string().optional(), username: z.string().optional(), password: z.string().optional(), identitytoken: z.string().optional() });
const ConfigFile = z.looseObject({
  auths: z.record(z.string(), AuthEntry).optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
  credsStore: z.string().optional(),
});
type AuthEntry = z.output<typeof AuthEntry>;
type ConfigFile = z.output<typeof ConfigFile>;
/** What a docker-credential-NAME helper prints for `get`. */
const HelperAnswer = z.looseObject({ Username: z.string().optional(), Secret: z.string().optional() });

/** Docker Hub is stored under its v1 index URL by `docker login`. */
const HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];

/** `https://host:5000/v2/` -> `host:5000`: config keys are written in several forms. */
function normalizeKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//, '').replace(/\/v[12]\/?$/, '').replace(/\/$/, '');
}

function isHub(registry: string): boolean {
  return registry === DOCKER_HUB || HUB_KEYS.includes(registry);
}

function readConfig(path: string): ConfigFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  return parseJson(text, ConfigFile, path);
}

/**
 * The entry for `registry` (and `repository`, since auth.json may hold per-namespace entries
 * `host/org/repo`), the most specific key first.
 */
function findEntry<T>(map: Record<string, T> | undefined, registry: string, repository: string): T | undefined {
  if (!map) return undefined;
  const byKey = new Map(Object.entries(map).map(([k, v]) => [normalizeKey(k), v]));
  const parts = repository.split('/');
  for (let n = parts.length; n > 0; n--) {
    const hit = byKey.get(`${registry}/${parts.slice(0, n).join('/')}`);
    if (hit) return hit;
  }
  const hit = byKey.get(registry);
  if (hit) return hit;
  if (isHub(registry)) for (const k of HUB_KEYS) if (map[k]) return map[k];
  return undefined;
}

function fromEntry(e: AuthEntry, from: string): Credentials | undefined {
  let username = e.username ?? '';
  let password = e.password ?? '';
  if (e.auth) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const c = decoded.indexOf(':');
    if (c < 0) throw new StrataError(`${from}: "auth" is not base64 of user:password`);
    username = decoded.slice(0, c);
    password = decoded.slice(c + 1);
  }
  if (e.identitytoken) return { kind: 'identity', username, token: e.identitytoken, from };
  if (!username && !password) return undefined;
  return { kind: 'basic', username, password, from };
}

/** `docker-credential-NAME get`, server URL on stdin, {Username, Secret} on stdout. */
async function runHelper(name: string, server: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const prog = `docker-credential-${name}`;
  const { code, out, err } = await new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
    const p = spawn(prog, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', (e: NodeJS.ErrnoException) => reject(new StrataError(e.code === 'ENOENT' ? `credential helper ${prog} not found on PATH` : `credential helper ${prog}: ${e.message}`)));
    p.on('close', (c) => resolve({ code: c, out, err }));
    p.stdin.end(server);
  });
  const msg = (out + err).trim();
  if (code !== 0) {
    if (/credentials not found/i.test(msg)) return undefined;
    throw new StrataError(`credential helper ${prog} failed: ${msg.split('\n')[0] || `exit ${code}`}`);
  }
  const doc = parseJson(out, HelperAnswer, `credential helper ${prog}`);
  const from = `credential helper ${prog}`;
  if (doc.Username === '<token>') return { kind: 'identity', username: '', token: doc.Secret ?? '', from };
  return { kind: 'basic', username: doc.Username ?? '', password: doc.Secret ?? '', from };
}

function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  return join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json');
}

function podmanAuthPaths(env: NodeJS.ProcessEnv): string[] {
  const paths: string[] = [];
  if (env.REGISTRY_AUTH_FILE) paths.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) paths.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  return paths;
}

export async function findCredentials(registry: string, repository: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  for (const path of podmanAuthPaths(env)) {
    const entry = findEntry(readConfig(path)?.auths, registry, repository);
    const c = entry && fromEntry(entry, path);
    if (c) return c;
  }
  const path = dockerConfigPath(env);
  const cfg = readConfig(path);
  if (!cfg) return undefined;
  const server = isHub(registry) ? HUB_KEYS[0] : registry;
  const helper = findEntry(cfg.credHelpers, registry, repository);
  if (helper) return runHelper(helper, server, env);
  const entry = findEntry(cfg.auths, registry, repository);
  const c = entry && fromEntry(entry, path);
  if (c) return c;
  // credsStore holds the secrets; auths then lists the registries with empty entries.
  if (cfg.credsStore) return runHelper(cfg.credsStore, server, env);
  return undefined;
}
