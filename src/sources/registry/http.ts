/**
 * One HTTP exchange over node:http(s), with what a registry client needs around it: one deadline
 * policy (below), retries of 408/429/5xx and dropped connections with backoff that honours
 * Retry-After, and redirects followed by hand so that credentials never travel to another host.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { StrataError } from '../../util/errors.js';
import { excerpt } from '../../util/json-doc.js';

export interface HttpOptions {
  /** The deadline of an exchange: how long it may go without progress (`--timeout`, see Deadline). */
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
  /** Shared by the exchanges of one operation (a blob's resumes); a new one per send otherwise. */
  deadline?: Deadline;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const RETRY_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const MAX_BACKOFF_MS = 30_000;
const MAX_REDIRECTS = 10;
/** Fewer bytes than this (either way) within a deadline is a trickle, not progress (a slow-loris). */
const PROGRESS_BYTES = 64 * 1024;
/** A body nobody reads is drained up to this size (its connection is reused), else dropped. */
const DRAIN_BYTES = 64 * 1024;

export class TransportError extends StrataError {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

/** A deadline spent, or a wait it cannot afford: final, never retried nor resumed, never re-worded. */
export class DeadlineError extends StrataError {}

/**
 * The one deadline policy of registry traffic (issue 29). An exchange (a request with its redirects
 * and retries, then its body; a blob with its resumes; the ping's HTTPS then HTTP) must make
 * progress within `ms`: an answer that is not retried, the end of a body, or PROGRESS_BYTES moved
 * either way. Retries and resumes spend the same deadline and a Retry-After longer than what is left
 * is not waited for, so a failing exchange ends within about `ms` whatever the server does. Time
 * strata itself spends not reading (a body buffered behind a slow scan) is not the server's.
 */
export class Deadline {
  private last = Date.now();
  constructor(readonly ms: number) {}

  progressed(): void {
    this.last = Date.now();
  }

  leftMs(): number {
    return this.last + this.ms - Date.now();
  }

  expired(host: string, answered: boolean): DeadlineError {
    return new DeadlineError(`registry ${host}: ${answered ? 'no data' : 'no answer'} in ${this.ms / 1000} s (--timeout)`);
  }

  cannotWait(host: string, problem: string, waitMs: number): DeadlineError {
    return new DeadlineError(`registry ${host}: ${problem}, asked to wait ${Math.ceil(waitMs / 1000)} s, more than --timeout (${this.ms / 1000} s) leaves`);
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

  /** Send once, no retries, no redirects; the deadline watches the answer and then its body. */
  once(url: URL, init: RequestInit, headers: Record<string, string>, deadline: Deadline): Promise<Response> {
    const tls = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      let res: IncomingMessage | undefined;
      const req = (tls ? https : http).request(url, { method: init.method ?? 'GET', headers, agent: tls ? this.agents.https : this.agents.http }, (r) => {
        res = r;
        // a body nobody reads any more (discarded, abandoned) may still fail: never as an uncaught error
        r.on('error', () => undefined);
        r.once('end', () => deadline.progressed());
        r.once('close', () => clearTimeout(timer));
        resolve({ status: r.statusCode ?? 0, headers: r.headers, body: r, url });
      });
      let moved = 0;
      const socketBytes = () => (req.socket ? req.socket.bytesRead + req.socket.bytesWritten : 0);
      req.once('socket', () => (moved = socketBytes()));
      const watch = () => {
        if (res?.complete || res?.destroyed) return;
        const now = socketBytes();
        // a body buffered unread is strata's wait, not the server's
        if (now - moved >= PROGRESS_BYTES || (res?.readableLength ?? 0) > 0) deadline.progressed();
        moved = now;
        const left = deadline.leftMs();
        if (left > 0) timer = setTimeout(watch, left).unref();
        else if (res) res.destroy(deadline.expired(url.host, true));
        else req.destroy(deadline.expired(url.host, false));
      };
      let timer = setTimeout(watch, Math.max(0, deadline.leftMs())).unref();
      req.on('close', () => {
        if (!res) clearTimeout(timer);
      });
      req.on('error', (e: NodeJS.ErrnoException) => reject(e instanceof StrataError ? e : new TransportError(describeNetError(e), e.code ?? 'ERR')));
      if (typeof init.body === 'function') {
        const src = init.body();
        src.on('error', (e: Error) => req.destroy(e));
        src.pipe(req);
      } else req.end(init.body);
    });
  }

  /**
   * Send with redirects and retries. The response is returned for any final status (the caller
   * interprets 401, 404, ...) except the retryable ones, which are retried while attempts and the
   * deadline last.
   */
  async send(url: URL, init: RequestInit = {}): Promise<Response> {
    const deadline = init.deadline ?? new Deadline(this.opts.timeoutMs);
    for (let attempt = 1; ; attempt++) {
      let res: Response | undefined;
      let problem: string;
      let code = '';
      try {
        res = await this.follow(url, init, deadline);
        if (!RETRY_STATUS.has(res.status)) return answered(res, deadline);
        problem = `HTTP ${res.status}${res.status === 429 ? ' (too many requests)' : ''}`;
      } catch (e) {
        if (!(e instanceof TransportError) || !RETRY_CODES.has(e.code)) throw e;
        problem = e.message;
        code = e.code;
      }
      const asked = res && retryAfterMs(res.headers['retry-after']);
      const waitMs = asked ?? Math.min(this.opts.backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
      const left = deadline.leftMs();
      if (attempt < this.opts.attempts && asked !== undefined && asked >= left) {
        discard(res!);
        throw deadline.cannotWait(url.host, problem, asked);
      }
      if (attempt >= this.opts.attempts || waitMs >= left) {
        if (res) return answered(res, deadline);
        // still a transport failure: the ping falls back from HTTPS to HTTP on it
        throw new TransportError(`${url.host}: ${problem} (gave up after ${attempt} attempts)`, code);
      }
      if (res) discard(res);
      this.opts.onRetry?.(`${url.host}: ${problem}; retrying in ${(waitMs / 1000).toFixed(1)} s`);
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  private async follow(start: URL, init: RequestInit, deadline: Deadline): Promise<Response> {
    let url = start;
    for (let hops = 0; hops <= MAX_REDIRECTS; hops++) {
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new StrataError(`${start.host}: ${hops ? 'redirect to' : 'asked for'} an unsupported URL ${url.protocol}`);
      const headers: Record<string, string> = { 'User-Agent': 'strata', ...init.headers };
      if (init.authorization && url.origin === start.origin) headers.Authorization = init.authorization;
      const res = await this.once(url, hops === 0 ? init : { ...init, method: init.method === 'HEAD' ? 'HEAD' : 'GET', body: undefined }, headers, deadline);
      if (![301, 302, 303, 307, 308].includes(res.status) || !res.headers.location) return res;
      discard(res);
      const next = resolveUrl(res.headers.location, url, `${url.host}: redirect`);
      if (url.protocol === 'https:' && next.protocol === 'http:') throw new StrataError(`${url.host}: refusing a redirect from HTTPS to plain HTTP (${next.host})`);
      url = next;
    }
    throw new StrataError(`${start.host}: more than ${MAX_REDIRECTS} redirects`);
  }
}

/** A final answer is progress: its body starts with the whole deadline. */
function answered(res: Response, deadline: Deadline): Response {
  deadline.progressed();
  return res;
}

/** Let go of a body nobody reads: drained when small (its connection is reused), else dropped (an endless one would flow forever). */
export function discard(res: Response): void {
  if (Number(res.headers['content-length']) <= DRAIN_BYTES) res.body.resume();
  else res.body.destroy();
}

/** A URL a registry gave (Location, a token realm), resolved against `base`; a bad one is bad input, not a crash. */
export function resolveUrl(text: string, base: URL | undefined, what: string): URL {
  try {
    return new URL(text, base);
  } catch {
    throw new StrataError(`${what}: not a URL (${excerpt(text)})`);
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
    const problem = n < declared ? `body ended after ${n} of ${declared} bytes` : describeNetError(e as NodeJS.ErrnoException);
    throw new TransportError(`${what}: ${problem}`, (e as NodeJS.ErrnoException).code ?? 'ECONNRESET');
  }
  return Buffer.concat(parts);
}
