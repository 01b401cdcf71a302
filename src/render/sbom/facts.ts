/** What strata knows of a package beyond its name and version: carried as properties (CycloneDX) or annotations (SPDX). */
import type { PackageRow } from '../../analyze/packages/types.js';

export function packageFacts(row: PackageRow): [string, string | number | null][] {
  return [
    ['layer', row.layer],
    ['createdBy', row.createdBy],
    ['changedLayer', row.changedLayer],
    ['bytes', row.bytes],
    ['files', row.files],
    ['declaredSize', row.declaredSize],
    ['metadataPath', row.path],
    ['installedBy', row.installedBy],
  ];
}
