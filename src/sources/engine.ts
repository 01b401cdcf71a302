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
import type { Image, Layer } from '../image/image.js';
import { checkImageConfig, ConfigSchema } from '../image/oci.js';
import { Digest } from '../util/digest.js';
import type { BlobCache } from '../cache/cache.js';
import type { FileTree } from './file-tree.js';
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
  /** Where an exported image's config is kept by its digest, so that a later run finds its cached report without exporting. */
  configs?: BlobCache;
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

/**
 * `name` from the engine at `ep`: a stand-in from the config kept by an earlier export when the
 * engine still names the same config and layers (a cached report then needs no export), else the
 * image exported and read as a `docker save` archive.
 */
export async function openEngineImage(ep: Endpoint, name: string, refText: string, opts: EngineOptions): Promise<Image> {
  const exported = () => exportedImage(ep, name, refText, opts);
  return (await standIn(ep, name, refText, opts, exported)) ?? exported();
}

/** What `GET /images/NAME/json` says of an image: its config digest and its layers' diffIDs. */
const EngineImage = z.looseObject({
  Id: Digest,
  RepoTags: z.array(z.string()).nullish(),
  RootFS: z.looseObject({ Layers: z.array(Digest).nullish() }),
});

/**
 * The image as the engine describes it and its kept config tells, without its layers' bytes. The
 * config is kept by digest (hashed again as it is read) and must be the one the engine names, with
 * the same diffIDs. Its layers are named by diffID and taken as content-addressed: the engine
 * verified them when it built or loaded them, and it is the user's own (docs/security.md, section 8);
 * a cached report still stands only for diffIDs a verified read of this machine gave.
 */
async function standIn(ep: Endpoint, name: string, refText: string, opts: EngineOptions, exported: () => Promise<Image>): Promise<Image | undefined> {
  if (!opts.configs) return undefined;
  let res: IncomingMessage;
  try {
    res = await engineGet(ep, `/images/${encodeURI(name)}/json`, opts.probeTimeoutMs ?? 60_000);
  } catch {
    return undefined; // the export says why
  }
  const body = await readAll(res);
  if (res.statusCode !== 200) return undefined;
  const where = `${ep.kind} engine at ${ep.url}: image ${name}`;
  const info = parseJson(body, EngineImage, where);
  const kept = await opts.configs.get(info.Id).catch(() => undefined);
  if (!kept) return undefined;
  const parts: Buffer[] = [];
  try {
    for await (const c of kept) parts.push(c);
  } catch {
    return undefined; // damaged on disk: removed, and the export makes it again
  }
  const config = parseJson(Buffer.concat(parts), ConfigSchema, `${where} config ${info.Id}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== (info.RootFS.Layers ?? []).length || diffIds.some((d, i) => d !== info.RootFS.Layers![i])) return undefined;
  const platform = checkImageConfig(config, diffIds.length, where, { listedIn: 'the engine', want: opts.platform });
  const layers: Layer[] = diffIds.map((diffId, index) => ({
    index,
    diffId,
    digest: diffId,
    where: `layer ${index} (${diffId.slice(0, 19)}…)`,
    contentAddressed: true,
    open: () => {
      throw new StrataError(`${where}: layer ${index} is read through an export (reopen)`);
    },
  }));
  return { ref: refText, source: ep.kind === 'docker' ? 'docker-daemon' : 'podman', tags: info.RepoTags ?? [], configDigest: info.Id, config, platform, layers, reopen: exported };
}

/** The image exported from the engine and read as it streams; its config kept for the next run's stand-in. */
async function exportedImage(ep: Endpoint, name: string, refText: string, opts: EngineOptions): Promise<Image> {
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
  const image = await readDockerArchive(tree, refText, ep.kind === 'docker' ? 'docker-daemon' : 'podman', { platform: opts.platform });
  await keepConfig(tree, image, opts.configs);
  return image;
}

/** The config's bytes, from where `docker save` writes them (Docker 25+: blobs/ALG/HEX; before: HEX.json), into the blob cache by digest. */
async function keepConfig(tree: FileTree, image: Image, configs: BlobCache | undefined): Promise<void> {
  if (!configs) return;
  const [alg, hex] = image.configDigest.split(':');
  const path = [`blobs/${alg}/${hex}`, `${hex}.json`].find((p) => tree.has(p));
  if (!path) return;
  try {
    const bytes = await tree.read(path);
    for await (const _ of configs.through(image.configDigest, (async function* () { yield bytes; })())); // verified, then kept
  } catch {
    // the cache only saves time
  }
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
