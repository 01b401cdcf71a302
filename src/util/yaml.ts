/**
 * The yaml package, loaded on first use rather than with the CLI: most runs have no config file
 * (docs/performance.md, startup). Synchronous, as the config parsers are.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let lib: typeof Yaml | undefined;

export function yaml(): typeof Yaml {
  return (lib ??= createRequire(import.meta.url)('yaml') as typeof Yaml);
}
