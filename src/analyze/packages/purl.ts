/**
 * Package URLs (https://github.com/package-url/purl-spec) of the packages strata reads, built with
 * packageurl-js to the spec's type definitions (types/{deb,apk,rpm,pypi,npm}-definition.json):
 *
 *   pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc
 *   pkg:apk/alpine/libcrypto3@3.5.5-r0?arch=x86_64&distro=alpine-edge&upstream=openssl
 *   pkg:rpm/fedora/bash@5.2.15-5.fc39?arch=x86_64&distro=fedora-39&epoch=1
 *   pkg:pypi/my-pypi-package@1.11.1.dev1      pkg:npm/%40angular/animation@12.3.1
 *
 * `distro=ID-VERSION_ID` and `upstream=SOURCE` are the qualifiers syft writes and the spec's apk test
 * data uses; qualifiers come sorted, as the canonical form wants.
 */
import { PackageURL } from 'packageurl-js';
import type { Distro, Ecosystem, PackageEntry } from './types.js';

/**
 * The vendor (namespace) when the image names no distro: the one each format is known for. rpm has
 * none (Fedora, RHEL, SUSE, Amazon…): its purl then goes without one, as the spec's own
 * `pkg:rpm/centerim@…` example does, rather than name a wrong vendor.
 */
const DEFAULT_VENDOR: Partial<Record<Ecosystem, string>> = { deb: 'debian', apk: 'alpine' };

export function purlOf(p: Pick<PackageEntry, 'ecosystem' | 'name' | 'version' | 'arch' | 'source'>, distro: Distro | null): string {
  const name = nonBlank(wellFormed(p.name));
  const version = wellFormed(p.version);
  switch (p.ecosystem) {
    case 'pypi':
      // PEP 503 normalization, as the pypi definition asks (packageurl-js only maps `_` to `-`).
      return build('pypi', undefined, name.toLowerCase().replace(/[-_.]+/g, '-'), version, {});
    case 'npm': {
      // `@scope/name` when both parts survive packageurl-js's trimming; anything else is one name
      const slash = name.indexOf('/');
      const scoped = name.startsWith('@') && slash > 1 && name.slice(1, slash).trim() !== '' && name.slice(slash + 1).trim() !== '';
      return scoped ? build('npm', name.slice(0, slash), name.slice(slash + 1), version, {}) : build('npm', undefined, name, version, {});
    }
    case 'deb':
    case 'apk':
    case 'rpm':
      return osPurl(p.ecosystem, name, version, p, distro);
  }
}

function osPurl(ecosystem: Ecosystem, name: string, version: string, p: Pick<PackageEntry, 'arch' | 'source'>, distro: Distro | null): string {
  const id = distro?.id ? wellFormed(distro.id) : '';
  const qualifiers: Record<string, string> = {};
  if (p.arch) qualifiers.arch = wellFormed(p.arch);
  if (id) qualifiers.distro = distro?.versionId ? `${id}-${wellFormed(distro.versionId)}` : id;
  const source = p.source ? upstreamOf(wellFormed(p.source)) : '';
  if (source && source !== name) qualifiers.upstream = source;
  let v = version;
  // rpm: the epoch is a qualifier, not part of the version; deb keeps its `1:` in the version.
  const epoch = ecosystem === 'rpm' ? /^(\d+):(.*)$/s.exec(version) : null;
  if (epoch) {
    qualifiers.epoch = epoch[1]!;
    v = epoch[2]!;
  }
  return build(ecosystem, id ? id.toLowerCase() : DEFAULT_VENDOR[ecosystem], name, v, qualifiers);
}

/** dpkg writes a source whose version differs from the binary's as `glibc (2.36-9)`: syft's `glibc@2.36-9`. */
function upstreamOf(source: string): string {
  const m = /^(\S+)\s+\((\S+)\)$/.exec(source.trim());
  return m ? `${m[1]}@${m[2]}` : source.trim();
}

function build(type: Ecosystem, namespace: string | undefined, name: string, version: string, qualifiers: Record<string, string>): string {
  return canonicalEscapes(new PackageURL(type, namespace, name, version || undefined, qualifiers).toString());
}

/**
 * packageurl-js escapes with encodeURIComponent and URLSearchParams, which differ from the spec's
 * canonical form (its grammar: only letters, digits, `.-_~` and `:` go bare): they leave `+` (in
 * versions), `!*'()` bare, and escape `:` and `~` (in qualifier values). The spec's own test data
 * wants `pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64`. None of these is a purl separator, so the
 * fix applies to the whole string; a `%` of the input is `%25` by then, never mistaken for an escape.
 */
function canonicalEscapes(purl: string): string {
  return purl
    .replace(/[+!*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%3A', ':')
    .replaceAll('%7E', '~');
}

/** A purl needs a name; a blank one (packageurl-js trims it) becomes U+FFFD, which names no real package. */
function nonBlank(name: string): string {
  return name.trim() === '' ? '\uFFFD' : name;
}

/** Lone surrogates (a JSON `\ud800` in a package.json) would make encodeURIComponent throw. */
function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
