/**
 * listRegistryImages against a real registry (Debian's docker-registry on 127.0.0.1) holding
 * fixtures and a few synthetic images pushed by skopeo.
 */
import test from 'ava';
import { join } from 'node:path';
import { listRegistryImages, type CatalogOptions } from '../src/sources/registry/catalog.js';
import { openImage } from '../src/sources/resolve.js';
import { StrataError } from '../src/util/errors.js';
import { fixture } from './helpers/fixtures.js';
import { writeOciArchive } from './helpers/image-builder.js';
import {
  freePort, push, startProxy, startRegistry, startTokenRegistry, tempDir, type Registry,
} from './helpers/registry-harness.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('docker-registry', 'skopeo', 'htpasswd', 'openssl');

/** No logins, no engine: only what a test passes counts. */
function opts(extra: CatalogOptions = {}): CatalogOptions {
  const home = tempDir('home');
  return { env: { PATH: process.env.PATH, HOME: home, DOCKER_CONFIG: join(home, 'docker') }, attempts: 2, backoffMs: 20, timeoutMs: 10_000, ...extra };
}

const created = async (name: string) => (await openImage(fixture(name))).config.created;

/** An image with one small layer and the given config `created` (undefined: none). */
async function synthetic(name: string, images: { created?: string; architecture?: string }[]): Promise<string> {
  const path = join(tempDir('synthetic'), `${name}.oci.tar`);
  await writeOciArchive(path, {
    images: images.map((i, n) => ({
      layers: [{ entries: [{ name: `etc/${name}-${n}`, data: name }] }],
      platform: { os: 'linux', architecture: i.architecture ?? 'amd64' },
      config: { created: i.created },
    })),
    multiPlatform: images.length > 1 ? { nested: true } : undefined,
  });
  return path;
}

let reg: Registry;

const ALL = [
  'other/x:latest',
  'team:base',
  'team/api:0', 'team/api:1', 'team/api:2', 'team/api:old',
  'team/app:v1', 'team/app:v10', 'team/app:v2', 'team/app:v3',
  'team/multi:latest', 'team/multi:single',
  'teamx/y:1',
];

test.before(async () => {
  reg = await startRegistry();
  const undated = await synthetic('undated', [{}]);
  // The index lists arm64 first, and it is newer: picking the first would put `latest` first.
  const multi = await synthetic('multi', [{ architecture: 'arm64', created: '2030-01-01T00:00:00Z' }, { created: '2020-01-01T00:00:00Z' }]);
  const single = await synthetic('single', [{ created: '2025-01-01T00:00:00Z' }]);
  // One after another: docker-registry can lose one of two concurrent uploads of the same blob.
  for (const [src, dest, all] of [
    [`docker-archive:${fixture('tiny-dockerfile.docker.tar')}`, 'team/app:v1'],
    [`docker-archive:${fixture('tiny-commit.docker.tar')}`, 'team/app:v2'],
    [`oci-archive:${fixture('tiny-overlay.oci.tar')}`, 'team/app:v3'],
    [`oci-archive:${fixture('tiny-commit-overlay.oci.tar')}`, 'team/app:v10'],
    [`oci-archive:${fixture('tiny-overlay.oci.tar')}`, 'team/api:1'],
    [`oci-archive:${fixture('tiny-overlay-zstd.oci-layout.tar')}`, 'team/api:2'],
    [`oci-archive:${undated}`, 'team/api:0'],
    [`docker-archive:${fixture('tiny-dockerfile.docker.tar')}`, 'team/api:old'],
    [`oci-archive:${multi}`, 'team/multi:latest', true],
    [`oci-archive:${single}`, 'team/multi:single'],
    [`oci-archive:${undated}`, 'team:base'],
    [`oci-archive:${undated}`, 'teamx/y:1'],
    [`oci-archive:${undated}`, 'other/x:latest'],
  ] as [string, string, boolean?][]) {
    await push(src, `${reg.host}/${dest}`, { all });
  }
});

test.after.always(async () => {
  await reg?.stop();
});

const at = (host: string, refs: string[]) => refs.map((r) => `${host}/${r}`);

test('no prefix: every tag of every repository, by repository then tag name; HTTP on loopback with or without --insecure', async (t) => {
  t.deepEqual(await listRegistryImages(reg.host, undefined, opts({ insecure: true })), at(reg.host, ALL));
  t.deepEqual(await listRegistryImages(reg.host, undefined, opts()), at(reg.host, ALL));
  t.deepEqual(await listRegistryImages(reg.host, '', opts()), at(reg.host, ALL));
});

test('a prefix matches whole path segments', async (t) => {
  const team = ALL.filter((r) => r.startsWith('team:') || r.startsWith('team/'));
  t.deepEqual(await listRegistryImages(reg.host, 'team', opts()), at(reg.host, team));
  t.deepEqual(await listRegistryImages(reg.host, 'team/', opts()), at(reg.host, team));
  t.deepEqual(await listRegistryImages(reg.host, 'team/app', opts()), at(reg.host, ['team/app:v1', 'team/app:v10', 'team/app:v2', 'team/app:v3']));
  t.deepEqual(await listRegistryImages(reg.host, 'team/ap', opts()), []);
  t.deepEqual(await listRegistryImages(reg.host, 'nobody', opts()), []);
});

test('newest: N newest tags per repository by config created; equal dates by tag name, undated last, amd64 of an index', async (t) => {
  // The fixtures' dates give the expected order; check them, not just trust it.
  const app = { v1: 'tiny-dockerfile.docker.tar', v2: 'tiny-commit.docker.tar', v3: 'tiny-overlay.oci.tar', v10: 'tiny-commit-overlay.oci.tar' };
  const dates = await Promise.all(Object.entries(app).map(async ([tag, f]) => [tag, Date.parse((await created(f))!)] as const));
  t.deepEqual(dates.sort((a, b) => b[1] - a[1]).map(([tag]) => tag), ['v10', 'v3', 'v2', 'v1']);
  t.is(await created('tiny-overlay.oci.tar'), await created('tiny-overlay-zstd.oci-layout.tar'));
  t.true(Date.parse((await created('tiny-overlay.oci.tar'))!) > Date.parse((await created('tiny-dockerfile.docker.tar'))!));

  t.deepEqual(await listRegistryImages(reg.host, 'team', opts({ newest: 2 })), at(reg.host, [
    'team:base',
    'team/api:1', 'team/api:2',
    'team/app:v10', 'team/app:v3',
    'team/multi:single', 'team/multi:latest',
  ]));
  t.deepEqual(await listRegistryImages(reg.host, 'team/api', opts({ newest: 10 })), at(reg.host, ['team/api:1', 'team/api:2', 'team/api:old', 'team/api:0']));
  t.deepEqual(await listRegistryImages(reg.host, 'team/app', opts({ newest: 1 })), at(reg.host, ['team/app:v10']));
  // --platform picks another image of the index: then the arm64 one (2030) dates `latest`.
  t.deepEqual(await listRegistryImages(reg.host, 'team/multi', opts({ newest: 1, platform: { os: 'linux', architecture: 'arm64' } })), at(reg.host, ['team/multi:latest']));
  await t.throwsAsync(listRegistryImages(reg.host, 'team', opts({ newest: 0 })), { instanceOf: StrataError, message: `registry ${reg.host}: newest must be a positive integer, not 0` });
});

test('pagination: _catalog and tags/list pages are followed through the Link header', async (t) => {
  const proxy = await startProxy(reg);
  t.teardown(() => proxy.stop());
  // docker-registry 2.8 pages _catalog but ignores ?n= on tags/list: the proxy plays a registry that
  // pages team/app's tags, its second link a full URL on another host (followed on the registry only).
  const json = { 'Content-Type': 'application/json' };
  proxy.fault = (r) => {
    if (r.path === '/v2/team/app/tags/list?n=2') {
      return { kind: 'status', status: 200, headers: { ...json, Link: '</v2/team/app/tags/list?n=2&last=v10>; rel="next"' }, body: '{"tags":["v1","v10"]}' };
    }
    if (r.path === '/v2/team/app/tags/list?n=2&last=v10') {
      return { kind: 'status', status: 200, headers: { ...json, Link: '<https://elsewhere.invalid/v2/team/app/tags/list?n=2&last=v2>; rel="next"' }, body: '{"tags":["v2"]}' };
    }
    if (r.path === '/v2/team/app/tags/list?n=2&last=v2') return { kind: 'status', status: 200, headers: json, body: '{"name":"team/app","tags":["v3"]}' };
    return undefined;
  };
  t.deepEqual(await listRegistryImages(proxy.host, undefined, opts({ pageSize: 2 })), at(proxy.host, ALL));
  const catalog = proxy.seen.filter((r) => r.path.startsWith('/v2/_catalog')).map((r) => r.path);
  // 6 repositories, 2 a page: the registry links to a next page while a page is full.
  t.deepEqual(catalog.slice(0, 3), ['/v2/_catalog?n=2', '/v2/_catalog?last=team&n=2', '/v2/_catalog?last=team%2Fapp&n=2'], catalog.join(' '));
  t.deepEqual(proxy.seen.filter((r) => r.path.startsWith('/v2/team/app/tags/')).map((r) => r.path),
    ['/v2/team/app/tags/list?n=2', '/v2/team/app/tags/list?n=2&last=v10', '/v2/team/app/tags/list?n=2&last=v2']);
});

test('errors: one line naming the registry and what failed', async (t) => {
  const port = await freePort();
  const down = await t.throwsAsync(listRegistryImages(`127.0.0.1:${port}`, undefined, opts()), { instanceOf: StrataError });
  t.true(down.message.startsWith(`registry 127.0.0.1:${port}: `), down.message);
  t.false(down.message.includes('\n'));

  const proxy = await startProxy(reg);
  t.teardown(() => proxy.stop());
  proxy.fault = (r) => (r.path.startsWith('/v2/_catalog') ? { kind: 'status', status: 404 } : undefined);
  await t.throwsAsync(listRegistryImages(proxy.host, undefined, opts()), {
    instanceOf: StrataError, message: `registry ${proxy.host}: does not list its repositories (404 on /v2/_catalog)`,
  });
  proxy.fault = (r) => (r.path.startsWith('/v2/_catalog') ? { kind: 'status', status: 400, headers: { 'Content-Type': 'application/json' }, body: '{"errors":[{"code":"PAGINATION_NUMBER_INVALID","message":"invalid number of results requested"}]}' } : undefined);
  await t.throwsAsync(listRegistryImages(proxy.host, undefined, opts()), {
    instanceOf: StrataError, message: `registry ${proxy.host}: _catalog: HTTP 400 (PAGINATION_NUMBER_INVALID: invalid number of results requested)`,
  });
  await t.throwsAsync(listRegistryImages('not a host', undefined, opts()), { instanceOf: StrataError, message: 'registry not a host: not a registry host (expected host[:port])' });
});

test('a hostile catalog: a page of 300,000 names or a new next page forever ends in one line at the caps', async (t) => {
  const proxy = await startProxy(reg);
  t.teardown(() => proxy.stop());
  const json = { 'Content-Type': 'application/json' };
  // 2.4 MB, under the page cap: before, out.push(...names) overflowed the stack
  proxy.fault = (r) => (r.path.startsWith('/v2/_catalog') ? { kind: 'status', status: 200, headers: json, body: JSON.stringify({ repositories: Array.from({ length: 300_000 }, (_, i) => `r${i}`) }) } : undefined);
  await t.throwsAsync(listRegistryImages(proxy.host, undefined, opts()), { instanceOf: StrataError, message: `registry ${proxy.host}: _catalog: more than 100000 repositories` });
  // one name per page, each linking to a page not seen before
  proxy.fault = (r, n) => (r.path.startsWith('/v2/_catalog') ? { kind: 'status', status: 200, headers: { ...json, Link: `</v2/_catalog?n=1&last=${n}>; rel="next"` }, body: JSON.stringify({ repositories: [`team/r${n}`] }) } : undefined);
  const before = proxy.seen.length;
  await t.throwsAsync(listRegistryImages(proxy.host, undefined, opts()), { instanceOf: StrataError, message: `registry ${proxy.host}: _catalog: more than 10000 pages` });
  t.is(proxy.seen.filter((r, i) => i >= before && r.path.startsWith('/v2/_catalog')).length, 10_000);
});

test('htpasswd Basic auth: the catalog with credentials; refused without or with wrong ones', async (t) => {
  const r = await startRegistry({ kind: 'htpasswd', users: { alice: 's3cret' } });
  t.teardown(() => r.stop());
  await push(`oci-archive:${await synthetic('basic', [{}])}`, `${r.host}/private/app:v1`, { creds: 'alice:s3cret' });
  t.deepEqual(await listRegistryImages(r.host, undefined, opts({ username: 'alice', password: 's3cret' })), [`${r.host}/private/app:v1`]);
  await t.throwsAsync(listRegistryImages(r.host, undefined, opts()), {
    instanceOf: StrataError, message: `registry ${r.host}: authentication required (log in with docker login or podman login, or pass --username and --password-stdin)`,
  });
  await t.throwsAsync(listRegistryImages(r.host, undefined, opts({ username: 'alice', password: 'wrong' })), {
    instanceOf: StrataError, message: `registry ${r.host}: _catalog: authentication failed as alice (credentials from --username)`,
  });
});

test('token auth: the registry asks for registry:catalog:* and the token is widened to it', async (t) => {
  const { reg: r, ts } = await startTokenRegistry(t);
  let catalogAllowed = true;
  ts.policy = (name, user) => (user === 'carol' ? ['pull', 'push'] : name === 'catalog' ? (catalogAllowed ? ['*'] : []) : ['pull']);
  await push(`oci-archive:${await synthetic('token', [{ created: '2024-05-01T00:00:00Z' }])}`, `${r.host}/public/app:v1`, { creds: 'carol:tok-pw' });
  ts.requests.length = 0;
  t.deepEqual(await listRegistryImages(r.host, undefined, opts({ newest: 1 })), [`${r.host}/public/app:v1`]);
  t.true(ts.requests.some((q) => q.scopes.includes('registry:catalog:*')), JSON.stringify(ts.requests));
  catalogAllowed = false;
  await t.throwsAsync(listRegistryImages(r.host, undefined, opts()), {
    instanceOf: StrataError, message: /^registry 127\.0\.0\.1:\d+: _catalog: access denied anonymously/,
  });
});
