/**
 * Files a distribution or a language's package manager ships, not the image author's: the example
 * keys in a package's documentation (`/usr/share/doc/libnet-ssleay-perl/examples/server_key.pem`),
 * the fixtures of a library's test suite. A secret found there is reported apart, as informational
 * (never counted by forbid-secrets), with the reason. `ShippedBy.source` says how it was told: by
 * the path, or by the operating system's package database that lists the file (packageShipped).
 * A database is input like any file: a forged entry can claim a file, which then moves to the
 * informational list (still reported, with its fingerprint), never out of the report.
 */
import { GlobSet } from '../../util/glob.js';

export interface ShippedBy {
  /** `distribution-path`: where packages put their documentation, examples and tests; `package-database`: a package lists the file. */
  source: 'distribution-path' | 'package-database';
  /** Why the file is not the image author's, in words: "a package's documentation (/usr/share/doc)". */
  reason: string;
}

/** Each class of path with its reason; globs as src/util/glob.ts reads them (anchored at the root). */
const DISTRIBUTION_PATHS: { reason: string; paths: string[] }[] = [
  { reason: "a package's documentation (/usr/share/doc)", paths: ['/usr/share/doc/**', '/usr/local/share/doc/**'] },
  { reason: "a package's examples (/usr/share/*/examples)", paths: ['/usr/share/**/examples/**', '/usr/share/**/example/**'] },
  {
    reason: "a Python package's test suite",
    paths: ['/usr/lib/python[0-9]*/**/{test,tests}/**', '/usr/local/lib/python[0-9]*/**/{test,tests}/**', '**/{site,dist}-packages/**/{test,tests}/**'],
  },
  { reason: "a Perl module's test suite (t/)", paths: ['/usr/share/perl*/**/t/**', '/usr/lib/*/perl*/**/t/**'] },
  { reason: "the Go toolchain's or a Go module's test data (testdata/)", paths: ['/usr/local/go/**/testdata/**', '/usr/lib/go*/**/testdata/**', '**/pkg/mod/**/testdata/**'] },
  { reason: "a Ruby gem's tests", paths: ['**/gems/*/{test,tests,spec}/**'] },
  { reason: "an npm package's tests or examples", paths: ['**/node_modules/**/{test,tests,__tests__,example,examples}/**'] },
];

const byPath = new GlobSet(DISTRIBUTION_PATHS.map((c) => c.paths));

/** The distribution's reason for this root-relative path (`usr/share/doc/x`), or null: the author's. */
export function shippedBy(path: string): ShippedBy | null {
  const i = byPath.first(path);
  return i < 0 ? null : { source: 'distribution-path', reason: DISTRIBUTION_PATHS[i].reason };
}

/** The reason for a file an operating-system package's database lists (docs/packages.md). */
export function packageShipped(pkg: { ecosystem: string; name: string; version: string }): ShippedBy {
  return { source: 'package-database', reason: `a file of the ${pkg.ecosystem} package ${pkg.name} ${pkg.version} (its database lists it)` };
}
