/**
 * Registry authentication as docker does it: the registry answers 401 with a WWW-Authenticate
 * challenge; Basic is answered with credentials directly, Bearer with a token fetched from the realm
 * for a scope (anonymously or with credentials), kept until it expires and fetched again for a wider
 * scope when the registry says `insufficient_scope`.
 */
import { z } from 'zod';
import { StrataError } from '../../util/errors.js';
import { parseJson } from '../../util/json-doc.js';
import type { Credentials } from './credentials.js';
import { readBody, resolveUrl, type Http } from './http.js';

const MAX_TOKEN_ANSWER_BYTES = 1 << 20;
/** Longer than any token a registry issues (a JWT with many claims is a few KiB). */
const MAX_TOKEN_CHARS = 16 * 1024;
/** What may go into an Authorization header: printable ASCII, no space (a token68 and then some), no CR/LF. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;

/** A token server's answer (docker's `token`, OAuth2's `access_token`); odd optional fields are ignored, not fatal. */
const TokenAnswer = z.object({
  token: z.unknown().optional(),
  access_token: z.unknown().optional(),
  expires_in: z.number().optional().catch(undefined),
  issued_at: z.string().optional().catch(undefined),
});

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parse `Bearer realm="…",service="…",scope="a b"` (several challenges may be comma-joined). */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const text = Array.isArray(header) ? header.join(', ') : header ?? '';
  const out: Challenge[] = [];
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < text.length && chars.test(text[i])) i++;
  };
  while (i < text.length) {
    skip(/[\s,]/);
    const start = i;
    skip(/[^\s,=]/);
    const word = text.slice(start, i);
    if (!word) break;
    skip(/\s/);
    if (text[i] !== '=') {
      out.push({ scheme: word.toLowerCase(), params: {} });
      continue;
    }
    i++;
    skip(/\s/);
    let value = '';
    if (text[i] === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) value += text[i] === '\\' ? text[++i] ?? '' : text[i];
      i++;
    } else {
      const vs = i;
      skip(/[^\s,]/);
      value = text.slice(vs, i);
    }
    if (out.length) out[out.length - 1].params[word.toLowerCase()] = value;
  }
  return out;
}

interface Token {
  value: string;
  expiresAt: number;
}

export class Auth {
  private scheme: 'none' | 'basic' | 'bearer' = 'none';
  private bearer?: Record<string, string>;
  private tokens = new Map<string, Token>();
  /** Scope asked -> scope to ask the token server for, widened by `insufficient_scope` answers. */
  private effective = new Map<string, string>();
  private renewedAt = new Map<string, number>();
  private pending = new Map<string, Promise<string>>();
  private creds?: Credentials | null;

  constructor(
    private readonly http: Http,
    private readonly registry: string,
    private readonly loadCredentials: () => Promise<Credentials | undefined>,
  ) {}

  private async credentials(): Promise<Credentials | undefined> {
    if (this.creds === undefined) this.creds = (await this.loadCredentials()) ?? null;
    return this.creds ?? undefined;
  }

  /** The Authorization header for a request needing `scope`, fetching a token if one is due. */
  async header(scope: string): Promise<string | undefined> {
    if (this.scheme === 'basic') {
      const c = await this.credentials();
      if (c?.kind === 'basic') return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
      return undefined;
    }
    if (this.scheme === 'bearer') {
      const eff = this.effective.get(scope) ?? scope;
      const t = this.tokens.get(eff);
      if (t && t.expiresAt > Date.now()) return `Bearer ${t.value}`;
      // Blobs fetched at once share one token request.
      let p = this.pending.get(eff);
      if (!p) {
        p = this.fetchToken(eff).finally(() => this.pending.delete(eff));
        this.pending.set(eff, p);
      }
      return `Bearer ${await p}`;
    }
    return undefined;
  }

  /**
   * Take a 401's challenge. Returns true when a retry may now succeed; throws when it cannot (no
   * credentials for Basic, credentials refused).
   */
  async challenge(header: string | string[] | undefined, scope: string, sent: string | undefined): Promise<boolean> {
    const all = parseChallenges(header);
    const bearer = all.find((c) => c.scheme === 'bearer');
    const basic = all.find((c) => c.scheme === 'basic');
    if (bearer) {
      if (!bearer.params.realm) throw new StrataError(`${this.registry}: Bearer challenge without a realm`);
      const wasBearer = this.scheme === 'bearer';
      this.scheme = 'bearer';
      this.bearer = bearer.params;
      const wanted = bearer.params.scope;
      const eff = this.effective.get(scope) ?? scope;
      if (!wasBearer || !sent) return true;
      // Another request renewed the token meanwhile: use the new one.
      const current = this.tokens.get(eff);
      if (current && `Bearer ${current.value}` !== sent) return true;
      const missing = bearer.params.error === 'insufficient_scope' && wanted ? wanted.split(' ').filter((w) => !eff.split(' ').includes(w)) : [];
      if (missing.length > 0) {
        // The registry names a scope we did not ask for: ask for the union.
        this.effective.set(scope, [eff, ...missing].join(' '));
        return true;
      }
      // A token refused (expired, revoked, or issued with less than asked): fetch a new one, at most every 10 s.
      const last = this.renewedAt.get(eff) ?? 0;
      if (Date.now() - last < 10_000) return false;
      this.renewedAt.set(eff, Date.now());
      this.tokens.delete(eff);
      return true;
    }
    if (basic) {
      if (this.scheme === 'basic' && sent) return false;
      this.scheme = 'basic';
      const c = await this.credentials();
      if (!c) throw new StrataError(`${this.registry}: authentication required (log in with docker login or podman login, or pass --username and --password-stdin)`);
      if (c.kind !== 'basic') throw new StrataError(`${this.registry}: asks for Basic auth but the stored credentials (${c.from}) are an identity token`);
      return true;
    }
    return false;
  }

  /** Why a request was refused after auth was tried: one line for the user. */
  async refusal(status: number, what: string): Promise<StrataError> {
    const c = await this.credentials();
    const who = c ? `as ${c.username || 'token holder'} (credentials from ${c.from})` : 'anonymously';
    const hint = c ? '' : ' (log in with docker login or podman login, or pass --username and --password-stdin)';
    // Basic: the password was wrong. Bearer: the token server issued a token without the access.
    if (status === 401 && this.scheme === 'basic') return new StrataError(`${this.registry}: ${what}: authentication failed ${who}`);
    return new StrataError(`${this.registry}: ${what}: access denied ${who}${hint}`);
  }

  private async fetchToken(scope: string): Promise<string> {
    const p = this.bearer!;
    const realm = resolveUrl(p.realm, undefined, `${this.registry}: token realm`);
    if (realm.protocol !== 'https:' && !isLocalRealm(realm) && !this.http.opts.insecureTls) {
      throw new StrataError(`${this.registry}: token realm ${realm.origin} is not HTTPS (--insecure allows it)`);
    }
    const c = await this.credentials();
    let res;
    if (c?.kind === 'identity') {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.token, client_id: 'strata', service: p.service ?? '', scope });
      res = await this.http.send(realm, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    } else {
      const url = new URL(realm);
      if (p.service) url.searchParams.set('service', p.service);
      for (const s of scope.split(' ')) if (s) url.searchParams.append('scope', s);
      if (c) url.searchParams.set('account', c.username);
      const authorization = c ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` : undefined;
      res = await this.http.send(url, { authorization });
    }
    const from = `${this.registry}: token server ${realm.host}`;
    const body = await readBody(res, MAX_TOKEN_ANSWER_BYTES, from);
    if (res.status === 401 || res.status === 403) {
      throw new StrataError(`${from} refused ${c ? `the credentials (from ${c.from})` : 'anonymous access'}: HTTP ${res.status}`);
    }
    if (res.status !== 200) throw new StrataError(`${from} answered HTTP ${res.status}`);
    const doc = parseJson(body, TokenAnswer, from);
    const value = doc.token || doc.access_token;
    if (!value) throw new StrataError(`${from} sent no token`);
    // it goes into a header: CR/LF would inject others. Never quoted: it is a secret.
    if (typeof value !== 'string' || value.length > MAX_TOKEN_CHARS || !HEADER_SAFE.test(value)) {
      throw new StrataError(`${from} sent a token that is not ${typeof value === 'string' ? `printable ASCII of at most ${MAX_TOKEN_CHARS} characters` : 'a string'}`);
    }
    // Tokens live 60 s unless told otherwise; renew a little early.
    const issued = doc.issued_at ? Date.parse(doc.issued_at) : NaN;
    const start = Number.isNaN(issued) ? Date.now() : Math.min(issued, Date.now());
    const lifetime = (doc.expires_in && doc.expires_in > 0 ? doc.expires_in : 60) * 1000;
    this.tokens.set(scope, { value, expiresAt: start + lifetime - Math.min(10_000, lifetime / 4) });
    return value;
  }
}

function isLocalRealm(u: URL): boolean {
  const h = u.hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}
