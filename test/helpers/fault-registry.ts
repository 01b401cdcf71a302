/**
 * A registry built to attack its client (issue 29), on 127.0.0.1 only. It serves one small valid
 * image as `app:1` (and by digest) behind anonymous Bearer tokens, and misbehaves in the one way a
 * test names: silence, stalled or trickled bodies, endless 429/503, bad tokens, redirects to a second
 * loopback port (recording which requests carried Authorization), redirect loops, lying
 * Content-Length, bytes that do not match their digest, oversized or endless bodies, blob uploads
 * sent elsewhere. With `tls`, the registry port speaks HTTPS (the storage port stays plain HTTP).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { buildImage, type BuiltImage } from './image-builder.js';
import { file } from './tar-writer.js';

export type Fault =
  | 'none'
  /** accepts connections, never sends a byte (TLS or HTTP) */
  | 'silent'
  /** the manifest's headers, then nothing */
  | 'stall-manifest'
  /** the layer blob's headers, then nothing */
  | 'stall-blob'
  /** the manifest one byte every 500 ms: always something, never enough */
  | 'trickle-manifest'
  /** 429 with Retry-After: 3600 to every request */
  | 'throttle'
  /** 503 to every manifest request */
  | 'unavailable'
  | 'token-null'
  | 'token-number'
  | 'token-crlf'
  | 'token-huge'
  /** manifests and blobs answered 307 to the storage port, which serves them without auth */
  | 'redirect'
  /** the manifest redirects to itself */
  | 'redirect-loop'
  /** the manifest declares 1000 bytes more than it sends, then the connection closes */
  | 'short-body'
  /** other bytes than the digest asked for */
  | 'manifest-mismatch'
  /** the config blob with one byte changed */
  | 'blob-mismatch'
  /** a 5 MiB manifest with its Content-Length */
  | 'huge-manifest'
  /** a chunked manifest that never ends */
  | 'endless-manifest'
  /** a chunked layer blob that never ends */
  | 'endless-blob'
  /** pushes accepted; each blob upload's Location is on the storage port (another origin) */
  | 'upload-elsewhere';

export interface Seen {
  port: number;
  method: string;
  path: string;
  authorization?: string;
}

export interface FaultRegistry {
  host: string;
  image: BuiltImage;
  token: string;
  /** Every request, on the registry port and the storage port. */
  seen: Seen[];
  /** TCP connections accepted on the registry port. */
  connections: number;
  stop(): Promise<void>;
}

const TOKEN = 'fault-registry-token.v1';
const BIG = 64 * 1024;

export async function startFaultRegistry(fault: Fault, tls?: { key: Buffer; cert: Buffer }): Promise<FaultRegistry> {
  const image = buildImage({ layers: [{ entries: [file('hello.txt', 'hello from the fault registry\n')] }] });
  const blobs = new Map<string, Buffer>([[image.configDigest, image.config], ...image.layers.map((l) => [l.digest, l.blob] as [string, Buffer])]);
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const reg: FaultRegistry = { host: '', image, token: TOKEN, seen: [], connections: 0, stop: async () => undefined };

  const serveContent = (path: string, res: ServerResponse): void => {
    const m = /^\/v2\/app\/(manifests|blobs)\/(.+)$/.exec(path);
    const body = m?.[1] === 'manifests' ? (m[2] === '1' || m[2] === image.manifestDigest ? image.manifest : undefined) : m && blobs.get(m[2]);
    if (!body) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"NOT_FOUND","message":"no such thing"}]}');
      return;
    }
    res.writeHead(200, { 'Content-Type': m![1] === 'manifests' ? 'application/vnd.oci.image.manifest.v1+json' : 'application/octet-stream', 'Content-Length': body.length }).end(body);
  };

  const storage = http.createServer((req, res) => {
    reg.seen.push({ port: (storage.address() as net.AddressInfo).port, method: req.method!, path: req.url!, authorization: req.headers.authorization });
    if (req.method === 'PUT' && req.url!.startsWith('/upload/')) {
      req.resume().on('end', () => res.writeHead(201, { 'Content-Length': 0 }).end());
      return;
    }
    serveContent(req.url!, res);
  });

  const endless = (res: ServerResponse, type: string) => {
    res.writeHead(200, { 'Content-Type': type });
    const chunk = Buffer.alloc(BIG, 0x20);
    const more = () => {
      while (!res.destroyed && res.write(chunk));
    };
    res.on('drain', more);
    more();
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = req.url!;
    reg.seen.push({ port: port(), method: req.method!, path, authorization: req.headers.authorization });
    if (fault === 'throttle') {
      res.writeHead(429, { 'Retry-After': '3600' }).end();
      return;
    }
    if (path.startsWith('/token')) {
      const bodies: Partial<Record<Fault, string>> = {
        'token-null': 'null',
        'token-number': '{"token": 42}',
        'token-crlf': JSON.stringify({ token: `${TOKEN}\r\nX-Injected: yes` }),
        'token-huge': JSON.stringify({ token: 'a'.repeat(100_000) }),
      };
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(bodies[fault] ?? JSON.stringify({ token: TOKEN, expires_in: 300 }));
      return;
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${tls ? 'https' : 'http'}://${reg.host}/token",service="fault"`, 'Content-Type': 'application/json' })
        .end('{"errors":[{"code":"UNAUTHORIZED","message":"token needed"}]}');
      return;
    }
    if (path === '/v2/') {
      res.writeHead(200, { 'Content-Length': 2 }).end('{}');
      return;
    }
    if (fault === 'upload-elsewhere' && req.method !== 'GET') {
      req.resume();
      if (req.method === 'HEAD') res.writeHead(404).end();
      else if (req.method === 'POST' && /\/blobs\/uploads\/$/.test(path)) res.writeHead(202, { Location: `http://127.0.0.1:${(storage.address() as net.AddressInfo).port}/upload/${reg.seen.length}`, 'Content-Length': 0 }).end();
      else if (req.method === 'PUT' && path.includes('/manifests/')) req.on('end', () => res.writeHead(201, { 'Content-Length': 0 }).end());
      else res.writeHead(405, { 'Content-Length': 0 }).end();
      return;
    }
    const isManifest = path.includes('/manifests/');
    const isLayer = path.endsWith(image.layers[0].digest);
    const manifestType = 'application/vnd.oci.image.manifest.v1+json';
    if (isManifest) {
      switch (fault) {
        case 'stall-manifest':
          res.writeHead(200, { 'Content-Type': manifestType, 'Content-Length': image.manifest.length }).flushHeaders();
          return;
        case 'trickle-manifest': {
          res.writeHead(200, { 'Content-Type': manifestType, 'Content-Length': image.manifest.length }).flushHeaders();
          let i = 0;
          const t = setInterval(() => (i < image.manifest.length && !res.destroyed ? res.write(image.manifest.subarray(i, ++i)) : clearInterval(t)), 500);
          timers.add(t);
          return;
        }
        case 'unavailable':
          res.writeHead(503, { 'Content-Type': 'text/plain' }).end('try later');
          return;
        case 'redirect-loop':
          res.writeHead(307, { Location: path }).end();
          return;
        case 'short-body':
          res.writeHead(200, { 'Content-Type': manifestType, 'Content-Length': image.manifest.length + 1000 });
          res.write(image.manifest, () => res.socket?.end());
          return;
        case 'manifest-mismatch': {
          const other = Buffer.from(JSON.stringify({ ...JSON.parse(image.manifest.toString()), annotations: { swapped: 'yes' } }));
          res.writeHead(200, { 'Content-Type': manifestType, 'Content-Length': other.length }).end(other);
          return;
        }
        case 'huge-manifest':
          res.writeHead(200, { 'Content-Type': manifestType, 'Content-Length': 5 * 1024 * 1024 }).end(Buffer.alloc(5 * 1024 * 1024, 0x20));
          return;
        case 'endless-manifest':
          endless(res, manifestType);
          return;
      }
    }
    if (fault === 'redirect' && (isManifest || path.includes('/blobs/'))) {
      res.writeHead(307, { Location: `http://127.0.0.1:${(storage.address() as net.AddressInfo).port}${path}` }).end();
      return;
    }
    if (isLayer && fault === 'stall-blob') {
      res.writeHead(200, { 'Content-Length': image.layers[0].blob.length }).flushHeaders();
      return;
    }
    if (isLayer && fault === 'endless-blob') {
      endless(res, 'application/octet-stream');
      return;
    }
    if (path.endsWith(image.configDigest) && fault === 'blob-mismatch') {
      const bad = Buffer.from(image.config);
      bad[bad.length - 2] ^= 0x01;
      res.writeHead(200, { 'Content-Length': bad.length }).end(bad);
      return;
    }
    serveContent(path, res);
  };

  // silence needs a bare TCP server: an HTTP one would answer a TLS handshake with a 400 at once
  const server = fault === 'silent' ? net.createServer(() => undefined) : tls ? https.createServer(tls, handle) : http.createServer(handle);
  server.on('connection', (s: net.Socket) => {
    reg.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  storage.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await Promise.all([server, storage].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  const port = () => (server.address() as net.AddressInfo).port;
  reg.host = `127.0.0.1:${port()}`;
  reg.stop = async () => {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.destroy();
    await Promise.all([server, storage].map((s) => new Promise((r) => s.close(r))));
  };
  return reg;
}
