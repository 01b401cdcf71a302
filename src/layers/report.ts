/** The inspect report as plain data: the JSON schema (docs/json.md) and the text renderer's input. */
import { formatPlatform } from './platform.js';
import type { ImageModel } from './read-image.js';
import { changeCounts, imageSizes, type ChangeCounts } from './views.js';
import { analyzeWaste, type WasteCategory } from './waste.js';
import { analyzeBloat, type Finding, type Verdict } from './bloat.js';
import { defaultConfig, type BloatConfig } from './config.js';

export const SCHEMA_VERSION = 1;

export interface LayerReport {
  index: number;
  digest: string;
  diffId: string;
  mediaType: string | null;
  compression: string;
  compressedSize: number | null;
  blobSize: number;
  size: number;
  tarSize: number;
  entries: number;
  createdBy: string | null;
  created: string | null;
  comment: string | null;
  changes: ChangeCounts;
}

export interface InspectReport {
  schemaVersion: number;
  image: {
    ref: string;
    source: string;
    tags: string[];
    platform: string;
    manifestDigest: string | null;
    configDigest: string;
    created: string | null;
    config: {
      user: string | null;
      workdir: string | null;
      entrypoint: string[] | null;
      cmd: string[] | null;
      env: string[];
      labels: Record<string, string>;
      exposedPorts: string[];
      volumes: string[];
    };
    historyEntries: number;
  };
  layers: LayerReport[];
  summary: {
    layerCount: number;
    compressedSize: number | null;
    blobSize: number;
    uncompressedSize: number;
    tarSize: number;
    finalSize: number;
    finalEntries: number;
    /** Bytes stored in some layer but not visible in the final image (docs/bloat.md). */
    wastedBytes: number;
    /** Wasted bytes per category: deleted, overwritten, metadata-copy. */
    waste: Record<WasteCategory, number>;
    /** finalSize / uncompressedSize. */
    efficiency: number;
    /** dive's image efficiency score, computed as dive does. */
    diveEfficiency: number;
    /** Bytes of the final view per bloat category (rule categories and duplicate). */
    bloat: Record<string, number>;
    bloatBytes: number;
    verdict: Verdict;
    /** (wastedBytes + bloatBytes) / uncompressedSize. */
    reclaimableShare: number;
    /** Findings before --top / --category. */
    findingCount: number;
  };
  /** Largest first; all of them unless --top / --category narrowed the list. */
  findings: Finding[];
}

export interface ReportOptions {
  bloat?: BloatConfig;
  /** Keep only the N largest findings. */
  top?: number;
  /** Keep only findings of these categories. */
  categories?: string[];
}

/** What --category and --top keep of the findings (largest first). */
export function narrowFindings(findings: Finding[], opts: Pick<ReportOptions, 'top' | 'categories'>): Finding[] {
  let out = findings;
  if (opts.categories?.length) out = out.filter((f) => opts.categories!.includes(f.category));
  if (opts.top !== undefined) out = out.slice(0, opts.top);
  return out;
}

export function inspectReport(model: ImageModel, opts: ReportOptions = {}): InspectReport {
  const { image } = model;
  const c = image.config.config ?? {};
  const sizes = imageSizes(model);
  const waste = analyzeWaste(model, sizes);
  const bloat = analyzeBloat(model, waste, opts.bloat ?? defaultConfig().bloat);
  const findings = narrowFindings(bloat.findings, opts);
  return {
    schemaVersion: SCHEMA_VERSION,
    image: {
      ref: image.ref,
      source: image.source,
      tags: image.tags,
      platform: formatPlatform(image.platform),
      manifestDigest: image.manifestDigest ?? null,
      configDigest: image.configDigest,
      created: image.config.created ?? null,
      config: {
        user: c.User || null,
        workdir: c.WorkingDir || null,
        entrypoint: c.Entrypoint ?? null,
        cmd: c.Cmd ?? null,
        env: c.Env ?? [],
        labels: c.Labels ?? {},
        exposedPorts: Object.keys(c.ExposedPorts ?? {}),
        volumes: Object.keys(c.Volumes ?? {}),
      },
      historyEntries: image.config.history?.length ?? 0,
    },
    layers: model.layers.map((l) => ({
      index: l.index,
      digest: l.digest,
      diffId: l.diffId,
      mediaType: l.mediaType ?? null,
      compression: l.compression,
      compressedSize: l.compressedSize,
      blobSize: l.blobSize,
      size: l.size,
      tarSize: l.tarSize,
      entries: l.records.count,
      createdBy: l.history?.created_by ?? null,
      created: l.history?.created ?? null,
      comment: l.history?.comment ?? null,
      changes: changeCounts(model.union, l.index),
    })),
    summary: {
      layerCount: model.layers.length,
      compressedSize: sizes.compressed,
      blobSize: sizes.stored,
      uncompressedSize: sizes.uncompressed,
      tarSize: sizes.tar,
      finalSize: sizes.final,
      finalEntries: sizes.finalEntries,
      wastedBytes: waste.wastedBytes,
      waste: waste.byCategory,
      efficiency: waste.efficiency,
      diveEfficiency: waste.diveEfficiency,
      bloat: bloat.bloat,
      bloatBytes: bloat.bloatBytes,
      verdict: bloat.verdict,
      reclaimableShare: bloat.reclaimableShare,
      findingCount: bloat.findings.length,
    },
    findings,
  };
}
