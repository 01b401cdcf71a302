/**
 * Real components for the registry tests: Debian's docker-registry on 127.0.0.1 (free port, temp
 * config and storage), skopeo to push fixtures, a JWT token server, and a fault-injecting proxy.
 */
import test, { registerCompletionHandler } from 'ava';
import { execFile, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawnTied } from './system-tools.js';

const run = promisify(execFile);

const made: string[] = [];
const running = new Set<ChildProcess>();
// Whatever a file's tests started or made goes once they are done, pass or fail: the registries in
// an after.always hook, the temp dirs after every hook (a file's own hooks, running concurrently,
// may still stop an engine whose storage is in one).
test.after.always('registry harness: stop registries', async () => {
  await Promise.all([...running].map(stopProcess));
});
const removeTemp = () => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
};
registerCompletionHandler(removeTemp);
process.on('exit', removeTemp);

/** A temp directory removed when the test file's tests are done. */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `strata-${prefix}-`));
  made.push(d);
  return d;
}

export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface Registry {
  host: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

export type RegistryAuth =
  | { kind: 'none' }
  | { kind: 'htpasswd'; users: Record<string, string> }
  | { kind: 'token'; realm: string; service: string; issuer: string; certFile: string };

/** bcrypt htpasswd lines: node has no bcrypt, apache2-utils' htpasswd does. */
async function htpasswdFile(dir: string, users: Record<string, string>): Promise<string> {
  const file = join(dir, 'htpasswd');
  const lines: string[] = [];
  for (const [u, p] of Object.entries(users)) {
    const { stdout } = await run('htpasswd', ['-Bbn', u, p]);
    lines.push(stdout.trim());
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

export async function startRegistry(auth: RegistryAuth = { kind: 'none' }): Promise<Registry> {
  // freePort's port is free when it answers, not when docker-registry binds it: on a busy machine
  // another test may take it in between (CI saw `bind: address already in use`), so try another
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRegistryOn(await freePort(), auth);
    } catch (e) {
      if (attempt >= 3 || !/address already in use/.test((e as Error).message)) throw e;
    }
  }
}

async function startRegistryOn(port: number, auth: RegistryAuth): Promise<Registry> {
  const dir = tempDir('registry');
  let authYaml = '';
  if (auth.kind === 'htpasswd') {
    authYaml = `auth:\n  htpasswd:\n    realm: strata-test\n    path: ${await htpasswdFile(dir, auth.users)}\n`;
  } else if (auth.kind === 'token') {
    authYaml = `auth:\n  token:\n    realm: ${auth.realm}\n    service: ${auth.service}\n    issuer: ${auth.issuer}\n    rootcertbundle: ${auth.certFile}\n`;
  }
  const config = join(dir, 'config.yml');
  writeFileSync(config, `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
  secret: strata-test-secret
${authYaml}`);
  const proc = spawnTied('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  await waitUp(port, proc, () => err);
  return {
    host: `127.0.0.1:${port}`,
    port,
    dir,
    stop: () => stopProcess(proc),
  };
}

async function waitUp(port: number, proc: ChildProcess, err: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited: ${err()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/v2/' }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not start on port ${port}: ${err()}`);
}

export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await gone;
}

/** `skopeo copy` a fixture into the registry. */
export async function push(src: string, dest: string, opts: { all?: boolean; creds?: string } = {}): Promise<void> {
  const args = ['copy', '--quiet', '--dest-tls-verify=false'];
  if (opts.all) args.push('--all');
  if (opts.creds) args.push('--dest-creds', opts.creds);
  await run('skopeo', [...args, src, `docker://${dest}`], { maxBuffer: 1 << 24 });
}

// --- token server -----------------------------------------------------------------------------

export interface TokenKey {
  key: KeyObject;
  kid: string;
  certFile: string;
}

/** An EC P-256 key and its self-signed certificate (the registry's rootcertbundle). */
export async function makeTokenKey(dir: string): Promise<TokenKey> {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=strata-test-token']);
  const key = createPrivateKey(readFileSync(keyFile));
  return { key, kid: libtrustKeyId(createPublicKey(readFileSync(certFile))), certFile };
}

/** libtrust's key ID, which docker-registry 2.x looks a JWT's `kid` up by: base32(sha256(SPKI)[:30]) in groups of 4. */
export function libtrustKeyId(pub: KeyObject): string {
  const sum = createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of sum) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function signJwt(key: TokenKey, claims: object): string {
  const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', kid: key.kid }));
  const body = b64url(JSON.stringify(claims));
  const sig = sign('sha256', Buffer.from(`${head}.${body}`), { key: key.key, dsaEncoding: 'ieee-p1363' });
  return `${head}.${body}.${b64url(sig)}`;
}

export interface TokenRequest {
  account?: string;
  scopes: string[];
  authorized: boolean;
}

export interface TokenServer {
  url: string;
  port: number;
  requests: TokenRequest[];
  /** Per-test policy: which actions a request gets on a repository. */
  policy: (repo: string, user: string | undefined, req: TokenRequest) => string[];
  /** `token` (default) or `access_token`. */
  field: 'token' | 'access_token';
  expiresIn: number;
  stop(): Promise<void>;
}

export async function startTokenServer(key: TokenKey, opts: { service: string; issuer: string; users: Record<string, string> }): Promise<TokenServer> {
  const port = await freePort();
  const ts: TokenServer = {
    url: `http://127.0.0.1:${port}/token`,
    port,
    requests: [],
    policy: () => ['pull'],
    field: 'token',
    expiresIn: 300,
    stop: () => new Promise((r) => server.close(() => r())),
  };
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    // GET with Basic auth (docker's flow), or POST of an OAuth2 refresh token (an identity token).
    const url = new URL(req.url!, 'http://x');
    const params = req.method === 'POST' ? new URLSearchParams(body) : url.searchParams;
    let user: string | undefined;
    const h = req.headers.authorization;
    if (h?.startsWith('Basic ')) {
      const [u, p] = Buffer.from(h.slice(6), 'base64').toString().split(':');
      if (opts.users[u] !== p) {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      user = u;
    } else if (req.method === 'POST') {
      user = Object.keys(opts.users).find((u) => params.get('grant_type') === 'refresh_token' && params.get('refresh_token') === `refresh-${u}`);
      if (!user) {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"error":"invalid_grant"}');
        return;
      }
    }
    const scopes = params.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    const record: TokenRequest = { account: params.get('account') ?? undefined, scopes, authorized: !!user };
    ts.requests.push(record);
    const access = scopes.map((s) => {
      const [type, ...rest] = s.split(':');
      const actions = rest.pop()!.split(',');
      const name = rest.join(':');
      const granted = ts.policy(name, user, record);
      return { type, name, actions: actions.filter((a) => granted.includes(a)) };
    });
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(key, {
      iss: opts.issuer, sub: user ?? '', aud: opts.service, exp: now + ts.expiresIn, nbf: now - 10, iat: now,
      jti: Math.random().toString(36).slice(2), access,
    });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ [ts.field]: token, expires_in: ts.expiresIn, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return ts;
}

// --- fault proxy ------------------------------------------------------------------------------

/** What the proxy does with one request: pass it on, or answer it itself. */
export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'cut'; after: number }
  | { kind: 'corrupt' }
  | { kind: 'redirect'; to: string }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' };

export interface SeenRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

export interface Proxy {
  host: string;
  port: number;
  seen: SeenRequest[];
  /** Decide per request; undefined passes it through. */
  fault: (req: SeenRequest, n: number) => Fault | undefined;
  stop(): Promise<void>;
}

export async function startProxy(target: { port: number }): Promise<Proxy> {
  const port = await freePort();
  const sockets = new Set<import('node:net').Socket>();
  const p: Proxy = {
    host: `127.0.0.1:${port}`,
    port,
    seen: [],
    fault: () => undefined,
    stop: () => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
  const server = http.createServer((req, res) => {
    const seen: SeenRequest = { method: req.method!, path: req.url!, headers: req.headers };
    p.seen.push(seen);
    const f = p.fault(seen, p.seen.length);
    if (f?.kind === 'status') {
      res.writeHead(f.status, { 'Content-Type': 'text/plain', ...f.headers }).end(f.body ?? `injected ${f.status}`);
      return;
    }
    if (f?.kind === 'redirect') {
      res.writeHead(307, { Location: f.to }).end();
      return;
    }
    if (f?.kind === 'hang') return;
    if (f?.kind === 'delay') setTimeout(() => forward(req, res, target.port, undefined), f.ms);
    else forward(req, res, target.port, f);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return p;
}

function forward(req: IncomingMessage, res: ServerResponse, port: number, f: Fault | undefined): void {
  const up = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${port}` } }, (ur) => {
    res.writeHead(ur.statusCode!, ur.headers);
    if (!f || ur.statusCode! >= 300) {
      ur.pipe(res);
      return;
    }
    let sent = 0;
    let flipped = false;
    ur.on('data', (chunk: Buffer) => {
      if (f.kind === 'cut') {
        const room = f.after - sent;
        if (room <= 0) return;
        const part = chunk.subarray(0, room);
        sent += part.length;
        // Drop the connection mid-body, once those bytes are out: the client sees fewer than Content-Length.
        res.write(part, () => {
          if (sent >= f.after) res.socket?.end(); // FIN, not RST: an RST may discard bytes in flight
        });
        return;
      }
      if (f.kind === 'corrupt' && !flipped && chunk.length > 0) {
        const c = Buffer.from(chunk);
        c[Math.floor(c.length / 2)] ^= 0xff;
        flipped = true;
        res.write(c);
        return;
      }
      res.write(chunk);
    });
    ur.on('end', () => {
      if (f.kind !== 'cut') res.end();
    });
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
}

/** HTTPS in front of the registry, with a self-signed certificate for 127.0.0.1 (no client trusts it). */
export async function startTlsProxy(target: { port: number }): Promise<{ host: string; stop(): Promise<void> }> {
  const dir = tempDir('tls');
  const keyFile = join(dir, 'tls.key');
  const certFile = join(dir, 'tls.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile,
    '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  const port = await freePort();
  const server = https.createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => forward(req, res, target.port, undefined));
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${port}`,
    stop: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/** A registry whose auth is a token server (user carol, password tok-pw), both stopped when the test ends. */
export async function startTokenRegistry(t: import('ava').ExecutionContext): Promise<{ reg: Registry; ts: TokenServer }> {
  const key = await makeTokenKey(tempDir('token'));
  const service = 'strata-test-registry';
  const issuer = 'strata-test-issuer';
  const ts = await startTokenServer(key, { service, issuer, users: { carol: 'tok-pw' } });
  const reg = await startRegistry({ kind: 'token', realm: ts.url, service, issuer, certFile: key.certFile });
  t.teardown(async () => {
    await reg.stop();
    await ts.stop();
  });
  return { reg, ts };
}
