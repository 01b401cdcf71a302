/**
 * Change counts of one layer read straight off the union's per-row change codes: the same numbers
 * as views.changeCounts without building an entry per row, so selecting a 400k-entry layer is instant.
 */
import { Flag } from '../layers/records.js';
import { Change, type Union } from '../layers/union.js';
import type { ChangeCounts } from '../layers/views.js';

export function layerCounts(u: Union, L: number): ChangeCounts {
  const c: ChangeCounts = { added: 0, modified: 0, metadata: 0, removed: u.removed[L].length, unchanged: 0 };
  const rows = u.rowChange[L];
  const r = u.layers[L];
  for (let i = 0; i < r.count; i++) {
    if (r.flags[i] & Flag.aufs) continue;
    switch (rows[i]) {
      case Change.added:
        c.added++;
        break;
      case Change.modified:
        c.modified++;
        break;
      case Change.metadata:
        c.metadata++;
        break;
      case Change.unchanged:
        c.unchanged++;
        break;
    }
  }
  return c;
}
