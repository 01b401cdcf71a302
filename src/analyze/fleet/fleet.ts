/**
 * The fleet's report from its images' audit entries: a row per image, and across the fleet the
 * layers most images share, the waste per instruction pattern, the same large file content stored
 * in several distinct layers, and what `optimize` would save in all. A pure function of the entries
 * (sorted by ref), so the distributed run and the single-machine one print the same report.
 */
import type { AuditEntry } from './entry.js';

export interface AuditFailure {
  ref: string;
  error: string;
  /** Attempts made (distributed runs retry a job). */
  attempts: number;
}

export interface FleetImageRow {
  ref: string;
  key: string;
  platform: string;
  compressedSize: number | null;
  uncompressedSize: number;
  finalSize: number;
  wastedBytes: number;
  bloatBytes: number;
  verdict: AuditEntry['verdict'];
  secrets: number;
  hiddenSecrets: number;
  optimizeSaves: number;
  layers: number;
}

export interface FleetReport {
  schemaVersion: 1;
  images: FleetImageRow[];
  failed: AuditFailure[];
  fleet: {
    images: number;
    failed: number;
    /** Distinct layers (by diffID) and their file bytes, each once. */
    distinctLayers: number;
    distinctLayerBytes: number;
    /** File bytes of every image's layers summed: what the fleet would store without sharing. */
    imageLayerBytes: number;
    wastedBytes: number;
    bloatBytes: number;
    optimizeSaves: number;
    secrets: number;
    hiddenSecrets: number;
    verdicts: Record<AuditEntry['verdict'], number>;
    /** Layers used by 2 or more images, most used first. */
    sharedLayers: { diffId: string; images: number; size: number; instruction: string | null }[];
    /** Wasted bytes per instruction pattern over every image, largest first. */
    wasteByInstruction: { pattern: string; bytes: number; images: number }[];
    /** The same content in 2 or more distinct layers: `extraBytes` = size x (layers - 1). */
    duplicates: { hash: string; size: number; layers: number; images: number; extraBytes: number; paths: string[] }[];
  };
}

/** Rows kept in each fleet list (the JSON as the text). */
export const FLEET_TOP = 20;

export function fleetReport(entries: AuditEntry[], failed: AuditFailure[] = []): FleetReport {
  const sorted = [...entries].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  const layers = new Map<string, { size: number; instruction: string | null; images: Set<string>; big: [string, number, string][] }>();
  const patterns = new Map<string, { bytes: number; images: Set<string> }>();
  for (const e of sorted) {
    for (const l of e.layers) {
      let x = layers.get(l.diffId);
      if (!x) layers.set(l.diffId, (x = { size: l.size, instruction: l.instruction, images: new Set(), big: l.big }));
      x.images.add(e.ref);
    }
    for (const w of e.waste) {
      let p = patterns.get(w.pattern);
      if (!p) patterns.set(w.pattern, (p = { bytes: 0, images: new Set() }));
      p.bytes += w.bytes;
      p.images.add(e.ref);
    }
  }
  const content = new Map<string, { size: number; layers: Set<string>; images: Set<string>; paths: Set<string> }>();
  for (const [diffId, l] of layers) {
    for (const [hash, size, path] of l.big) {
      let c = content.get(hash);
      if (!c) content.set(hash, (c = { size, layers: new Set(), images: new Set(), paths: new Set() }));
      c.layers.add(diffId);
      for (const ref of l.images) c.images.add(ref);
      c.paths.add(path);
    }
  }
  const sum = (f: (e: AuditEntry) => number) => sorted.reduce((n, e) => n + f(e), 0);
  const verdicts = { lean: 0, 'some-waste': 0, bloated: 0 };
  for (const e of sorted) verdicts[e.verdict]++;
  return {
    schemaVersion: 1,
    images: sorted.map((e) => ({
      ref: e.ref,
      key: e.key,
      platform: e.platform,
      compressedSize: e.compressedSize,
      uncompressedSize: e.uncompressedSize,
      finalSize: e.finalSize,
      wastedBytes: e.wastedBytes,
      bloatBytes: e.bloatBytes,
      verdict: e.verdict,
      secrets: e.secrets,
      hiddenSecrets: e.hiddenSecrets,
      optimizeSaves: e.optimizeSaves,
      layers: e.layers.length,
    })),
    failed: [...failed].sort((a, b) => (a.ref < b.ref ? -1 : 1)),
    fleet: {
      images: sorted.length,
      failed: failed.length,
      distinctLayers: layers.size,
      distinctLayerBytes: [...layers.values()].reduce((n, l) => n + l.size, 0),
      imageLayerBytes: sum((e) => e.layers.reduce((n, l) => n + l.size, 0)),
      wastedBytes: sum((e) => e.wastedBytes),
      bloatBytes: sum((e) => e.bloatBytes),
      optimizeSaves: sum((e) => e.optimizeSaves),
      secrets: sum((e) => e.secrets),
      hiddenSecrets: sum((e) => e.hiddenSecrets),
      verdicts,
      sharedLayers: [...layers]
        .filter(([, l]) => l.images.size > 1)
        .map(([diffId, l]) => ({ diffId, images: l.images.size, size: l.size, instruction: l.instruction }))
        .sort((a, b) => b.images - a.images || b.size - a.size || (a.diffId < b.diffId ? -1 : 1))
        .slice(0, FLEET_TOP),
      wasteByInstruction: [...patterns]
        .map(([pattern, p]) => ({ pattern, bytes: p.bytes, images: p.images.size }))
        .sort((a, b) => b.bytes - a.bytes || (a.pattern < b.pattern ? -1 : 1))
        .slice(0, FLEET_TOP),
      duplicates: [...content]
        .filter(([, c]) => c.layers.size > 1)
        .map(([hash, c]) => ({ hash, size: c.size, layers: c.layers.size, images: c.images.size, extraBytes: c.size * (c.layers.size - 1), paths: [...c.paths].sort().slice(0, 5) }))
        .sort((a, b) => b.extraBytes - a.extraBytes || (a.hash < b.hash ? -1 : 1))
        .slice(0, FLEET_TOP),
    },
  };
}
