import test from 'ava';
import { formatReference, isLoopback, parseReference, tryParseReference } from '../src/sources/registry/reference.js';
import { remoteTarget } from '../src/sources/remote.js';
import { parseChallenges } from '../src/sources/registry/auth.js';
import { retryAfterMs } from '../src/sources/registry/http.js';

const D = `sha256:${'ab'.repeat(32)}`;

test('bare names resolve like docker: docker.io, library/, latest', (t) => {
  t.deepEqual(parseReference('alpine'), { registry: 'docker.io', repository: 'library/alpine', tag: 'latest', digest: undefined });
  t.deepEqual(parseReference('nginx:1.27'), { registry: 'docker.io', repository: 'library/nginx', tag: '1.27', digest: undefined });
  t.deepEqual(parseReference('bitnami/redis'), { registry: 'docker.io', repository: 'bitnami/redis', tag: 'latest', digest: undefined });
  t.is(formatReference(parseReference('index.docker.io/alpine')), 'docker.io/library/alpine:latest');
});

test('a first component with a dot, a port or localhost is a registry host', (t) => {
  t.deepEqual(parseReference(`ghcr.io/org/app@${D}`), { registry: 'ghcr.io', repository: 'org/app', tag: undefined, digest: D });
  t.deepEqual(parseReference('127.0.0.1:5000/tiny:v1'), { registry: '127.0.0.1:5000', repository: 'tiny', tag: 'v1', digest: undefined });
  t.deepEqual(parseReference('localhost/app'), { registry: 'localhost', repository: 'app', tag: 'latest', digest: undefined });
  t.deepEqual(parseReference(`[::1]:5000/a/b:t@${D}`), { registry: '[::1]:5000', repository: 'a/b', tag: 't', digest: D });
  t.is(parseReference('registry.example.com:443/team/app').registry, 'registry.example.com:443');
});

test('invalid references are refused', (t) => {
  for (const bad of ['Alpine', 'alpine:', 'a//b', 'alpine@sha256:12', 'alpine:bad/tag', '-x', 'a:b:c']) {
    t.is(tryParseReference(bad), undefined, bad);
  }
  t.throws(() => parseReference('UPPER/case'), { message: /not a valid image reference/ });
});

test('prefixes force a source; paths stay paths', (t) => {
  t.deepEqual(remoteTarget('docker://alpine'), { via: 'registry', name: 'alpine' });
  t.deepEqual(remoteTarget('docker-daemon:app:v1'), { via: 'docker-daemon', name: 'app:v1' });
  t.deepEqual(remoteTarget('podman:localhost/app'), { via: 'podman', name: 'localhost/app' });
  t.deepEqual(remoteTarget('nginx:1.27'), { via: 'auto', name: 'nginx:1.27' });
  for (const p of ['./app.tar', '/tmp/x', 'images/app.tar', 'app.tar.gz', '~/x', 'Some File']) t.is(remoteTarget(p), undefined, p);
});

test('loopback hosts', (t) => {
  t.true(isLoopback('127.0.0.1:5000'));
  t.true(isLoopback('localhost'));
  t.true(isLoopback('[::1]:80'));
  t.false(isLoopback('127.example.com'));
  t.false(isLoopback('docker.io'));
});

test('WWW-Authenticate challenges parse, several per header and quoted commas included', (t) => {
  const c = parseChallenges('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push",error="insufficient_scope"');
  t.deepEqual(c, [{ scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'reg', scope: 'repository:a/b:pull,push', error: 'insufficient_scope' } }]);
  t.deepEqual(parseChallenges('Basic realm="x y", Bearer realm=https://t/, service=s'), [
    { scheme: 'basic', params: { realm: 'x y' } },
    { scheme: 'bearer', params: { realm: 'https://t/', service: 's' } },
  ]);
});

test('Retry-After: seconds or a date', (t) => {
  t.is(retryAfterMs('3'), 3000);
  const ms = retryAfterMs(new Date(Date.now() + 5000).toUTCString())!;
  t.true(ms > 3000 && ms <= 5000, String(ms));
  t.is(retryAfterMs('soon'), undefined);
});
