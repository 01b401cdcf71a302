/**
 * Findings: what makes an image bigger than it needs to be, each with the layer (and instruction)
 * that caused it and a fix in build terms. Four sources:
 *   - waste (src/analyze/waste.ts): bytes stored but invisible, grouped per (storing layer, hiding
 *     layer, category): deleted, overwritten, metadata-copy;
 *   - bloat rules (rules.ts + the config's bloat section, matched by matching.ts): visible files that
 *     are build leftovers, grouped per (rule, storing layer); the first matching rule wins, so
 *     categories are disjoint;
 *   - duplicate content (content-groups.ts): visible files (not matched by a rule) with identical
 *     content at several paths, each hardlinked inode once;
 *   - the commit-based build pattern: one non-Dockerfile layer holding temp files, logs and caches.
 * Plain data; the words are remedies.ts', the text renderer is src/render/inspect.ts.
 */
import { instructionText, stepOf } from '../../image/history.js';
import type { ImageModel } from '../../model/read-image.js';
import { wasteCategoryOf, type WasteAnalysis, type WastedItem, type WasteReason } from '../waste.js';
import { ContentGroups, sameMeta } from './content-groups.js';
import { IGNORED, RuleMatcher } from './matching.js';
import { commitAdvice, duplicateAdvice, packageAdvice, ruleAdvice, wasteAdvice, type Advice, type DuplicateCause } from './remedies.js';
import { PACKAGE_CATEGORIES, RULE_CATEGORIES, type BloatRule } from './rules.js';
import { packageCategoryOf, type PackageCategory } from './package-bloat.js';
import { analyzePackages, type ImagePackages } from '../packages/packages.js';
import type { BloatConfig } from './section.js';

export type FindingKind = 'waste' | 'bloat' | 'pattern';

export interface FindingItem {
  /** Absolute path in the image. */
  path: string;
  bytes: number;
  /** The layer that stored these bytes. */
  layer: number;
  /** Waste findings: how the bytes became invisible. */
  reason?: WasteReason;
  /** The bloat rule the path matches, if any. */
  rule?: string;
}

export interface Finding {
  category: string;
  kind: FindingKind;
  /** Bytes the fix saves. */
  bytes: number;
  files: number;
  /** The layer that stored the bytes (duplicates: the newest copy's layer). */
  layer: number;
  instruction: string | null;
  /** Waste findings: the layer that made the bytes invisible. */
  removedBy: number | null;
  removedByInstruction: string | null;
  rule: string | null;
  title: string;
  remedy: string;
  items: FindingItem[];
}

export type Verdict = 'lean' | 'some-waste' | 'bloated';

export interface BloatAnalysis {
  /** Every finding, largest first. */
  findings: Finding[];
  /** Bytes per bloat category in the final view (rule categories and `duplicate`). */
  bloat: Record<string, number>;
  bloatBytes: number;
  verdict: Verdict;
  /** (wasted + bloat) / bytes stored in all layers. */
  reclaimableShare: number;
}

/** Share of a layer's bytes that its leftovers must reach to call it the commit-based pattern. */
const COMMIT_MIN_SHARE = 0.1;
const COMMIT_CATEGORIES = ['temp', 'log', 'cache'];

export function analyzeBloat(model: ImageModel, waste: WasteAnalysis, config: BloatConfig): BloatAnalysis {
  const ctx = new Findings(model, config);
  const findings = [...ctx.wasteFindings(waste.items), ...ctx.visibleFindings()];
  findings.sort((a, b) => b.bytes - a.bytes || a.layer - b.layer || (a.category < b.category ? -1 : a.category > b.category ? 1 : 0));
  const bloat: Record<string, number> = {};
  for (const c of [...RULE_CATEGORIES, ...config.rules.map((r) => r.category), ...PACKAGE_CATEGORIES, 'duplicate']) bloat[c] = 0;
  for (const f of findings) if (f.kind === 'bloat') bloat[f.category] += f.bytes;
  const bloatBytes = Object.values(bloat).reduce((s, n) => s + n, 0);
  const reclaimableShare = waste.storedBytes === 0 ? 0 : (waste.wastedBytes + bloatBytes) / waste.storedBytes;
  const verdict: Verdict = reclaimableShare < 0.05 ? 'lean' : reclaimableShare < 0.2 ? 'some-waste' : 'bloated';
  return { findings, bloat, bloatBytes, verdict, reclaimableShare };
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

interface RuleGroup {
  rule: BloatRule;
  layer: number;
  items: FindingItem[];
}

interface PackageGroup {
  category: PackageCategory;
  layer: number;
  items: FindingItem[];
  /** Package name -> its ecosystem. */
  packages: Map<string, string>;
}

type Found = Omit<Finding, 'instruction' | 'removedByInstruction' | 'files' | 'title' | 'remedy'>;

class Findings {
  private readonly rules: RuleMatcher;
  private readonly packages: ImagePackages;

  constructor(
    private readonly model: ImageModel,
    config: BloatConfig,
  ) {
    this.rules = new RuleMatcher(model.union, config);
    this.packages = analyzePackages(model);
  }

  private createdBy(L: number): string | undefined {
    return this.model.layers[L]?.history?.created_by;
  }

  private instruction(L: number): string | null {
    const h = this.model.layers[L]?.history;
    return instructionText(h?.created_by, h?.comment) || null;
  }

  private finding(f: Found, advice: Advice): Finding {
    return {
      category: f.category,
      kind: f.kind,
      bytes: f.bytes,
      files: f.items.length,
      layer: f.layer,
      instruction: this.instruction(f.layer),
      removedBy: f.removedBy,
      removedByInstruction: f.removedBy === null ? null : this.instruction(f.removedBy),
      rule: f.rule,
      title: advice.title,
      remedy: advice.remedy,
      items: f.items,
    };
  }

  /** One finding per (storing layer, hiding layer, waste category). */
  wasteFindings(items: WastedItem[]): Finding[] {
    const groups = new Map<string, WastedItem[]>();
    for (const it of items) {
      const key = `${it.layer}:${it.removedBy}:${wasteCategoryOf[it.reason]}`;
      const g = groups.get(key);
      if (g) g.push(it);
      else groups.set(key, [it]);
    }
    return [...groups.values()].map((g) => this.wasteFinding(g));
  }

  private wasteFinding(group: WastedItem[]): Finding {
    const { layer: S, removedBy: E } = group[0];
    const category = wasteCategoryOf[group[0].reason];
    const items: FindingItem[] = group.map((it) => {
      const item: FindingItem = { path: `/${it.path}`, bytes: it.bytes, layer: it.layer, reason: it.reason };
      const rule = this.rules.ruleOf(it.path);
      if (rule) item.rule = rule.id;
      return item;
    });
    const advice = wasteAdvice({
      category,
      items: group,
      paths: items.map((i) => i.path),
      stored: S,
      hiddenBy: E,
      storedStep: stepOf(this.createdBy(S)),
      hiddenStep: stepOf(this.createdBy(E)),
      largestRule: this.largestRule(items),
      copyFlags: () => this.copyFlags(group, E),
    });
    return this.finding({ category, kind: 'waste', bytes: sum(items), layer: S, removedBy: E, rule: null, items }, advice);
  }

  /** `COPY --chown=U:G --chmod=M`, with the values layer E set when they are uniform. */
  private copyFlags(group: WastedItem[], E: number): string {
    const u = this.model.union;
    const after = group.map((it) => u.versionAt(u.nodeOf(it.path)!, E)).filter((v) => v >= 0);
    const uniq = (f: (v: number) => string) => {
      const s = new Set(after.map(f));
      return s.size === 1 ? [...s][0] : undefined;
    };
    const owner = uniq((v) => `${u.uidOf(v)}:${u.gidOf(v)}`);
    const mode = uniq((v) => u.modeOf(v).toString(8));
    return `COPY --chown=${owner ?? 'USER:GROUP'} --chmod=${mode ?? 'MODE'}`;
  }

  private largestRule(items: FindingItem[]): BloatRule | undefined {
    const bytes = new Map<string, number>();
    for (const it of items) if (it.rule) bytes.set(it.rule, (bytes.get(it.rule) ?? 0) + it.bytes);
    const best = [...bytes.entries()].sort((a, b) => b[1] - a[1])[0];
    return best && this.rules.rules.find((r) => r.id === best[0]);
  }

  /** Rule, duplicate and commit-pattern findings over the final view. */
  visibleFindings(): Finding[] {
    const u = this.model.union;
    const top = this.model.layers.length - 1;
    const byRule = new Map<string, RuleGroup>();
    const byPackage = new Map<string, PackageGroup>();
    const owners = this.packages.rows.length > 0;
    // Inodes no rule claims, for the duplicate groups: collected first so the table is sized once.
    const unclaimed = new Int32Array(u.versionCount);
    let unclaimedCount = 0;
    // Per inode: 1 + the node it was first seen at (0: not seen yet); a path per inode, each once.
    const nodeOf = new Int32Array(u.versionCount);
    // Unordered (walk() sorts every directory): items are put in path order per finding below.
    for (const version of top < 0 ? [] : u.visibleAt(top)) {
      const ino = u.inodeOf(version);
      if (ino < 0 || nodeOf[ino] !== 0) continue;
      const node = u.nodeOfVersion(version);
      nodeOf[ino] = node + 1;
      const bytes = u.sizeOf(ino);
      if (bytes === 0) continue;
      const r = this.rules.ruleIndexOf(node);
      if (r === IGNORED) continue;
      const layer = u.layerOf(ino);
      const rule = this.rules.rules[r];
      if (rule) {
        const key = `${rule.id}\0${layer}`;
        let g = byRule.get(key);
        if (!g) byRule.set(key, (g = { rule, layer, items: [] }));
        g.items.push({ path: `/${u.nodePath[node]}`, bytes, layer, rule: rule.id });
        continue;
      }
      const owner = owners ? this.packages.ownerOf(node) : undefined;
      const category = packageCategoryOf(owner, u.nodePath[node]);
      if (category) {
        const key = `${category}\0${layer}`;
        let g = byPackage.get(key);
        if (!g) byPackage.set(key, (g = { category, layer, items: [], packages: new Map() }));
        g.items.push({ path: `/${u.nodePath[node]}`, bytes, layer });
        g.packages.set(owner!.name, owner!.ecosystem);
      } else {
        unclaimed[unclaimedCount++] = ino;
      }
    }
    const byContent = new ContentGroups(u, unclaimed.subarray(0, unclaimedCount));
    const pathOf = (ino: number) => u.nodePath[nodeOf[ino] - 1];
    const out: Finding[] = [];
    for (const g of byRule.values()) out.push(this.ruleFinding(g.rule, g.layer, g.items.sort(byPath)));
    for (const g of byPackage.values()) out.push(this.packageFinding(g));
    for (const inodes of byContent.groups()) {
      const paths = inodes.map(pathOf);
      const order = inodes.map((_, i) => i).sort((a, b) => (paths[a] < paths[b] ? -1 : paths[a] > paths[b] ? 1 : 0));
      out.push(this.duplicateFinding(order.map((i) => inodes[i]), order.map((i) => paths[i])));
    }
    out.push(...this.commitFindings([...byRule.values()]));
    return out;
  }

  private ruleFinding(rule: BloatRule, layer: number, items: FindingItem[]): Finding {
    const advice = ruleAdvice(rule, layer, items.map((i) => i.path), stepOf(this.createdBy(layer)) === 'copy');
    return this.finding({ category: rule.category, kind: 'bloat', bytes: sum(items), layer, removedBy: null, rule: rule.id, items }, advice);
  }

  private packageFinding(g: PackageGroup): Finding {
    const items = g.items.sort(byPath);
    const advice = packageAdvice(g.category, g.layer, [...g.packages.keys()].sort(), items.map((i) => i.path), new Set(g.packages.values()));
    return this.finding({ category: g.category, kind: 'bloat', bytes: sum(items), layer: g.layer, removedBy: null, rule: null, items }, advice);
  }

  /** `inodes` in path order, with their paths. */
  private duplicateFinding(inodes: number[], paths: string[]): Finding {
    const u = this.model.union;
    const size = u.sizeOf(inodes[0]);
    const layers = inodes.map((v) => u.layerOf(v));
    const items = paths.map((p, i) => ({ path: `/${p}`, bytes: size, layer: layers[i] }));
    const first = layers.reduce((a, b) => Math.min(a, b)), last = layers.reduce((a, b) => Math.max(a, b));
    const copied = stepOf(this.createdBy(last)) === 'copy';
    const advice = duplicateAdvice(items.map((i) => i.path), { cause: this.duplicateCause(inodes, layers, first), first, last, copied });
    return this.finding({ category: 'duplicate', kind: 'bloat', bytes: size * (inodes.length - 1), layer: last, removedBy: null, rule: null, items }, advice);
  }

  /**
   * Why one content sits at several paths, from the layers holding the copies: one layer (a package's
   * or the build context's own copies), a later COPY/ADD, a hardlink split by layering (one copy
   * per layer, same mode, owner and mtime), or a later RUN writing it again.
   */
  private duplicateCause(inodes: number[], layers: number[], first: number): DuplicateCause {
    const later = new Set(layers.filter((l) => l !== first));
    if (later.size === 0) return 'same-layer';
    if ([...later].some((l) => stepOf(this.createdBy(l)) === 'copy')) return 'copied-later';
    const onePerLayer = new Set(layers).size === layers.length;
    return onePerLayer && inodes.every((v) => sameMeta(this.model.union, v, inodes[0])) ? 'linked-later' : 'stored-again';
  }

  private commitFindings(groups: RuleGroup[]): Finding[] {
    const out: Finding[] = [];
    for (const [L, info] of this.model.layers.entries()) {
      if (L === 0 || stepOf(info.history?.created_by) !== 'other') continue;
      const mine = groups.filter((g) => g.layer === L && COMMIT_CATEGORIES.includes(g.rule.category));
      const cats = [...new Set(mine.map((g) => g.rule.category))];
      const items = mine.flatMap((g) => g.items);
      const bytes = sum(items);
      if (cats.length < 2 || bytes < COMMIT_MIN_SHARE * info.size) continue;
      out.push(this.finding({ category: 'commit-build', kind: 'pattern', bytes, layer: L, removedBy: null, rule: null, items }, commitAdvice(L, cats)));
    }
    return out;
  }
}

function sum(items: { bytes: number }[]): number {
  return items.reduce((s, i) => s + i.bytes, 0);
}
