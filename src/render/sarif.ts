/**
 * `strata ci --format sarif`: SARIF 2.1.0 for code scanning (GitHub's upload-sarif). One result per
 * risk finding (secret, setuid/setgid, capability, world-writable file, root user; a secret-looking
 * file that packages ship as a note, never gated) and per rule that
 * did not pass, located in the layer that made it: `layers/N/PATH`, with the line of a secret found
 * by content. Secrets appear as their fingerprint only, as everywhere else.
 */
import { createHash } from 'node:crypto';
import { STRATA_VERSION } from '../util/version.js';
import type { CiReport, RuleResult, Status } from '../analyze/gate/gate.js';
import { ROOT_USER_REMEDY, type RiskyFileKind } from '../analyze/risks/risks.js';
import type { RuleKey } from '../analyze/gate/rules.js';

type Level = 'error' | 'warning' | 'note';

interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  help: { text: string };
  defaultConfiguration: { level: Level };
  properties: { tags: string[] };
}

interface Location {
  physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } };
  logicalLocations: { name: string; fullyQualifiedName: string; kind: string }[];
}

interface SarifResult {
  ruleId: string;
  level: Level;
  message: { text: string };
  locations: Location[];
  partialFingerprints: Record<string, string>;
}


/** The rule that gates each kind of finding: its status sets the result's level. */
const GATED_BY: Record<RiskyFileKind | 'secret' | 'root-user', RuleKey> = {
  secret: 'forbid-secrets',
  setuid: 'forbid-setuid',
  setgid: 'forbid-setuid',
  capability: 'forbid-setuid',
  'world-writable': 'forbid-world-writable',
  'root-user': 'forbid-root-user',
};

/** Unchecked kinds: secrets are errors by nature, the rest worth a note. */
const UNGATED: Record<RiskyFileKind | 'secret' | 'root-user', Level> = {
  secret: 'error',
  setuid: 'note',
  setgid: 'note',
  capability: 'note',
  'world-writable': 'note',
  'root-user': 'note',
};

export function renderCiSarif(r: CiReport): string {
  const rules = new Map<string, SarifRule>();
  const results: SarifResult[] = [];
  const statusOf = new Map<string, Status>(r.rules.map((x) => [x.rule, x.status]));
  const levelOf = (kind: keyof typeof GATED_BY): Level => {
    const s = statusOf.get(GATED_BY[kind]);
    return s === 'fail' ? 'error' : s === 'warn' ? 'warning' : s === 'pass' ? 'note' : UNGATED[kind];
  };
  const rule = (id: string, name: string, text: string, help: string, level: Level, tags: string[]) => {
    if (!rules.has(id)) rules.set(id, { id, name, shortDescription: { text }, help: { text: help }, defaultConfiguration: { level }, properties: { tags } });
  };
  const digest = (L: number | null) => (L === null ? null : (r.layers[L]?.digest ?? null));
  const at = (L: number | null, path: string | null, line?: number): Location => {
    const uri = L === null ? 'image/config' : `layers/${L}${path ?? ''}`;
    const where = L === null ? `${r.image.ref} config` : `${r.image.ref} layer ${L} (${digest(L)})${path ?? ''}`;
    return {
      physicalLocation: { artifactLocation: { uri: encodeURI(uri) }, ...(line ? { region: { startLine: line } } : {}) },
      logicalLocations: [{ name: path ?? (L === null ? 'config' : `layer ${L}`), fullyQualifiedName: where, kind: path ? 'resource' : 'module' }],
    };
  };
  const print = (...parts: unknown[]) => createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);

  for (const s of r.risks.secrets) {
    const id = `secret/${s.rule}`;
    const level = levelOf('secret');
    rule(id, s.rule, s.description, s.remedy, UNGATED.secret, ['security', 'secret']);
    const state = s.status === 'visible' ? 'still visible in the image' : `hidden by layer ${s.hiddenBy} but still stored`;
    const found = s.matches.map((m) => `${m.rule} at line ${m.line} (fingerprint ${m.fingerprint})`).join('; ');
    results.push({
      ruleId: id,
      level,
      message: { text: `${s.description}: ${s.path}, stored by layer ${s.layer}${s.instruction ? ` (${s.instruction})` : ''}, ${state}.${found ? ` Found: ${found}.` : ''} ${s.remedy}` },
      locations: [at(s.layer, s.path, s.matches[0]?.line)],
      partialFingerprints: { 'strataSecret/v1': print(s.rule, s.path, digest(s.layer), ...s.matches.map((m) => m.fingerprint)) },
    });
  }
  // What packages ship is never gated: a note, whatever forbid-secrets says.
  for (const s of r.risks.shipped) {
    const id = `shipped-secret/${s.rule}`;
    rule(id, s.rule, `${s.description}, in a file packages ship (informational)`, s.remedy, 'note', ['security', 'secret', 'informational']);
    results.push({
      ruleId: id,
      level: 'note',
      message: { text: `${s.description}: ${s.path}, stored by layer ${s.layer}${s.instruction ? ` (${s.instruction})` : ''}. ${s.remedy}` },
      locations: [at(s.layer, s.path, s.matches[0]?.line)],
      partialFingerprints: { 'strataSecret/v1': print(s.rule, s.path, digest(s.layer), ...s.matches.map((m) => m.fingerprint)) },
    });
  }
  for (const c of r.risks.config) {
    const id = `secret/${c.rule}`;
    rule(id, c.rule, c.description, c.remedy, UNGATED.secret, ['security', 'secret']);
    results.push({
      ruleId: id,
      level: levelOf('secret'),
      message: { text: `${c.description} in the image config: ${c.field}, fingerprint ${c.fingerprint}. ${c.remedy}` },
      locations: [at(null, null)],
      partialFingerprints: { 'strataSecret/v1': print(c.rule, c.field, c.fingerprint) },
    });
  }
  for (const f of r.risks.files) {
    rule(f.kind, f.kind, FILE_TEXT[f.kind], f.remedy, UNGATED[f.kind], ['security']);
    results.push({
      ruleId: f.kind,
      level: levelOf(f.kind),
      message: { text: `${f.kind}: ${f.path} (${f.capabilities ?? `mode ${f.mode} ${f.type}`}, owner ${f.uid}:${f.gid}), set by layer ${f.layer}${f.instruction ? ` (${f.instruction})` : ''}. ${f.remedy}` },
      locations: [at(f.layer, f.path)],
      partialFingerprints: { 'strataFile/v1': print(f.kind, f.path, f.mode, f.capabilities ?? '', digest(f.layer)) },
    });
  }
  if (r.risks.user.root) {
    const help = ROOT_USER_REMEDY;
    rule('root-user', 'root-user', 'the image runs as root', help, UNGATED['root-user'], ['security']);
    results.push({
      ruleId: 'root-user',
      level: levelOf('root-user'),
      message: { text: `${r.image.ref} runs as root (${r.risks.user.user === null ? 'its config names no user' : `User ${r.risks.user.user}`}). ${help}` },
      locations: [at(null, null)],
      partialFingerprints: { 'strataUser/v1': print('root-user', r.image.ref) },
    });
  }
  for (const x of r.rules) {
    if (x.status === 'pass' || (GATED_RULES as string[]).includes(x.rule)) continue;
    results.push(ruleResult(x, at(x.offenders[0]?.layer ?? null, null), print));
    rule(`gate/${x.rule}`, x.rule, `strata ci rule ${x.rule}`, x.offenders[0]?.remedy ?? 'See the strata ci report.', 'error', ['size']);
  }
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'strata', version: STRATA_VERSION, informationUri: 'https://www.npmjs.com/package/strata-image', rules: [...rules.values()] } },
        results,
        properties: { image: r.image.ref, configDigest: r.image.configDigest, manifestDigest: r.image.manifestDigest, verdict: r.verdict },
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

const GATED_RULES = Object.values(GATED_BY);

const FILE_TEXT: Record<RiskyFileKind, string> = {
  setuid: 'setuid executable added above the base image',
  setgid: 'setgid executable added above the base image',
  capability: 'file capabilities added above the base image',
  'world-writable': 'world-writable file or directory without the sticky bit',
};

function ruleResult(x: RuleResult, location: Location, print: (...parts: unknown[]) => string): SarifResult {
  return {
    ruleId: `gate/${x.rule}`,
    level: x.status === 'warn' ? 'warning' : 'error',
    message: { text: `${x.origin}: ${x.message}` },
    locations: [location],
    partialFingerprints: { 'strataRule/v1': print(x.rule, x.origin) },
  };
}
