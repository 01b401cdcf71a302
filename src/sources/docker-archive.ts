import { z } from 'zod';
import { StrataError } from '../util/errors.js';
import { digestProblem } from '../util/digest.js';
import { docName, readJson, type FileTree } from './file-tree.js';
import type { Image, Layer, SourceKind } from '../image/image.js';
import { checkImageConfig, ConfigSchema, IndexSchema, ManifestSchema, type Manifest } from '../image/oci.js';
import { blobPath, readBlobJson, type SelectOptions } from './oci-layout.js';
import { selectByTag } from './select.js';
import { treeLayer } from './tree-layer.js';

/** docker save's manifest.json: one entry per image (null RepoTags: an untagged image). */
const SaveManifest = z.array(z.looseObject({
  Config: z.string(),
  RepoTags: z.array(z.string()).nullish(),
  Layers: z.array(z.string()),
}));

/** A path named by its digest (`blobs/sha256/HEX`): the digest, when it is one strata verifies. */
function pathDigest(path: string): string | undefined {
  const m = /^blobs\/([^/]+)\/([^/]+)$/.exec(path);
  const d = m ? `${m[1]}:${m[2]}` : undefined;
  return d && !digestProblem(d) ? d : undefined;
}

/**
 * `docker save` archives: legacy (<id>/layer.tar), skopeo's (<diffid>.tar), and Docker 25+ (an OCI
 * layout plus manifest.json pointing into blobs/). manifest.json is the authority; the OCI manifest,
 * when one matches the same config, adds media types and the manifest digest (early 25.0 releases
 * wrote broken ones, so it is only used when its layer list agrees).
 */
export async function readDockerArchive(tree: FileTree, ref: string, source: SourceKind, opts: SelectOptions): Promise<Image> {
  const entries = await readJson(tree, 'manifest.json', SaveManifest);
  const entry = selectByTag(entries, (e) => e.RepoTags ?? [], opts.tag, tree.name);
  // every writer names the config by its digest (blobs/sha256/HEX, HEX.json): verify it when it does
  const named = pathDigest(entry.Config) ?? pathDigest(`blobs/sha256/${entry.Config.replace(/\.json$/, '').replace(/^sha256:/, '')}`);
  const configDigest = named ?? `sha256:${entry.Config.replace(/\.json$/, '').replace(/^sha256:/, '')}`;
  const config = await readJson(tree, entry.Config, ConfigSchema, docName(tree, entry.Config), named);
  const platform = checkImageConfig(config, entry.Layers.length, tree.name, { listedIn: 'manifest.json', want: opts.platform });
  const oci = await matchingOciManifest(tree, configDigest, entry.Layers);
  const layers: Layer[] = entry.Layers.map((p, i) => {
    if (!tree.has(p)) throw new StrataError(`${tree.name}: missing layer ${i} (${p})`);
    const d = oci?.manifest.layers[i];
    return treeLayer(tree, p, i, config.rootfs.diff_ids[i], {
      digest: d?.digest ?? pathDigest(p),
      mediaType: d?.mediaType,
      blobSize: d?.size,
    });
  });
  return {
    ref,
    source,
    tags: entry.RepoTags ?? [],
    manifestDigest: oci?.digest,
    configDigest,
    annotations: oci?.manifest.annotations,
    config,
    platform,
    layers,
  };
}

/** The OCI side of a Docker 25+ save: extra facts, so a broken or mismatched one is passed over. */
async function matchingOciManifest(tree: FileTree, configDigest: string, layerPaths: string[]): Promise<{ digest: string; manifest: Manifest } | undefined> {
  if (!tree.has('index.json')) return undefined;
  const index = await readJson(tree, 'index.json', IndexSchema).catch(unlessBadInput);
  for (const d of index?.manifests ?? []) {
    if (!tree.has(blobPath(d.digest))) continue;
    // a manifest that does not match its digest does not agree either
    const doc = await readBlobJson(tree, d, 'manifest', ManifestSchema).catch(unlessBadInput);
    if (doc?.config.digest !== configDigest) continue;
    const agrees = doc.layers.length === layerPaths.length && doc.layers.every((l, i) => blobPath(l.digest) === layerPaths[i]);
    if (agrees) return { digest: d.digest, manifest: doc };
  }
  return undefined;
}

function unlessBadInput(e: unknown): undefined {
  if (e instanceof StrataError) return undefined;
  throw e;
}
