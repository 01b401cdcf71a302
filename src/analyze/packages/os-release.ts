/** The distribution an image says it is, from os-release(5): purl namespaces and SBOM metadata. */
import type { DocView, Distro } from './types.js';

/** /etc/os-release first; it is usually a symlink to /usr/lib/os-release, whose bytes the scan keeps then. */
const PATHS = ['etc/os-release', 'usr/lib/os-release'];

export function distroOf(view: DocView): Distro | null {
  for (const path of PATHS) {
    const bytes = view.get(path);
    if (!bytes) continue;
    const fields = new Map<string, string>();
    for (const line of Buffer.from(bytes).toString('utf8').split('\n')) {
      const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
      if (m) fields.set(m[1], unquote(m[2]));
    }
    const id = fields.get('ID');
    // an id is a lower-case token (os-release(5)): anything else is not used in a purl
    if (!id || !/^[a-z0-9._-]{1,64}$/.test(id)) continue;
    const versionId = fields.get('VERSION_ID');
    return { id, versionId: versionId && /^[A-Za-z0-9._~+-]{1,64}$/.test(versionId) ? versionId : null, prettyName: fields.get('PRETTY_NAME')?.slice(0, 200) ?? null };
  }
  return null;
}

/** Shell-style quoting as os-release(5) allows it: one pair of quotes, backslash escapes inside double ones. */
function unquote(v: string): string {
  if (v.length >= 2 && v[0] === v[v.length - 1] && (v[0] === '"' || v[0] === "'")) {
    const inner = v.slice(1, -1);
    return v[0] === '"' ? inner.replace(/\\(["\\$`])/g, '$1') : inner;
  }
  return v;
}
