/**
 * The whole `.strata.yml` as the commands read it: each section parsed by its own feature's parser
 * (src/config/file.ts reads the file and knows none of them). `ci` and `inspect` check every section.
 */
import { DEFAULT_CONFIG_FILE, isMap, parseSections, readConfigText, type SectionParser } from '../config/file.js';
import { defaultBloatConfig, parseBloatSection, type BloatConfig } from '../analyze/bloat/section.js';
import { parseDiffSection, type DiffConfig } from '../analyze/diff/section.js';
import { parseRuleSection, type RuleSet } from '../analyze/gate/rules.js';
import { defaultSecretsConfig, parseSecretsSection, type SecretsConfig } from '../analyze/risks/section.js';

export interface StrataConfig {
  /** The file it came from, or null for the defaults. */
  source: string | null;
  bloat: BloatConfig;
  /** Secret rules, the content scan and allowed paths (src/analyze/risks/section.ts). */
  secrets: SecretsConfig;
  diff: DiffConfig;
  /** Explorer key bindings, action -> keys; the explorer (src/tui/keymap.ts) checks action names and keys. */
  keys: Record<string, unknown>;
  /** The CI gate's rules (`strata ci`): src/analyze/gate/rules.ts. */
  rules: RuleSet;
}

export function defaultConfig(): StrataConfig {
  return { source: null, bloat: defaultBloatConfig(), secrets: defaultSecretsConfig(), diff: { ignore: [] }, keys: {}, rules: {} };
}

const sections: Record<string, SectionParser<StrataConfig>> = {
  bloat: (config, value, fail) => {
    config.bloat = parseBloatSection(value, fail);
  },
  secrets: (config, value, fail) => {
    config.secrets = parseSecretsSection(value, fail);
  },
  keys: (config, value, fail) => {
    if (value === null) return;
    if (!isMap(value)) fail('keys', 'expected a mapping of action: key or [keys]');
    config.keys = value as Record<string, unknown>;
  },
  diff: (config, value, fail) => {
    config.diff = parseDiffSection(value, fail);
  },
  rules: (config, value, fail, source) => {
    config.rules = parseRuleSection(value, source, fail);
  },
};

/** `file` given: it must exist. Otherwise `.strata.yml` in `cwd` if present, else the defaults. */
export function loadConfig(opts: { file?: string; cwd?: string } = {}): StrataConfig {
  const found = readConfigText(opts);
  return found ? parseConfig(found.text, found.source) : defaultConfig();
}

export function parseConfig(text: string, source: string): StrataConfig {
  return parseSections(text, source, { ...defaultConfig(), source }, sections);
}

/** The file's name for messages: the one read, or the default name when none was. */
export function configName(config: StrataConfig): string {
  return config.source ?? DEFAULT_CONFIG_FILE;
}
