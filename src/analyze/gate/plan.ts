/**
 * Which rules a `strata ci` run checks, and what it tells the user about them: dive's defaults when
 * no rule was given at all, growth rules set aside when there is no baseline to grow from (a first
 * run), each said in a note rather than failing the run.
 */
import { diveDefaults, type DiveRule } from './dive-ci.js';
import type { GateRule } from './rules.js';

export interface GatePlan {
  rules: GateRule[];
  diveRules: DiveRule[];
  /** One line each, for stderr. */
  notes: string[];
}

const isGrowth = (r: GateRule) => r.key === 'max-growth-bytes' || r.key === 'max-growth-percent' || r.key === 'max-package-growth';

/**
 * `given`: strata's rules (config and flags); `diveRules`: a `.dive-ci`'s, null without one (one that
 * disables every rule is a choice, kept); `hasBaseline`: --baseline was given.
 */
export function planGate(given: GateRule[], diveRules: DiveRule[] | null, hasBaseline: boolean): GatePlan {
  if (given.length === 0 && diveRules === null) {
    const defaults = diveDefaults();
    const list = defaults.map((r) => `${r.key} ${r.limit}`).join(', ');
    return { rules: [], diveRules: defaults, notes: [`no rules given (.strata.yml rules:, rule flags or .dive-ci): checking dive's defaults, ${list}`] };
  }
  const skipped = hasBaseline ? [] : given.filter(isGrowth);
  return {
    rules: given.filter((r) => !skipped.includes(r)),
    diveRules: diveRules ?? [],
    notes: skipped.map((r) => `${r.origin}: skipped, no --baseline to compare with (give --baseline REF or a report.json)`),
  };
}
