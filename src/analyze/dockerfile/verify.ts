/**
 * `strata dockerfile --verify`: the rebuilt image's final view against the original's, by the file
 * diff `strata diff` uses (type, content hash, link target, device numbers, mode, owner, xattrs,
 * hardlink count; never mtime), with the left-out paths ignored on both sides: the rebuild leaves
 * its own temp files and logs as the original did.
 */
import type { ImageModel } from '../../model/read-image.js';
import { blobSizes } from '../../model/views.js';
import { diffFiles, type FileDiff } from '../diff/files.js';
import { viewOf, type View } from '../diff/side.js';

export interface ImageSize {
  layers: number;
  /** Regular-file bytes of the final view, each inode once (inspect's finalSize). */
  fileBytes: number;
  /** The layer blobs as stored (inspect's blobSize): a docker-daemon export stores them as plain tar. */
  blobBytes: number;
  /** The layers uncompressed (every byte stored, hidden ones too): comparable whatever each side compresses with. */
  tarBytes: number;
}

export interface VerifyResult {
  /** No difference besides the left-out paths. */
  equal: boolean;
  /** Every remaining difference, in walk order; `a` is the original's side, `b` the rebuild's. */
  differences: FileDiff[];
  before: ImageSize;
  after: ImageSize;
  /** Distinct paths of either view that `leftOut` set aside. */
  ignored: number;
}

export interface VerifyOptions {
  /**
   * Paths set aside on both sides. It receives an absolute path with a leading `/` and no trailing
   * one (`/var/log/app/build.log`), once per path of either view, directories included: a left-out
   * directory's descendants are asked about on their own, so the predicate must match them too.
   */
  leftOut: (path: string) => boolean;
}

export function verifyRebuild(original: ImageModel, rebuilt: ImageModel, opts: VerifyOptions): VerifyResult {
  const a = viewOf({ model: original, layer: original.layers.length - 1 });
  const b = viewOf({ model: rebuilt, layer: rebuilt.layers.length - 1 });
  let ignored = 0;
  // diffFiles asks once per path of A, then once per path of B that A lacks: a count of distinct paths
  const differences = diffFiles(a, b, (path) => {
    const out = opts.leftOut(path);
    if (out) ignored++;
    return out;
  });
  return { equal: differences.length === 0, differences, before: sizeOf(a), after: sizeOf(b), ignored };
}

function sizeOf(view: View): ImageSize {
  // view.size is counted as imageSizes' `final` is (counted-bytes.ts): no second walk of the view
  const layers = view.model.layers;
  return { layers: layers.length, fileBytes: view.size, blobBytes: blobSizes(layers).stored, tarBytes: layers.reduce((s, l) => s + l.tarSize, 0) };
}
