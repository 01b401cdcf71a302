/**
 * Image references the way docker reads them: `[host[:port]/]path[:tag][@digest]`, where a first
 * component is a host only if it has a dot or a port or is `localhost`; Docker Hub is the default host
 * and its one-component names live under `library/`; `latest` is the default tag.
 */
import { StrataError } from '../../util/errors.js';

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API answers. */
export const DOCKER_HUB_API = 'registry-1.docker.io';

export interface Reference {
  /** Registry host as named (`docker.io`, `ghcr.io`, `127.0.0.1:5000`). */
  registry: string;
  /** Repository path inside the registry (`library/alpine`). */
  repository: string;
  tag?: string;
  digest?: string;
}

const component = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagRe = /^[\w][\w.-]{0,127}$/;
const digestRe = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const hostRe = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;

/** Parse a reference; undefined when `s` is not one (so the caller can report it as a path instead). */
export function tryParseReference(s: string): Reference | undefined {
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestRe.test(digest)) return undefined;
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagRe.test(tag)) return undefined;
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0];
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    if (!hostRe.test(first)) return undefined;
    registry = first;
    parts.shift();
  }
  if (parts.length === 0 || !parts.every((p) => component.test(p))) return undefined;
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  if (repository.length > 255) return undefined;
  return { registry, repository, tag: tag ?? (digest ? undefined : 'latest'), digest };
}

export function parseReference(s: string): Reference {
  const r = tryParseReference(s);
  if (!r) throw new StrataError(`${s}: not a valid image reference (expected [registry/]name[:tag][@digest], lowercase)`);
  return r;
}

/** Tag or digest to ask the registry for: the digest wins, as in docker. */
export function referenceTarget(r: Reference): string {
  return r.digest ?? r.tag ?? 'latest';
}

/** The full form: `docker.io/library/alpine:latest`, `host:5000/app@sha256:…`. */
export function formatReference(r: Reference): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** Hostname without port or brackets, for the loopback test. */
export function hostOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  const c = registry.lastIndexOf(':');
  return c >= 0 ? registry.slice(0, c) : registry;
}

export function isLoopback(registry: string): boolean {
  const h = hostOf(registry).toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}
