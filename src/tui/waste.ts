/**
 * What the image-details pane shows about wasted bytes, bloat and risks, and what `w` jumps through:
 * the inspect report's findings as they are (src/analyze/bloat/findings.ts), the same list and count
 * as `inspect` and its HTML page, each at its largest file. `w` visits the risks first (each secret,
 * hidden ones too, and each risky file), then the waste findings. The risks are one line, as
 * inspect's Risks section says them.
 */
import type { ImageModel } from '../model/read-image.js';
import { type BloatConfig } from '../analyze/bloat/section.js';
import type { FindingKind } from '../analyze/bloat/findings.js';
import { inspectReport, type InspectReport } from '../analyze/report.js';

export interface Finding {
  /** Absolute path of the finding's largest file: `/var/cache/pkg/index.db`. */
  path: string;
  bytes: number;
  /** The layer that stored that file. */
  layer: number;
  category: string;
  /** `w` visits `risk` stops, then `waste` findings (bytes stored, then hidden by a later layer). */
  kind: FindingKind | 'risk';
  remedy: string;
}

export interface WasteSummary {
  findings: Finding[];
  wastedBytes: number;
  /** Share of stored file bytes still visible at the top, 0..1. */
  efficiency: number;
  /** One line on the risks, or null when there are none. */
  risks: string | null;
  /** Where `w` stops before the waste findings: each secret and risky file (not findings: not counted with them). */
  riskStops: Finding[];
}

export function wasteSummary(model: ImageModel, bloat?: BloatConfig): WasteSummary {
  return wasteOfReport(inspectReport(model, { bloat }));
}

/** The same, from an inspect report with every finding (the report cache's). */
export function wasteOfReport(r: InspectReport): WasteSummary {
  const findings = r.findings.map((f): Finding => {
    const largest = f.items.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    return { path: largest.path, bytes: f.bytes, layer: largest.layer, category: f.category, kind: f.kind, remedy: f.remedy };
  });
  return { findings, wastedBytes: r.summary.wastedBytes, efficiency: r.summary.efficiency, risks: risksLine(r), riskStops: riskStops(r) };
}

function riskStops(r: InspectReport): Finding[] {
  const k = r.risks;
  return [
    ...k.secrets.map((s): Finding => ({
      path: s.path,
      bytes: s.size,
      layer: s.layer,
      category: 'secret',
      kind: 'risk',
      remedy: `${s.description}, ${s.status === 'visible' ? 'visible' : `hidden by layer ${s.hiddenBy} but still stored`}${s.matches.length ? ` (${s.matches.map((m) => `${m.rule} ${m.fingerprint}`).join(', ')})` : ''}. ${s.remedy}`,
    })),
    ...k.files.map((f): Finding => ({ path: f.path, bytes: 0, layer: f.layer, category: f.kind, kind: 'risk', remedy: `${f.capabilities ?? f.mode}. ${f.remedy}` })),
  ];
}

function risksLine(r: InspectReport): string | null {
  const c = r.risks.counts;
  const parts = [
    c.secrets ? `${c.secrets} secret${c.secrets === 1 ? '' : 's'}${c.hiddenSecrets ? ` (${c.hiddenSecrets} hidden but stored)` : ''}` : '',
    c.shippedSecrets ? `${c.shippedSecrets} informational (files packages ship)` : '',
    r.risks.config.length ? `${r.risks.config.length} secret${r.risks.config.length === 1 ? '' : 's'} in the config` : '',
    c.setuid + c.setgid ? `${c.setuid + c.setgid} setuid/setgid` : '',
    c.capability ? `${c.capability} with capabilities` : '',
    c.worldWritable ? `${c.worldWritable} world-writable` : '',
    r.risks.user.root ? 'runs as root' : '',
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : null;
}
