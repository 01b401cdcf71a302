/**
 * What `strata dockerfile` leaves out: the bloat rules' leftovers, and two categories of its own:
 * the files package managers and account tools regenerate on their own (backups, locks, caches of
 * caches: `regenerated`) and what engines make in every container (`runtime`). The plan leaves them
 * out, and `--verify` ignores them on both sides: the rebuild makes its own.
 */
import type { ImageModel } from '../../model/read-image.js';
import type { Union } from '../../model/union.js';
import { knownCategories, RuleMatcher } from '../bloat/matching.js';
import { RESERVED_CATEGORIES } from '../bloat/rules.js';
import type { BloatConfig, CustomRule } from '../bloat/section.js';
import type { DockerfilePlan } from './types.js';

export const REGENERATED_RULE: CustomRule = {
  id: 'regenerated',
  category: 'regenerated',
  paths: [
    '/var/lib/dpkg/*-old',
    '/var/lib/dpkg/lock',
    '/var/lib/dpkg/lock-frontend',
    '/var/lib/dpkg/triggers/Lock',
    '/var/cache/debconf/*-old',
    '/var/cache/ldconfig/**',
    '/etc/{passwd,group,shadow,gshadow,subuid,subgid}-',
    '/etc/.pwd.lock',
    '/lib/apk/db/lock',
    '/var/lib/rpm/.rpm.lock',
    '/var/lib/rpm/__db.*',
    // Python compiles what it imports, where it may write: the interpreter makes them again
    '**/__pycache__',
    '**/__pycache__/**',
  ],
  remedy: 'Package managers and account tools write these themselves: a rebuild makes its own.',
};

/**
 * What an engine makes or mounts over in every container it runs: a build cannot store it as it was,
 * and no container sees what an image holds there. buildah commits and builds keep /dev, /proc,
 * /sys, /run and empty /etc/hosts, /etc/hostname, /etc/resolv.conf; docker's do not; the marker
 * files say which engine ran a container.
 */
export const RUNTIME_RULE: CustomRule = {
  id: 'runtime',
  category: 'runtime',
  paths: ['/dev', '/dev/**', '/proc', '/proc/**', '/sys', '/sys/**', '/run', '/.dockerenv', '/run/.containerenv', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf'],
  remedy: 'The engine makes these when a container runs: no build stores them.',
};

/** The left-out categories under a bloat config, and which of them claims a path. */
export class LeftOut {
  /** The bloat config with the two rules of this command added. */
  readonly config: BloatConfig;
  /** Every category a path rule can have: all are left out. */
  readonly categories: string[];
  private readonly matcher: RuleMatcher;

  constructor(union: Union, bloat: BloatConfig) {
    this.config = { ...bloat, rules: [...bloat.rules, REGENERATED_RULE, RUNTIME_RULE] };
    this.categories = knownCategories(this.config).filter((c) => !RESERVED_CATEGORIES.includes(c));
    this.matcher = new RuleMatcher(union, this.config);
  }

  /** A root-relative path (a directory too: `/var/log/app` below `/var/log/**`) a left-out rule claims. */
  claims(path: string): boolean {
    const rule = this.matcher.ruleOf(path);
    return rule !== undefined && this.categories.includes(rule.category);
  }
}

/**
 * The paths `--verify` does not compare, on either side (absolute, as the file diff names them):
 * what the plan left out by category, and its secrets.
 */
export function leftOutPredicate(model: ImageModel, plan: DockerfilePlan, bloat: BloatConfig): (path: string) => boolean {
  const leftOut = new LeftOut(model.union, bloat);
  const secrets = new Set(plan.secrets.map((s) => s.path));
  return (path) => secrets.has(path) || leftOut.claims(path.startsWith('/') ? path.slice(1) : path);
}
