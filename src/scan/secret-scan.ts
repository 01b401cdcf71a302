/**
 * Secrets found in file content while a layer is scanned: small regular text files are matched
 * against credential shapes as their bytes pass, so no blob is read twice. Only what a finding
 * needs is kept: the rule, the line and a fingerprint (a truncated sha256 of the value, so the same
 * key can be recognised across layers and images); the value itself never leaves this module.
 */
import { createHash } from 'node:crypto';
import { baseName } from '../util/paths.js';

export interface SecretHit {
  rule: string;
  /** 1-based line of the match. */
  line: number;
  /** `sha256:` and the first 12 hex digits of the matched value's sha256. */
  fingerprint: string;
}

/** What the scan looks for: a pure input of the layer records, so part of the layer cache's key. */
export interface ContentScanSettings {
  /** Files larger than this are not read for secrets (bytes). */
  contentLimit: number;
  /** Built-in content rule ids switched off. */
  disable: string[];
  /** The user's own content patterns: id and a JavaScript regular expression (group 1, if any, is the value). */
  patterns: { id: string; regex: string }[];
}

export const DEFAULT_CONTENT_LIMIT = 64 * 1024;
/** Content rules never read more than this, whatever the settings say: the scan buffers each file. */
export const MAX_CONTENT_LIMIT = 1024 * 1024;

export function defaultContentScan(): ContentScanSettings {
  return { contentLimit: DEFAULT_CONTENT_LIMIT, disable: [], patterns: [] };
}

export interface ContentRule {
  id: string;
  description: string;
  /** Global regex over the file as latin1 text; group 1 (when present) is the secret value. */
  regex: RegExp;
  /** Only files whose base name matches (credential files whose lines are secrets only there). */
  names?: RegExp;
  /** Values that are placeholders or references, not secrets. */
  notValue?: RegExp;
}

/** `${NPM_TOKEN}`, `$TOKEN`, `<token>`, `changeme`, `xxxx`: references and placeholders. */
const PLACEHOLDER = /^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|<.*|\{\{.*\}\}|%\(?[A-Za-z_]+\)?s?|(?:x+|\*+|\.+)|changeme|change_me|password|secret|token|none|null|true|false|example|dummy|test)$/i;

export const CONTENT_RULES: ContentRule[] = [
  {
    id: 'private-key',
    description: 'private key (PEM or OpenSSH)',
    // the value is the start of the key body: headers alone (in docs and parsers) do not match
    regex: /-----BEGIN (?:RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP |SSH2 )?PRIVATE KEY(?: BLOCK)?-----\r?\n(?:[A-Za-z-]+: [^\n]*\n)*\r?\n?([A-Za-z0-9+/=\r\n]{40,256})/g,
  },
  {
    id: 'aws-access-key-id',
    description: 'AWS access key id',
    regex: /(?<![A-Z0-9])((?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16})(?![A-Z0-9])/g,
    notValue: /EXAMPLE$/,
  },
  {
    id: 'aws-secret-access-key',
    description: 'AWS secret access key',
    regex: /aws_?secret_?access_?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/gi,
    notValue: /EXAMPLEKEY$/,
  },
  { id: 'github-token', description: 'GitHub token', regex: /(?<![A-Za-z0-9_])((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})(?![A-Za-z0-9_])/g },
  { id: 'gitlab-token', description: 'GitLab token', regex: /(?<![A-Za-z0-9_-])(glpat-[A-Za-z0-9_-]{20})(?![A-Za-z0-9_-])/g },
  { id: 'slack-token', description: 'Slack token or webhook', regex: /(?<![A-Za-z0-9-])(xox[baprs]-[0-9]{6,}-[A-Za-z0-9-]{6,}|hooks\.slack\.com\/services\/T[A-Z0-9]{6,}\/B[A-Z0-9]{6,}\/[A-Za-z0-9]{16,})/g },
  { id: 'npm-token', description: 'npm access token', regex: /(?<![A-Za-z0-9_])(npm_[A-Za-z0-9]{36})(?![A-Za-z0-9])/g },
  {
    id: 'npmrc-auth',
    description: 'npm registry credential (.npmrc _authToken, _auth or _password)',
    regex: /^[^\n#;]*(?:_authToken|_auth|_password)\s*=\s*["']?([^\s"']+)/gm,
    names: /^\.?npmrc$/,
    notValue: PLACEHOLDER,
  },
  {
    id: 'docker-auth',
    description: 'registry login (Docker/Podman auth config)',
    regex: /"(?:auth|identitytoken)"\s*:\s*"([A-Za-z0-9+/=._-]{8,})"/g,
    names: /^(?:config|auth|\.dockercfg|dockercfg)\.json$|^\.dockercfg$/,
  },
  { id: 'netrc-password', description: '.netrc password', regex: /\bpassword\s+(\S+)/g, names: /^[._]netrc$/, notValue: PLACEHOLDER },
  { id: 'pypirc-password', description: '.pypirc password', regex: /^\s*password\s*[:=]\s*(\S+)/gm, names: /^\.pypirc$/, notValue: PLACEHOLDER },
  { id: 'git-credentials', description: 'git credential store entry', regex: /[a-z][a-z0-9+.-]*:\/\/[^:\s/@]+:([^@\s]+)@/g, names: /^\.git-credentials$/ },
  {
    id: 'env-credential',
    description: '.env file with a credential-like key',
    regex: /^[ \t]*(?:export[ \t]+)?[A-Za-z0-9_]*(?:SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?)[A-Za-z0-9_]*[ \t]*=[ \t]*["']?([^\s"'#]{4,})/gim,
    names: /^\.env(?:\.(?!example$|sample$|template$|dist$|defaults?$)[A-Za-z0-9_-]+)?$/,
    notValue: PLACEHOLDER,
  },
];

/**
 * Cheap first look: a file with none of these is skipped without running the ungated rules (each
 * rule's match contains one). One case-sensitive regex: 40% faster than the same words with /i, and
 * faster than a search per word (docs/performance.md#secrets). Name-gated rules are tried only on
 * files of those names.
 */
const TRIGGER = /PRIVATE KEY|A(?:KIA|SIA|BIA|CCA)|[Ss]ecret_?[Aa]ccess|SECRET_?ACCESS|gh[pousr]_|github_pat_|glpat-|xox[baprs]-|hooks\.slack\.com|npm_/;

export class SecretScanner {
  readonly limit: number;
  private readonly rules: ContentRule[];
  private readonly trigger: RegExp;
  /** Any name-gated rule's names, to pass over most files with one test. */
  private readonly named: RegExp | null;

  constructor(settings: ContentScanSettings) {
    this.limit = Math.min(settings.contentLimit, MAX_CONTENT_LIMIT);
    const own = settings.patterns.map((p): ContentRule => ({ id: p.id, description: `pattern ${p.id}`, regex: new RegExp(p.regex, 'gm') }));
    this.rules = [...CONTENT_RULES.filter((r) => !settings.disable.includes(r.id)), ...own];
    // the user's patterns have no known first bytes: with any, every small text file is matched
    this.trigger = own.length ? /[^]/ : TRIGGER;
    const gates = this.rules.filter((r) => r.names).map((r) => r.names!.source);
    this.named = gates.length ? new RegExp(gates.join('|')) : null;
  }

  /** Whether a regular file of this size is read for secrets. */
  wants(size: number): boolean {
    return size > 0 && size <= this.limit && this.rules.length > 0;
  }

  /** The secrets in one file's content (`path` for the rules gated by file name). */
  scan(path: string, content: Buffer): SecretHit[] {
    if ((content.length <= 1024 ? content : content.subarray(0, 1024)).indexOf(0) >= 0) return []; // binary
    const text = content.toString('latin1');
    return this.spans(path, text).map((s) => ({ rule: s.rule, line: lineAt(text, s.match), fingerprint: s.fingerprint }));
  }

  /** Where the secret values are in `text` (`start`..`end`: the value; `match`: where its rule's match begins), in rule order. */
  spans(path: string, text: string): { rule: string; match: number; start: number; end: number; fingerprint: string }[] {
    const name = baseName(path);
    const triggered = this.trigger.test(text);
    if (!triggered && !this.named?.test(name)) return [];
    const out: { rule: string; match: number; start: number; end: number; fingerprint: string }[] = [];
    for (const rule of this.rules) {
      if (rule.names ? !rule.names.test(name) : !triggered) continue;
      rule.regex.lastIndex = 0;
      for (let m = rule.regex.exec(text); m; m = rule.regex.exec(text)) {
        if (m[0] === '') {
          rule.regex.lastIndex++;
          continue;
        }
        const value = m[1] ?? m[0];
        if (rule.notValue?.test(value)) continue;
        const start = m.index + (m[1] === undefined ? 0 : m[0].lastIndexOf(value));
        out.push({ rule: rule.id, match: m.index, start, end: start + value.length, fingerprint: fingerprintOf(value.replace(/\s+/g, '')) });
      }
    }
    return out;
  }
}

export function fingerprintOf(value: string): string {
  return `sha256:${createHash('sha256').update(value, 'latin1').digest('hex').slice(0, 12)}`;
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
