/**
 * The OCI distribution API for one repository: ping, manifests by tag or digest, blobs streamed with
 * their size checked as they arrive and an interrupted transfer resumed with a Range request.
 */
import { createHash } from 'node:crypto';
import { StrataError } from '../../util/errors.js';
import { MediaType } from '../../image/oci.js';
import { Auth } from './auth.js';
import type { Credentials } from './credentials.js';
import { Http, readBody, TransportError, type HttpOptions, type RequestInit, type Response } from './http.js';
import { DOCKER_HUB, DOCKER_HUB_API, isLoopback } from './reference.js';

const MANIFEST_ACCEPT = [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerList].join(', ');
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Resumes of one blob before giving up. */
const MAX_RESUMES = 5;

export interface ClientOptions extends HttpOptions {
  /** Allow plain HTTP (and unverified TLS) for a non-loopback registry. */
  insecure: boolean;
  credentials: () => Promise<Credentials | undefined>;
  onNote?: (msg: string) => void;
}

export interface FetchedManifest {
  doc: unknown;
  mediaType?: string;
  digest: string;
}

export interface BlobRef {
  digest: string;
  size: number;
}

export class RegistryClient {
  private base?: URL;
  private readonly http: Http;
  private readonly auth: Auth;
  private readonly scope: string;

  /** `push`: the token asked for also allows uploads (`strata optimize -o docker://…`). */
  constructor(readonly registry: string, readonly repository: string, private readonly opts: ClientOptions, push = false) {
    this.http = new Http({ ...opts, insecureTls: opts.insecure });
    this.auth = new Auth(this.http, registry, opts.credentials);
    this.scope = `repository:${repository}:${push ? 'pull,push' : 'pull'}`;
  }

  /** GET /v2/: find the scheme this registry speaks and check it is a registry at all. */
  async ping(): Promise<void> {
    const host = this.registry === DOCKER_HUB ? DOCKER_HUB_API : this.registry;
    const mayHttp = this.opts.insecure || isLoopback(this.registry);
    let res: Response | undefined;
    let httpsProblem = '';
    try {
      res = await this.http.send(new URL(`https://${host}/v2/`));
    } catch (e) {
      if (!mayHttp || !(e instanceof TransportError)) throw within(this.registry, e);
      httpsProblem = e.message;
    }
    if (!res) {
      try {
        res = await this.http.send(new URL(`http://${host}/v2/`));
      } catch (e) {
        throw within(this.registry, e, httpsProblem ? `HTTPS: ${httpsProblem}; HTTP` : undefined);
      }
    }
    res.body.resume();
    if (res.status !== 200 && res.status !== 401) {
      throw new StrataError(`${this.registry}: ${res.url.origin}/v2/ answered HTTP ${res.status}; not a registry (OCI distribution API)`);
    }
    this.base = new URL(`${res.url.protocol}//${host}/v2/${this.repository}/`);
  }

  /** A GET under /v2/<repository>/, authenticated as needed. */
  async get(path: string, headers: Record<string, string>, what: string): Promise<Response> {
    return this.request(path, { headers }, what);
  }

  /** A request to a path under /v2/<repository>/ (or a URL the registry gave), authenticated as needed. */
  async request(path: string, init: Omit<RequestInit, 'authorization'>, what: string): Promise<Response> {
    if (!this.base) await this.ping();
    const url = new URL(path, this.base);
    for (let tries = 0; ; tries++) {
      const authorization = await this.auth.header(this.scope);
      const res = await this.http.send(url, { ...init, authorization });
      if (res.status !== 401 && res.status !== 403) return res;
      res.body.resume();
      if (res.status === 401 && tries < 3 && (await this.auth.challenge(res.headers['www-authenticate'], this.scope, authorization))) continue;
      throw await this.auth.refusal(res.status, what);
    }
  }

  async manifest(target: string): Promise<FetchedManifest> {
    const what = `manifest ${target}`;
    const res = await this.get(`manifests/${target}`, { Accept: MANIFEST_ACCEPT }, what);
    const body = await readBody(res, MAX_MANIFEST_BYTES, `${this.registry}/${this.repository}: ${what}`);
    if (res.status === 404) throw new StrataError(`${this.registry}/${this.repository}: ${target.includes(':') ? 'manifest' : 'tag'} ${target} not found${registryError(body)}`);
    if (res.status !== 200) throw new StrataError(`${this.registry}/${this.repository}: ${what}: HTTP ${res.status}${registryError(body)}`);
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (target.startsWith('sha256:') && target !== digest) {
      throw new StrataError(`${this.registry}/${this.repository}: manifest ${target} does not match its digest (got ${digest})`);
    }
    const mediaType = String(res.headers['content-type'] ?? '').split(';')[0].trim() || undefined;
    if (mediaType === MediaType.dockerSchema1 || mediaType === MediaType.dockerSchema1Signed) {
      throw new StrataError(`${this.registry}/${this.repository}: ${target} is a Docker schema 1 manifest, not supported (deprecated since 2017); re-push the image with a current client`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw new StrataError(`${this.registry}/${this.repository}: ${what} is not valid JSON (${(e as Error).message})`);
    }
    return { doc, mediaType, digest: target.includes(':') ? target : digest };
  }

  /**
   * Stream a blob. Bytes past the declared size fail at once; a connection dropped or a body cut
   * short is resumed with `Range: bytes=N-` (or by skipping N bytes when the server ignores Range);
   * the digest is checked at the end, so a wrong blob fails before anyone keeps it.
   */
  async *blob(d: BlobRef, onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
    const name = `blob ${d.digest}`;
    const alg = d.digest.split(':')[0];
    const hash = alg === 'sha256' || alg === 'sha512' ? createHash(alg) : undefined;
    let received = 0;
    for (let resumes = 0; ; resumes++) {
      const headers: Record<string, string> = received > 0 ? { Range: `bytes=${received}-` } : {};
      const res = await this.get(`blobs/${d.digest}`, headers, name);
      let skip = 0;
      if (res.status === 206 && received > 0) {
        const start = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
        if (!start || Number(start[1]) !== received) {
          res.body.destroy();
          throw new StrataError(`${this.registry}: ${name}: resume at byte ${received} answered with range ${res.headers['content-range']}`);
        }
      } else if (res.status === 200) {
        skip = received;
      } else {
        const body = await readBody(res, 1 << 16, name).catch(() => Buffer.alloc(0));
        if (res.status === 404) throw new StrataError(`${this.registry}/${this.repository}: ${name} not found${registryError(body)}`);
        throw new StrataError(`${this.registry}/${this.repository}: ${name}: HTTP ${res.status}${registryError(body)}`);
      }
      let problem = '';
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          let c = chunk;
          if (skip > 0) {
            const drop = Math.min(skip, c.length);
            skip -= drop;
            c = c.subarray(drop);
            if (c.length === 0) continue;
          }
          received += c.length;
          if (received > d.size) {
            res.body.destroy();
            throw new StrataError(`${this.registry}: ${name}: more bytes than the ${d.size} the manifest declares`);
          }
          hash?.update(c);
          onBytes?.(c.length);
          yield c;
        }
      } catch (e) {
        if (e instanceof StrataError && !(e instanceof TransportError)) throw e;
        problem = (e as Error).message;
      } finally {
        if (!res.body.readableEnded) res.body.destroy();
      }
      if (received === d.size && !problem) break;
      if (!problem) problem = `body ended after ${received} of ${d.size} bytes`;
      if (resumes >= MAX_RESUMES) throw new StrataError(`${this.registry}: ${name}: ${problem} (gave up after ${MAX_RESUMES} resumes)`);
      this.opts.onNote?.(`${this.registry}: ${name}: ${problem}; resuming at byte ${received}`);
    }
    if (hash) {
      const got = `${alg}:${hash.digest('hex')}`;
      if (got !== d.digest) throw new StrataError(`${this.registry}/${this.repository}: ${name}: content does not match its digest (got ${got})`);
    }
  }

  /** HEAD of a blob: whether the repository has it already (then it is not uploaded again). */
  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request(`blobs/${digest}`, { method: 'HEAD' }, `blob ${digest}`);
    res.body.resume();
    return res.status === 200;
  }

  /** Upload a blob: POST for an upload URL, then one monolithic PUT with the digest (distribution spec). */
  async putBlob(d: BlobRef, body: () => NodeJS.ReadableStream): Promise<void> {
    const what = `upload of blob ${d.digest}`;
    const start = await this.request('blobs/uploads/', { method: 'POST', headers: { 'Content-Length': '0' } }, what);
    const startBody = await readBody(start, 1 << 16, what).catch(() => Buffer.alloc(0));
    const location = start.headers.location;
    if (start.status !== 202 || !location) throw new StrataError(`${this.registry}/${this.repository}: ${what}: HTTP ${start.status}${registryError(startBody)}`);
    const url = new URL(location, start.url);
    url.searchParams.set('digest', d.digest);
    const res = await this.request(url.href, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(d.size) }, body }, what);
    const resBody = await readBody(res, 1 << 16, what).catch(() => Buffer.alloc(0));
    if (res.status !== 201) throw new StrataError(`${this.registry}/${this.repository}: ${what}: HTTP ${res.status}${registryError(resBody)}`);
  }

  /** PUT a manifest under a tag or its digest. */
  async putManifest(target: string, body: Buffer, mediaType: string): Promise<void> {
    const what = `manifest ${target}`;
    const res = await this.request(`manifests/${target}`, { method: 'PUT', headers: { 'Content-Type': mediaType, 'Content-Length': String(body.length) }, body }, what);
    const resBody = await readBody(res, 1 << 16, what).catch(() => Buffer.alloc(0));
    if (res.status !== 201) throw new StrataError(`${this.registry}/${this.repository}: put ${what}: HTTP ${res.status}${registryError(resBody)}`);
  }
}

/** The first message of a registry's JSON error body, for the one-line error. */
function registryError(body: Buffer): string {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    const e = doc.errors?.[0];
    return e ? ` (${[e.code, e.message].filter(Boolean).join(': ')})` : '';
  } catch {
    return '';
  }
}

function within(registry: string, e: unknown, prefix?: string): StrataError {
  const msg = e instanceof Error ? e.message : String(e);
  return new StrataError(`${registry}: ${prefix ? `${prefix}: ` : ''}${msg.startsWith(registry) ? msg.slice(registry.length + 2) : msg}`);
}
