/**
 * Risks: secrets stored in any layer (by file name, or by content found while the layers were
 * scanned), with whether they are still visible or hidden by a later layer but still stored; and
 * risky files of the final view (setuid/setgid and file capabilities added above the base,
 * world-writable files and directories without the sticky bit). Never holds a secret's value: the
 * records keep only fingerprints. See docs/risks.md.
 */
import { LIVE, type Union } from '../../model/union.js';
import type { ImageModel } from '../../model/read-image.js';
import { Kind } from '../../scan/records.js';
import { CONTENT_RULES } from '../../scan/secret-scan.js';
import { GlobSet, ignoreMatcher } from '../../util/glob.js';
import { instructionText, stepOf } from '../../image/history.js';
import { capabilityText } from './capabilities.js';
import { NAME_RULES } from './name-rules.js';
import { packageShipped, shippedBy, type ShippedBy } from './shipped.js';
import { analyzePackages } from '../packages/packages.js';
import { OS_ECOSYSTEMS } from '../packages/types.js';
import { defaultSecretsConfig, type SecretsConfig } from './section.js';

export interface SecretMatch {
  rule: string;
  line: number;
  /** `sha256:` + 12 hex digits of the value's sha256: the same secret has the same one everywhere. */
  fingerprint: string;
}

export interface SecretFinding {
  /** The file-name rule, else the first content rule that matched. */
  rule: string;
  description: string;
  path: string;
  size: number;
  /** The layer that stored this copy, and its instruction. */
  layer: number;
  instruction: string | null;
  status: 'visible' | 'hidden';
  /** The layer that hid the last path to it (hidden only), and its instruction. */
  hiddenBy: number | null;
  hiddenByInstruction: string | null;
  /** What the content scan found in it (none for a finding by name alone). */
  matches: SecretMatch[];
  remedy: string;
}

/**
 * A secret-looking file that the image's packages ship (an example key in their documentation, a
 * test fixture): informational, never counted as a secret of the image (forbid-secrets, verdicts).
 */
export interface ShippedSecret extends SecretFinding {
  shippedBy: ShippedBy;
}

export type RiskyFileKind = 'setuid' | 'setgid' | 'capability' | 'world-writable';

export interface RiskyFile {
  kind: RiskyFileKind;
  path: string;
  type: 'file' | 'dir';
  /** Octal, with the special bits: `4755`. */
  mode: string;
  uid: number;
  gid: number;
  /** The layer that set this mode (or these capabilities), and its instruction. */
  layer: number;
  instruction: string | null;
  /** getcap's text (`cap_net_raw+ep`), for kind capability. */
  capabilities?: string;
  remedy: string;
}

export interface RisksReport {
  /** Leading layers taken as the base image: setuid, setgid and capabilities there are not reported. */
  baseLayers: number;
  /** The image author's secrets: what forbid-secrets counts. */
  secrets: SecretFinding[];
  /** Files packages ship that look like secrets (shipped.ts): informational, apart. */
  shipped: ShippedSecret[];
  files: RiskyFile[];
  counts: { secrets: number; hiddenSecrets: number; shippedSecrets: number; setuid: number; setgid: number; capability: number; worldWritable: number };
}

/** What to do about an image that runs as root (the CI offender and the SARIF rule say it). */
export const ROOT_USER_REMEDY = 'Add a USER instruction with a non-root uid (USER 1000, or a user the image creates).';

const REMEDY = {
  hidden: (L: number, copied: boolean) =>
    `Deleting it in layer ${L} did not remove it: the layer that stored it is still in the image and anyone who pulls it can read the file. Rebuild without it: ${copied ? 'keep it out of the build context (.dockerignore) and ' : ''}pass credentials with a build secret (RUN --mount=type=secret,id=…), or use it only in an earlier stage of a multi-stage build; then rotate it.`,
  visible: (copied: boolean) =>
    `Anyone who pulls the image can read it. ${copied ? 'Keep it out of the build context (.dockerignore); p' : 'P'}rovide it at run time (a mounted secret or volume), use RUN --mount=type=secret for build-time credentials or a multi-stage build, and rotate it.`,
  history: 'A shell history can hold typed passwords and tokens, and says how the image was made: remove it in the same step that made it, or do not build images from an interactive shell (docker commit).',
  setuid: 'A setuid or setgid program runs with its owner\'s or group\'s rights for anyone who can run it: drop the bit (chmod u-s,g-s) unless the program needs it, and run containers with --security-opt no-new-privileges.',
  capability: 'File capabilities grant privileges to whoever runs the program: remove them (setcap -r) unless needed; at run time, --cap-drop limits what any process can gain.',
  shipped: (why: ShippedBy) =>
    `Informational: ${why.reason}, shipped for everyone who installs it, not a secret of this image; forbid-secrets does not count it. To drop such files, delete them in the RUN that installs the package (or exclude the path from the package manager, e.g. dpkg path-exclude).`,
  worldWritable: 'Any user in the container can change it: remove write for others (chmod o-w), or set the sticky bit on a shared directory (chmod +t).',
};

export function analyzeRisks(model: ImageModel, baseLayers: number, config: SecretsConfig = defaultSecretsConfig()): RisksReport {
  const u = model.union;
  const instruction = (L: number) => {
    const h = model.layers[L]?.history;
    return instructionText(h?.created_by, h?.comment) || null;
  };
  const allowed = ignoreMatcher(config.allow);
  const secrets: SecretFinding[] = [];
  const shipped: ShippedSecret[] = [];
  const packages = analyzePackages(model);
  const top = model.layers.length - 1;
  /** The OS package whose database lists a visible file, for a secret in it. */
  const ownerOf = (s: SecretFinding) => {
    if (s.status !== 'visible' || packages.rows.length === 0) return undefined;
    const node = u.nodeOf(s.path.slice(1));
    const row = node === undefined || u.versionAt(node, top) < 0 ? undefined : packages.ownerOf(node);
    return row && OS_ECOSYSTEMS.has(row.ecosystem) ? row : undefined;
  };
  for (const s of findSecrets(model, config, allowed, instruction)) {
    const owner = ownerOf(s);
    const why = shippedBy(s.path.slice(1)) ?? (owner ? packageShipped(owner) : null);
    if (why) shipped.push({ ...s, shippedBy: why, remedy: REMEDY.shipped(why) });
    else secrets.push(s);
  }
  const files = riskyFiles(u, baseLayers, allowed, instruction);
  const n = (k: RiskyFileKind) => files.filter((f) => f.kind === k).length;
  return {
    baseLayers,
    secrets,
    shipped,
    files,
    counts: {
      secrets: secrets.length,
      hiddenSecrets: secrets.filter((s) => s.status === 'hidden').length,
      shippedSecrets: shipped.length,
      setuid: n('setuid'),
      setgid: n('setgid'),
      capability: n('capability'),
      worldWritable: n('world-writable'),
    },
  };
}

const describe = new Map<string, string>([...CONTENT_RULES, ...NAME_RULES].map((r) => [r.id, r.description]));

function findSecrets(model: ImageModel, config: SecretsConfig, allowed: (abs: string) => boolean, instruction: (L: number) => string | null): SecretFinding[] {
  const u = model.union;
  const nameRules = [...NAME_RULES.filter((r) => !config.disableNames.includes(r.id)), ...config.names];
  const byName = new GlobSet(nameRules.map((r) => r.paths));
  // Candidates: every stored copy of a file with a secret by name or content, as (layer, row).
  const found: { L: number; row: number; rule: string; matches: SecretMatch[] }[] = [];
  for (const [L, r] of u.layers.entries()) {
    for (let i = 0; i < r.count; i++) {
      if (r.kind[i] !== Kind.file || r.size[i] === 0) continue;
      const named = byName.empty ? -1 : byName.first(r.path[i]);
      const hits = r.secrets[i];
      if (named < 0 && !hits) continue;
      if (allowed(`/${r.path[i]}`)) continue;
      const matches = (hits ?? []).map((h) => ({ rule: h.rule, line: h.line, fingerprint: h.fingerprint }));
      found.push({ L, row: i, rule: named >= 0 ? nameRules[named].id : matches[0].rule, matches });
    }
  }
  if (found.length === 0) return [];
  // Each copy's version, and the last layer any path to its inode (hardlinks too) is visible at.
  const versionOf = new Map<string, number>();
  for (const L of new Set(found.map((f) => f.L))) {
    const rows = new Set(found.filter((f) => f.L === L).map((f) => f.row));
    const [start, end] = u.versionsOfLayers(L, L);
    for (let v = start; v < end; v++) if (rows.has(u.rowOf(v))) versionOf.set(`${L}:${u.rowOf(v)}`, v);
  }
  const owners = new Set(versionOf.values());
  const lastTo = new Map<number, number>();
  for (let v = 0; v < u.versionCount; v++) {
    const ino = u.inodeOf(v);
    if (!owners.has(ino)) continue;
    lastTo.set(ino, Math.max(lastTo.get(ino) ?? -1, u.visibleUntil(v)));
  }
  return found
    .map((f): SecretFinding => {
      const r = u.layers[f.L];
      const v = versionOf.get(`${f.L}:${f.row}`);
      // a row written twice in one layer has no version of its own: the later entry hid it there
      const to = v === undefined ? f.L - 1 : (lastTo.get(v) ?? u.visibleUntil(v));
      const visible = to === LIVE;
      const hiddenBy = visible ? null : to + 1;
      const copied = stepOf(model.layers[f.L]?.history?.created_by) === 'copy';
      return {
        rule: f.rule,
        description: describe.get(f.rule) ?? `rule ${f.rule}`,
        path: `/${r.path[f.row]}`,
        size: r.size[f.row],
        layer: f.L,
        instruction: instruction(f.L),
        status: visible ? 'visible' : 'hidden',
        hiddenBy,
        hiddenByInstruction: hiddenBy === null ? null : instruction(hiddenBy),
        matches: f.matches,
        remedy: f.rule === 'shell-history' ? REMEDY.history : visible ? REMEDY.visible(copied) : REMEDY.hidden(hiddenBy!, copied),
      };
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.layer - b.layer));
}

function riskyFiles(u: Union, baseLayers: number, allowed: (abs: string) => boolean, instruction: (L: number) => string | null): RiskyFile[] {
  const top = u.layerCount - 1;
  const out: RiskyFile[] = [];
  for (const v of u.visibleAt(top)) {
    const kind = u.inodeKindOf(v);
    if (kind !== Kind.file && kind !== Kind.dir) continue;
    const meta = u.metaOf(v);
    const row = u.rowOf(meta);
    if (row < 0) continue; // a directory no layer has an entry for
    const mode = u.modeOf(v);
    const L = u.layerOf(meta);
    const xattr = kind === Kind.file && L >= baseLayers ? u.layers[L].xattrs[row]?.['security.capability'] : undefined;
    const caps = xattr === undefined ? null : capabilityText(Buffer.from(xattr, 'base64'));
    const flagged = (kind === Kind.file && L >= baseLayers && mode & 0o6000) || caps || (mode & 0o002 && !(kind === Kind.dir && mode & 0o1000));
    if (!flagged) continue;
    const path = `/${u.nodePath[u.nodeOfVersion(v)]}`;
    if (allowed(path)) continue;
    const base = {
      path,
      type: kind === Kind.dir ? ('dir' as const) : ('file' as const),
      mode: (mode & 0o7777).toString(8).padStart(4, '0'),
      uid: u.uidOf(v),
      gid: u.gidOf(v),
      layer: L,
      instruction: instruction(L),
    };
    if (kind === Kind.file && L >= baseLayers && mode & 0o4000) out.push({ kind: 'setuid', ...base, remedy: REMEDY.setuid });
    if (kind === Kind.file && L >= baseLayers && mode & 0o2000) out.push({ kind: 'setgid', ...base, remedy: REMEDY.setuid });
    if (caps) out.push({ kind: 'capability', ...base, capabilities: caps, remedy: REMEDY.capability });
    if (mode & 0o002 && !(kind === Kind.dir && mode & 0o1000)) out.push({ kind: 'world-writable', ...base, remedy: REMEDY.worldWritable });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.kind < b.kind ? -1 : 1));
}
