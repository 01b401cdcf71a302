/**
 * The size delta per bloat and waste category between two diff sides: the waste and bloat analyses
 * of `strata inspect` (waste.ts, bloat.ts) run on each side's view, then compared. No rule logic here.
 */
import { analyzeBloat } from '../bloat/findings.js';
import { type BloatConfig } from '../bloat/section.js';
import type { DiffSide } from './side.js';
import type { ImageModel } from '../../model/read-image.js';
import { Union } from '../../model/union.js';
import { analyzeWaste } from '../waste.js';

export interface CategoryDelta {
  category: string;
  /** bloat: visible leftovers and duplicates (inspect's `summary.bloat`); waste: hidden bytes (`summary.waste`). */
  kind: 'bloat' | 'waste';
  a: number;
  b: number;
  /** b - a */
  delta: number;
}

export interface BytesDelta {
  a: number;
  b: number;
  delta: number;
}

export interface BloatDelta {
  /** Every category of either side, biggest |delta| first. */
  categories: CategoryDelta[];
  wastedBytes: BytesDelta;
  bloatBytes: BytesDelta;
  /** Final view / bytes stored in layers 0..layer, per side. */
  efficiency: { a: number; b: number };
}

interface SideTotals {
  bloat: Record<string, number>;
  waste: Record<string, number>;
  wastedBytes: number;
  bloatBytes: number;
  efficiency: number;
}

export function bloatDelta(a: DiffSide, b: DiffSide, config: BloatConfig): BloatDelta {
  const ta = totals(a, config);
  const tb = a.model === b.model && a.layer === b.layer ? ta : totals(b, config);
  const categories: CategoryDelta[] = [];
  for (const kind of ['bloat', 'waste'] as const) {
    for (const category of new Set([...Object.keys(ta[kind]), ...Object.keys(tb[kind])])) {
      const x = ta[kind][category] ?? 0, y = tb[kind][category] ?? 0;
      categories.push({ category, kind, a: x, b: y, delta: y - x });
    }
  }
  categories.sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || Math.max(y.a, y.b) - Math.max(x.a, x.b));
  const bytes = (x: number, y: number): BytesDelta => ({ a: x, b: y, delta: y - x });
  return {
    categories,
    wastedBytes: bytes(ta.wastedBytes, tb.wastedBytes),
    bloatBytes: bytes(ta.bloatBytes, tb.bloatBytes),
    efficiency: { a: ta.efficiency, b: tb.efficiency },
  };
}

function totals(side: DiffSide, config: BloatConfig): SideTotals {
  if (side.report && side.layer === side.model.layers.length - 1) {
    // the same analyses, made before (or read from the report cache) for the whole image
    const s = side.report.summary;
    return { bloat: s.bloat, waste: s.waste, wastedBytes: s.wastedBytes, bloatBytes: s.bloatBytes, efficiency: s.efficiency };
  }
  const model = viewModel(side);
  const waste = analyzeWaste(model);
  const bloat = analyzeBloat(model, waste, config);
  return { bloat: bloat.bloat, waste: waste.byCategory, wastedBytes: waste.wastedBytes, bloatBytes: bloat.bloatBytes, efficiency: waste.efficiency };
}

/** The image as it stood after the side's layer: the analyses read the top of a model. */
function viewModel({ model, layer }: DiffSide): ImageModel {
  if (layer === model.layers.length - 1) return model;
  const layers = model.layers.slice(0, layer + 1);
  const union = new Union();
  for (const l of layers) union.addLayer(l.records);
  return { image: model.image, layers, union };
}
