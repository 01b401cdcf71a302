/**
 * A DocView (src/analyze/packages/types.ts) over files held in memory, for the package readers'
 * tests: root-relative path -> text or bytes, the layer of each (default 0), and the paths the scan
 * saw but did not keep (over their cap: not among paths(), get() has nothing).
 */
import type { DocView } from '../../src/analyze/packages/types.js';

export function docView(files: Record<string, string | Uint8Array>, layers: Record<string, number> = {}, oversized: string[] = []): DocView {
  const kept = new Map(Object.entries(files).map(([p, c]): [string, Uint8Array] => [p, typeof c === 'string' ? Buffer.from(c, 'utf8') : c]));
  const big = new Set(oversized);
  return {
    paths: () => kept.keys(),
    get: (p) => kept.get(p),
    oversized: (p) => big.has(p),
    layerOf: (p) => layers[p] ?? 0,
  };
}
