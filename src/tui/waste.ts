/**
 * What the image-details pane shows about wasted bytes, and a simple stand-in analysis: every regular
 * file stored in a layer and no longer visible at the top (overwritten or deleted later) is waste.
 * A fuller analysis (issue 4) can pass its own findings to the explorer instead.
 */
import type { ImageModel } from '../layers/read-image.js';
import { Kind } from '../layers/records.js';
import { End, LIVE } from '../layers/union.js';

export interface Finding {
  /** Absolute path: `/var/cache/pkg/index.db`. */
  path: string;
  bytes: number;
  /** The layer that stored the bytes. */
  layer: number;
  category: string;
  remedy: string;
}

export interface WasteSummary {
  findings: Finding[];
  wastedBytes: number;
  /** Share of stored file bytes still visible at the top, 0..1. */
  efficiency: number;
}

export function simpleWaste(model: ImageModel): WasteSummary {
  const u = model.union;
  const findings: Finding[] = [];
  let wasted = 0;
  for (let v = 0; v < u.versionCount; v++) {
    const until = u.visibleUntil(v);
    if (until === LIVE || u.kindOf(v) !== Kind.file) continue;
    const bytes = u.sizeOf(v);
    if (bytes === 0) continue;
    wasted += bytes;
    const by = until + 1;
    const replaced = u.endReason(v) === End.replaced;
    findings.push({
      path: `/${u.nodePath[u.nodeOfVersion(v)]}`,
      bytes,
      layer: u.layerOf(v),
      category: replaced ? 'overwritten' : 'deleted',
      remedy: replaced
        ? `replaced in layer ${by}: change it in the layer that creates it (chmod/chown in COPY --chmod/--chown)`
        : `deleted in layer ${by}: remove it in the same RUN that creates it, or use a multi-stage build`,
    });
  }
  findings.sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1));
  const stored = model.layers.reduce((s, l) => s + l.size, 0);
  return { findings, wastedBytes: wasted, efficiency: stored === 0 ? 1 : 1 - wasted / stored };
}
