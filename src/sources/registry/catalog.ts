/**
 * What a registry holds: repositories from `GET /v2/_catalog`, their tags from `tags/list` (both
 * paginated by `?n=` and `Link: <…>; rel="next"`), and for `newest` each tag's config `created`.
 */
import { z } from 'zod';
import { parseJson } from '../../util/json-doc.js';
import { StrataError } from '../../util/errors.js';
import { flattenIndex, isIndex, type Index } from '../../image/oci.js';
import { DEFAULT_PLATFORM, platformMatches, type Platform } from '../../image/platform.js';
import { registryError, type RegistryClient } from './client.js';
import { readBody } from './http.js';
import { registryClient, type RegistryOptions } from './open.js';
import { tryParseReference } from './reference.js';

const MAX_PAGE_BYTES = 16 * 1024 * 1024;
const MAX_CONFIG_BYTES = 64 * 1024 * 1024;
/** Requests in flight per level (repositories, then tags of each). */
const CONCURRENCY = 4;

export interface CatalogOptions extends RegistryOptions {
  /** Only the N newest tags of each repository, newest first. */
  newest?: number;
  /** Entries asked for per page (`?n=`); tests make it small to exercise the `Link` pages. */
  pageSize?: number;
}

/**
 * `HOST/REPO:TAG` for every tag of every repository under `prefix` (whole path segments: `team`
 * matches `team` and `team/x`, not `teamx`), sorted by repository, then newest first (`newest`:
 * by config `created`, undated last, ties by tag) or by tag.
 */
export async function listRegistryImages(host: string, prefix: string | undefined, opts: CatalogOptions = {}): Promise<string[]> {
  const registry = tryParseReference(`${host}/x`)?.registry;
  if (!registry || registry !== host) throw new StrataError(`registry ${host}: not a registry host (expected host[:port])`);
  const { newest, pageSize = 1000 } = opts;
  if (newest !== undefined && !(Number.isInteger(newest) && newest > 0)) throw new StrataError(`registry ${host}: newest must be a positive integer, not ${newest}`);
  const want = opts.platform ?? DEFAULT_PLATFORM;
  const base = prefix?.replace(/\/+$/, '') ?? '';
  const wanted = (repo: string) => !base || repo === base || repo.startsWith(`${base}/`);
  try {
    // A client is per repository (its token scope); any name serves for the root-level
    // `/v2/_catalog`, and the Bearer flow widens the scope when the registry asks for `registry:catalog:*`.
    const root = registryClient({ registry: host, repository: base || 'library' }, opts);
    const repos = (await pages(root, `/v2/_catalog?n=${pageSize}`, 'repositories', '_catalog'))
      .filter(wanted).sort(byCodePoint);
    const perRepo = await mapLimit(repos, async (repo) => {
      const client = registryClient({ registry: host, repository: repo }, opts);
      let tags = (await pages(client, `tags/list?n=${pageSize}`, 'tags', `tags of ${repo}`)).sort(byCodePoint);
      if (newest !== undefined) {
        const dated = await mapLimit(tags, async (tag) => ({ tag, created: await createdOf(client, tag, want) }));
        // Newest first, undated last; the sort is stable, so equal dates keep tag order.
        const time = (d: { created?: number }) => d.created ?? -Infinity;
        tags = dated.sort((a, b) => (time(a) === time(b) ? 0 : time(b) - time(a))).slice(0, newest).map((d) => d.tag);
      }
      return tags.map((tag) => `${host}/${repo}:${tag}`);
    });
    return perRepo.flat();
  } catch (e) {
    if (!(e instanceof StrataError)) throw e;
    const msg = e.message.split('\n')[0];
    // a spent deadline says `registry HOST:` already
    throw new StrataError(msg.startsWith('registry ') ? msg : msg.startsWith(host) ? `registry ${msg}` : `registry ${host}: ${msg}`);
  }
}

/**
 * Every entry of a paginated list endpoint. A `tags/list` 404 means the repository went away
 * since the catalog listed it: no tags. A `_catalog` 404 means the registry does not offer it.
 */
/** Far beyond a real registry's catalog or a repository's tags, and what an audit could get through. */
const MAX_NAMES = 100_000;
const MAX_PAGES = 10_000;

async function pages(client: RegistryClient, first: string, key: 'repositories' | 'tags', what: string): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  // Stop at a link already followed: a registry linking back would loop forever; one linking to a
  // new page each time (`?last=N+1`) stops at the caps.
  for (let path: string | undefined = first; path && !seen.has(path);) {
    if (seen.size >= MAX_PAGES) throw new StrataError(`${what}: more than ${MAX_PAGES} pages`);
    seen.add(path);
    const res = await client.get(path, { Accept: 'application/json' }, what);
    const body = await readBody(res, MAX_PAGE_BYTES, what);
    if (res.status === 404 && key === 'tags') return [];
    if (res.status === 404) throw new StrataError(`does not list its repositories (404 on /v2/_catalog)${registryError(body)}`);
    if (res.status !== 200) throw new StrataError(`${what}: HTTP ${res.status}${registryError(body)}`);
    // docker-registry answers `"tags": null` for a repository whose tags were all deleted.
    const list = parseJson(body, z.looseObject({ [key]: z.array(z.string()).nullish() }), what)[key];
    for (const name of list ?? []) out.push(name); // not push(...list): a page may hold more names than the stack has room for arguments
    if (out.length > MAX_NAMES) throw new StrataError(`${what}: more than ${MAX_NAMES} ${key}`);
    path = nextLink(res.headers.link);
  }
  return [...new Set(out)];
}

/**
 * The path and query of a `Link: <…>; rel="next"` target: kept on the registry's own origin, so
 * credentials never follow a link to another host.
 */
function nextLink(header: string | string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header.join(', ') : header ?? '';
  const m = /<([^>]*)>[^,]*;\s*rel="?next"?/i.exec(text);
  if (!m) return undefined;
  if (!URL.canParse(m[1], 'http://registry.invalid')) throw new StrataError(`the registry's Link header names no usable next page`);
  const u = new URL(m[1], 'http://registry.invalid');
  return u.pathname + u.search;
}

/** A tag's image config `created`, in ms; undefined when the image has no date. */
async function createdOf(client: RegistryClient, tag: string, want: Platform): Promise<number | undefined> {
  let m = await client.manifest(tag);
  if (isIndex(m.doc as Index, m.mediaType)) {
    const where = `${client.registry}/${client.repository}:${tag}`;
    const cands = await flattenIndex(m.doc as Index, async (d) => (await client.manifest(d.digest)).doc as Index, where);
    const pick = cands.find((c) => c.platform && platformMatches(want, c.platform)) ?? cands[0];
    if (!pick) return undefined;
    m = await client.manifest(pick.descriptor.digest);
  }
  const config = (m.doc as { config?: { digest?: unknown; size?: unknown } }).config;
  if (typeof config?.digest !== 'string' || typeof config.size !== 'number' || config.size > MAX_CONFIG_BYTES) return undefined;
  const parts: Buffer[] = [];
  for await (const c of client.blob({ digest: config.digest, size: config.size })) parts.push(c);
  let created: string | undefined;
  try {
    created = parseJson(Buffer.concat(parts), z.looseObject({ created: z.string().optional() }), 'config').created;
  } catch {
    return undefined;
  }
  const t = created === undefined ? NaN : Date.parse(created);
  return Number.isNaN(t) ? undefined : t;
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** `f` over `items` with at most CONCURRENCY at a time, results in input order. */
async function mapLimit<T, R>(items: T[], f: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return out;
}
