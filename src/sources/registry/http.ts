/**
 * One HTTP exchange over node:http(s), with what a registry client needs around it: an idle timeout,
 * retries of 408/429/5xx and dropped connections with backoff that honours Retry-After, and
 * redirects followed by hand so that credentials never travel to another host.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { StrataError } from '../../util/errors.js';

export interface HttpOptions {
  /** Idle time (no bytes either way) before a request is abandoned. */
  timeoutMs: number;
  /** Attempts per request, the first included. */
  attempts: number;
  /** First backoff delay; doubles per attempt, capped at 30 s; Retry-After overrides it. */
  backoffMs: number;
  /** Skip TLS certificate verification (`--insecure`). */
  insecureTls: boolean;
  /** Told before each wait, so the user sees why nothing moves. */
  onRetry?: (msg: string) => void;
}

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  /** The URL that answered, after redirects. */
  url: URL;
}

export interface RequestInit {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  /** A stream body is opened anew for each attempt. */
  body?: string | Buffer | (() => NodeJS.ReadableStream);
  /** Sent to the origin of the first URL only (redirects elsewhere go without it). */
  authorization?: string;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const RETRY_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNABORTED', 'TIMEOUT', 'UND_ERR_SOCKET']);

export class TransportError extends StrataError {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

export class Http {
  private readonly agents: { http: http.Agent; https: https.Agent };
  constructor(readonly opts: HttpOptions) {
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 16 }),
      https: new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: !opts.insecureTls }),
    };
  }

  /** Send once, no retries, no redirects. */
  once(url: URL, init: RequestInit, headers: Record<string, string>): Promise<Response> {
    const mod = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? this.agents.https : this.agents.http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method: init.method ?? 'GET', headers, agent }, (res) => {
        res.setTimeout(this.opts.timeoutMs, () => res.destroy(new TransportError(`no data for ${this.opts.timeoutMs / 1000} s`, 'TIMEOUT')));
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url });
      });
      req.setTimeout(this.opts.timeoutMs, () => req.destroy(new TransportError(`no answer in ${this.opts.timeoutMs / 1000} s`, 'TIMEOUT')));
      req.on('error', (e: NodeJS.ErrnoException) => reject(e instanceof TransportError ? e : new TransportError(describeNetError(e), e.code ?? 'ERR')));
      if (typeof init.body === 'function') {
        const src = init.body();
        src.on('error', (e: Error) => req.destroy(e));
        src.pipe(req);
      } else req.end(init.body);
    });
  }

  /**
   * Send with redirects and retries. The response is returned for any final status (the caller
   * interprets 401, 404, ...) except the retryable ones, which are retried until attempts run out.
   */
  async send(url: URL, init: RequestInit = {}): Promise<Response> {
    let lastProblem = '';
    for (let attempt = 1; ; attempt++) {
      let res: Response | undefined;
      let waitMs = Math.min(this.opts.backoffMs * 2 ** (attempt - 1), 30_000);
      try {
        res = await this.follow(url, init);
        if (!RETRY_STATUS.has(res.status)) return res;
        lastProblem = `HTTP ${res.status}${res.status === 429 ? ' (too many requests)' : ''}`;
        const after = retryAfterMs(res.headers['retry-after']);
        if (after !== undefined) waitMs = Math.min(after, 60_000);
        res.body.resume();
      } catch (e) {
        if (!(e instanceof TransportError) || !RETRY_CODES.has(e.code)) throw e;
        lastProblem = e.message;
      }
      if (attempt >= this.opts.attempts) {
        if (res) return res;
        throw new StrataError(`${url.host}: ${lastProblem} (gave up after ${attempt} attempts)`);
      }
      this.opts.onRetry?.(`${url.host}: ${lastProblem}; retrying in ${(waitMs / 1000).toFixed(1)} s`);
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  private async follow(start: URL, init: RequestInit): Promise<Response> {
    let url = start;
    for (let hops = 0; hops < 10; hops++) {
      const headers: Record<string, string> = { 'User-Agent': 'strata', ...init.headers };
      if (init.authorization && url.origin === start.origin) headers.Authorization = init.authorization;
      const res = await this.once(url, hops === 0 ? init : { ...init, method: init.method === 'HEAD' ? 'HEAD' : 'GET', body: undefined }, headers);
      if (![301, 302, 303, 307, 308].includes(res.status) || !res.headers.location) return res;
      res.body.resume();
      const next = new URL(res.headers.location, url);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new StrataError(`${url.host}: redirect to unsupported URL ${next.protocol}`);
      if (url.protocol === 'https:' && next.protocol === 'http:') throw new StrataError(`${url.host}: refusing a redirect from HTTPS to plain HTTP (${next.host})`);
      url = next;
    }
    throw new StrataError(`${start.host}: more than 10 redirects`);
  }
}

/** Retry-After is seconds or an HTTP date. */
export function retryAfterMs(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  if (/^\d+$/.test(s.trim())) return Number(s.trim()) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

const UNTRUSTED = '--insecure skips the check; NODE_EXTRA_CA_CERTS=FILE trusts a CA';

function describeNetError(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
      return 'host not found';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return `TLS handshake failed (${e.message.split('\n')[0]})`;
    // In strata's words: Node's own messages change between versions (24 appends a hint about a flag).
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return `self-signed certificate (${UNTRUSTED})`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `certificate of an unknown authority (${UNTRUSTED})`;
    case 'CERT_HAS_EXPIRED':
      return 'certificate expired';
    default:
      return e.message.split('\n')[0];
  }
}

export async function readBody(res: Response, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (declared > limit) {
    res.body.destroy();
    throw new StrataError(`${what}: ${declared} bytes, more than the ${limit} allowed`);
  }
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of res.body) {
      n += (c as Buffer).length;
      if (n > limit) {
        res.body.destroy();
        throw new StrataError(`${what}: more than the ${limit} bytes allowed`);
      }
      parts.push(c as Buffer);
    }
  } catch (e) {
    if (e instanceof StrataError) throw e;
    throw new TransportError(`${what}: ${describeNetError(e as NodeJS.ErrnoException)}`, (e as NodeJS.ErrnoException).code ?? 'ECONNRESET');
  }
  return Buffer.concat(parts);
}
