/**
 * The optimized image as blobs in a scratch directory: the base layers copied byte for byte (same
 * blobs, same diffIDs), the planned layers written anew, then the config (the input's, with new
 * diffIDs and history) and the manifest, in the input's media-type family (Docker or OCI).
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { HistoryEntry, Image, ImageConfig } from '../image/image.js';
import type { ImageModel } from '../model/read-image.js';
import type { Plan } from '../analyze/optimize/plan.js';
import { copyBlob, writeLayer, type OutputCompression } from './layer-writer.js';
import { uncompressed, type Compression } from '../scan/compression.js';

export interface BuiltLayer {
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
  /** The blob in the scratch directory. */
  file: string;
  /** Uncompressed tar length. */
  tarSize: number;
  /** Copied from the input as it was. */
  kept: boolean;
}

export interface BuiltImage {
  layers: BuiltLayer[];
  config: Buffer;
  configDigest: string;
  configMediaType: string;
  manifest: Buffer;
  manifestDigest: string;
  manifestMediaType: string;
}

const OCI = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: { none: 'application/vnd.oci.image.layer.v1.tar', gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd' },
};
const DOCKER = {
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layer: { none: 'application/vnd.docker.image.rootfs.diff.tar', gzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip', zstd: '' },
};

/** A kept layer's media type: the input's when it is of the output's family, else the family's name for its compression. */
function keptMediaType(input: string | undefined, compression: Compression, family: 'docker' | 'oci'): string {
  if (input?.startsWith(family === 'docker' ? 'application/vnd.docker.' : 'application/vnd.oci.')) return input;
  return (family === 'docker' && DOCKER.layer[compression]) || OCI.layer[compression];
}

/** Each chunk copied: an inflated chunk may view a buffer the next one reuses, and the file is written later. */
async function* copies(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const c of chunks) yield Buffer.from(c);
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * Docker media types when the input used them and the new layers can have one (Docker's schema 2
 * has no zstd type); otherwise OCI's, like Docker 25+'s own `docker save`.
 */
export function mediaFamily(image: Image, compression: OutputCompression): 'docker' | 'oci' {
  const docker = image.layers.some((l) => l.mediaType?.startsWith('application/vnd.docker.'));
  return docker && compression === 'gzip' ? 'docker' : 'oci';
}

/**
 * `scratch`: a directory of this run's own; `output` names the image's destination when writing
 * there fails. `plainBase`: the base layers written uncompressed instead of byte for byte, for an
 * engine that must load them and may not read their compression (Docker 20.10 and zstd:
 * `strata dockerfile --verify`).
 */
export async function buildImage(model: ImageModel, plan: Plan, compression: OutputCompression, scratch: { dir: string; output: string }, onLayer?: (done: number, total: number) => void, opts: { plainBase?: boolean } = {}): Promise<BuiltImage> {
  const image = model.image;
  const family = mediaFamily(image, compression);
  const types = family === 'docker' ? DOCKER : OCI;
  const layers: BuiltLayer[] = [];
  const total = plan.base + plan.layers.length;
  for (let i = 0; i < plan.base; i++) {
    const info = model.layers[i];
    const file = join(scratch.dir, `base-${i}`);
    const to = { path: file, output: scratch.output };
    const where = image.layers[i].where;
    if (opts.plainBase) {
      // the tar itself: its digest is the diffID, checked on the way
      const got = await copyBlob(copies((await uncompressed(image.layers[i].open())).chunks), to, where, info.diffId);
      layers.push({ ...got, diffId: info.diffId, mediaType: types.layer.none, file, tarSize: info.tarSize, kept: true });
    } else {
      const got = await copyBlob(image.layers[i].open(), to, where, info.digest);
      layers.push({ ...got, diffId: info.diffId, mediaType: keptMediaType(info.mediaType, info.compression, family), file, tarSize: info.tarSize, kept: true });
    }
    onLayer?.(layers.length, total);
  }
  // new layers are written side by side, one per core: compressing is most of the time and runs in zlib's thread pool
  const written: BuiltLayer[] = new Array(plan.layers.length);
  let next = 0;
  let done = layers.length;
  const worker = async () => {
    for (let j = next++; j < plan.layers.length; j = next++) {
      const file = join(scratch.dir, `layer-${j}`);
      const got = await writeLayer(image, plan.layers[j], { path: file, output: scratch.output }, compression);
      written[j] = { digest: got.digest, size: got.size, diffId: got.diffId, mediaType: types.layer[compression], file, tarSize: got.tarSize, kept: false };
      onLayer?.(++done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), plan.layers.length) }, worker));
  layers.push(...written);
  // the image as it is, secrets and all: the masked config is for people and caches, not for the image
  const config = Buffer.from(JSON.stringify(newConfig(image.rawConfig ?? image.config, model.layers.length, plan, layers.map((l) => l.diffId))));
  const configDigest = sha256(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: types.manifest,
      config: { mediaType: types.config, digest: configDigest, size: config.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  return { layers, config, configDigest, configMediaType: types.config, manifest, manifestDigest: sha256(manifest), manifestMediaType: types.manifest };
}

/**
 * The input's config with the new diffIDs, and history that still names who made each layer: kept
 * layers' entries as they were; with `--layers keep|auto` each rewritten layer keeps its entry (a
 * comment says it was rewritten; a layer left out becomes an empty entry); with `--layers 1` the
 * merged layers' entries become empty ones followed by one `strata optimize: layers A-B merged`.
 */
function newConfig(input: ImageConfig, inputLayers: number, plan: Plan, diffIds: string[]): ImageConfig {
  const config: ImageConfig = structuredClone(input);
  config.rootfs = { ...config.rootfs, diff_ids: diffIds };
  // a history that does not match the layers (hand-made images) cannot say who made what: dropped
  if (!input.history) return config;
  if (input.history.filter((h) => !h.empty_layer).length !== inputLayers) {
    delete config.history;
    return config;
  }
  const outOf = new Map<number, number>(); // input layer -> output layer, for the first layer an output draws on
  for (const [j, pl] of plan.layers.entries()) outOf.set(pl.from[0], plan.base + j);
  const merged = plan.layers.length === 1 && plan.layers[0].from.length > 1;
  const history: HistoryEntry[] = [];
  let layer = 0;
  for (const h of input.history) {
    if (h.empty_layer) {
      history.push(h);
      continue;
    }
    const L = layer++;
    if (L < plan.base) history.push(h);
    else if (merged) {
      history.push({ ...h, empty_layer: true, comment: note(h, `strata optimize: merged into layer ${plan.base}`) });
      if (L === inputLayers - 1) history.push({ created: h.created, created_by: `strata optimize: layers ${plan.base}-${inputLayers - 1} merged`, comment: 'strata optimize' });
    } else if (outOf.has(L)) history.push({ ...h, comment: note(h, 'strata optimize: final versions only') });
    else history.push({ ...h, empty_layer: true, comment: note(h, 'strata optimize: nothing of this layer is left in the image') });
  }
  config.history = history;
  return config;
}

const note = (h: HistoryEntry, text: string) => (h.comment ? `${h.comment}; ${text}` : text);
