/**
 * What `strata dockerfile` leaves out besides the bloat rules' leftovers: the files package managers
 * and account tools regenerate on their own (backups, locks, caches of caches). They are a category
 * of their own, `regenerated`, so that the summary lists them apart, and `--verify` ignores them on
 * both sides: the rebuild makes its own.
 */
import type { ImageModel } from '../../model/read-image.js';
import { RuleMatcher } from '../bloat/matching.js';
import type { CustomRule } from '../bloat/section.js';
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

/**
 * The paths `--verify` does not compare, on either side (absolute, as the file diff names them):
 * what the plan left out by category, and its secrets.
 */
export function leftOutPredicate(model: ImageModel, plan: DockerfilePlan, config: ConstructorParameters<typeof RuleMatcher>[1], categories: string[]): (path: string) => boolean {
  const matcher = new RuleMatcher(model.union, config);
  const wanted = new Set(categories);
  const secrets = new Set(plan.secrets.map((s) => s.path));
  return (path) => {
    if (secrets.has(path)) return true;
    const rule = matcher.ruleOf(path.startsWith('/') ? path.slice(1) : path);
    return rule !== undefined && wanted.has(rule.category);
  };
}
