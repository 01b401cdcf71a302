/**
 * `strata packages --format cyclonedx`: a CycloneDX 1.6 JSON BOM (https://cyclonedx.org/docs/1.6/json/),
 * built and serialized with @cyclonedx/cyclonedx-library. metadata.component is the image (type
 * `container`, version its config digest: the one identity every image has, a manifest digest being
 * known only for images from a registry or an OCI layout); the operating system os-release names is
 * an `operating-system` component; each package a `library` with its purl (also its bom-ref) and
 * declared license. strata's own facts are properties in the `strata:` namespace, as the CycloneDX
 * property taxonomy asks of a tool's names (docs/packages.md lists them).
 */
import { packageFacts } from './facts.js';
import { randomUUID } from 'node:crypto';
import { Enums, Models, Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import { isSupportedSpdxId } from '@cyclonedx/cyclonedx-library/SPDX';
import type { PackageRow, PackagesReport } from '../../analyze/packages/types.js';
import { spdxExpressionOf } from './spdx.js';

export interface CycloneDxOptions {
  toolVersion: string;
  /** `urn:uuid:…`; a random one when not given. */
  serialNumber?: string;
  /** ISO 8601; now when not given. */
  timestamp?: string;
}

/** The 1.6 schema's maxLength of a version. */
const MAX_VERSION = 1024;

export function cycloneDxOf(report: PackagesReport, opts: CycloneDxOptions): string {
  const { image, distro } = report;
  const refs = new BomRefs();
  const bom = new Models.Bom({ serialNumber: opts.serialNumber ?? `urn:uuid:${randomUUID()}` });
  bom.metadata.timestamp = new Date(opts.timestamp ?? Date.now());
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, 'strata', { version: opts.toolVersion }));
  bom.metadata.component = new Models.Component(Enums.ComponentType.Container, image.ref, {
    bomRef: refs.take(image.configDigest),
    version: image.configDigest,
    properties: propertiesOf([
      ['manifestDigest', image.manifestDigest],
      ['platform', image.platform],
      ['created', image.created],
    ]),
  });
  if (distro) {
    bom.components.add(
      new Models.Component(Enums.ComponentType.OperatingSystem, distro.id, {
        bomRef: refs.take(`os:${distro.id}`),
        version: distro.versionId ?? undefined,
        description: distro.prettyName ?? undefined,
      }),
    );
  }
  for (const row of report.packages) bom.components.add(componentOf(row, refs.take(row.purl)));

  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  // report order (largest first), not the library's sort by bom-ref
  return serializer.serialize(bom, { sortLists: false, space: 2 });
}

function componentOf(row: PackageRow, bomRef: string): Models.Component {
  const c = new Models.Component(Enums.ComponentType.Library, row.name, {
    bomRef,
    version: codePoints(row.version, MAX_VERSION),
    purl: row.purl,
    properties: propertiesOf([['ecosystem', row.ecosystem], ...packageFacts(row)]),
  });
  if (row.license !== null && row.license.trim() !== '') c.licenses.add(licenseOf(row.license));
  return c;
}

/** An SPDX id, else an SPDX expression, else the license as the package states it (a named license). */
function licenseOf(license: string): Models.License {
  const expression = spdxExpressionOf(license);
  const l =
    expression === null
      ? new Models.NamedLicense(license)
      : isSupportedSpdxId(expression)
        ? new Models.SpdxLicense(expression)
        : new Models.LicenseExpression(expression);
  l.acknowledgement = Enums.LicenseAcknowledgement.Declared;
  return l;
}

function propertiesOf(facts: [string, string | number | null][]): Models.PropertyRepository {
  const props = new Models.PropertyRepository();
  for (const [name, value] of facts) if (value !== null) props.add(new Models.Property(`strata:${name}`, String(value)));
  return props;
}

/** bom-refs unique in the BOM: a purl two rows share gets `|2`, `|3`… (`|` is never bare in a purl). */
class BomRefs {
  private readonly taken = new Set<string>();

  take(wanted: string): string {
    let ref = wanted;
    for (let n = 2; this.taken.has(ref); n++) ref = `${wanted}|${n}`;
    this.taken.add(ref);
    return ref;
  }
}

/** At most `max` code points (what JSON Schema's maxLength counts), never splitting a surrogate pair. */
function codePoints(s: string, max: number): string {
  return s.length <= max ? s : Array.from(s).slice(0, max).join('');
}
