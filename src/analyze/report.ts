/** The inspect report as plain data: the JSON schema (docs/json.md) and the text renderer's input. */
import { formatPlatform } from '../image/platform.js';
import type { Image } from '../image/image.js';
import type { ImageModel, StoredLayer } from '../model/read-image.js';
import { blobSizes, changeCounts, imageSizes, type ChangeCounts } from '../model/views.js';
import { analyzeWaste, type WasteCategory } from './waste.js';
import { analyzeBloat, type Finding, type Verdict } from './bloat/findings.js';
import { defaultBloatConfig, type BloatConfig } from './bloat/section.js';
import { analyzeRisks, type RisksReport } from './risks/risks.js';
import type { SecretsConfig } from './risks/section.js';
import { configSecrets, type ConfigSecret } from './risks/config-secrets.js';
import { historyBaseLayers } from './optimize/base.js';
import { analyzePackages } from './packages/packages.js';
import type { EcosystemTotal, PackageRow } from './packages/types.js';

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
    /** Files of the final view per bloat category: every finding's, whatever --top and --category keep. */
    bloatFiles: Record<string, number>;
    bloatBytes: number;
    verdict: Verdict;
    /** (wastedBytes + bloatBytes) / uncompressedSize. */
    reclaimableShare: number;
    /** Findings before --top / --category. */
    findingCount: number;
  };
  /** Largest first; all of them unless --top / --category narrowed the list. */
  findings: Finding[];
  /** Secrets in any layer and risky files of the final view (docs/risks.md); the user and the config's own secrets. */
  risks: RisksReport & ImageRisks;
  /** The packages the image's databases list (docs/packages.md); null when it has no package database. */
  packages: PackagesSummary | null;
}

/** inspect's view of `strata packages`: every package in brief, per-ecosystem totals, the unowned rest. */
export interface PackagesSummary {
  count: number;
  totals: EcosystemTotal[];
  /** Every package, largest first (the CI rules read it; the text shows the first few). */
  list: PackageBrief[];
  unownedBytes: number;
  unownedFiles: number;
  warnings: string[];
}

export type PackageBrief = Pick<PackageRow, 'ecosystem' | 'name' | 'version' | 'layer' | 'bytes' | 'files'>;

/** What the image's config risks, apart from its layers (and so told again for a report of the same layers). */
export interface ImageRisks {
  user: UserRisk;
  /** Secrets in Env and in the history's lines (masked wherever strata prints them). */
  config: ConfigSecret[];
}

/** The user the image runs as, from its config: root when it names none, 0 or root. */
export interface UserRisk {
  user: string | null;
  root: boolean;
}

export interface ReportOptions {
  bloat?: BloatConfig;
  /** Keep only the N largest findings. */
  top?: number;
  /** Keep only findings of these categories. */
  categories?: string[];
  /** Secret rules, their content scan and allowed paths: the layers must have been read with `secrets.scan`. */
  secrets?: SecretsConfig;
}

/** What --category and --top keep of the findings (largest first). */
export function narrowFindings(findings: Finding[], opts: Pick<ReportOptions, 'top' | 'categories'>): Finding[] {
  let out = findings;
  if (opts.categories?.length) out = out.filter((f) => opts.categories!.includes(f.category));
  if (opts.top !== undefined) out = out.slice(0, opts.top);
  return out;
}

function filesByCategory(findings: Finding[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of findings) if (f.kind === 'bloat') out[f.category] = (out[f.category] ?? 0) + f.files;
  return out;
}

export function inspectReport(model: ImageModel, opts: ReportOptions = {}): InspectReport {
  const sizes = imageSizes(model);
  const waste = analyzeWaste(model, sizes);
  const bloat = analyzeBloat(model, waste, opts.bloat ?? defaultBloatConfig());
  const findings = narrowFindings(bloat.findings, opts);
  return {
    schemaVersion: SCHEMA_VERSION,
    image: imageSection(model.image),
    layers: model.layers.map((l) =>
      layerRow({ index: l.index, diffId: l.diffId, size: l.size, tarSize: l.tarSize, entries: l.records.count, changes: changeCounts(model.union, l.index) }, l),
    ),
    summary: {
      layerCount: model.layers.length,
      ...storedSizes(model.layers),
      uncompressedSize: sizes.uncompressed,
      tarSize: sizes.tar,
      finalSize: sizes.final,
      finalEntries: sizes.finalEntries,
      wastedBytes: waste.wastedBytes,
      waste: waste.byCategory,
      efficiency: waste.efficiency,
      diveEfficiency: waste.diveEfficiency,
      bloat: bloat.bloat,
      bloatFiles: filesByCategory(bloat.findings),
      bloatBytes: bloat.bloatBytes,
      verdict: bloat.verdict,
      reclaimableShare: bloat.reclaimableShare,
      findingCount: bloat.findings.length,
    },
    findings,
    risks: { ...analyzeRisks(model, baseLayersOf(model.image), opts.secrets), ...imageRisks(model.image) },
    packages: packagesSummary(model),
  };
}

function packagesSummary(model: ImageModel): PackagesSummary | null {
  const p = analyzePackages(model);
  if (p.rows.length === 0 && p.warnings.length === 0) return null;
  const list = p.rows.map(({ ecosystem, name, version, layer, bytes, files }) => ({ ecosystem, name, version, layer, bytes, files }));
  return { count: p.rows.length, totals: p.totals, list, unownedBytes: p.unowned.bytes, unownedFiles: p.unowned.files, warnings: p.warnings };
}

/** The base image's layers as its history tells (src/analyze/optimize/base.ts): risky files there are not reported. */
export function baseLayersOf(image: Image): number {
  return historyBaseLayers(image.config.history, image.layers.length);
}

function imageRisks(image: Image): ImageRisks {
  return { user: userRisk(image), config: configSecrets(image) };
}

function userRisk(image: Image): UserRisk {
  const user = image.config.config?.User || null;
  const name = (user ?? '').split(':')[0];
  return { user, root: name === '' || name === 'root' || /^0+$/.test(name) };
}

/**
 * A report made for other images with the same layers and instructions (another config, another
 * compression or source), told as this image's: its name, config and blobs.
 */
export function restamp(r: InspectReport, image: Image, stored: StoredLayer[]): InspectReport {
  return {
    ...r,
    image: imageSection(image),
    layers: r.layers.map((l, i) => layerRow(l, stored[i])),
    summary: { ...r.summary, ...storedSizes(stored) },
    risks: { ...r.risks, ...imageRisks(image) },
  };
}

function imageSection(image: Image): InspectReport['image'] {
  const c = image.config.config ?? {};
  return {
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
  };
}

function layerRow(l: Pick<LayerReport, 'index' | 'diffId' | 'size' | 'tarSize' | 'entries' | 'changes'>, s: StoredLayer): LayerReport {
  return {
    index: l.index,
    digest: s.digest,
    diffId: l.diffId,
    mediaType: s.mediaType ?? null,
    compression: s.compression,
    compressedSize: s.compressedSize,
    blobSize: s.blobSize,
    size: l.size,
    tarSize: l.tarSize,
    entries: l.entries,
    createdBy: s.history?.created_by === undefined ? null : s.history.created_by,
    created: s.history?.created ?? null,
    comment: s.history?.comment === undefined ? null : s.history.comment,
    changes: l.changes,
  };
}

function storedSizes(layers: StoredLayer[]): Pick<InspectReport['summary'], 'compressedSize' | 'blobSize'> {
  const { compressed, stored } = blobSizes(layers);
  return { compressedSize: compressed, blobSize: stored };
}
