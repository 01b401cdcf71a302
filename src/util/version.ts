/** strata's own version, as its package.json states it (SARIF's tool, the SBOMs' tool). */
import { readFileSync } from 'node:fs';

export const STRATA_VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
