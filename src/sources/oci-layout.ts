import { z } from 'zod';
import { StrataError } from '../util/errors.js';
import { readJson, type FileTree } from './file-tree.js';
import type { Image, Layer, SourceKind } from '../image/image.js';
import {
  checkImageConfig, choosePlatform, ConfigSchema, flattenIndex, IndexSchema, isIndex, validateManifest, type Descriptor,
} from '../image/oci.js';
import type { Platform } from '../image/platform.js';
import { selectByTag } from './select.js';
import { treeLayer } from './tree-layer.js';

export function blobPath(digest: string): string {
  const [alg, hex] = digest.split(':');
  return `blobs/${alg}/${hex}`;
}

/** A JSON blob a descriptor (already validated) points at, verified against its digest; errors name it `tree what digest`. */
export async function readBlobJson<S extends z.ZodType>(tree: FileTree, d: Descriptor, what: string, schema: S): Promise<z.output<S>> {
  const p = blobPath(d.digest);
  if (!tree.has(p)) throw new StrataError(`${tree.name}: missing blob ${d.digest} (${what})`);
  return readJson(tree, p, schema, `${tree.name} ${what} ${d.digest}`, d.digest);
}

const refName = (d: Descriptor) => d.annotations?.['org.opencontainers.image.ref.name'];

export interface SelectOptions {
  tag?: string;
  platform?: Platform;
}

/** An OCI image layout (directory or tar): index.json -> [index ->]* manifest -> config + layers. */
export async function readOciLayout(tree: FileTree, ref: string, source: SourceKind, opts: SelectOptions): Promise<Image> {
  const index = await readJson(tree, 'index.json', IndexSchema);
  // Several differently named entries are several images; one name (or none) is one image, maybe multi-platform.
  const names = [...new Set(index.manifests.map(refName).filter((n): n is string => !!n))];
  let top: Descriptor[] = index.manifests;
  if (opts.tag !== undefined || names.length > 1) {
    const groups = names.map((n) => index.manifests.filter((d) => refName(d) === n));
    top = selectByTag(groups, (g) => [refName(g[0])!], opts.tag, tree.name);
  }
  const loadIndex = (d: Descriptor) => readBlobJson(tree, d, 'image index', IndexSchema);
  const cands = await flattenIndex({ schemaVersion: 2, manifests: top }, loadIndex, `${tree.name} index.json`);
  const chosen = choosePlatform(cands, opts.platform, `${tree.name}`);
  const mdoc = await readBlobJson(tree, chosen.descriptor, 'manifest', z.unknown());
  if (isIndex(mdoc, chosen.descriptor.mediaType)) throw new StrataError(`${tree.name}: ${chosen.descriptor.digest} is an index where a manifest was expected`);
  const manifest = validateManifest(mdoc, `${tree.name} manifest ${chosen.descriptor.digest}`);
  const config = await readBlobJson(tree, manifest.config, 'config', ConfigSchema);
  const platform = checkImageConfig(config, manifest.layers.length, tree.name, { listedIn: 'manifest', want: opts.platform, pickedByIndex: !!chosen.platform });
  const layers: Layer[] = manifest.layers.map((d, i) => {
    const path = blobPath(d.digest);
    if (!tree.has(path)) throw new StrataError(`${tree.name}: missing blob ${d.digest} (layer ${i})`);
    return treeLayer(tree, path, i, config.rootfs.diff_ids[i], { digest: d.digest, mediaType: d.mediaType, blobSize: d.size });
  });
  const tags = [...new Set(top.map(refName).filter((n): n is string => !!n))];
  return {
    ref,
    source,
    tags,
    manifestDigest: chosen.descriptor.digest,
    configDigest: manifest.config.digest,
    annotations: manifest.annotations,
    config,
    platform,
    layers,
  };
}
