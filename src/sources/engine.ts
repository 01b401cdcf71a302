/**
 * Images held by a local engine. Docker: its Engine API (DOCKER_HOST, default the unix socket
 * /var/run/docker.sock), `GET /images/get?names=REF` streamed straight into the stream-archive reader,
 * so nothing lands on disk. Podman: the same Docker-compatible API on its socket, else
 * `podman image save` on a pipe.
 */
import http, { type IncomingMessage } from 'node:http';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJson } from '../util/json-doc.js';
import { StrataError } from '../util/errors.js';
import type { Image } from '../image/image.js';
import type { Platform } from '../image/platform.js';
import { readDockerArchive } from './docker-archive.js';
import { readStreamTree } from './stream-archive.js';
import type { ContentScanSettings } from '../scan/secret-scan.js';

export type EngineKind = 'docker' | 'podman';

export interface Endpoint {
  kind: EngineKind;
  /** As the user would write it: `unix:///var/run/docker.sock`, `tcp://127.0.0.1:2375`. */
  url: string;
  socketPath?: string;
  host?: string;
  port?: number;
}

export interface EngineOptions {
  platform?: Platform;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for an engine to answer a ping or an inspect. */
  probeTimeoutMs?: number;
  /** What the layers, scanned as the export passes, read small files for. */
  secrets?: ContentScanSettings;
}

export function parseEngineUrl(kind: EngineKind, url: string, envName: string): Endpoint {
  if (url.startsWith('unix://')) return { kind, url, socketPath: url.slice('unix://'.length) };
  if (url.startsWith('/')) return { kind, url: `unix://${url}`, socketPath: url };
  const m = /^(?:tcp|http):\/\/([^/:]+|\[[^\]]+\])(?::(\d+))?\/?$/.exec(url);
  if (m) return { kind, url, host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2] ?? 2375) };
  throw new StrataError(`${envName}=${url}: only unix:// and tcp:// (plain HTTP) engine addresses are supported`);
}

export function dockerEndpoint(env: NodeJS.ProcessEnv): Endpoint {
  return parseEngineUrl('docker', env.DOCKER_HOST || 'unix:///var/run/docker.sock', 'DOCKER_HOST');
}

/** CONTAINER_HOST, else the rootless socket, else the system one. */
export function podmanEndpoints(env: NodeJS.ProcessEnv): Endpoint[] {
  if (env.CONTAINER_HOST) return [parseEngineUrl('podman', env.CONTAINER_HOST, 'CONTAINER_HOST')];
  const out: Endpoint[] = [];
  if (env.XDG_RUNTIME_DIR) out.push(parseEngineUrl('podman', join(env.XDG_RUNTIME_DIR, 'podman', 'podman.sock'), 'XDG_RUNTIME_DIR'));
  out.push(parseEngineUrl('podman', '/run/podman/podman.sock', 'podman socket'));
  return out;
}

function engineGet(ep: Endpoint, path: string, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: ep.socketPath, host: ep.host, port: ep.port, path, method: 'GET', headers: { Host: 'engine' } }, resolve);
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer in ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

async function readAll(res: IncomingMessage): Promise<string> {
  let s = '';
  for await (const c of res) s += c;
  return s;
}

/** The Engine API's error body (`{"message": …}`); its text as it came otherwise. */
function engineMessage(body: string): string {
  try {
    return parseJson(body, EngineError, 'engine answer').message;
  } catch {
    return body.trim();
  }
}

const EngineError = z.looseObject({ message: z.string() });

/** Whether the engine answers and holds `name`: undefined when nothing answers at that address. */
export async function engineHas(ep: Endpoint, name: string, timeoutMs = 3000): Promise<boolean | undefined> {
  let res: IncomingMessage;
  try {
    res = await engineGet(ep, `/images/${encodeURI(name)}/json`, timeoutMs);
  } catch {
    return undefined;
  }
  res.resume();
  return res.statusCode === 200;
}

/** `GET /images/get` of `name`: its `docker save` stream, or a one-line error naming the engine. */
async function exportImage(ep: Endpoint, name: string, opts: EngineOptions): Promise<IncomingMessage> {
  let res: IncomingMessage;
  try {
    res = await engineGet(ep, `/images/get?names=${encodeURIComponent(name)}`, opts.probeTimeoutMs ?? 60_000);
  } catch (e) {
    throw unreachable(ep, e as NodeJS.ErrnoException);
  }
  if (res.statusCode !== 200) {
    const msg = engineMessage(await readAll(res));
    throw new StrataError(`${ep.kind} engine at ${ep.url}: ${res.statusCode === 404 ? `no image ${name}` : `cannot export ${name}`}: ${msg || `HTTP ${res.statusCode}`}`);
  }
  return res;
}

/** Stream `name` out of the engine at `ep` and read it as a `docker save` archive. */
export async function openEngineImage(ep: Endpoint, name: string, refText: string, opts: EngineOptions): Promise<Image> {
  const res = await exportImage(ep, name, opts);
  // Content of a large layer (diff --file) comes from a second export, read up to that layer.
  const again = async function* (): AsyncGenerator<Buffer> {
    const r = await exportImage(ep, name, opts);
    try {
      yield* r as AsyncIterable<Buffer>;
    } finally {
      r.destroy();
    }
  };
  const tree = await readStreamTree(res, `${ep.kind}:${name}`, again, opts.secrets);
  return readDockerArchive(tree, refText, ep.kind === 'docker' ? 'docker-daemon' : 'podman', { platform: opts.platform });
}

function unreachable(ep: Endpoint, e: NodeJS.ErrnoException): StrataError {
  const why = e.code === 'ENOENT' ? 'no socket' : e.code === 'EACCES' ? 'permission denied (are you in the docker group?)' : e.code === 'ECONNREFUSED' ? 'connection refused' : e.message;
  const hint = ep.kind === 'docker' ? 'start Docker or set DOCKER_HOST' : 'start `podman system service` or set CONTAINER_HOST';
  return new StrataError(`no ${ep.kind} engine reachable at ${ep.url}: ${why}; ${hint}`);
}

/** `podman:REF`: the first podman socket that answers, else `podman image save` on a pipe. */
export async function openPodmanImage(name: string, refText: string, opts: EngineOptions): Promise<Image> {
  const env = opts.env ?? process.env;
  for (const ep of podmanEndpoints(env)) {
    const has = await engineHas(ep, name, opts.probeTimeoutMs);
    // podman's export of an absent image is a 500 naming docker.io/library/NAME: say it plainly
    if (has === false) throw new StrataError(`podman engine at ${ep.url}: no image ${name}`);
    if (has) return openEngineImage(ep, name, refText, opts);
  }
  return podmanSave(name, refText, opts, env);
}

async function podmanSave(name: string, refText: string, opts: EngineOptions, env: NodeJS.ProcessEnv): Promise<Image> {
  const p = spawn('podman', saveArgs(name), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve, reject) => {
    p.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT'
      ? new StrataError(`no podman engine reachable: no API socket (${podmanEndpoints(env).map((e) => e.url).join(', ')}) and no podman command`)
      : new StrataError(`podman image save ${name}: ${e.message}`)));
    p.on('close', resolve);
  });
  exited.catch(() => undefined); // awaited below; keep an early spawn failure from counting as unhandled
  let tree;
  try {
    tree = await readStreamTree(p.stdout, `podman:${name}`, () => saveAgain(name, env), opts.secrets);
  } catch (e) {
    const code = await exited;
    if (code !== 0) throw new StrataError(`podman image save ${name}: ${err.trim().split('\n').pop() || `exit ${code}`}`);
    throw e;
  }
  const code = await exited;
  if (code !== 0) throw new StrataError(`podman image save ${name}: ${err.trim().split('\n').pop() || `exit ${code}`}`);
  return readDockerArchive(tree, refText, 'podman', { platform: opts.platform });
}

/** `podman image save` once more, for the content of a large layer; the child ends with the read. */
async function* saveAgain(name: string, env: NodeJS.ProcessEnv): AsyncGenerator<Buffer> {
  const p = spawn('podman', saveArgs(name), { env, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    yield* p.stdout as AsyncIterable<Buffer>;
  } finally {
    p.kill();
  }
}

function saveArgs(name: string): string[] {
  return ['image', 'save', '--format', 'docker-archive', name];
}
