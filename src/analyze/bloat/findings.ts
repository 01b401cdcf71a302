/**
 * Findings: what makes an image bigger than it needs to be, each with the layer (and instruction)
 * that caused it and a fix in build terms. Four sources:
 *   - waste (src/analyze/waste.ts): bytes stored but invisible, grouped per (storing layer, hiding
 *     layer, category): deleted, overwritten, metadata-copy;
 *   - bloat rules (src/analyze/bloat/rules.ts + config): visible files that are build leftovers,
 *     grouped per (rule, storing layer); the first matching rule wins, so categories are disjoint;
 *   - duplicate content: visible files (not matched by a rule) with identical content at several
 *     paths, each hardlinked inode once;
 *   - the commit-based build pattern: one non-Dockerfile layer holding temp files, logs and caches.
 * Plain data: the text renderer lives in src/commands/inspect.ts.
 */
import { BUILTIN_RULES, IMAGE_CATEGORIES, RULE_CATEGORIES, WASTE_CATEGORIES, type BloatRule } from './rules.js';
import { type BloatConfig } from './section.js';
import { GlobSet } from '../../util/glob.js';
import type { ImageModel } from '../../model/read-image.js';
import { HASH_BYTES, sameHash } from '../../scan/records.js';
import type { Union } from '../../model/union.js';
import { wasteCategoryOf, type WasteAnalysis, type WastedItem, type WasteReason } from '../waste.js';
import { instructionText, stepOf, type Step } from '../../image/history.js';

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
  return [...new Set<string>([...WASTE_CATEGORIES, ...RULE_CATEGORIES, ...config.rules.map((r) => r.category), ...IMAGE_CATEGORIES])];
}

/** Share of a layer's bytes that its leftovers must reach to call it the commit-based pattern. */
const COMMIT_MIN_SHARE = 0.1;
const COMMIT_CATEGORIES = ['temp', 'log', 'cache'];

export function analyzeBloat(model: ImageModel, waste: WasteAnalysis, config: BloatConfig): BloatAnalysis {
  const ctx = new Context(model, config);
  const findings = [...wasteFindings(ctx, waste.items), ...ctx.visibleFindings()];
  findings.sort((a, b) => b.bytes - a.bytes || a.layer - b.layer || (a.category < b.category ? -1 : a.category > b.category ? 1 : 0));
  const bloat: Record<string, number> = {};
  for (const c of [...RULE_CATEGORIES, ...config.rules.map((r) => r.category), 'duplicate']) bloat[c] = 0;
  for (const f of findings) if (f.kind === 'bloat') bloat[f.category] += f.bytes;
  const bloatBytes = Object.values(bloat).reduce((s, n) => s + n, 0);
  const reclaimableShare = waste.storedBytes === 0 ? 0 : (waste.wastedBytes + bloatBytes) / waste.storedBytes;
  const verdict: Verdict = reclaimableShare < 0.05 ? 'lean' : reclaimableShare < 0.2 ? 'some-waste' : 'bloated';
  return { findings, bloat, bloatBytes, verdict, reclaimableShare };
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

class Context {
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
    readonly model: ImageModel,
    config: BloatConfig,
  ) {
    this.rules = activeRules(config);
    this.matcher = new GlobSet(this.rules.map((r) => r.paths));
    this.excepts = this.rules.map((r) => (r.except ? new GlobSet([r.except]) : undefined));
    this.ignore = new GlobSet([config.ignore]);
    this.byDirNode = new Int32Array(model.union.nodeCount).fill(UNSEEN);
  }

  /** The first rule matching a root-relative path, unless the path is ignored. */
  ruleOf(path: string): BloatRule | undefined {
    const i = path.lastIndexOf('/');
    return this.rules[this.ruleIndex(path, i < 0 ? '' : path.slice(0, i))];
  }

  /**
   * ruleOf as an index (IGNORED, -1 for none), given the path's directory. The globs ending in
   * `/**` are matched once per directory (GlobSet.firstInDir): most rules are of that kind.
   */
  private ruleIndex(path: string, dir: string): number {
    let d = this.byDir.get(dir);
    if (d === undefined) this.byDir.set(dir, (d = this.dirIndex(dir)));
    return this.fileIndex(path, d);
  }

  /** ruleIndex of a union node, its directory's `/**` match cached by the parent's node id. */
  private ruleIndexOf(node: number): number {
    const u = this.model.union;
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

  createdBy(L: number): string | undefined {
    return this.model.layers[L]?.history?.created_by;
  }

  instructionText(L: number): string | null {
    const h = this.model.layers[L]?.history;
    return instructionText(h?.created_by, h?.comment) || null;
  }

  finding(f: Omit<Finding, 'instruction' | 'removedByInstruction' | 'files'>): Finding {
    return {
      category: f.category,
      kind: f.kind,
      bytes: f.bytes,
      files: f.items.length,
      layer: f.layer,
      instruction: this.instructionText(f.layer),
      removedBy: f.removedBy,
      removedByInstruction: f.removedBy === null ? null : this.instructionText(f.removedBy),
      rule: f.rule,
      title: f.title,
      remedy: f.remedy,
      items: f.items,
    };
  }

  /** Rule, duplicate and commit-pattern findings over the final view. */
  visibleFindings(): Finding[] {
    const u = this.model.union;
    const top = this.model.layers.length - 1;
    const byRule = new Map<string, { rule: BloatRule; layer: number; items: FindingItem[] }>();
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
      const r = this.ruleIndexOf(node);
      if (r === IGNORED) continue;
      const layer = u.layerOf(ino);
      const rule = this.rules[r];
      if (rule) {
        const key = `${rule.id}\0${layer}`;
        let g = byRule.get(key);
        if (!g) byRule.set(key, (g = { rule, layer, items: [] }));
        g.items.push({ path: `/${u.nodePath[node]}`, bytes, layer, rule: rule.id });
      } else {
        unclaimed[unclaimedCount++] = ino;
      }
    }
    const byContent = new ContentGroups(u, unclaimed.subarray(0, unclaimedCount));
    const pathOf = (ino: number) => u.nodePath[nodeOf[ino] - 1];
    const out: Finding[] = [];
    for (const g of byRule.values()) out.push(this.ruleFinding(g.rule, g.layer, g.items.sort(byPath)));
    for (const inodes of byContent.groups()) {
      const paths = inodes.map(pathOf);
      const order = inodes.map((_, i) => i).sort((a, b) => (paths[a] < paths[b] ? -1 : paths[a] > paths[b] ? 1 : 0));
      out.push(this.duplicateFinding(order.map((i) => inodes[i]), order.map((i) => paths[i])));
    }
    out.push(...this.commitFindings([...byRule.values()]));
    return out;
  }

  private ruleFinding(rule: BloatRule, layer: number, items: FindingItem[]): Finding {
    const n = items.length;
    const copied = stepOf(this.createdBy(layer)) === 'copy' && rule.dockerignore;
    return this.finding({
      category: rule.category,
      kind: 'bloat',
      bytes: sum(items),
      layer,
      removedBy: null,
      rule: rule.id,
      title: `${n} ${rule.category} file${n === 1 ? '' : 's'} left in the image by layer ${layer} (rule ${rule.id}): ${pathList(items.map((i) => i.path))}`,
      remedy: copied ? `These came in with COPY/ADD: add "${rule.dockerignore}" to .dockerignore. ${rule.remedy}` : rule.remedy,
      items,
    });
  }

  /** `inodes` in path order, with their paths. */
  private duplicateFinding(inodes: number[], paths: string[]): Finding {
    const u = this.model.union;
    const size = u.sizeOf(inodes[0]);
    const layers = inodes.map((v) => u.layerOf(v));
    const items = paths.map((p, i) => ({ path: `/${p}`, bytes: size, layer: layers[i] }));
    // Identical content, mode, owner and mtime in different layers: one inode in the build container.
    const splitLink = layers.some((l) => l !== layers[0]) && inodes.every((v) => sameMeta(u, v, inodes[0]));
    return this.finding({
      category: 'duplicate',
      kind: 'bloat',
      bytes: size * (inodes.length - 1),
      layer: Math.max(...layers),
      removedBy: null,
      rule: null,
      title: `${inodes.length} identical copies of the same content${splitLink ? ' (likely one hardlinked file in the build container)' : ''}: ${pathList(items.map((i) => i.path))}`,
      remedy: splitLink
        ? 'A hardlink created in a later layer to a file of a lower layer is stored as a full copy. Create the link in the same RUN that creates the file, or use a symlink.'
        : 'Keep one copy: COPY the file once and symlink the other paths, or remove the extra copies in the RUN that creates them.',
      items,
    });
  }

  private commitFindings(groups: { rule: BloatRule; layer: number; items: FindingItem[] }[]): Finding[] {
    const out: Finding[] = [];
    for (const [L, info] of this.model.layers.entries()) {
      if (L === 0 || stepOf(info.history?.created_by) !== 'other') continue;
      const mine = groups.filter((g) => g.layer === L && COMMIT_CATEGORIES.includes(g.rule.category));
      const cats = [...new Set(mine.map((g) => g.rule.category))];
      const items = mine.flatMap((g) => g.items);
      const bytes = sum(items);
      if (cats.length < 2 || bytes < COMMIT_MIN_SHARE * info.size) continue;
      out.push(
        this.finding({
          category: 'commit-build',
          kind: 'pattern',
          bytes,
          layer: L,
          removedBy: null,
          rule: null,
          title: `layer ${L} holds ${cats.join(', ')} files together in one fat layer: the signature of a committed container (docker commit)`,
          remedy: 'Prefer a Dockerfile build over docker commit: each RUN can clean up after itself and the build is reproducible. If you must commit, clear /tmp, /var/log and package caches in the container first.',
          items,
        }),
      );
    }
    return out;
  }
}

function wasteFindings(ctx: Context, items: WastedItem[]): Finding[] {
  const groups = new Map<string, WastedItem[]>();
  for (const it of items) {
    const key = `${it.layer}:${it.removedBy}:${wasteCategoryOf[it.reason]}`;
    const g = groups.get(key);
    if (g) g.push(it);
    else groups.set(key, [it]);
  }
  return [...groups.values()].map((g) => wasteFinding(ctx, g));
}

function wasteFinding(ctx: Context, group: WastedItem[]): Finding {
  const { layer: S, removedBy: E } = group[0];
  const category = wasteCategoryOf[group[0].reason];
  const items: FindingItem[] = group.map((it) => {
    const item: FindingItem = { path: `/${it.path}`, bytes: it.bytes, layer: it.layer, reason: it.reason };
    const rule = ctx.ruleOf(it.path);
    if (rule) item.rule = rule.id;
    return item;
  });
  const n = items.length;
  const files = `${n} file${n === 1 ? '' : 's'}`;
  const paths = pathList(items.map((i) => i.path));
  const step = stepOf(ctx.createdBy(S));
  // A layer not made by a Dockerfile step, changed by one that is: most likely the base image.
  const fromBase = step === 'other' && stepOf(ctx.createdBy(E)) !== 'other';
  let title: string;
  let remedy: string;
  if (category === 'deleted') {
    const roots = [...new Set(group.map((it) => `/${it.deletedRoot ?? it.path}`))];
    title = `layer ${E} deleted ${pathList(roots)} (${files} stored by layer ${S})`;
    remedy = fromBase
      ? `Deleting in a later layer does not shrink the image: the bytes stay in layer ${S}, which looks like the base image. Choose a smaller base image (a slim, alpine or distroless variant), or build the base without these files.`
      : step === 'copy'
        ? `Deleting in a later layer does not shrink the image: the bytes stay in layer ${S}, which copied them in. Keep them out of the build context with a .dockerignore entry (${roots.map((r) => `"**/${r.slice(r.lastIndexOf('/') + 1)}"`).join(', ')}), or COPY only what you need.`
        : `Deleting in a later layer does not shrink the image: the bytes stay in layer ${S}. Remove them in the same RUN that creates them, or create them in a separate stage and COPY only what you need (multi-stage build).`;
    const hint = largestRule(ctx, items);
    if (hint && hint.category !== 'temp' && hint.category !== 'log') remedy += ` ${hint.remedy}`;
  } else if (category === 'overwritten') {
    if (group.every((it) => it.reason === 'superseded')) {
      title = `layer ${S} stored the same path twice, only the last copy is visible: ${paths}`;
      remedy = 'The layer tar holds duplicate entries: fix the tool that wrote it, or rebuild the layer.';
    } else if (fromBase) {
      title = `layer ${E} overwrote ${files} stored by layer ${S}: ${paths}`;
      remedy = `Each overwrite keeps the old copy in layer ${S}, which looks like the base image. For large files, choose a base image that already has what you need, or change them where the base is built.`;
    } else {
      title = `layer ${E} overwrote ${files} stored by layer ${S}: ${paths}`;
      remedy = `Each overwrite keeps the old copy in layer ${S}. Produce the final version in one step: write it in the layer that creates it, or build it in a separate stage and COPY only the result (multi-stage build).`;
    }
  } else {
    ({ title, remedy } = copyAdvice(ctx, group, S, E, step, files, paths));
  }
  return ctx.finding({ category, kind: 'waste', bytes: sum(items), layer: S, removedBy: E, rule: null, title, remedy, items });
}

/** Advice for files stored again with the same content (chmod/chown -R, touch, hardlink copy-up). */
function copyAdvice(ctx: Context, group: WastedItem[], S: number, E: number, step: Step, files: string, paths: string): { title: string; remedy: string } {
  const bytesOf = (p: (it: WastedItem) => boolean) => group.filter(p).reduce((s, it) => s + it.bytes, 0);
  const linked = bytesOf((it) => !!it.viaHardlink);
  const meta = bytesOf((it) => it.reason === 'metadata' && !it.viaHardlink);
  const same = bytesOf((it) => it.reason === 'unchanged' && !it.viaHardlink);
  if (linked >= meta && linked >= same) {
    return {
      title: `layer ${E} made hardlinks to ${files} of layer ${S}, copying the content up whole: ${paths}`,
      remedy: 'A hardlink to a file of a lower layer copies the whole file into the new layer. Create the link in the same RUN that creates the file, or use a symlink.',
    };
  }
  if (same > meta && stepOf(ctx.createdBy(E)) === 'copy') {
    return {
      title: `layer ${E} copied in ${files} identical to what layer ${S} stored: ${paths}`,
      remedy: `Copying the same files twice stores them twice. COPY them once: drop them from one of the COPY/ADD steps (layers ${S} and ${E}).`,
    };
  }
  if (same > meta) {
    return {
      title: `layer ${E} stored ${files} of layer ${S} again unchanged: ${paths}`,
      remedy: 'Touching a file of an earlier layer (touch, a tool rewriting it in place) stores it again whole. Avoid it, or do it in the same RUN that creates the file.',
    };
  }
  const title = `layer ${E} stored ${files} of layer ${S} again, changing only mode/owner: ${paths}`;
  if (step === 'copy') return { title, remedy: `RUN chmod -R / chown -R in a later layer stores every file again. Set mode and owner while copying instead: ${copyFlags(ctx, group, E)} in layer ${S}.` };
  if (step === 'run') return { title, remedy: `RUN chmod -R / chown -R in a later layer stores every file again. Do it in the same RUN that creates the files (layer ${S}), or use COPY --chown/--chmod.` };
  return { title, remedy: 'Changing mode or owner in a later layer stores every file again. Set them where the files are created: COPY --chown/--chmod, or the same RUN.' };
}

/** `COPY --chown=U:G --chmod=M`, with the values the later layer set when they are uniform. */
function copyFlags(ctx: Context, group: WastedItem[], E: number): string {
  const u = ctx.model.union;
  const after = group.map((it) => u.versionAt(u.nodeOf(it.path)!, E)).filter((v) => v >= 0);
  const uniq = (f: (v: number) => string) => {
    const s = new Set(after.map(f));
    return s.size === 1 ? [...s][0] : undefined;
  };
  const owner = uniq((v) => `${u.uidOf(v)}:${u.gidOf(v)}`);
  const mode = uniq((v) => u.modeOf(v).toString(8));
  return `COPY --chown=${owner ?? 'USER:GROUP'} --chmod=${mode ?? 'MODE'}`;
}

function largestRule(ctx: Context, items: FindingItem[]): BloatRule | undefined {
  const bytes = new Map<string, number>();
  for (const it of items) if (it.rule) bytes.set(it.rule, (bytes.get(it.rule) ?? 0) + it.bytes);
  const best = [...bytes.entries()].sort((a, b) => b[1] - a[1])[0];
  return best && ctx.rules.find((r) => r.id === best[0]);
}

function sum(items: { bytes: number }[]): number {
  return items.reduce((s, i) => s + i.bytes, 0);
}

/** Up to three paths, then "and N more". */
function pathList(paths: string[]): string {
  const shown = paths.slice(0, 3).join(', ');
  return paths.length > 3 ? `${shown} and ${paths.length - 3} more` : shown;
}

/** ruleIndex of an ignored path. */
const IGNORED = -2;
/** dirIndex of a directory whose path has a line break: every file is matched whole. */
const PER_FILE = -3;
/** byDirNode of a directory not matched yet. */
const UNSEEN = -4;

/** Same mode, owner and mtime (inodes are file rows). mtimes compare as their strings do: NaN equals NaN. */
function sameMeta(u: Union, a: number, b: number): boolean {
  const ra = u.layers[u.layerOf(a)], i = u.rowOf(a);
  const rb = u.layers[u.layerOf(b)], j = u.rowOf(b);
  const ta = ra.mtime[i], tb = rb.mtime[j];
  return ra.mode[i] === rb.mode[j] && ra.uid[i] === rb.uid[j] && ra.gid[i] === rb.gid[j] && (ta === tb || (ta !== ta && tb !== tb));
}

/**
 * Inodes grouped by identical content (size and hash), groups in the order they first appeared:
 * an open-addressing table sized once for all the inodes, each slot a (hash, group) pair so that a
 * probe reads one place, and the groups as linked lists of inode ids. No string, object or array
 * per file.
 */
class ContentGroups {
  /** Per slot: the group's hash, then group id + 1 (0: free). */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private count = 0;
  /** Per group: its first and last inode. */
  private readonly head: Int32Array;
  private readonly tail: Int32Array;
  /** Per inode: the next inode of its group, or -1. */
  private readonly next: Int32Array;

  constructor(
    private readonly u: Union,
    inodes: Int32Array,
  ) {
    let size = 1024;
    while (size < 2 * inodes.length) size *= 2;
    this.slots = new Int32Array(2 * size);
    this.mask = size - 1;
    this.head = new Int32Array(inodes.length);
    this.tail = new Int32Array(inodes.length);
    this.next = new Int32Array(u.versionCount).fill(-1);
    for (const ino of inodes) this.add(ino);
  }

  private add(ino: number): void {
    const slots = this.slots;
    const h = this.hash(ino);
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const g = slots[2 * i + 1] - 1;
      if (g < 0) {
        slots[2 * i] = h;
        slots[2 * i + 1] = this.count + 1;
        this.head[this.count] = this.tail[this.count] = ino;
        this.count++;
        return;
      }
      if (slots[2 * i] === h && this.same(this.head[g], ino)) {
        this.next[this.tail[g]] = ino;
        this.tail[g] = ino;
        return;
      }
    }
  }

  /** Groups of two or more inodes. */
  *groups(): Generator<number[]> {
    for (let g = 0; g < this.count; g++) {
      const first = this.head[g];
      if (this.next[first] < 0) continue;
      const out: number[] = [];
      for (let v = first; v >= 0; v = this.next[v]) out.push(v);
      yield out;
    }
  }

  private hash(ino: number): number {
    const u = this.u;
    const h = u.layers[u.layerOf(ino)].hash;
    const o = u.rowOf(ino) * HASH_BYTES;
    return (h[o] | (h[o + 1] << 8) | (h[o + 2] << 16) | (h[o + 3] << 24)) ^ Math.imul(u.sizeOf(ino) | 0, 0x9e3779b1);
  }

  private same(a: number, b: number): boolean {
    const u = this.u;
    return u.sizeOf(a) === u.sizeOf(b) && sameHash(u.layers[u.layerOf(a)], u.rowOf(a), u.layers[u.layerOf(b)], u.rowOf(b));
  }
}
