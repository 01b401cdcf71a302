/**
 * SARIF 2.1.0 validation against the schema (schemastore's sarif-2.1.0-rtm.5, draft-04) as
 * @microsoft/jest-sarif ships it, with ajv's draft-04 build. `unicodeRegExp: false`: one of the
 * schema's patterns (`…-[a-zA-Z]{2}]?$`) has a stray bracket that unicode regexes refuse.
 */
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);
const Ajv04 = require('ajv-draft-04') as typeof import('ajv-draft-04').default;
const addFormats = require('ajv-formats') as typeof import('ajv-formats').default;

let validate: ValidateFunction | undefined;

/** The schema's complaints about `log` (none: valid). */
export function validateSarif(log: unknown): string[] {
  if (!validate) {
    const ajv = new Ajv04({ strict: false, allErrors: true, unicodeRegExp: false });
    addFormats(ajv);
    validate = ajv.compile(require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json') as object);
  }
  return validate(log) ? [] : (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath} ${e.message}`);
}
