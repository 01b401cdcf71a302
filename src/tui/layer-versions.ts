import type { Union } from '../layers/union.js';

/**
 * The versions layers from..to created, as a range [start, end): the union numbers versions in
 * layer order, so they are one run, found by binary search without touching paths.
 */
export function versionsOfLayers(u: Union, from: number, to: number): [number, number] {
  return [firstVersionOf(u, from), firstVersionOf(u, to + 1)];
}

function firstVersionOf(u: Union, k: number): number {
  let lo = 0;
  let hi = u.versionCount;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (u.layerOf(mid) < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
