/** The layer and history parts of a diff: layers aligned across the two images, history lines compared. */
import { diffArrays } from 'diff';
import type { HistoryEntry } from '../../image/image.js';
import { instructionKey } from '../../image/history.js';
import { layerHistory, type ImageModel } from '../../model/read-image.js';
import type { DiffSide } from './side.js';

export interface LayerRef {
  index: number;
  diffId: string;
  size: number;
  compressedSize: number | null;
  createdBy: string | null;
}

export interface LayerPair {
  a: LayerRef | null;
  b: LayerRef | null;
  /** identical: same diffID; instruction: same normalised created_by; unmatched: neither. */
  match: 'identical' | 'instruction' | 'unmatched';
}

export interface HistoryLine {
  op: 'same' | 'removed' | 'added';
  instruction: string;
  emptyLayer: boolean;
}

function layerRef(m: ImageModel, i: number): LayerRef {
  const l = m.layers[i];
  return { index: i, diffId: l.diffId, size: l.size, compressedSize: l.compressedSize, createdBy: l.history?.created_by === undefined ? null : l.history.created_by };
}

/**
 * The common base (equal diffIDs from the bottom) once, then the remaining layers side by side:
 * aligned by the longest common subsequence of "same diffID or same instruction", with the runs in
 * between paired up in order.
 */
export function alignLayers(a: DiffSide, b: DiffSide): { sharedBase: number; pairs: LayerPair[] } {
  const la = a.model.layers.slice(0, a.layer + 1), lb = b.model.layers.slice(0, b.layer + 1);
  let shared = 0;
  while (shared < la.length && shared < lb.length && la[shared].diffId === lb[shared].diffId) shared++;
  const key = (l: (typeof la)[number]) => ({ diffId: l.diffId, instr: instructionKey(l.history?.created_by), index: l.index });
  const ka = la.slice(shared).map(key), kb = lb.slice(shared).map(key);
  const same = (x: (typeof ka)[number], y: (typeof ka)[number]) => x.diffId === y.diffId || (x.instr !== '' && x.instr === y.instr);
  const parts = diffArrays(ka, kb, { comparator: same });
  const pairs: LayerPair[] = [];
  let i = 0, j = 0;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p];
    if (!part.added && !part.removed) {
      for (let n = 0; n < part.value.length; n++, i++, j++) {
        pairs.push({ a: layerRef(a.model, ka[i].index), b: layerRef(b.model, kb[j].index), match: ka[i].diffId === kb[j].diffId ? 'identical' : 'instruction' });
      }
      continue;
    }
    // a removed run, possibly followed by an added run: show them next to each other
    const removed = part.removed ? part.value.length : 0;
    const next = part.removed && parts[p + 1]?.added ? parts[++p] : part.added ? part : null;
    const added = next ? next.value.length : 0;
    for (let n = 0; n < Math.max(removed, added); n++) {
      pairs.push({ a: n < removed ? layerRef(a.model, ka[i++].index) : null, b: n < added ? layerRef(b.model, kb[j++].index) : null, match: 'unmatched' });
    }
  }
  return { sharedBase: shared, pairs };
}

/** History entries up to the one that made the view's top layer (all of them for the top). */
export function viewHistory(side: DiffSide): HistoryEntry[] {
  const all = side.model.image.config.history ?? [];
  if (side.layer === side.model.layers.length - 1) return all;
  const last = layerHistory(all, side.model.layers.length)[side.layer];
  const end = last ? all.indexOf(last) + 1 : all.length;
  return all.slice(0, end);
}

export function diffHistory(a: HistoryEntry[], b: HistoryEntry[]): HistoryLine[] {
  const line = (h: HistoryEntry) => ({ instruction: instructionKey(h.created_by) || (h.comment ? `(${h.comment})` : ''), emptyLayer: !!h.empty_layer });
  const la = a.map(line), lb = b.map(line);
  const out: HistoryLine[] = [];
  for (const part of diffArrays(la, lb, { comparator: (x, y) => x.instruction === y.instruction && x.emptyLayer === y.emptyLayer })) {
    const op = part.added ? 'added' : part.removed ? 'removed' : 'same';
    for (const h of part.value) out.push({ op, ...h });
  }
  return out;
}
