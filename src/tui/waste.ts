/**
 * What the image-details pane shows about wasted bytes, bloat and risks, and what `w` jumps through:
 * the risks first (secrets, hidden ones too, and risky files), then the waste and bloat analysis
 * (src/analyze/bloat/findings.ts) flattened to one entry per file, largest first.
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
  /** One line on the risks, or null when there are none. */
  risks: string | null;
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
  const k = r.risks;
  const risky: Finding[] = [
    ...k.secrets.map((s) => ({
      path: s.path,
      bytes: s.size,
      layer: s.layer,
      category: 'secret',
      remedy: `${s.description}, ${s.status === 'visible' ? 'visible' : `hidden by layer ${s.hiddenBy} but still stored`}${s.matches.length ? ` (${s.matches.map((m) => `${m.rule} ${m.fingerprint}`).join(', ')})` : ''}. ${s.remedy}`,
    })),
    ...k.files.map((f) => ({ path: f.path, bytes: 0, layer: f.layer, category: f.kind, remedy: `${f.capabilities ?? f.mode}. ${f.remedy}` })),
  ];
  return { findings: [...risky, ...findings], wastedBytes: r.summary.wastedBytes, efficiency: r.summary.efficiency, risks: risksLine(r) };
}

function risksLine(r: InspectReport): string | null {
  const c = r.risks.counts;
  const parts = [
    c.secrets ? `${c.secrets} secret${c.secrets === 1 ? '' : 's'}${c.hiddenSecrets ? ` (${c.hiddenSecrets} hidden but stored)` : ''}` : '',
    r.risks.config.length ? `${r.risks.config.length} secret${r.risks.config.length === 1 ? '' : 's'} in the config` : '',
    c.setuid + c.setgid ? `${c.setuid + c.setgid} setuid/setgid` : '',
    c.capability ? `${c.capability} with capabilities` : '',
    c.worldWritable ? `${c.worldWritable} world-writable` : '',
    r.risks.user.root ? 'runs as root' : '',
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : null;
}
