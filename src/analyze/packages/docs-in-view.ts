/**
 * The package database files each view of an image sees, as the scan kept them: for view k, the
 * visible copy of every kept file (a later layer's copy replaces an earlier one; a whiteout or an
 * opaque directory hides it, as for any file).
 */
import { Flag, type LayerRecords } from '../../scan/records.js';
import type { Union } from '../../model/union.js';
import type { DocView } from './types.js';

interface Doc {
  layer: number;
  bytes: Uint8Array | null; // null: over its cap, not kept
}

export class ImageDocs {
  /** Per layer: the rows that hold a kept (or oversized) package file. */
  private readonly rows: number[][];

  constructor(private readonly u: Union) {
    this.rows = u.layers.map(rowsOf);
  }

  /** Whether any layer holds a package file at all (most scratch-built images: none). */
  get any(): boolean {
    return this.rows.some((r) => r.length > 0);
  }

  /**
   * The files visible after layer k, a key that changes exactly when that set changes, and the
   * visible files that were over their cap (each a warning).
   */
  at(k: number): { view: DocView; key: string; oversized: { path: string; layer: number }[] } {
    const u = this.u;
    const docs = new Map<string, Doc>();
    const versions: number[] = [];
    for (let L = 0; L <= k; L++) {
      for (const row of this.rows[L]) {
        const node = u.rowNode[L][row];
        if (node < 0 || u.isHidden(node)) continue;
        const v = u.versionAt(node, k);
        if (v < 0 || u.layerOf(v) !== L || u.rowOf(v) !== row) continue;
        docs.set(u.nodePath[node], { layer: L, bytes: u.layers[L].packageFiles[row] ?? null });
        versions.push(v);
      }
    }
    const oversized = [...docs].filter(([, d]) => d.bytes === null).map(([path, d]) => ({ path, layer: d.layer }));
    return { view: docView(docs), key: versions.sort((a, b) => a - b).join(','), oversized };
  }
}

function rowsOf(r: LayerRecords): number[] {
  const rows = Object.keys(r.packageFiles).map(Number);
  for (let i = 0; i < r.count; i++) if (r.flags[i] & Flag.packageFileOversized) rows.push(i);
  return rows;
}

function docView(docs: Map<string, Doc>): DocView {
  return {
    paths: () => [...docs.keys()].filter((p) => docs.get(p)!.bytes !== null),
    get: (p) => docs.get(p)?.bytes ?? undefined,
    oversized: (p) => docs.get(p)?.bytes === null,
    layerOf: (p) => docs.get(p)?.layer ?? -1,
  };
}
