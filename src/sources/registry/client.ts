/**
 * The OCI distribution API for one repository: ping, manifests by tag or digest, blobs streamed with
 * their size checked as they arrive and an interrupted transfer resumed with a Range request.
 */
import { z } from 'zod';
import { digestOf, DigestVerifier, verifyDigest } from '../../util/digest.js';
import { StrataError } from '../../util/errors.js';
import { excerpt, parseJson } from '../../util/json-doc.js';
import { MediaType } from '../../image/oci.js';
import { Auth } from './auth.js';
import type { Credentials } from './credentials.js';
import { Deadline, DeadlineError, discard, Http, readBody, resolveUrl, TransportError, type HttpOptions, type RequestInit, type Response } from './http.js';
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
    // one deadline for both schemes: an honest plain-HTTP registry refuses the TLS handshake at once
    const deadline = new Deadline(this.opts.timeoutMs);
    let res: Response | undefined;
    let httpsProblem = '';
    try {
      res = await this.http.send(new URL(`https://${host}/v2/`), { deadline });
    } catch (e) {
      if (!mayHttp || !(e instanceof TransportError)) throw within(this.registry, e);
      httpsProblem = e.message;
    }
    if (!res) {
      try {
        res = await this.http.send(new URL(`http://${host}/v2/`), { deadline });
      } catch (e) {
        throw within(this.registry, e, httpsProblem ? `HTTPS: ${httpsProblem}; HTTP` : undefined);
      }
    }
    discard(res);
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
    // A URL the registry gave (an upload's Location) goes by the rules of a redirect (http.ts follow):
    // never from HTTPS down to HTTP, and the credentials only to the registry's own origin.
    if (this.base!.protocol === 'https:' && url.protocol !== 'https:') throw new StrataError(`${this.registry}/${this.repository}: ${what}: refusing to leave HTTPS for ${url.protocol}//${url.host}`);
    const own = url.origin === this.base!.origin;
    for (let tries = 0; ; tries++) {
      const authorization = own ? await this.auth.header(this.scope) : undefined;
      const res = await this.http.send(url, { ...init, authorization });
      if (res.status !== 401 && res.status !== 403) return res;
      discard(res);
      if (own && res.status === 401 && tries < 3 && (await this.auth.challenge(res.headers['www-authenticate'], this.scope, authorization))) continue;
      throw await this.auth.refusal(res.status, what);
    }
  }

  async manifest(target: string): Promise<FetchedManifest> {
    const what = `manifest ${target}`;
    const res = await this.get(`manifests/${target}`, { Accept: MANIFEST_ACCEPT }, what);
    const body = await readBody(res, MAX_MANIFEST_BYTES, `${this.registry}/${this.repository}: ${what}`);
    if (res.status === 404) throw new StrataError(`${this.registry}/${this.repository}: ${target.includes(':') ? 'manifest' : 'tag'} ${target} not found${registryError(body)}`);
    if (res.status !== 200) throw new StrataError(`${this.registry}/${this.repository}: ${what}: HTTP ${res.status}${registryError(body)}`);
    // a manifest asked for by digest must be those very bytes, whatever the algorithm
    if (target.includes(':')) verifyDigest(body, target, `${this.registry}/${this.repository}: ${what}`);
    const mediaType = String(res.headers['content-type'] ?? '').split(';')[0].trim() || undefined;
    if (mediaType === MediaType.dockerSchema1 || mediaType === MediaType.dockerSchema1Signed) {
      throw new StrataError(`${this.registry}/${this.repository}: ${target} is a Docker schema 1 manifest, not supported (deprecated since 2017); re-push the image with a current client`);
    }
    const doc = parseJson(body, z.unknown(), `${this.registry}/${this.repository}: ${what}`);
    return { doc, mediaType, digest: target.includes(':') ? target : digestOf(body) };
  }

  /**
   * Stream a blob. Bytes past the declared size fail at once; a connection dropped or a body cut
   * short is resumed with `Range: bytes=N-` (or by skipping N bytes when the server ignores Range);
   * the digest is checked at the end, so a wrong blob fails before anyone keeps it.
   */
  async *blob(d: BlobRef, onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
    const name = `blob ${d.digest}`;
    const verifier = new DigestVerifier(d.digest, `${this.registry}/${this.repository}: ${name}`);
    // the resumes share it: a body that stalls, resumed, stalls again on the time left
    const deadline = new Deadline(this.opts.timeoutMs);
    let received = 0;
    for (let resumes = 0; ; resumes++) {
      const headers: Record<string, string> = received > 0 ? { Range: `bytes=${received}-` } : {};
      const res = await this.request(`blobs/${d.digest}`, { headers, deadline }, name);
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
          verifier.update(c);
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
    verifier.check();
  }

  /** HEAD of a blob: whether the repository has it already (then it is not uploaded again). */
  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request(`blobs/${digest}`, { method: 'HEAD' }, `blob ${digest}`);
    discard(res);
    return res.status === 200;
  }

  /** Upload a blob: POST for an upload URL, then one monolithic PUT with the digest (distribution spec). */
  async putBlob(d: BlobRef, body: () => NodeJS.ReadableStream): Promise<void> {
    const what = `upload of blob ${d.digest}`;
    const start = await this.request('blobs/uploads/', { method: 'POST', headers: { 'Content-Length': '0' } }, what);
    const startBody = await readBody(start, 1 << 16, what).catch(() => Buffer.alloc(0));
    const location = start.headers.location;
    if (start.status !== 202 || !location) throw new StrataError(`${this.registry}/${this.repository}: ${what}: HTTP ${start.status}${registryError(startBody)}`);
    const url = resolveUrl(location, start.url, `${this.registry}/${this.repository}: ${what}: upload location`);
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

/** The distribution spec's error body; anything else in it is ignored. */
const RegistryErrors = z.object({ errors: z.array(z.object({ code: z.unknown().optional(), message: z.unknown().optional() })).min(1) });
/** What a registry's error text may show as it is: a line of printable ASCII; the rest is shown escaped and cut. */
const PLAIN_TEXT = /^[\x20-\x7e]{1,100}$/;

/** The first message of a registry's JSON error body, for the one-line error (nothing when there is none). */
export function registryError(body: Buffer): string {
  let e;
  try {
    e = parseJson(body, RegistryErrors, 'error body').errors[0];
  } catch {
    return '';
  }
  const text = [e.code, e.message].filter((v): v is string => typeof v === 'string' && v !== '').map((v) => (PLAIN_TEXT.test(v) ? v : excerpt(v)));
  return text.length ? ` (${text.join(': ')})` : '';
}

function within(registry: string, e: unknown, prefix?: string): StrataError {
  if (e instanceof DeadlineError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new StrataError(`${registry}: ${prefix ? `${prefix}: ` : ''}${msg.startsWith(registry) ? msg.slice(registry.length + 2) : msg}`);
}
