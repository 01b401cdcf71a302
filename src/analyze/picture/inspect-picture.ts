/**
 * What the HTML page of `strata inspect --html` draws, as plain data: the final view as a tile tree
 * (each file coloured by the layer that last set it, by its bloat category and by its package), the
 * bytes hidden in layers as tiles of their own under the layer that stored them, a row per layer,
 * the findings and the packages.
 * Sizes are the inspect report's: the view's tiles add up to `summary.finalSize` (a hardlink group
 * once, at its first path: model/counted-bytes.ts), the hidden ones to `summary.wastedBytes`.
 */
import { instructionText } from '../../image/history.js';
import { Kind } from '../../scan/records.js';
import type { ImageModel } from '../../model/read-image.js';
import { countedBytes } from '../../model/counted-bytes.js';
import type { InspectReport } from '../report.js';
import { TileTreeBuilder, type Tile } from './tile-tree.js';
import { packagePicture, type PicturePackages } from './package-picture.js';
import { HIDDEN_BYTES } from './package-classes.js';

/** Colour dimensions of an inspect picture's tiles, in `Tile.c` order. */
export const INSPECT_DIMS = ['layer', 'category', 'removedBy', 'package'] as const;

export interface PictureLayer {
  index: number;
  digest: string;
  instruction: string | null;
  size: number;
  compressedSize: number | null;
  /** Bytes this layer stored that a later layer hid. */
  wasted: number;
  /** Bytes of the final view this layer set. */
  visible: number;
  entries: number;
}

export interface PictureFinding {
  category: string;
  kind: string;
  bytes: number;
  files: number;
  layer: number;
  instruction: string | null;
  removedBy: number | null;
  title: string;
  remedy: string;
  /** The biggest few paths. */
  paths: string[];
}

export interface InspectPicture {
  kind: 'inspect';
  ref: string;
  platform: string;
  created: string | null;
  summary: InspectReport['summary'];
  dims: typeof INSPECT_DIMS;
  /** Names of the `category` classes (class -1: no finding). */
  categories: string[];
  layers: PictureLayer[];
  tree: Tile;
  /** The largest findings (all of them up to FINDINGS_SHOWN), with remedies. */
  findings: PictureFinding[];
  /** Secrets (fingerprints only) and risky files, as the report has them. */
  risks: InspectReport['risks'];
  /** The `package` classes index its rows (package-picture.ts); null: the image has no package database. */
  packages: PicturePackages | null;
}

/** The name of the grouping of hidden bytes, at the top of the tree. */
export const HIDDEN = 'hidden in layers';
const FINDINGS_SHOWN = 300;
const PATHS_SHOWN = 5;

/** `report`: the image's whole report (findings not narrowed by --top / --category). */
export function inspectPicture(model: ImageModel, report: InspectReport, budget?: number): InspectPicture {
  const categories: string[] = [];
  const classOf = new Map<string, number>();
  const categoryClass = (c: string) => {
    let k = classOf.get(c);
    if (k === undefined) {
      classOf.set(c, (k = categories.length));
      categories.push(c);
    }
    return k;
  };
  // a visible file has at most one bloat finding (rules first, then duplicates of the rest)
  const fileClass = new Map<string, number>();
  for (const f of report.findings) if (f.kind === 'bloat') for (const it of f.items) fileClass.set(it.path, categoryClass(f.category));

  const packages = packagePicture(model);
  const tree = new TileTreeBuilder(INSPECT_DIMS.length);
  const visible = new Array<number>(model.layers.length).fill(0);
  const u = model.union;
  const counted = countedBytes(u, model.layers.length - 1); // a hardlink group once, as in summary.finalSize
  for (const v of u.visibleAt(model.layers.length - 1)) {
    const node = u.nodeOfVersion(v);
    const path = u.nodePath[node];
    if (u.kindOf(v) === Kind.dir) {
      tree.dir(path);
      continue;
    }
    const size = counted.of(v);
    if (size) visible[u.layerOf(u.inodeOf(v))] += size; // the layer that stored the bytes: stored = visible + wasted
    tree.leaf(path, { size, classes: [u.layerOf(v), fileClass.get(`/${path}`) ?? -1, -1, packages.classOf(node)] });
  }

  const wasted = new Array<number>(model.layers.length).fill(0);
  const waste = report.findings.filter((f) => f.kind === 'waste');
  if (waste.length) {
    const hidden = tree.dir(HIDDEN, TileTreeBuilder.ROOT, true);
    for (const f of waste) {
      const base = tree.dir(`layer ${f.layer}`, hidden, true);
      const k = categoryClass(f.category);
      for (const it of f.items) {
        wasted[it.layer] += it.bytes;
        tree.leaf(it.path.slice(1), { size: it.bytes, classes: [it.layer, k, f.removedBy ?? -1, HIDDEN_BYTES] }, base);
      }
    }
  }

  return {
    kind: 'inspect',
    ref: report.image.ref,
    platform: report.image.platform,
    created: report.image.created,
    summary: report.summary,
    dims: INSPECT_DIMS,
    categories,
    layers: report.layers.map((l) => ({
      index: l.index,
      digest: l.digest,
      instruction: instructionText(l.createdBy ?? undefined, l.comment ?? undefined) || null,
      size: l.size,
      compressedSize: l.compressedSize,
      wasted: wasted[l.index],
      visible: visible[l.index],
      entries: l.entries,
    })),
    tree: tree.build(budget),
    findings: report.findings.slice(0, FINDINGS_SHOWN).map((f) => ({
      category: f.category,
      kind: f.kind,
      bytes: f.bytes,
      files: f.files,
      layer: f.layer,
      instruction: f.instruction,
      removedBy: f.removedBy,
      title: f.title,
      remedy: f.remedy,
      paths: [...f.items].sort((x, y) => y.bytes - x.bytes).slice(0, PATHS_SHOWN).map((it) => it.path),
    })),
    risks: report.risks,
    packages: packages.packages,
  };
}
