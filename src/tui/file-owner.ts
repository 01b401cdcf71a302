/**
 * The tree cursor's file and the package that owns it in the final view (analyze/packages/), the
 * last line of the explorer's tree pane: `package: deb curl 7.88.1-10+deb12u5 · /usr/bin/curl`.
 */
import type { ImageModel } from '../model/read-image.js';
import type { ImagePackages } from '../analyze/packages/packages.js';
import type { TreeView } from './tree-view.js';

/** `packages`: null while they are being read (the first screen does not wait for them). */
export function fileOwnerLine(model: ImageModel, view: TreeView, packages: ImagePackages | null, node: number): string {
  if (node < 0) return '';
  const u = model.union;
  const path = `/${u.nodePath[node]}`;
  if (view.isDir(node)) return `${path}/`;
  // ownership is the final view's: a file a later layer deletes has no owner there
  if (u.versionAt(node, model.layers.length - 1) < 0) return `not in the final view · ${path}`;
  if (!packages) return `package: reading the package databases… · ${path}`;
  const row = packages.ownerOf(node);
  return `${row ? `package: ${row.ecosystem} ${row.name} ${row.version}` : 'no package'} · ${path}`;
}
