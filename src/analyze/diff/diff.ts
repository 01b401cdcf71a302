/**
 * The difference between two union views (two images, or two layers of one), as plain data: files
 * (files.ts), layers and history (layers.ts), config (config.ts), per-category bloat (bloat.ts);
 * content diffs of chosen files are added by the command (content.ts).
 */
import { ignoreMatcher } from '../../util/glob.js';
import { defaultBloatConfig, type BloatConfig } from '../bloat/section.js';
import { bloatDelta, type BloatDelta } from './bloat.js';
import { diffConfig, type ConfigChange } from './config.js';
import type { ContentDiff } from './content.js';
import { diffFiles, rollUp, type DirDelta, type FileChange, type FileDiff } from './files.js';
import { alignLayers, diffHistory, viewHistory, type HistoryLine, type LayerPair } from './layers.js';
import { sideSummary, viewOf, type DiffSide, type SideSummary } from './side.js';
import { diffPackages, type PackagesDelta } from './packages.js';

export const DIFF_SCHEMA_VERSION = 1;

export interface DiffOptions {
  /** Globs of paths to leave out of the file diff (see glob.ts). */
  ignore?: readonly string[];
  /** Rules for the per-category delta (the config file's `bloat` section); the built-in ones when absent. */
  bloat?: BloatConfig;
}

export interface DiffReport {
  schemaVersion: number;
  summary: {
    identical: boolean;
    a: SideSummary;
    b: SideSummary;
    sizeDelta: number;
    compressedSizeDelta: number | null;
    files: Record<FileChange, number> & { total: number };
    ignored: string[];
  };
  layers: { sharedBase: number; pairs: LayerPair[] };
  config: ConfigChange[];
  history: HistoryLine[];
  files: FileDiff[];
  directories: DirDelta[];
  /** Bloat and waste bytes per category (inspect's analyses, each side on its own view), and efficiency. */
  bloat: BloatDelta;
  /** Packages added, removed and changed (docs/packages.md). */
  packages: PackagesDelta;
  /** Content diffs, when asked for (`--content`): see diff-content.ts. */
  contents?: ContentDiff[];
}

export function diffImages(a: DiffSide, b: DiffSide, opts: DiffOptions = {}): DiffReport {
  const ignore = opts.ignore ?? [];
  const va = viewOf(a), vb = viewOf(b);
  const files = diffFiles(va, vb, ignoreMatcher(ignore));
  const counts = { added: 0, removed: 0, modified: 0, metadata: 0, type: 0, retarget: 0, total: files.length };
  for (const f of files) counts[f.change]++;
  const config = diffConfig(a.model, b.model);
  const history = diffHistory(viewHistory(a), viewHistory(b));
  const sa = sideSummary(va), sb = sideSummary(vb);
  return {
    schemaVersion: DIFF_SCHEMA_VERSION,
    summary: {
      identical: files.length === 0 && config.length === 0 && history.every((h) => h.op === 'same'),
      a: sa,
      b: sb,
      sizeDelta: sb.size - sa.size,
      compressedSizeDelta: sa.compressedSize === null || sb.compressedSize === null ? null : sb.compressedSize - sa.compressedSize,
      files: counts,
      ignored: [...ignore],
    },
    layers: alignLayers(a, b),
    config,
    history,
    files,
    directories: rollUp(files),
    bloat: bloatDelta(a, b, opts.bloat ?? defaultBloatConfig()),
    packages: diffPackages(a, b),
  };
}
