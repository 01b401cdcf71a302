/**
 * Which bloat rule claims a path: the user's rules first, then the built-in ones, minus those
 * switched off; the first match wins, and `bloat.ignore` globs claim nothing. Matching is the hot
 * part of the analysis (every visible file), so the globs ending in `/**` (most rules) are matched
 * once per directory, and cached per directory path and per union directory node.
 */
import { GlobSet } from '../../util/glob.js';
import type { Union } from '../../model/union.js';
import { BUILTIN_RULES, IMAGE_CATEGORIES, PACKAGE_CATEGORIES, RULE_CATEGORIES, WASTE_CATEGORIES, type BloatRule } from './rules.js';
import type { BloatConfig } from './section.js';

/** User rules first, then the built-in ones; minus those disabled by id or category. */
export function activeRules(config: BloatConfig): BloatRule[] {
  const off = new Set(config.disable);
  const custom: BloatRule[] = config.rules.map((r) => ({
    id: r.id,
    category: r.category,
    paths: r.paths,
    remedy: r.remedy ?? 'Remove these files in the same RUN that creates them, or keep them out of the build context with .dockerignore.',
  }));
  return [...custom, ...BUILTIN_RULES].filter((r) => !off.has(r.id) && !off.has(r.category));
}

/** Every category a finding can have under this config (for --category). */
export function knownCategories(config: BloatConfig): string[] {
  return [...new Set<string>([...WASTE_CATEGORIES, ...RULE_CATEGORIES, ...config.rules.map((r) => r.category), ...PACKAGE_CATEGORIES, ...IMAGE_CATEGORIES])];
}

/** ruleIndex of an ignored path. */
export const IGNORED = -2;
/** dirIndex of a directory whose path has a line break: every file is matched whole. */
const PER_FILE = -3;
/** byDirNode of a directory not matched yet. */
const UNSEEN = -4;

export class RuleMatcher {
  readonly rules: BloatRule[];
  private readonly matcher: GlobSet;
  private readonly ignore: GlobSet;
  /** Per rule: the paths it matches that it does not claim (BloatRule.except). */
  private readonly excepts: (GlobSet | undefined)[];
  /** Per directory: IGNORED, or the index of the first rule its `/**` globs match (-1: none). */
  private readonly byDir = new Map<string, number>();
  /** The same per directory node, for the walk over the final view (UNSEEN: not matched yet). */
  private readonly byDirNode: Int32Array;

  constructor(
    private readonly union: Union,
    config: BloatConfig,
  ) {
    this.rules = activeRules(config);
    this.matcher = new GlobSet(this.rules.map((r) => r.paths));
    this.excepts = this.rules.map((r) => (r.except ? new GlobSet([r.except]) : undefined));
    this.ignore = new GlobSet([config.ignore]);
    this.byDirNode = new Int32Array(union.nodeCount).fill(UNSEEN);
  }

  /** The first rule matching a root-relative path, unless the path is ignored. */
  ruleOf(path: string): BloatRule | undefined {
    const i = path.lastIndexOf('/');
    return this.rules[this.ruleIndex(path, i < 0 ? '' : path.slice(0, i))];
  }

  /** ruleOf as an index (IGNORED, -1 for none), given the path's directory. */
  private ruleIndex(path: string, dir: string): number {
    let d = this.byDir.get(dir);
    if (d === undefined) this.byDir.set(dir, (d = this.dirIndex(dir)));
    return this.fileIndex(path, d);
  }

  /** ruleIndex of a union node, its directory's `/**` match cached by the parent's node id. */
  ruleIndexOf(node: number): number {
    const u = this.union;
    const parent = u.parentOf(node);
    let d = this.byDirNode[parent];
    if (d === UNSEEN) d = this.byDirNode[parent] = this.dirIndex(u.nodePath[parent]);
    return this.fileIndex(u.nodePath[node], d);
  }

  /** What the `/**` globs give every file of `dir`: IGNORED, a rule index or -1, or PER_FILE. */
  private dirIndex(dir: string): number {
    if (!GlobSet.sameForDir(dir)) return PER_FILE;
    return this.ignore.firstInDir(dir) >= 0 ? IGNORED : this.matcher.firstInDir(dir);
  }

  private fileIndex(path: string, d: number): number {
    let r: number;
    if (d === PER_FILE || !GlobSet.sameForDir(path, path.lastIndexOf('/') + 1)) {
      r = this.ignore.first(path) >= 0 ? IGNORED : this.matcher.first(path);
    } else {
      if (d === IGNORED || (!this.ignore.empty && this.ignore.firstInFile(path, -1) >= 0)) return IGNORED;
      r = this.matcher.firstInFile(path, d);
    }
    // rare (an object file, say): the exceptions are tried only for a rule that has some
    return r >= 0 && this.excepts[r]?.first(path) === 0 ? -1 : r;
  }
}
