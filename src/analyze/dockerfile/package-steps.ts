/**
 * The package steps of `strata dockerfile`: what the layers above the base installed, upgraded or
 * removed, per ecosystem, as the install commands a person would write, and which files of the view
 * those commands make (so that no COPY writes them again).
 *
 * Names and versions come from the image's own databases, which are hostile input: they reach a
 * shell command, so each is checked against what its ecosystem allows; a package that fails the
 * check is not reinstalled, its files are copied instead and a note says why.
 */
import type { ImageModel } from '../../model/read-image.js';
import { analyzePackages, packageKey, packagesAt } from '../packages/packages.js';
import { OS_ECOSYSTEMS, type Ecosystem, type PackageEntry, type PackageRow } from '../packages/types.js';
import type { PackageStep } from './types.js';

const NAME: Record<Ecosystem, RegExp> = {
  deb: /^[a-z0-9][a-z0-9+.-]+$/,
  apk: /^[A-Za-z0-9][A-Za-z0-9+._-]*$/,
  rpm: /^[A-Za-z0-9][A-Za-z0-9+._-]*$/,
  pypi: /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/,
  npm: /^(@[a-z0-9~][a-z0-9._~-]*\/)?[a-z0-9~][a-z0-9._~-]*$/i,
};
const VERSION: Record<Ecosystem, RegExp> = {
  deb: /^[0-9A-Za-z.+~:-]+$/,
  apk: /^[0-9A-Za-z._+-]+$/,
  rpm: /^[0-9A-Za-z._+~^:-]+$/,
  pypi: /^[0-9A-Za-z.+!_-]+$/,
  npm: /^[0-9A-Za-z.+-]+$/,
};
const MAX_WORD = 200;

/** A name and version a shell command may carry unquoted. */
export function plainPackage(e: Pick<PackageEntry, 'ecosystem' | 'name' | 'version'>): boolean {
  return e.name.length <= MAX_WORD && e.version.length <= MAX_WORD && NAME[e.ecosystem].test(e.name) && VERSION[e.ecosystem].test(e.version);
}

/** The package databases an OS step rewrites: never copied when that ecosystem has a step. */
const DATABASES: Partial<Record<Ecosystem, string[]>> = {
  deb: ['var/lib/dpkg/', 'var/lib/apt/extended_states', 'var/cache/debconf/', 'etc/ld.so.cache'],
  apk: ['lib/apk/db/', 'usr/lib/apk/db/', 'etc/apk/world', 'etc/ld.so.cache'],
  rpm: ['var/lib/rpm/', 'usr/lib/sysimage/rpm/', 'var/lib/dnf/', 'etc/ld.so.cache'],
};

export interface PackagePlan {
  steps: PackageStep[];
  /** True for a root-relative path of the final view that a package step makes. */
  makes(path: string): boolean;
  /** Root-relative paths the removed OS packages listed: their purge deletes them. */
  purged: Set<string>;
  /** One sentence per package left to the COPY lines. */
  notes: string[];
}

interface Site {
  step: PackageStep;
  explicit: string[];
}

export function planPackages(model: ImageModel, base: number): PackagePlan {
  // FROM scratch has no package manager to run: every file is copied
  if (base === 0) return { steps: [], purged: new Set(), notes: [], makes: () => false };
  const u = model.union;
  const last = model.layers.length - 1;
  const p = analyzePackages(model);
  const before = new Map(packagesAt(model, base - 1).map((b) => [b.key, b.entry]));
  const visible = (path: string) => {
    const n = u.nodeOf(path);
    return n !== undefined && u.versionAt(n, last) >= 0;
  };
  const aptKnowsAuto = visible('var/lib/apt/extended_states');
  const reinstalled = new Set<PackageRow>(); // the rows whose files a package step makes
  const npmProjects = new Set<string>();
  const os = new Map<Ecosystem, PackageStep>();
  const pip = new Map<string, Site>();
  const npm = new Map<string, PackageStep>();
  const notes: string[] = [];
  const stepOf = (eco: Ecosystem) => {
    let s = os.get(eco);
    if (!s) os.set(eco, (s = { ecosystem: eco, install: [], remove: [] }));
    return s;
  };
  const copied = (step: PackageStep, e: PackageEntry, why: string) => {
    (step.copied ??= []).push({ name: e.name, version: e.version, why });
    notes.push(`${e.ecosystem} ${e.name} ${e.version}: ${why}; its files are copied`);
  };

  p.entries.forEach((e, i) => {
    const row = p.rows[i];
    const was = before.get(packageKey(e));
    if (was && was.version === e.version) return;
    if (row.installedBy) return; // its OS package installs it
    if (OS_ECOSYSTEMS.has(e.ecosystem)) {
      const step = stepOf(e.ecosystem);
      if (!plainPackage(e)) return copied(step, e, 'its name or version is not one a package manager accepts');
      reinstalled.add(row);
      // apt installs a dependency by itself; an upgraded one is pinned, or apt would keep the base's version
      if (!(e.ecosystem === 'deb' && aptKnowsAuto && e.auto && !was) && !(e.ecosystem === 'apk' && e.auto && !was)) step.install.push({ name: e.name, version: e.version });
      return;
    }
    if (e.ecosystem === 'pypi') {
      const site = pythonSite(e.path, visible);
      const key = site?.where ?? e.path;
      let s = pip.get(key);
      if (!s) pip.set(key, (s = { step: { ecosystem: 'pypi', install: [], remove: [], ...(site ?? {}) }, explicit: [] }));
      if (!site) return copied(s.step, e, 'it is not in a site-packages directory pip would install to');
      if (e.directUrl !== undefined) return copied(s.step, e, `pip installed it from ${e.directUrl}, which an index does not serve`);
      if (!plainPackage(e)) return copied(s.step, e, 'its name or version is not one pip accepts');
      reinstalled.add(row);
      s.step.install.push({ name: e.name, version: e.version });
      // pip marks what it was asked for with REQUESTED; the rest came as dependencies
      if (e.files.includes(`${e.path}/REQUESTED`)) s.explicit.push(e.name);
      return;
    }
    const project = npmProject(e.dir ?? e.path);
    let s = npm.get(project ?? e.path);
    if (!s) npm.set(project ?? e.path, (s = { ecosystem: 'npm', install: [], remove: [], where: project === undefined ? undefined : `/${project}` }));
    if (project === undefined || !visible(`${project}/package.json`)) return copied(s, e, 'no package.json above its node_modules');
    npmProjects.add(project);
    reinstalled.add(row);
    s.install.push({ name: e.name, version: e.version });
  });

  const purged = new Set<string>();
  const now = new Set(p.entries.map(packageKey));
  for (const [key, e] of before) {
    if (now.has(key) || !OS_ECOSYSTEMS.has(e.ecosystem) || !plainPackage(e)) continue;
    stepOf(e.ecosystem).remove.push(e.name);
    for (const f of e.files) purged.add(f);
  }

  for (const [dir, s] of npm) {
    if (!npmProjects.has(dir)) continue;
    const lock = ['npm-shrinkwrap.json', 'package-lock.json'].find((f) => visible(`${dir}/${f}`));
    s.manifests = [`/${dir}/package.json`, ...(lock ? [`/${dir}/${lock}`] : [])];
  }
  // the renderer names the ones pip was asked for and pins the rest as constraints; none marked: all named
  for (const s of pip.values()) s.step.explicit = s.explicit.length ? s.explicit : s.step.install.map((i) => i.name);

  const steps = [...os.values(), ...[...pip.values()].map((s) => s.step), ...npm.values()].filter((s) => s.install.length || s.remove.length || s.copied?.length);
  const databases = [...os].filter(([, s]) => s.install.length || s.remove.length).flatMap(([eco]) => DATABASES[eco] ?? []);
  const projects = [...npmProjects].map((d) => `${d}/node_modules/`);
  return {
    steps,
    purged,
    notes,
    makes(path) {
      const node = u.nodeOf(path);
      const row = node === undefined ? undefined : p.ownerOf(node);
      if (row && reinstalled.has(row)) return true;
      if (databases.some((d) => (d.endsWith('/') ? path.startsWith(d) : path === d))) return true;
      return projects.some((d) => path.startsWith(d) || `${path}/` === d);
    },
  };
}

/** The interpreter that installs into a site directory: a venv's own python, else pythonX.Y on PATH. */
function pythonSite(distInfo: string, visible: (path: string) => boolean): Pick<PackageStep, 'where' | 'breakSystemPackages'> | undefined {
  const m = /^(.*?)\/?lib\/(python3(?:\.\d+)?)\/(?:site|dist)-packages\/[^/]+$/.exec(distInfo);
  if (!m) return undefined;
  const [, prefix, python] = m;
  if (prefix && visible(`${prefix}/pyvenv.cfg`)) return { where: `/${prefix}/bin/python` };
  // Debian's own dist-packages belong to apt; pip installs to /usr/local (and to ~/.local with --user: not rebuilt)
  if (prefix !== 'usr/local') return undefined;
  return { where: python, ...(visible(`usr/lib/${python}/EXTERNALLY-MANAGED`) ? { breakSystemPackages: true } : {}) };
}

/** The project directory whose node_modules holds a package directory: the outermost one. */
function npmProject(dir: string): string | undefined {
  const at = dir.startsWith('node_modules/') ? 0 : dir.indexOf('/node_modules/');
  if (at < 0) return undefined;
  return at === 0 ? undefined : dir.slice(0, at);
}
