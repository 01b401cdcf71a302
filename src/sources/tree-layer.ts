import { StrataError, within } from '../util/errors.js';
import type { FileTree } from './file-tree.js';
import type { Layer } from '../image/image.js';
import type { LayerScan } from '../scan/scan-layer.js';

/** A tree that had to read its layers before their order was known (a stream) hands the scans over. */
export interface ScannedTree extends FileTree {
  scanned(path: string): LayerScan | undefined;
}

function isScanned(t: FileTree): t is ScannedTree {
  return typeof (t as Partial<ScannedTree>).scanned === 'function';
}

export function treeLayer(
  tree: FileTree,
  path: string,
  index: number,
  diffId: string,
  desc: { digest?: string; mediaType?: string; blobSize?: number },
): Layer {
  const short = path.length > 40 ? `${path.slice(0, 37)}…` : path;
  const where = `layer ${index} (${short})`;
  let scanned: LayerScan | undefined;
  try {
    scanned = isScanned(tree) ? tree.scanned(path) : undefined;
  } catch (e) {
    // the scan failed while streaming, before the layer's position was known: name it now
    throw e instanceof StrataError ? within(where, e) : e;
  }
  return {
    index,
    diffId,
    digest: desc.digest,
    mediaType: desc.mediaType,
    blobSize: desc.blobSize ?? tree.size(path),
    where,
    open: () => tree.open(path),
    file: scanned ? undefined : tree.locate?.(path),
    scanned,
  };
}
