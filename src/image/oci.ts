/** OCI / Docker schema2 manifests and indexes: media types, validation, platform selection. */
import { z } from 'zod';
import { StrataError } from '../util/errors.js';
import { Digest } from '../util/digest.js';
import { shown, validateJson } from '../util/json-doc.js';
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

/** null stands for absent in the documents Docker writes (`"Env": null`). */
const absent = <T extends z.ZodType>(t: T) => t.nullish();
const Strings = z.array(z.string());
const StringMap = z.record(z.string(), z.string());
/** An object whose members strata does not read (ExposedPorts, Volumes). */
const AnyObject = z.looseObject({});

export const DescriptorSchema = z.looseObject({
  mediaType: z.string().optional(),
  digest: Digest,
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  platform: z.looseObject({
    os: z.string(),
    architecture: z.string(),
    variant: z.string().optional(),
    'os.version': z.string().optional(),
  }).optional(),
  annotations: StringMap.optional(),
});
export type Descriptor = z.output<typeof DescriptorSchema>;

export const IndexSchema = z.looseObject({
  schemaVersion: z.number().optional(),
  mediaType: z.string().optional(),
  manifests: z.array(DescriptorSchema),
  annotations: StringMap.optional(),
});
export type Index = z.output<typeof IndexSchema>;

const isSchema1 = (doc: unknown) => {
  const d = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
  return d.mediaType === MediaType.dockerSchema1 || d.mediaType === MediaType.dockerSchema1Signed || d.schemaVersion === 1;
};

/** A manifest strata can read: schema 2, an image (not an artifact), layers of known media types. */
export const ManifestSchema = z.unknown().superRefine((doc, ctx) => {
  if (isSchema1(doc)) ctx.addIssue({ code: 'custom', message: 'Docker schema 1 manifests are not supported (deprecated since 2017); re-push the image with a current client' });
}).pipe(z.looseObject({
  schemaVersion: z.number().optional(),
  mediaType: z.string().optional(),
  config: DescriptorSchema,
  layers: z.array(DescriptorSchema),
  annotations: StringMap.optional(),
}).superRefine((m, ctx) => {
  const cmt = m.config.mediaType;
  if (cmt && cmt !== MediaType.ociConfig && cmt !== MediaType.dockerConfig) {
    ctx.addIssue({ code: 'custom', message: `an artifact, not a container image (config media type ${shown(cmt)})` });
  }
  const i = m.layers.findIndex((l) => l.mediaType && !layerMediaTypes.has(l.mediaType));
  if (i >= 0) ctx.addIssue({ code: 'custom', message: `layer ${i} has unknown media type ${shown(m.layers[i].mediaType!)}` });
}));
export type Manifest = z.output<typeof ManifestSchema>;

/** The config fields strata reads; others pass through untouched. */
const ConfigFields = z.looseObject({
  architecture: absent(z.string()),
  os: absent(z.string()),
  variant: absent(z.string()),
  created: absent(z.string()),
  author: absent(z.string()),
  config: absent(z.looseObject({
    User: absent(z.string()),
    WorkingDir: absent(z.string()),
    Env: absent(Strings),
    Entrypoint: absent(Strings),
    Cmd: absent(Strings),
    Labels: absent(StringMap),
    ExposedPorts: absent(AnyObject),
    Volumes: absent(AnyObject),
  })),
  rootfs: z.looseObject({ type: z.string().optional(), diff_ids: z.array(Digest) }),
  history: absent(z.array(z.looseObject({
    created: absent(z.string()),
    created_by: absent(z.string()),
    comment: absent(z.string()),
    author: absent(z.string()),
    empty_layer: absent(z.boolean()),
  }))),
});

// null members stand for absent ones, which is how the model (ImageConfig's optional fields) reads them
export const ConfigSchema = ConfigFields as unknown as z.ZodType<ImageConfig>;

/** Whether a document (any JSON value) is an index: by its declared media type, else by its shape. */
export function isIndex(doc: unknown, declared?: string): boolean {
  const d = typeof doc === 'object' && doc !== null ? (doc as { mediaType?: unknown; manifests?: unknown }) : {};
  const mt = declared ?? d.mediaType;
  if (mt === MediaType.ociIndex || mt === MediaType.dockerList) return true;
  if (mt === MediaType.ociManifest || mt === MediaType.dockerManifest) return false;
  return Array.isArray(d.manifests);
}

export function validateIndex(doc: unknown, where: string): Index {
  return validateJson(doc, IndexSchema, where);
}

/** Validate a parsed manifest; `where` names it in errors. */
export function validateManifest(doc: unknown, where: string): Manifest {
  return validateJson(doc, ManifestSchema, where);
}

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
export async function flattenIndex(doc: unknown, loadIndex: (d: Descriptor) => Promise<unknown>, where: string): Promise<Candidate[]> {
  const out: Candidate[] = [];
  // Only so many nested indexes, each loaded once: a hostile index of a thousand indexes of a
  // thousand indexes would otherwise be a billion fetches (each one progress to the deadline), and
  // one listing the same index ten times at each of eight levels a hundred million visits.
  const loaded = new Map<string, unknown>();
  let visits = 0;
  const load = async (d: Descriptor, at: string): Promise<unknown> => {
    if (++visits > MAX_NESTED_INDEXES) throw new StrataError(`${at}: more than ${MAX_NESTED_INDEXES} nested image indexes`);
    if (!loaded.has(d.digest)) loaded.set(d.digest, await loadIndex(d));
    return loaded.get(d.digest);
  };
  const walk = async (doc: unknown, at: string, depth: number): Promise<void> => {
    if (depth > 8) throw new StrataError(`${at}: image indexes nested more than 8 deep`);
    for (const d of validateIndex(doc, at).manifests) {
      if (isAttestation(d)) continue;
      if (d.mediaType === MediaType.ociIndex || d.mediaType === MediaType.dockerList) {
        const inner = `${at} -> ${d.digest.slice(0, 19)}`;
        await walk(await load(d, inner), inner, depth + 1);
      } else {
        if (out.length >= MAX_CANDIDATES) throw new StrataError(`${at}: more than ${MAX_CANDIDATES} image manifests`);
        out.push({ descriptor: d, platform: d.platform ? normalizePlatform(d.platform) : undefined });
      }
    }
  };
  await walk(doc, where, 0);
  return out;
}

/** Far above any real index (a multi-platform image lists tens of manifests; docker save nests one index). */
const MAX_NESTED_INDEXES = 256;
const MAX_CANDIDATES = 65_536;

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
