/**
 * The plan of `strata dockerfile`: the final view above the base, as build steps. It starts from
 * `optimize`'s plan of one merged layer (the final version of every path above the base, the
 * hardlink groups, the whiteouts the base needs), with every visible leftover left out (the bloat
 * rules' categories, and what package managers regenerate), then takes away what the package steps
 * make and the secrets; what remains is copied (regular files), made (directories, links) or removed.
 * docs/dockerfile.md gives the rules.
 */
import { Kind } from '../../scan/records.js';
import { nodeAt } from '../../model/path-at.js';
import type { ImageModel } from '../../model/read-image.js';
import { planOptimize, type PlannedEntry } from '../optimize/plan.js';
import type { BloatConfig } from '../bloat/section.js';
import { analyzeRisks } from '../risks/risks.js';
import type { SecretsConfig } from '../risks/section.js';
import { capabilityText } from '../risks/capabilities.js';
import { planPackages } from './package-steps.js';
import { envLines, finalLines } from './config-lines.js';
import { LeftOut } from './left-out.js';
import { instructionText } from '../../image/history.js';
import type { CopyStep, DirStep, DockerfileBase, DockerfilePlan, LeftOutSecret, LinkStep, ModeStep } from './types.js';

export interface DockerfileOptions {
  base: DockerfileBase;
  bloat: BloatConfig;
  secrets: SecretsConfig;
}

const SPECIAL_BITS = 0o7000;
const CAPABILITY = 'security.capability';

export function planDockerfile(model: ImageModel, opts: DockerfileOptions): DockerfilePlan {
  const u = model.union;
  const B = opts.base.layers;
  const last = model.layers.length - 1;
  const leftOut = new LeftOut(u, opts.bloat);
  const optimized = planOptimize(model, { base: B, layers: '1', drop: { categories: leftOut.categories, config: leftOut.config } });
  const layer = optimized.layers[0];
  const packages = planPackages(model, B);

  const risks = analyzeRisks(model, B, opts.secrets);
  const secretPaths = new Set<string>();
  const secrets: LeftOutSecret[] = risks.secrets
    .filter((s) => s.status === 'visible' && s.layer >= B)
    .map((s) => {
      secretPaths.add(s.path.slice(1));
      return { path: s.path, rule: s.rule, fingerprint: s.matches[0]?.fingerprint ?? null, remedy: s.remedy };
    });

  const made = (e: PlannedEntry) => packages.makes(e.path);
  const notes = [...packages.notes];
  const keep = (e: PlannedEntry) => !made(e) && !secretPaths.has(e.path);

  // hardlinks: to something the build makes; one to a secret is that secret again
  const links = (layer?.links ?? []).filter((l) => {
    if (made(l)) return false;
    if (!secretPaths.has(l.linkname!)) return true;
    secrets.push({ path: `/${l.path}`, rule: 'hardlink', fingerprint: null, remedy: `a hardlink to /${l.linkname}, a secret: left out with it` });
    return false;
  });
  const files = (layer?.files ?? []).filter(keep);
  const leads = new Set(files.map((f) => f.path));
  const grouped = links.filter((l) => leads.has(l.linkname!));
  const linkedLeads = new Set(grouped.map((l) => l.linkname!));
  const hardlinks: LinkStep[] = links.filter((l) => !leads.has(l.linkname!)).map((l) => ({ path: `/${l.path}`, target: `/${l.linkname}`, uid: l.uid, gid: l.gid }));
  const archived = files.filter((f) => linkedLeads.has(f.path));
  const linked = archived.length
    ? {
        source: 'hardlinks.tar',
        paths: [...archived, ...grouped].map((e) => `/${e.path}`).sort(),
        bytes: archived.reduce((s, f) => s + f.size, 0),
        layer: { from: [], markers: [], entries: [], files: archived, links: grouped, bytes: archived.reduce((s, f) => s + f.size, 0) },
      }
    : null;

  // files: copied in one tree per owner, rooted where the owner's directories begin
  const modes: ModeStep[] = [];
  const manifests = new Set(packages.steps.flatMap((s) => s.manifests ?? []));
  const trees = new CopyTrees(model);
  for (const f of files) {
    const mode = modeStep(f);
    if (mode) modes.push(mode);
    if (!linkedLeads.has(f.path)) trees.add(f, manifests.has(`/${f.path}`));
  }

  // directories: made where new, re-owned or re-moded where the base had them otherwise
  const dirSteps: DirStep[] = [];
  const symlinks: LinkStep[] = [];
  for (const e of layer?.entries ?? []) {
    if (!keep(e)) continue;
    if (e.type === 'dir') {
      // optimize's drop leaves out files only: a directory a rule claims is left out here
      if (leftOut.claims(e.path)) continue;
      const step = dirStep(model, B, e);
      if (!step) continue;
      dirSteps.push(step);
      const mode = modeStep(e);
      if (mode) modes.push(mode);
    } else if (e.type === 'symlink') {
      symlinks.push({ path: `/${e.path}`, target: e.linkname!, uid: e.uid, gid: e.gid });
      trees.add(e, false);
    } else notes.push(`/${e.path}: a ${e.type} (a Dockerfile makes one only with RUN mknod, which a build may not allow); not carried over`);
  }

  const copies = trees.steps();
  // a directory inside a COPY's tree gets its owner and mode from that COPY
  const inTrees = new Set(copies.flatMap((c) => c.dirs.map((d) => `${c.dest === '/' ? '' : c.dest}/${d.name}`)));
  const dropped = new Set(optimized.dropped.map((d) => d.path.slice(1)));
  const gone = (path: string) => dropped.has(path) || secretPaths.has(path) || leftOut.claims(path);
  const dirs = pruneDirs(model, dirSteps.filter((d) => !inTrees.has(d.path)), gone, [...copies.map((c) => c.dest), ...hardlinks.map((l) => l.path), ...(linked?.paths ?? [])]);
  const removed = removedPaths(model, B, layer?.markers ?? [], packages.purged);
  const env = envLines(model.image.config);
  const tail = finalLines(model.image.config);
  notes.push(...env.notes, ...tail.notes);
  // setcap and setfattr run in the image: without them the build would fail at that step
  const has = (tool: string) => ['usr/sbin', 'sbin', 'usr/bin', 'bin'].some((d) => nodeAt(u, last, `${d}/${tool}`) !== undefined);
  for (const [tool, field] of [['setcap', 'capabilities'], ['setfattr', 'xattrs']] as const) {
    if (!modes.some((m) => m[field] !== undefined) || has(tool)) continue;
    for (const m of modes) {
      if (m[field] === undefined) continue;
      delete m[field];
      notes.push(`${m.path}: its ${field === 'capabilities' ? 'file capabilities are' : 'extended attributes are'} not set: the image has no ${tool}`);
    }
  }
  // through symlinked parents: a usrmerged /bin/sh is usr/bin/sh
  if (nodeAt(u, last, 'bin/sh') === undefined) {
    if (packages.steps.length || dirs.length || hardlinks.length || modes.length || removed.length) notes.push('the image has no /bin/sh: the RUN steps need one (a base with a shell, or build these steps in a stage that has one)');
  }
  return {
    base: opts.base,
    history: (model.image.config.history ?? []).map((h) => instructionText(h.created_by, h.comment)),
    packages: packages.steps,
    removed,
    dirs,
    copies,
    symlinks,
    hardlinks,
    linked,
    modes,
    config: [...env.lines, ...tail.lines],
    leftOut: optimized.dropped.map((d) => ({ path: d.path, bytes: d.bytes, category: d.category })),
    secrets,
    notes,
  };
}

/**
 * The directories that need a step of their own, without those that need none: plain ones (root, 0755) that hold nothing the
 * build writes, as what a package step installs below them. Kept: a COPY destination or a link's
 * parent (it must exist, with its owner, before the COPY), one left empty (by the original or by
 * what was left out of it), one with its own owner or mode.
 */
function pruneDirs(model: ImageModel, dirs: DirStep[], gone: (path: string) => boolean, written: string[]): DirStep[] {
  const u = model.union;
  const last = model.layers.length - 1;
  const needed = new Set<string>();
  for (const w of written) for (let p = w; p.length > 1; p = p.slice(0, Math.max(p.lastIndexOf('/'), 1))) needed.add(p);
  const empty = (path: string) => {
    const node = u.nodeOf(path.slice(1));
    // empty once the leftovers are gone: the directory itself is still in the view
    return node !== undefined && !u.children(node).some((c) => u.versionAt(c, last) >= 0 && !gone(u.nodePath[c]));
  };
  return dirs.filter((d) => d.existed || d.mode !== 0o755 || d.uid !== 0 || d.gid !== 0 || needed.has(d.path) || empty(d.path));
}

/**
 * The COPY lines, for files and symlinks. A COPY gives its owner to every directory of its tree, and its mode from the
 * context: so a tree for owner O starts at the highest directory above a file from which every
 * directory down to the file is O's in the image (the root for root's files, `/srv` for a user's
 * `/srv/data/…`), and holds those directories with their modes. npm manifests are a tree of their
 * own, copied into the project directory before `npm ci`.
 */
class CopyTrees {
  private readonly trees = new Map<string, { step: CopyStep; dirs: Set<string>; tops: Map<string, { path: string; files: number }> }>();
  private readonly u;
  private readonly last;

  constructor(model: ImageModel) {
    this.u = model.union;
    this.last = model.layers.length - 1;
  }

  add(f: PlannedEntry, manifest: boolean): void {
    const parts = f.path.split('/');
    let root = parts.length - 1; // index of the first directory inside the tree
    if (!manifest) while (root > 0 && this.ownedBy(parts.slice(0, root).join('/'), f.uid, f.gid)) root--;
    const dest = parts.slice(0, root).join('/');
    const key = `${dest}\0${f.uid}\0${f.gid}\0${manifest}`;
    let t = this.trees.get(key);
    if (!t) this.trees.set(key, (t = { step: { source: '', dest: `/${dest}`, uid: f.uid, gid: f.gid, ...(manifest ? { manifests: true as const } : {}), entries: 0, bytes: 0, items: [], dirs: [], tops: [] }, dirs: new Set(), tops: new Map() }));
    const step = t.step;
    const name = parts.slice(root).join('/');
    step.items.push(f.type === 'symlink' ? { name, mode: 0o777, size: 0, link: f.linkname! } : { name, mode: f.mode & 0o777, size: f.size, source: f.source! });
    step.entries++;
    step.bytes += f.type === 'symlink' ? 0 : f.size;
    for (let i = root + 1; i < parts.length; i++) {
      const rel = parts.slice(root, i).join('/');
      if (t.dirs.has(rel)) continue;
      t.dirs.add(rel);
      step.dirs.push({ name: rel, mode: this.modeOf(parts.slice(0, i).join('/')) });
    }
    const top = `/${parts.slice(0, -1).join('/')}`;
    const at = t.tops.get(top);
    if (at) at.files++;
    else {
      const entry = { path: top, files: 1 };
      t.tops.set(top, entry);
      step.tops.push(entry);
    }
  }

  steps(): CopyStep[] {
    const out = [...this.trees.values()].map((t) => t.step).sort((a, b) => Number(!!b.manifests) - Number(!!a.manifests) || (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : a.uid - b.uid || a.gid - b.gid));
    out.forEach((c, i) => {
      c.source = `files/${String(i + 1).padStart(4, '0')}`;
      c.dirs.sort((a, b) => (a.name < b.name ? -1 : 1));
    });
    return out;
  }

  /** The directory at a root-relative path is owned by uid:gid in the final view. */
  private ownedBy(dir: string, uid: number, gid: number): boolean {
    const v = this.version(dir);
    return v >= 0 && this.u.kindOf(v) === Kind.dir && this.u.uidOf(v) === uid && this.u.gidOf(v) === gid;
  }

  private modeOf(dir: string): number {
    const v = this.version(dir);
    return v >= 0 ? this.u.modeOf(v) & 0o777 : 0o755;
  }

  private version(dir: string): number {
    const node = this.u.nodeOf(dir);
    return node === undefined ? -1 : this.u.versionAt(node, this.last);
  }
}

/** The special bits COPY drops, and the capabilities and xattrs it cannot carry. */
function modeStep(e: PlannedEntry): ModeStep | undefined {
  const special = e.mode & SPECIAL_BITS;
  const xattrs = { ...(e.xattrs ?? {}) };
  const cap = xattrs[CAPABILITY];
  delete xattrs[CAPABILITY];
  const capabilities = cap === undefined ? undefined : capabilityText(Buffer.from(cap, 'base64')) ?? undefined;
  const others = Object.keys(xattrs).length > 0;
  if (!special && capabilities === undefined && !others) return undefined;
  return { path: `/${e.path}`, mode: e.mode & 0o7777, ...(capabilities === undefined ? {} : { capabilities }), ...(others ? { xattrs } : {}) };
}

/**
 * A directory of the merged layer, as a step, or undefined when nothing is to do: the base has it
 * with this owner and mode, or it is a plain root-owned 0755 directory that a COPY or `mkdir -p` of
 * something below makes anyway.
 */
function dirStep(model: ImageModel, B: number, e: PlannedEntry): DirStep | undefined {
  const u = model.union;
  const node = u.nodeOf(e.path);
  const was = node === undefined || B === 0 ? -1 : u.versionAt(node, B - 1);
  const mode = e.mode & 0o777;
  if (was >= 0 && u.kindOf(was) === Kind.dir) {
    if ((u.modeOf(was) & 0o7777) === (e.mode & 0o7777) && u.uidOf(was) === e.uid && u.gidOf(was) === e.gid) return undefined;
    return { path: `/${e.path}`, mode, uid: e.uid, gid: e.gid, existed: true };
  }
  return { path: `/${e.path}`, mode, uid: e.uid, gid: e.gid, existed: false };
}

/**
 * What the layers deleted from the base: the whiteouts' paths, and for an opaque directory each base
 * entry of it; minus what a removed package's purge deletes anyway.
 */
function removedPaths(model: ImageModel, B: number, markers: PlannedEntry[], purged: Set<string>): string[] {
  const u = model.union;
  const out: string[] = [];
  for (const m of markers) {
    const cut = m.path.lastIndexOf('/');
    const dir = cut < 0 ? '' : m.path.slice(0, cut);
    const name = m.path.slice(cut + 1);
    if (name === '.wh..wh..opq') {
      const node = dir === '' ? 0 : u.nodeOf(dir);
      if (node === undefined) continue;
      for (let c = u.firstChildOf(node); c >= 0; c = u.nextSiblingOf(c)) if (!u.isHidden(c) && u.versionAt(c, B - 1) >= 0) out.push(u.nodePath[c]);
    } else out.push(dir ? `${dir}/${name.slice('.wh.'.length)}` : name.slice('.wh.'.length));
  }
  return out.filter((p) => !purged.has(p)).sort().map((p) => `/${p}`);
}
