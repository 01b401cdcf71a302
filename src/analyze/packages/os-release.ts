/** The distribution an image says it is, from os-release(5): purl namespaces and SBOM metadata. */
import type { DocView, Distro } from './types.js';

/** /etc/os-release first; it is usually a symlink to /usr/lib/os-release, whose bytes the scan keeps then. */
const PATHS = ['etc/os-release', 'usr/lib/os-release'];
/** PRETTY_NAME is a line for people ("Debian GNU/Linux 12 (bookworm)"): more is cut. */
const MAX_PRETTY_NAME = 200;

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
    return { id, versionId: versionId && /^[A-Za-z0-9._~+-]{1,64}$/.test(versionId) ? versionId : null, prettyName: cut(fields.get('PRETTY_NAME'), MAX_PRETTY_NAME) ?? null };
  }
  return null;
}

/** At most `n` UTF-16 units of `s`, cut before a surrogate pair rather than through it (SBOMs must stay valid UTF-8). */
function cut(s: string | undefined, n: number): string | undefined {
  if (s === undefined || s.length <= n) return s;
  const high = s.charCodeAt(n - 1);
  return s.slice(0, high >= 0xd800 && high <= 0xdbff ? n - 1 : n);
}

/** Shell-style quoting as os-release(5) allows it: one pair of quotes, backslash escapes inside double ones. */
function unquote(v: string): string {
  if (v.length >= 2 && v[0] === v[v.length - 1] && (v[0] === '"' || v[0] === "'")) {
    const inner = v.slice(1, -1);
    return v[0] === '"' ? inner.replace(/\\(["\\$`])/g, '$1') : inner;
  }
  return v;
}
