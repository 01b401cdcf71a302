import { StrataError } from '../util/errors.js';
import { readJson, type FileTree } from './file-tree.js';
import type { Image, Layer, SourceKind } from '../image/image.js';
import { checkImageConfig, validateConfig, validateManifest, type Index, type Manifest } from '../image/oci.js';
import { blobPath, readBlobJson, type SelectOptions } from './oci-layout.js';
import { selectByTag } from './select.js';
import { treeLayer } from './tree-layer.js';

interface SaveEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

const contentAddressed = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/;

/**
 * `docker save` archives: legacy (<id>/layer.tar), skopeo's (<diffid>.tar), and Docker 25+ (an OCI
 * layout plus manifest.json pointing into blobs/). manifest.json is the authority; the OCI manifest,
 * when one matches the same config, adds media types and the manifest digest (early 25.0 releases
 * wrote broken ones, so it is only used when its layer list agrees).
 */
export async function readDockerArchive(tree: FileTree, ref: string, source: SourceKind, opts: SelectOptions): Promise<Image> {
  const entries = await readJson<SaveEntry[]>(tree, 'manifest.json');
  if (!Array.isArray(entries)) throw new StrataError(`${tree.name}: manifest.json is not a list of images`);
  const entry = selectByTag(entries, (e) => e.RepoTags ?? [], opts.tag, tree.name);
  if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) {
    throw new StrataError(`${tree.name}: manifest.json entry lacks "Config" or "Layers"`);
  }
  const cfgMatch = contentAddressed.exec(entry.Config);
  const configDigest = cfgMatch ? `${cfgMatch[1]}:${cfgMatch[2]}` : `sha256:${entry.Config.replace(/\.json$/, '').replace(/^sha256:/, '')}`;
  // every writer names the config by its sha256 (blobs/sha256/HEX, HEX.json): verify it when it does
  const named = /^sha256:[a-f0-9]{64}$/.test(configDigest) ? configDigest : undefined;
  const config = validateConfig(await readJson(tree, entry.Config, named), `${tree.name} ${entry.Config}`);
  const platform = checkImageConfig(config, entry.Layers.length, tree.name, { listedIn: 'manifest.json', want: opts.platform });
  const oci = await matchingOciManifest(tree, configDigest, entry.Layers);
  const layers: Layer[] = entry.Layers.map((p, i) => {
    if (!tree.has(p)) throw new StrataError(`${tree.name}: missing layer ${i} (${p})`);
    const m = contentAddressed.exec(p);
    const d = oci?.manifest.layers[i];
    return treeLayer(tree, p, i, config.rootfs.diff_ids[i], {
      digest: d?.digest ?? (m ? `${m[1]}:${m[2]}` : undefined),
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

async function matchingOciManifest(tree: FileTree, configDigest: string, layerPaths: string[]): Promise<{ digest: string; manifest: Manifest } | undefined> {
  if (!tree.has('index.json')) return undefined;
  const index = await readJson<Index>(tree, 'index.json');
  for (const d of Array.isArray(index.manifests) ? index.manifests : []) {
    if (!d?.digest || !tree.has(blobPath(d.digest))) continue;
    // a manifest that does not match its digest does not agree either
    const doc = await readBlobJson<Manifest>(tree, d, 'manifest').catch((e: unknown) => {
      if (e instanceof StrataError) return undefined;
      throw e;
    });
    if (doc?.config?.digest !== configDigest || !Array.isArray(doc.layers)) continue;
    const agrees = doc.layers.length === layerPaths.length && doc.layers.every((l, i) => blobPath(l.digest) === layerPaths[i]);
    if (agrees) return { digest: d.digest, manifest: validateManifest(doc, `${tree.name} manifest ${d.digest}`) };
  }
  return undefined;
}
