/** OCI / Docker schema2 manifests and indexes: media types, validation, platform selection. */
import { StrataError } from '../util/errors.js';
import { DEFAULT_PLATFORM, formatPlatform, normalizePlatform, platformMatches, type Platform } from './platform.js';
import type { ImageConfig } from './image.js';

export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

const layerMediaTypes = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.diff.tar.zstd',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
]);

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: Platform & { 'os.version'?: string };
  annotations?: Record<string, string>;
}

export interface Manifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface Index {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
}

export function isIndex(doc: { mediaType?: string; manifests?: unknown }, declared?: string): boolean {
  const mt = declared ?? doc.mediaType;
  if (mt === MediaType.ociIndex || mt === MediaType.dockerList) return true;
  if (mt === MediaType.ociManifest || mt === MediaType.dockerManifest) return false;
  return Array.isArray(doc.manifests);
}

export function checkDigest(d: unknown, what: string): string {
  if (typeof d !== 'string' || !/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(d)) {
    throw new StrataError(`${what}: bad digest ${JSON.stringify(d)}`);
  }
  if (d.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(d)) throw new StrataError(`${what}: bad sha256 digest ${d}`);
  return d;
}

/** Validate a parsed manifest; `where` names it in errors. */
export function validateManifest(doc: unknown, where: string): Manifest {
  const m = doc as Manifest;
  const mt = m?.mediaType;
  if (mt === MediaType.dockerSchema1 || mt === MediaType.dockerSchema1Signed || (m as { schemaVersion?: number })?.schemaVersion === 1) {
    throw new StrataError(`${where}: Docker schema 1 manifests are not supported (deprecated since 2017); re-push the image with a current client`);
  }
  if (!m || typeof m !== 'object' || !m.config || !Array.isArray(m.layers)) {
    throw new StrataError(`${where}: not an image manifest (expected "config" and "layers")`);
  }
  checkDigest(m.config.digest, `${where} config`);
  const cmt = m.config.mediaType;
  if (cmt && cmt !== MediaType.ociConfig && cmt !== MediaType.dockerConfig) {
    throw new StrataError(`${where}: an artifact, not a container image (config media type ${cmt})`);
  }
  m.layers.forEach((l, i) => {
    checkDigest(l.digest, `${where} layer ${i}`);
    if (l.mediaType && !layerMediaTypes.has(l.mediaType)) {
      throw new StrataError(`${where}: layer ${i} has unknown media type ${l.mediaType}`);
    }
  });
  return m;
}

export function validateConfig(doc: unknown, where: string): ImageConfig {
  const c = doc as ImageConfig;
  if (!c || typeof c !== 'object' || !c.rootfs || !Array.isArray(c.rootfs.diff_ids)) {
    throw new StrataError(`${where}: not an image config (expected rootfs.diff_ids)`);
  }
  c.rootfs.diff_ids.forEach((d, i) => checkDigest(d, `${where} diff_ids[${i}]`));
  const bad = (field: string, expected: string, v: unknown) => {
    throw new StrataError(`${where}: ${field} must be ${expected}, not ${describe(v)}`);
  };
  const fields = (o: object, prefix: string, kinds: Record<string, Kind>) => {
    for (const [k, kind] of Object.entries(kinds)) {
      const v = (o as Record<string, unknown>)[k];
      if (v !== undefined && v !== null && !kindOk[kind](v)) bad(`${prefix}${k}`, kindName[kind], v);
    }
  };
  fields(c, '', { architecture: 'string', os: 'string', variant: 'string', created: 'string', author: 'string', config: 'object', history: 'array' });
  if (c.config) fields(c.config, 'config.', { User: 'string', WorkingDir: 'string', Env: 'strings', Entrypoint: 'strings', Cmd: 'strings', Labels: 'labels', ExposedPorts: 'object', Volumes: 'object' });
  c.history?.forEach((h, i) => {
    if (h === null || typeof h !== 'object' || Array.isArray(h)) bad(`history[${i}]`, 'an object', h);
    fields(h, `history[${i}].`, { created: 'string', created_by: 'string', comment: 'string', author: 'string', empty_layer: 'boolean' });
  });
  return c;
}

/** What validateConfig accepts for the config fields strata reads (null stands for absent). */
type Kind = 'string' | 'boolean' | 'object' | 'array' | 'strings' | 'labels';
const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v);
const kindOk: Record<Kind, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  boolean: (v) => typeof v === 'boolean',
  object: isObject,
  array: Array.isArray,
  strings: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
  labels: (v) => isObject(v) && Object.values(v).every((x) => typeof x === 'string'),
};
/** A value's JSON type; for an array or object, also the type of a member that is not a string. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  const members = Array.isArray(v) ? v : isObject(v) ? Object.values(v) : undefined;
  if (!members) return `a ${typeof v}`;
  const odd = members.find((x) => typeof x !== 'string');
  const what = Array.isArray(v) ? 'an array' : 'an object';
  return odd === undefined ? what : `${what} holding ${describe(odd)}`;
}
const kindName: Record<Kind, string> = {
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  strings: 'an array of strings',
  labels: 'an object of strings',
};

function isAttestation(d: Descriptor): boolean {
  return d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
    (d.platform?.os === 'unknown' && d.platform?.architecture === 'unknown');
}

export interface Candidate {
  descriptor: Descriptor;
  platform?: Platform;
}

/**
 * Walk an index (and nested indexes) to the image manifests it offers, in order, without
 * attestation manifests. `loadIndex` fetches a nested index by descriptor.
 */
export async function flattenIndex(index: Index, loadIndex: (d: Descriptor) => Promise<Index>, where: string, depth = 0): Promise<Candidate[]> {
  if (depth > 8) throw new StrataError(`${where}: image indexes nested more than 8 deep`);
  if (!Array.isArray(index.manifests)) throw new StrataError(`${where}: index has no "manifests" list`);
  const out: Candidate[] = [];
  for (const d of index.manifests) {
    checkDigest(d.digest, where);
    if (isAttestation(d)) continue;
    if (d.mediaType === MediaType.ociIndex || d.mediaType === MediaType.dockerList) {
      out.push(...(await flattenIndex(await loadIndex(d), loadIndex, `${where} -> ${d.digest.slice(0, 19)}`, depth + 1)));
    } else {
      out.push({ descriptor: d, platform: d.platform ? normalizePlatform(d.platform) : undefined });
    }
  }
  return out;
}

/**
 * Pick the manifest for `want` (default linux/amd64). A lone manifest is taken whatever its platform
 * unless a platform was asked for explicitly; when nothing matches, the error lists what is there.
 */
export function choosePlatform(cands: Candidate[], want: Platform | undefined, where: string): Candidate {
  if (cands.length === 0) throw new StrataError(`${where}: the index lists no image manifests`);
  if (cands.length === 1 && (!want || !cands[0].platform)) return cands[0];
  const target = want ?? DEFAULT_PLATFORM;
  const hit = cands.find((c) => c.platform && platformMatches(target, c.platform));
  if (hit) return hit;
  const have = cands.map((c) => (c.platform ? formatPlatform(c.platform) : 'unspecified')).join(', ');
  throw new StrataError(`${where}: no image for platform ${formatPlatform(target)}; available: ${have} (choose with --platform)`);
}

export function configPlatform(c: ImageConfig): Platform {
  return normalizePlatform({ os: c.os ?? 'unknown', architecture: c.architecture ?? 'unknown', variant: c.variant });
}

/**
 * What every source checks of the config it found for an image: as many diff_ids as the manifest
 * (`listedIn`: "manifest", "manifest.json") lists layers, and the platform asked for, unless an
 * index already picked the manifest by platform. Returns the config's platform.
 */
export function checkImageConfig(config: ImageConfig, layerCount: number, where: string, opts: { listedIn: string; want?: Platform; pickedByIndex?: boolean }): Platform {
  if (config.rootfs.diff_ids.length !== layerCount) {
    throw new StrataError(`${where}: ${opts.listedIn} lists ${layerCount} layers but the config has ${config.rootfs.diff_ids.length} diff_ids`);
  }
  const platform = configPlatform(config);
  if (opts.want && !opts.pickedByIndex && !platformMatches(opts.want, platform)) {
    throw new StrataError(`${where}: the image is ${formatPlatform(platform)}, not ${formatPlatform(opts.want)}`);
  }
  return platform;
}
