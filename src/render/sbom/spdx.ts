/**
 * `strata packages --format spdx`: an SPDX 2.3 JSON document (https://spdx.github.io/spdx-spec/v2.3/)
 * of the image's packages. One package for the image (CONTAINER), one for its operating system when
 * os-release names it, one per package (LIBRARY) with its purl; the image CONTAINS them all, and an OS
 * package CONTAINS the language package whose files it installed. strata's own facts (layer, bytes,
 * files…) are annotations `strata:NAME=VALUE`, the names of the CycloneDX properties.
 */
import { packageFacts } from './facts.js';
import { randomUUID } from 'node:crypto';
import { fixupSpdxId } from '@cyclonedx/cyclonedx-library/SPDX';
import parseSpdxExpression from 'spdx-expression-parse';
import type { PackageRow, PackagesReport } from '../../analyze/packages/types.js';

export interface SpdxOptions {
  toolVersion: string;
  /** The document's unique URI; a new one (a random UUID) when not given. */
  namespace?: string;
  /** ISO 8601; now when not given. */
  created?: string;
}

interface Annotation {
  annotationDate: string;
  annotationType: 'OTHER';
  annotator: string;
  comment: string;
}

interface SpdxPackage {
  name: string;
  SPDXID: string;
  versionInfo?: string;
  description?: string;
  downloadLocation: 'NOASSERTION';
  filesAnalyzed: false;
  licenseConcluded: 'NOASSERTION';
  licenseDeclared: string;
  licenseComments?: string;
  sourceInfo?: string;
  externalRefs?: { referenceCategory: 'PACKAGE-MANAGER'; referenceType: 'purl'; referenceLocator: string }[];
  primaryPackagePurpose: 'CONTAINER' | 'OPERATING_SYSTEM' | 'LIBRARY';
  annotations?: Annotation[];
}

interface Relationship {
  spdxElementId: string;
  relationshipType: 'DESCRIBES' | 'CONTAINS';
  relatedSpdxElement: string;
}

const NOASSERTION = 'NOASSERTION';

export function spdxOf(report: PackagesReport, opts: SpdxOptions): string {
  const { image, distro } = report;
  // SPDX dates are `YYYY-MM-DDThh:mm:ssZ`: no fraction of a second.
  const created = new Date(opts.created ?? Date.now()).toISOString().replace(/\.\d+Z$/, 'Z');
  const tool = `Tool: strata-${opts.toolVersion}`;
  const note = (facts: [string, string | number | null][]): Annotation[] =>
    facts
      .filter((f): f is [string, string | number] => f[1] !== null)
      .map(([name, value]) => ({ annotationDate: created, annotationType: 'OTHER', annotator: tool, comment: `strata:${name}=${value}` }));
  const ids = new SpdxIds();

  const imageId = ids.take('Image');
  const packages: SpdxPackage[] = [
    {
      name: image.ref,
      SPDXID: imageId,
      versionInfo: image.configDigest,
      downloadLocation: NOASSERTION,
      filesAnalyzed: false,
      licenseConcluded: NOASSERTION,
      licenseDeclared: NOASSERTION,
      primaryPackagePurpose: 'CONTAINER',
      annotations: note([
        ['manifestDigest', image.manifestDigest],
        ['platform', image.platform],
        ['created', image.created],
      ]),
    },
  ];
  const relationships: Relationship[] = [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: imageId }];
  const contains = (parent: string, child: string) => relationships.push({ spdxElementId: parent, relationshipType: 'CONTAINS', relatedSpdxElement: child });

  if (distro) {
    const osId = ids.take('OperatingSystem');
    packages.push({
      name: distro.id,
      SPDXID: osId,
      ...(distro.versionId ? { versionInfo: distro.versionId } : {}),
      ...(distro.prettyName ? { description: distro.prettyName } : {}),
      downloadLocation: NOASSERTION,
      filesAnalyzed: false,
      licenseConcluded: NOASSERTION,
      licenseDeclared: NOASSERTION,
      primaryPackagePurpose: 'OPERATING_SYSTEM',
    });
    contains(imageId, osId);
  }

  const idOfPurl = new Map<string, string>();
  const rowIds = report.packages.map((row) => {
    const id = ids.take(`Package-${row.ecosystem}-${row.name}-${row.version}`);
    if (!idOfPurl.has(row.purl)) idOfPurl.set(row.purl, id);
    packages.push(packageOf(row, id, note));
    contains(imageId, id);
    return id;
  });
  report.packages.forEach((row, i) => {
    const owner = row.installedBy === null ? undefined : idOfPurl.get(row.installedBy);
    if (owner !== undefined && owner !== rowIds[i]) contains(owner, rowIds[i]!);
  });

  const doc = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: image.ref,
    documentNamespace: opts.namespace ?? `https://strata.invalid/spdx/${slug(image.ref)}-${randomUUID()}`,
    creationInfo: { creators: [tool], created },
    packages,
    relationships,
  };
  return JSON.stringify(doc, null, 2);
}

function packageOf(row: PackageRow, id: string, note: (facts: [string, string | number | null][]) => Annotation[]): SpdxPackage {
  const expression = row.license === null ? null : spdxExpressionOf(row.license);
  // A LicenseRef would have to be defined in the document (hasExtractedLicensingInfos): none is.
  const declared = expression !== null && !/(LicenseRef|DocumentRef)-/.test(expression) ? expression : NOASSERTION;
  return {
    name: row.name,
    SPDXID: id,
    ...(row.version ? { versionInfo: row.version } : {}),
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    licenseConcluded: NOASSERTION,
    licenseDeclared: declared,
    ...(row.license !== null && declared === NOASSERTION ? { licenseComments: `The package states its license as: ${row.license}` } : {}),
    ...(row.source !== null ? { sourceInfo: `built from the source package ${row.source}` } : {}),
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: row.purl }],
    primaryPackagePurpose: 'LIBRARY',
    annotations: note(packageFacts(row)),
  };
}

/**
 * A license as a valid SPDX license expression in canonical form (`mit` → `MIT`, `a or b` →
 * `a OR b`), or null when it is not one (`GPLv2+`, `MIT BSD-2-Clause`, free text).
 */
export function spdxExpressionOf(license: string): string | null {
  const id = fixupSpdxId(license.trim());
  if (id !== undefined) return id;
  if (license.trim() === '') return null;
  try {
    return canonical(parseSpdxExpression(license));
  } catch {
    return null; // not an expression, or nested deeper than the stack
  }
}

function canonical(e: parseSpdxExpression.Info, parent?: 'and' | 'or'): string {
  if (!('conjunction' in e)) return `${e.license}${e.plus ? '+' : ''}${e.exception ? ` WITH ${e.exception}` : ''}`;
  const s = `${canonical(e.left, e.conjunction)} ${e.conjunction.toUpperCase()} ${canonical(e.right, e.conjunction)}`;
  return parent === undefined || parent === e.conjunction ? s : `(${s})`;
}

/** SPDXIDs (`SPDXRef-` then letters, digits, `.` and `-`), unique in the document. */
class SpdxIds {
  private readonly taken = new Set<string>();

  take(wanted: string): string {
    // other characters become `-`; long names and versions are cut, as an id only has to be unique
    const base = `SPDXRef-${wanted.replace(/[^\dA-Za-z.-]+/g, '-').slice(0, 120)}`;
    let id = base;
    for (let n = 2; this.taken.has(id); n++) id = `${base}-${n}`;
    this.taken.add(id);
    return id;
  }
}

/** The image's name as a URI path segment: unreserved characters only, short. */
function slug(ref: string): string {
  return ref.replace(/[^\dA-Za-z._~-]+/g, '-').slice(0, 100) || 'image';
}
