/**
 * Issue 29: the registry client against arbitrary answers. A loopback server answers each request
 * with what fast-check draws (status, WWW-Authenticate, Content-Type, Docker-Content-Digest,
 * Content-Length, Location, Retry-After, a body and its framing, or silence); the client, driven
 * in-process with a short deadline, must resolve or reject with a StrataError, within a bound.
 * About 20 s; the seed is logged, and STRATA_FUZZ_SEED=N replays a run.
 */
import test from 'ava';
import fc from 'fast-check';
import net from 'node:net';
import { registryClient } from '../src/sources/registry/open.js';
import { StrataError } from '../src/util/errors.js';
import { buildImage, OCI, sha256 } from './helpers/image-builder.js';
import { file } from './helpers/tar-writer.js';

const DEADLINE_MS = 300;
/** A ping, a manifest and a blob may each spend a deadline; the rest is slack for a loaded machine. */
const BOUND_MS = 10 * DEADLINE_MS + 2000;
const TIME_LIMIT_MS = 20_000;

const image = buildImage({ layers: [{ entries: [file('a', 'a')] }] });
const PORT = '{port}';

type Framing = 'length' | 'length-short' | 'length-long' | 'chunked' | 'chunked-broken' | 'close' | 'stall' | 'silent';

interface Answer {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  framing: Framing;
}

const text = (s: unknown) => new TextEncoder().encode(typeof s === 'string' ? s : JSON.stringify(s));

const anyAnswer: fc.Arbitrary<Answer> = fc.record({
  status: fc.oneof(fc.constantFrom(200, 200, 200, 206, 301, 302, 307, 308, 401, 403, 404, 408, 429, 500, 503), fc.integer({ min: 100, max: 599 })),
  headers: fc.uniqueArray(
    fc.oneof(
      fc.tuple(fc.constant('WWW-Authenticate'), fc.oneof(
        fc.constant(`Bearer realm="http://127.0.0.1:${PORT}/token",service="fuzz",scope="repository:app:pull"`),
        fc.constant(`Bearer realm="http://127.0.0.1:${PORT}/token",error="insufficient_scope",scope="repository:app:pull,push"`),
        fc.constantFrom('Basic realm="fuzz"', 'Bearer', 'Bearer realm="::::"', 'Bearer realm="ftp://127.0.0.1/t"', 'Bearer realm="http://[::1"', 'Negotiate'),
        fc.string(),
      )),
      fc.tuple(fc.constant('Content-Type'), fc.oneof(fc.constantFrom(OCI.manifest, OCI.index, 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'application/json'), fc.string())),
      fc.tuple(fc.constant('Docker-Content-Digest'), fc.oneof(fc.constant(image.manifestDigest), fc.string())),
      fc.tuple(fc.constant('Location'), fc.oneof(
        fc.constantFrom('/v2/app/manifests/1', `http://127.0.0.1:${PORT}/v2/app/blobs/elsewhere`, 'ftp://127.0.0.1/x', '//[bad', 'file:///etc/passwd'),
        fc.string(),
      )),
      fc.tuple(fc.constant('Retry-After'), fc.oneof(fc.constantFrom('0', '1', '3600', 'Wed, 21 Oct 2099 07:28:00 GMT', 'Thu, 01 Jan 1970 00:00:00 GMT'), fc.nat().map(String), fc.string())),
      fc.tuple(fc.constant('Content-Range'), fc.oneof(fc.constant('bytes 0-1/2'), fc.string())),
    ),
    { maxLength: 4, selector: ([k]) => k },
  ),
  body: fc.oneof(
    fc.uint8Array({ maxLength: 512 }),
    fc.json().map(text),
    fc.record({ errors: fc.array(fc.record({ code: fc.anything(), message: fc.oneof(fc.string(), fc.constant('\u001b[31mred\u0007')) }, { requiredKeys: [] }), { maxLength: 2 }) }).map(text),
  ),
  framing: fc.constantFrom<Framing>('length', 'length', 'length', 'length-short', 'length-long', 'chunked', 'chunked-broken', 'close', 'stall', 'silent'),
});

/** Answers a registry plausibly gives at each step, so that scripts get past the ping to tokens, manifests and blobs. */
const challenge = anyAnswer.map((a): Answer => ({ ...a, status: 401, headers: [['WWW-Authenticate', `Bearer realm="http://127.0.0.1:${PORT}/token",service="fuzz"`], ...a.headers.filter(([k]) => k !== 'WWW-Authenticate')] }));
const tokenBody = fc.record({
  token: fc.oneof(fc.constant('good.token'), fc.string(), fc.integer(), fc.constant(null), fc.constant('t\r\nX-Injected: 1'), fc.constant('x'.repeat(20_000))),
  expires_in: fc.oneof(fc.integer(), fc.anything()),
  issued_at: fc.oneof(fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'bad' : d.toISOString())), fc.anything()),
}, { requiredKeys: [] }).map(text);
const token = fc.record({ body: tokenBody, framing: fc.constantFrom<Framing>('length', 'length', 'chunked', 'stall') }).map(({ body, framing }): Answer => ({ status: 200, headers: [], body, framing }));
const content = fc.record({
  body: fc.constantFrom(image.manifest, image.config, image.layers[0].blob),
  type: fc.constantFrom(OCI.manifest, OCI.index, 'application/octet-stream'),
  framing: fc.constantFrom<Framing>('length', 'length', 'length-short', 'chunked', 'close', 'stall'),
}).map(({ body, type, framing }): Answer => ({ status: 200, headers: [['Content-Type', type]], body, framing }));
const answer = fc.oneof({ weight: 3, arbitrary: anyAnswer }, { weight: 2, arbitrary: challenge }, { weight: 2, arbitrary: token }, { weight: 3, arbitrary: content });

function render(a: Answer, port: number): Buffer {
  const head = [`HTTP/1.1 ${a.status} Fuzz`, 'Connection: close', ...a.headers.map(([k, v]) => `${k}: ${v.replaceAll(PORT, String(port))}`)];
  const body = Buffer.from(a.body);
  switch (a.framing) {
    case 'length':
    case 'stall':
      head.push(`Content-Length: ${body.length + (a.framing === 'stall' ? 10 : 0)}`);
      break;
    case 'length-short':
      head.push(`Content-Length: ${Math.max(0, body.length - 3)}`);
      break;
    case 'length-long':
      head.push(`Content-Length: ${body.length + 7}`);
      break;
    case 'chunked':
    case 'chunked-broken':
      head.push('Transfer-Encoding: chunked');
      return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), a.framing === 'chunked'
        ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])
        : Buffer.concat([Buffer.from('zz\r\n'), body])]);
  }
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), body]);
}

/** Answers requests with `script` in order (then 404s); a TLS handshake fails fast, so the client falls back to HTTP. */
async function fuzzServer(): Promise<{ port: number; play(script: Answer[]): void; reset(): void; close(): Promise<void> }> {
  let script: Answer[] = [];
  let next = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let head = '';
    s.on('data', (d: Buffer) => {
      // a TLS handshake: answered as an HTTP server would, or dropped
      if (head === '' && d[0] === 0x16) return void (next % 2 ? s.end('HTTP/1.1 400 Bad Request\r\n\r\n') : s.destroy());
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.removeAllListeners('data');
      const a = script[next++] ?? { status: 404, headers: [], body: new Uint8Array(), framing: 'length' };
      if (a.framing === 'silent') return;
      s.write(render(a, port));
      if (a.framing !== 'stall') s.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    play: (s) => {
      script = s;
      next = 0;
    },
    reset: () => {
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

test('the registry client on arbitrary answers: resolves or a StrataError, within the deadline bound', async (t) => {
  const seed = process.env.STRATA_FUZZ_SEED ? Number(process.env.STRATA_FUZZ_SEED) : Date.now() % 2 ** 31;
  t.log(`seed ${seed} (replay: STRATA_FUZZ_SEED=${seed})`);
  const server = await fuzzServer();
  t.teardown(() => server.close());
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(answer, { minLength: 1, maxLength: 12 }), async (script) => {
      runs++;
      server.play(script);
      const client = registryClient({ registry: `127.0.0.1:${server.port}`, repository: 'app' }, {
        timeoutMs: DEADLINE_MS, attempts: 2, backoffMs: 5, env: { HOME: '/nonexistent/strata-fuzz' },
      });
      const started = Date.now();
      const problems: unknown[] = [];
      const settle = (p: Promise<unknown>) => p.catch((e: unknown) => (e instanceof StrataError ? undefined : problems.push(e)));
      try {
        await settle(client.manifest('1'));
        await settle((async () => {
          for await (const c of client.blob({ digest: image.configDigest, size: image.config.length })) void c;
        })());
        await settle((async () => {
          for await (const c of client.blob({ digest: sha256('other'), size: 5 })) void c;
        })());
      } finally {
        server.reset();
      }
      const ms = Date.now() - started;
      if (problems.length) throw new Error(`not a StrataError: ${String((problems[0] as Error)?.stack ?? problems[0])}`);
      if (ms > BOUND_MS) throw new Error(`took ${ms} ms, bound ${BOUND_MS} ms`);
    }),
    { seed, numRuns: 400, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false, endOnFailure: true },
  );
  t.log(`${runs} scripts`);
  t.true(runs >= 10, `only ${runs} scripts ran`);
});
