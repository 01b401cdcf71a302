/**
 * What the image-details pane shows about wasted bytes and bloat, and what `w` jumps through: the
 * waste and bloat analysis (src/analyze/bloat/findings.ts) flattened to one entry per file, largest first.
 */
import type { ImageModel } from '../model/read-image.js';
import { type BloatConfig } from '../analyze/bloat/section.js';
import { inspectReport, type InspectReport } from '../analyze/report.js';

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

export function wasteSummary(model: ImageModel, bloat?: BloatConfig): WasteSummary {
  return wasteOfReport(inspectReport(model, { bloat }));
}

/** The same, from an inspect report with every finding (the report cache's). */
export function wasteOfReport(r: InspectReport): WasteSummary {
  const findings: Finding[] = [];
  for (const f of r.findings) {
    if (f.kind === 'pattern') continue; // commit-build: its files are findings of their own categories
    for (const it of f.items) findings.push({ path: it.path, bytes: it.bytes, layer: it.layer, category: f.category, remedy: f.remedy });
  }
  findings.sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : a.path > b.path ? 1 : a.layer - b.layer));
  return { findings, wastedBytes: r.summary.wastedBytes, efficiency: r.summary.efficiency };
}
