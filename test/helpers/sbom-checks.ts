/**
 * The SBOM checks the tests share: CycloneDX's strict validator, and SPDX 2.3's JSON schema plus
 * the rules it cannot state (shared/schemas/README.md).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { PackageURL } from 'packageurl-js';
import { spdxExpressionOf } from '../../src/render/sbom/spdx.js';

/** A purl in the spec's canonical form: only letters, digits, `._~-`, `:` and the separators bare. */
export const CANONICAL_PURL = /^pkg:[a-z]+\/(?:[A-Za-z0-9._~:/@?=&-]|%[0-9A-F]{2})+$/;

const require = createRequire(import.meta.url);
const Ajv = require('ajv') as typeof import('ajv').default;
const addFormats = require('ajv-formats') as typeof import('ajv-formats').default;

const cdxValidator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);

/** The schema's complaints (none: valid). */
export async function cdxProblems(json: string): Promise<string[]> {
  const errors = await cdxValidator.validate(json);
  return errors === null ? [] : (errors as { instancePath: string; message?: string }[]).map((e) => `${e.instancePath} ${e.message}`);
}

export interface SpdxPackage {
  name: string;
  SPDXID: string;
  versionInfo?: string;
  description?: string;
  licenseDeclared: string;
  licenseComments?: string;
  sourceInfo?: string;
  primaryPackagePurpose: string;
  externalRefs?: { referenceCategory: string; referenceType: string; referenceLocator: string }[];
  annotations?: { comment: string; annotator: string; annotationDate: string }[];
}
export interface SpdxDoc {
  spdxVersion: string;
  dataLicense: string;
  SPDXID: string;
  name: string;
  documentNamespace: string;
  creationInfo: { creators: string[]; created: string };
  packages: SpdxPackage[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
}

let spdxSchema: ValidateFunction | undefined;

/** What the schema and the rules it cannot state (shared/schemas/README.md) find wrong with `doc`. */
export function spdxProblems(doc: unknown): string[] {
  if (!spdxSchema) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    spdxSchema = ajv.compile(JSON.parse(readFileSync(new URL('../../../testdata/schemas/spdx-2.3.schema.json', import.meta.url), 'utf8')) as object);
  }
  if (!spdxSchema(doc)) return (spdxSchema.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  const d = doc as SpdxDoc;
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9+.-]*:[^#\s]+$/i.test(d.documentNamespace ?? '')) problems.push(`documentNamespace ${d.documentNamespace}: not a URI without #`);
  if (d.dataLicense !== 'CC0-1.0') problems.push(`dataLicense ${d.dataLicense}`);
  if (d.SPDXID !== 'SPDXRef-DOCUMENT') problems.push(`document SPDXID ${d.SPDXID}`);
  const ids = [d.SPDXID, ...d.packages.map((p) => p.SPDXID)];
  for (const id of ids) if (!/^SPDXRef-[\da-zA-Z.-]+$/.test(id)) problems.push(`SPDXID ${id}: malformed`);
  if (new Set(ids).size !== ids.length) problems.push('SPDXIDs not unique');
  const known = new Set(ids);
  for (const r of d.relationships) if (!known.has(r.spdxElementId) || !known.has(r.relatedSpdxElement)) problems.push(`relationship to an unknown element: ${JSON.stringify(r)}`);
  if (!d.relationships.some((r) => r.spdxElementId === 'SPDXRef-DOCUMENT' && r.relationshipType === 'DESCRIBES')) problems.push('no DESCRIBES');
  for (const p of d.packages) {
    for (const ref of p.externalRefs ?? []) {
      try {
        PackageURL.fromString(ref.referenceLocator);
      } catch {
        problems.push(`${p.SPDXID}: purl ${ref.referenceLocator} does not parse`);
      }
    }
    if (p.licenseDeclared !== 'NOASSERTION' && (spdxExpressionOf(p.licenseDeclared) !== p.licenseDeclared || p.licenseDeclared.includes('LicenseRef-'))) {
      problems.push(`${p.SPDXID}: licenseDeclared ${p.licenseDeclared} is no SPDX expression of the license list`);
    }
  }
  return problems;
}

