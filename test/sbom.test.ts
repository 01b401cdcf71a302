/**
 * Package URLs and the two SBOM formats of `strata packages`. purls: the purl-spec's own test data
 * (tests/types/{deb,apk,rpm,pypi,npm}-test.json, "build" cases strata can produce) and a property:
 * any input gives a purl in the canonical character set that parses back. SBOMs: built from a
 * hand-made report with names, versions and licenses that need care, validated against the real
 * schemas — CycloneDX 1.6 with the CycloneDX library's own strict validator (its bundled schemas,
 * no network), SPDX 2.3 with ajv against spdx/spdx-spec's schemas/spdx-schema.json (branch
 * support/2.3, CC-BY-3.0; copied to testdata/schemas/) plus the rules the schema cannot state.
 */
import test from 'ava';
import fc from 'fast-check';
import { PackageURL } from 'packageurl-js';
import { purlOf } from '../src/analyze/packages/purl.js';
import type { Distro, PackageEntry, PackageRow, PackagesReport } from '../src/analyze/packages/types.js';
import { cycloneDxOf } from '../src/render/sbom/cyclonedx.js';
import { CANONICAL_PURL, cdxProblems, spdxProblems, type SpdxDoc, type SpdxPackage } from './helpers/sbom-checks.js';
import { spdxExpressionOf, spdxOf } from '../src/render/sbom/spdx.js';


const seed = process.env.STRATA_FUZZ_SEED ? Number(process.env.STRATA_FUZZ_SEED) : Date.now() % 2 ** 31;

type Entry = Pick<PackageEntry, 'ecosystem' | 'name' | 'version' | 'arch' | 'source'>;
const debian12: Distro = { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' };
const distro = (id: string, versionId: string | null): Distro => ({ id, versionId, prettyName: null });

// ---- purls -------------------------------------------------------------------------------------

/** The purl-spec test suite's "build" cases that strata's inputs can express, with their expected purl. */
const SPEC_CASES: [Entry, Distro | null, string][] = [
  // tests/types/deb-test.json: no distro, so the default vendor; `+` percent-encoded, the epoch kept
  [{ ecosystem: 'deb', name: 'attr', version: '1:2.4.47-2+b1', arch: 'amd64' }, null, 'pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64'],
  [{ ecosystem: 'deb', name: 'attr', version: '1:2.4.47-2', arch: 'source' }, null, 'pkg:deb/debian/attr@1:2.4.47-2?arch=source'],
  // tests/types/apk-test.json
  [{ ecosystem: 'apk', name: 'curl', version: '7.83.0-r0', arch: 'x86' }, null, 'pkg:apk/alpine/curl@7.83.0-r0?arch=x86'],
  [
    { ecosystem: 'apk', name: 'libcrypto3', version: '3.5.5-r0', arch: 'x86_64', source: 'openssl' },
    distro('alpine', 'edge'),
    'pkg:apk/alpine/libcrypto3@3.5.5-r0?arch=x86_64&distro=alpine-edge&upstream=openssl',
  ],
  // tests/types/rpm-test.json
  [{ ecosystem: 'rpm', name: 'curl', version: '7.50.3-1.fc25', arch: 'i386' }, distro('fedora', '25'), 'pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25'],
  // tests/types/pypi-test.json: PEP 503 names
  [{ ecosystem: 'pypi', name: 'My.PyPI_.--._Package', version: '1.11.1.dev1' }, null, 'pkg:pypi/my-pypi-package@1.11.1.dev1'],
  [{ ecosystem: 'pypi', name: 'django-allauth', version: '12.23' }, null, 'pkg:pypi/django-allauth@12.23'],
  // tests/types/npm-test.json: the scope is the namespace, `@` encoded; names lowercased
  [{ ecosystem: 'npm', name: '@angular/animation', version: '12.3.1' }, null, 'pkg:npm/%40angular/animation@12.3.1'],
  [{ ecosystem: 'npm', name: 'foobar', version: '12.3.1' }, null, 'pkg:npm/foobar@12.3.1'],
  [{ ecosystem: 'npm', name: 'LoDash', version: '4.17.21' }, null, 'pkg:npm/lodash@4.17.21'],
  [{ ecosystem: 'npm', name: '@MyScope/MyPackage', version: '1.0.0' }, null, 'pkg:npm/%40myscope/mypackage@1.0.0'],
];

test('purls: the purl-spec test suite', (t) => {
  for (const [entry, d, want] of SPEC_CASES) t.is(purlOf(entry, d), want, `${entry.ecosystem} ${entry.name}`);
});

test('purls: distro namespace and qualifiers, upstream, rpm epoch, escaping', (t) => {
  const cases: [Entry, Distro | null, string][] = [
    [{ ecosystem: 'deb', name: 'curl', version: '7.88.1-10+deb12u5', arch: 'amd64' }, debian12, 'pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12'],
    // the os-release ID is the vendor; no VERSION_ID (sid, rolling releases): the ID alone
    [{ ecosystem: 'deb', name: 'dpkg', version: '1.19.0.4', arch: 'amd64' }, distro('ubuntu', null), 'pkg:deb/ubuntu/dpkg@1.19.0.4?arch=amd64&distro=ubuntu'],
    // a source named as the package is no upstream; one with its own version is NAME@VERSION
    [{ ecosystem: 'deb', name: 'bash', version: '5.2.15-2+b2', arch: 'amd64', source: 'bash' }, debian12, 'pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12'],
    [
      { ecosystem: 'deb', name: 'login', version: '1:4.13+dfsg1-1+b1', arch: 'amd64', source: 'shadow (1:4.13+dfsg1-1)' },
      debian12,
      'pkg:deb/debian/login@1:4.13%2Bdfsg1-1%2Bb1?arch=amd64&distro=debian-12&upstream=shadow%401:4.13%2Bdfsg1-1',
    ],
    [
      { ecosystem: 'deb', name: 'libstdc++6', version: '12.2.0-14', arch: 'amd64', source: 'gcc-12' },
      debian12,
      'pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12',
    ],
    [{ ecosystem: 'deb', name: 'vim-tiny', version: '2:9.0.1378-2~bpo12+1', arch: 'amd64' }, debian12, 'pkg:deb/debian/vim-tiny@2:9.0.1378-2~bpo12%2B1?arch=amd64&distro=debian-12'],
    [{ ecosystem: 'apk', name: 'musl', version: '1.2.4-r2', arch: 'x86_64' }, distro('alpine', '3.19.1'), 'pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1'],
    // rpm: the epoch is a qualifier (qualifiers sorted, as the canonical form wants)
    [
      { ecosystem: 'rpm', name: 'bash', version: '1:5.2.15-5.fc39', arch: 'x86_64', source: 'bash-5.2.15-5.fc39.src.rpm' },
      distro('fedora', '39'),
      'pkg:rpm/fedora/bash@5.2.15-5.fc39?arch=x86_64&distro=fedora-39&epoch=1&upstream=bash-5.2.15-5.fc39.src.rpm',
    ],
    // rpm without a distro: no vendor rather than a guessed one; its name keeps its case
    [{ ecosystem: 'rpm', name: 'NetworkManager', version: '1.44.2-1.fc39', arch: 'x86_64' }, null, 'pkg:rpm/NetworkManager@1.44.2-1.fc39?arch=x86_64'],
    // language packages take no distro, arch or upstream
    [{ ecosystem: 'pypi', name: 'typing_extensions', version: '4.9.0', arch: 'noarch', source: 'x' }, debian12, 'pkg:pypi/typing-extensions@4.9.0'],
    [{ ecosystem: 'npm', name: '@types/node', version: '20.11.5+build.1', source: 'x' }, debian12, 'pkg:npm/%40types/node@20.11.5%2Bbuild.1'],
    // `@scope/` with no name after it is a name, not a scope
    [{ ecosystem: 'npm', name: '@scope/', version: '1.0.0' }, null, 'pkg:npm/%40scope%2F@1.0.0'],
    // no version: none in the purl
    [{ ecosystem: 'npm', name: 'left-pad', version: '' }, null, 'pkg:npm/left-pad'],
  ];
  for (const [entry, d, want] of cases) t.is(purlOf(entry, d), want, `${entry.ecosystem} ${entry.name}`);
});

/** The canonical purl's characters (purl-spec grammar): letters, digits, `.-_~:`, separators, `%XX`. */

test('purls: any input gives a canonical purl that parses back to its version', (t) => {
  t.log(`seed ${seed} (replay with STRATA_FUZZ_SEED=${seed})`);
  const chars = ['a', 'Z', '1', '+', '~', ':', '@', '/', '%', '?', '#', '&', '=', ' ', '(', '!', '*', "'", '\uD800', '\uDC00', '😀'];
  const text = (unit: string[]) => fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: fc.constantFrom(...unit), maxLength: 12 }));
  // Qualifier values without `%`: packageurl-js's parser decodes them twice, so it refuses the
  // (correct) `arch=%25` — the next test shows strata writes it.
  const qualifier = text(chars.filter((c) => c !== '%')).filter((s) => !s.includes('%'));
  const entry = fc.record({
    ecosystem: fc.constantFrom('deb', 'apk', 'rpm', 'pypi', 'npm' as const),
    name: text(chars),
    version: text(chars),
    arch: fc.option(qualifier, { nil: undefined }),
    source: fc.option(qualifier, { nil: undefined }),
  });
  const distroArb = fc.option(fc.record({ id: qualifier, versionId: fc.option(qualifier, { nil: null }), prettyName: fc.constant(null) }), { nil: null });
  fc.assert(
    fc.property(entry, distroArb, (e, d) => {
      const purl = purlOf(e as Entry, d);
      if (!CANONICAL_PURL.test(purl)) throw new Error(`not canonical: ${purl}`);
      const back = PackageURL.fromString(purl);
      const version = e.version.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
      // rpm's epoch goes to a qualifier; packageurl-js trims
      const expected = (e.ecosystem === 'rpm' ? version.replace(/^\d+:/s, '') : version).trim();
      if ((back.version ?? '') !== expected) throw new Error(`${purl}: version ${JSON.stringify(back.version)}, not ${JSON.stringify(expected)}`);
    }),
    { seed, numRuns: 3000 },
  );
  t.pass();
});

test('purls: a blank or ill-formed name still gives a purl; `%` and `:` escaped as the spec wants', (t) => {
  t.is(purlOf({ ecosystem: 'deb', name: '  ', version: '1' }, null), 'pkg:deb/debian/%EF%BF%BD@1');
  t.is(purlOf({ ecosystem: 'npm', name: 'a\uD800b', version: '1' }, null), 'pkg:npm/a%EF%BF%BDb@1');
  // a scope whose name is blank (packageurl-js would trim it to nothing and throw): one name
  t.is(purlOf({ ecosystem: 'npm', name: '@a/ ', version: '' }, null), 'pkg:npm/%40a%2F');
  t.is(purlOf({ ecosystem: 'npm', name: '@ /x', version: '1' }, null), 'pkg:npm/%40%20%2Fx@1');
  t.is(purlOf({ ecosystem: 'deb', name: "it's(1)!*", version: '100%:1', arch: '%~:' }, null), 'pkg:deb/debian/it%27s%281%29%21%2A@100%25:1?arch=%25~:');
});

// ---- licenses ----------------------------------------------------------------------------------

test('licenses: SPDX expressions in canonical form, anything else null', (t) => {
  t.is(spdxExpressionOf('MIT'), 'MIT');
  t.is(spdxExpressionOf(' mit '), 'MIT');
  t.is(spdxExpressionOf('GPL-2.0+'), 'GPL-2.0+');
  t.is(spdxExpressionOf('(MIT or Apache-2.0)'), 'MIT OR Apache-2.0');
  t.is(spdxExpressionOf('MIT AND (BSD-2-Clause OR GPL-2.0-only)'), 'MIT AND (BSD-2-Clause OR GPL-2.0-only)');
  t.is(spdxExpressionOf('MIT AND BSD-2-Clause OR GPL-2.0-only'), '(MIT AND BSD-2-Clause) OR GPL-2.0-only');
  t.is(spdxExpressionOf('GPL-3.0-or-later WITH GCC-exception-3.1'), 'GPL-3.0-or-later WITH GCC-exception-3.1');
  t.is(spdxExpressionOf('LicenseRef-Proprietary'), 'LicenseRef-Proprietary');
  for (const bad of ['GPLv2+', 'MIT BSD-2-Clause', 'Public Domain', '', 'MIT OR', `${'('.repeat(50_000)}MIT${')'.repeat(50_000)}`]) t.is(spdxExpressionOf(bad), null, bad.slice(0, 20));
});

// ---- the report --------------------------------------------------------------------------------

function row(e: Entry & { license?: string; installedBy?: string }, d: Distro | null, extra: Partial<PackageRow> = {}): PackageRow {
  return {
    ecosystem: e.ecosystem,
    name: e.name,
    version: e.version,
    arch: e.arch ?? null,
    source: e.source ?? null,
    license: e.license ?? null,
    purl: purlOf(e, d),
    path: '/var/lib/dpkg/status',
    layer: 1,
    createdBy: 'RUN /bin/sh -c apt-get install -y curl python3-yaml',
    changedLayer: 1,
    bytes: 1000,
    files: 10,
    declaredSize: null,
    installedBy: e.installedBy ?? null,
    ...extra,
  };
}

function sampleReport(): PackagesReport {
  const yaml = row({ ecosystem: 'deb', name: 'python3-yaml', version: '6.0-3+b2', arch: 'amd64', source: 'pyyaml', license: 'mit' }, debian12, { bytes: 700_000, declaredSize: 716_800 });
  const types = row({ ecosystem: 'npm', name: '@types/node', version: '20.11.5', license: '(MIT or Apache-2.0)' }, null, { path: '/app/node_modules/@types/node/package.json', layer: 3, createdBy: 'COPY app/ /app/' });
  const packages = [
    row({ ecosystem: 'deb', name: 'libstdc++6', version: '12.2.0-14+deb12u1', arch: 'amd64', source: 'gcc-12', license: 'GPL-3.0-or-later WITH GCC-exception-3.1' }, debian12, { bytes: 2_500_000, declaredSize: 2_600_000 }),
    row({ ecosystem: 'deb', name: 'login', version: '1:4.13+dfsg1-1+b1', arch: 'amd64', source: 'shadow (1:4.13+dfsg1-1)' }, debian12, { layer: 0, createdBy: null, changedLayer: 2 }),
    row({ ecosystem: 'deb', name: 'vim-tiny', version: '2:9.0.1378-2~bpo12+1', arch: 'amd64', license: 'Vim' }, debian12),
    yaml,
    row({ ecosystem: 'apk', name: 'musl', version: '1.2.4-r2', arch: 'x86_64', license: 'MIT' }, distro('alpine', '3.19.1'), { path: '/lib/apk/db/installed' }),
    row({ ecosystem: 'rpm', name: 'bash', version: '1:5.2.15-5.fc39', arch: 'x86_64', license: 'GPLv3+' }, distro('fedora', '39'), { path: '/var/lib/rpm/rpmdb.sqlite' }),
    row({ ecosystem: 'pypi', name: 'PyYAML', version: '6.0', license: 'MIT', installedBy: yaml.purl }, null, { path: '/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA', bytes: 0 }),
    row({ ecosystem: 'pypi', name: 'typing_extensions', version: '4.9.0', license: 'Python Software Foundation License' }, null, { path: '/usr/local/lib/python3.11/site-packages/typing_extensions-4.9.0.dist-info/METADATA' }),
    types,
    // the same package twice (a nested node_modules copy): one purl, two rows
    { ...types, path: '/app/node_modules/x/node_modules/@types/node/package.json' },
    row({ ecosystem: 'npm', name: 'left-pad', version: '1.3.0', license: 'LicenseRef-Proprietary' }, null, { path: '/app/node_modules/left-pad/package.json' }),
  ];
  return {
    schemaVersion: 1,
    image: { ref: 'registry.example/team/app:1.0', configDigest: `sha256:${'c'.repeat(64)}`, manifestDigest: `sha256:${'a'.repeat(64)}`, platform: 'linux/amd64', created: '2024-05-01T10:00:00Z' },
    distro: debian12,
    packages,
    unowned: { bytes: 0, files: 0, dirs: [] },
    totals: [],
    finalSize: 10_000_000,
    layers: [],
    warnings: [],
  };
}

/** A report of input at its worst: what a hostile image can put in a package database. */
function hostileReport(): PackagesReport {
  const r = sampleReport();
  r.image.ref = 'weird ref/\u0000:"<>#%';
  r.image.manifestDigest = null;
  r.image.created = null;
  r.distro = null;
  r.packages = [
    row({ ecosystem: 'deb', name: '', version: '', license: '   ' }, null),
    row({ ecosystem: 'npm', name: 'a\uD800b', version: '9'.repeat(5000), license: `${'('.repeat(20_000)}MIT${')'.repeat(20_000)}` }, null, { createdBy: 'RUN '.repeat(2000) }),
    row({ ecosystem: 'pypi', name: '../../etc/passwd', version: '1 2', license: 'Licence: see "COPYING"\n\tand more' }, null),
    row({ ecosystem: 'npm', name: '@a/ ', version: '' }, null), // a blank name after the scope
  ];
  return r;
}

// ---- CycloneDX ---------------------------------------------------------------------------------

interface CdxComponent {
  type: string;
  name: string;
  version?: string;
  purl?: string;
  'bom-ref'?: string;
  description?: string;
  licenses?: ({ license: { id?: string; name?: string; acknowledgement?: string } } | { expression: string; acknowledgement?: string })[];
  properties?: { name: string; value: string }[];
}
interface CdxBom {
  bomFormat: string;
  specVersion: string;
  serialNumber: string;
  metadata: { timestamp: string; tools: { components: CdxComponent[] }; component: CdxComponent };
  components: CdxComponent[];
}

const CDX_OPTS = { toolVersion: '0.1.0', serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79', timestamp: '2024-06-01T12:00:00.000Z' };

test('CycloneDX: valid 1.6, the image as a container, one library per package', async (t) => {
  const report = sampleReport();
  const json = cycloneDxOf(report, CDX_OPTS);
  t.deepEqual(await cdxProblems(json), []);
  const bom = JSON.parse(json) as CdxBom;
  t.is(bom.bomFormat, 'CycloneDX');
  t.is(bom.specVersion, '1.6');
  t.is(bom.serialNumber, CDX_OPTS.serialNumber);
  t.is(bom.metadata.timestamp, CDX_OPTS.timestamp);
  t.like(bom.metadata.tools.components[0], { type: 'application', name: 'strata', version: '0.1.0' });
  t.like(bom.metadata.component, { type: 'container', name: report.image.ref, version: report.image.configDigest });
  t.deepEqual(bom.metadata.component.properties, [
    { name: 'strata:manifestDigest', value: report.image.manifestDigest },
    { name: 'strata:platform', value: 'linux/amd64' },
    { name: 'strata:created', value: '2024-05-01T10:00:00Z' },
  ]);

  const [os, ...libs] = bom.components;
  t.like(os, { type: 'operating-system', name: 'debian', version: '12', description: 'Debian GNU/Linux 12 (bookworm)' });
  t.is(libs.length, report.packages.length);
  libs.forEach((c, i) => {
    const r = report.packages[i]!;
    t.like(c, { type: 'library', name: r.name, version: r.version, purl: r.purl });
    t.notThrows(() => PackageURL.fromString(c.purl!));
  });
  // bom-ref is the purl; the second row of a shared purl gets a suffix
  const refs = bom.components.map((c) => c['bom-ref']);
  t.is(new Set([...refs, bom.metadata.component['bom-ref']]).size, refs.length + 1);
  t.is(libs[8]!['bom-ref'], report.packages[8]!.purl);
  t.is(libs[9]!['bom-ref'], `${report.packages[8]!.purl}|2`);
});

test('CycloneDX: licenses as SPDX ids, expressions or names; strata facts as strata: properties', (t) => {
  const report = sampleReport();
  const libs = (JSON.parse(cycloneDxOf(report, CDX_OPTS)) as CdxBom).components.slice(1);
  const licenses = (name: string) => libs.find((c) => c.name === name)!.licenses;
  t.deepEqual(licenses('libstdc++6'), [{ expression: 'GPL-3.0-or-later WITH GCC-exception-3.1', acknowledgement: 'declared' }]);
  t.is(licenses('login'), undefined);
  t.deepEqual(licenses('vim-tiny'), [{ license: { id: 'Vim', acknowledgement: 'declared' } }]);
  t.deepEqual(licenses('python3-yaml'), [{ license: { id: 'MIT', acknowledgement: 'declared' } }]);
  t.deepEqual(licenses('bash'), [{ license: { name: 'GPLv3+', acknowledgement: 'declared' } }]);
  t.deepEqual(licenses('typing_extensions'), [{ license: { name: 'Python Software Foundation License', acknowledgement: 'declared' } }]);
  t.deepEqual(licenses('@types/node'), [{ expression: 'MIT OR Apache-2.0', acknowledgement: 'declared' }]);
  t.deepEqual(licenses('left-pad'), [{ expression: 'LicenseRef-Proprietary', acknowledgement: 'declared' }]);

  const props = (i: number) => Object.fromEntries(libs[i]!.properties!.map((p) => [p.name, p.value]));
  t.deepEqual(props(0), {
    'strata:ecosystem': 'deb',
    'strata:layer': '1',
    'strata:createdBy': 'RUN /bin/sh -c apt-get install -y curl python3-yaml',
    'strata:changedLayer': '1',
    'strata:bytes': '2500000',
    'strata:files': '10',
    'strata:declaredSize': '2600000',
    'strata:metadataPath': '/var/lib/dpkg/status',
  });
  t.false('strata:createdBy' in props(1)); // a base layer's instruction is unknown: no property
  t.is(props(6)['strata:installedBy'], report.packages[3]!.purl);
  for (const c of libs) for (const p of c.properties!) t.regex(p.name, /^strata:[A-Za-z]+$/);
});

test('CycloneDX: deterministic when given serial and time, unique otherwise', async (t) => {
  const report = sampleReport();
  t.is(cycloneDxOf(report, CDX_OPTS), cycloneDxOf(report, CDX_OPTS));
  const [a, b] = [cycloneDxOf(report, { toolVersion: '0.1.0' }), cycloneDxOf(report, { toolVersion: '0.1.0' })].map((j) => JSON.parse(j) as CdxBom);
  t.regex(a!.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.not(a!.serialNumber, b!.serialNumber);
  t.true(Math.abs(Date.parse(a!.metadata.timestamp) - Date.now()) < 60_000);
});

test('CycloneDX: hostile names, versions and licenses stay valid', async (t) => {
  const json = cycloneDxOf(hostileReport(), CDX_OPTS);
  t.deepEqual(await cdxProblems(json), []);
  const bom = JSON.parse(json) as CdxBom;
  t.is(bom.components.length, 4); // no distro: no operating-system component
  t.is(bom.components[3]!.purl, 'pkg:npm/%40a%2F'); // `@a/ `: no blank name after the scope
  t.is(bom.components[0]!.licenses, undefined); // a blank license is none
  t.is(bom.components[1]!.version!.length, 1024); // the schema's maxLength
  t.deepEqual(bom.components[1]!.licenses, [{ license: { name: `${'('.repeat(20_000)}MIT${')'.repeat(20_000)}`, acknowledgement: 'declared' } }]);
});

test('CycloneDX: the validator rejects a broken BOM', async (t) => {
  const bom = JSON.parse(cycloneDxOf(sampleReport(), CDX_OPTS)) as CdxBom & Record<string, unknown>;
  const broken = [
    { ...bom, specVersion: 1.6 },
    { ...bom, components: [{ ...bom.components[1], type: 'package' }] },
    { ...bom, components: [{ ...bom.components[1], licenses: [{ license: { id: 'Not-A-License' } }] }] },
    { ...bom, serialNumber: 'uuid-1' },
  ];
  for (const b of broken) t.not((await cdxProblems(JSON.stringify(b))).length, 0);
});

// ---- SPDX --------------------------------------------------------------------------------------

const SPDX_OPTS = { toolVersion: '0.1.0', namespace: 'https://strata.invalid/spdx/app-1', created: '2024-06-01T12:00:00.123Z' };

test('SPDX: valid 2.3, the image DESCRIBED and CONTAINing its OS and packages', (t) => {
  const report = sampleReport();
  const doc = JSON.parse(spdxOf(report, SPDX_OPTS)) as SpdxDoc;
  t.deepEqual(spdxProblems(doc), []);
  t.like(doc, { spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT', name: report.image.ref, documentNamespace: SPDX_OPTS.namespace });
  t.deepEqual(doc.creationInfo, { creators: ['Tool: strata-0.1.0'], created: '2024-06-01T12:00:00Z' });

  const [image, os, ...pkgs] = doc.packages;
  t.like(image, { name: report.image.ref, versionInfo: report.image.configDigest, primaryPackagePurpose: 'CONTAINER', licenseDeclared: 'NOASSERTION' });
  t.like(os, { name: 'debian', versionInfo: '12', description: 'Debian GNU/Linux 12 (bookworm)', primaryPackagePurpose: 'OPERATING_SYSTEM' });
  t.is(pkgs.length, report.packages.length);
  pkgs.forEach((p, i) => {
    const r = report.packages[i]!;
    t.like(p, { name: r.name, versionInfo: r.version, primaryPackagePurpose: 'LIBRARY', externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: r.purl }] });
  });
  t.is(pkgs[0]!.SPDXID, 'SPDXRef-Package-deb-libstdc-6-12.2.0-14-deb12u1');
  t.is(pkgs[9]!.SPDXID, `${pkgs[8]!.SPDXID}-2`);

  const rel = (a: string, type: string, b: string) => doc.relationships.some((r) => r.spdxElementId === a && r.relationshipType === type && r.relatedSpdxElement === b);
  t.true(rel('SPDXRef-DOCUMENT', 'DESCRIBES', image!.SPDXID));
  t.true(rel(image!.SPDXID, 'CONTAINS', os!.SPDXID));
  for (const p of pkgs) t.true(rel(image!.SPDXID, 'CONTAINS', p.SPDXID));
  // the deb package that installed PyYAML's files contains it
  t.true(rel(pkgs[3]!.SPDXID, 'CONTAINS', pkgs[6]!.SPDXID));
  t.is(doc.relationships.length, 1 + 1 + pkgs.length + 1);
});

test('SPDX: declared licenses, source, and strata facts as annotations', (t) => {
  const doc = JSON.parse(spdxOf(sampleReport(), SPDX_OPTS)) as SpdxDoc;
  const pkg = (name: string) => doc.packages.find((p) => p.name === name)!;
  t.is(pkg('libstdc++6').licenseDeclared, 'GPL-3.0-or-later WITH GCC-exception-3.1');
  t.like(pkg('login'), { licenseDeclared: 'NOASSERTION', sourceInfo: 'built from the source package shadow (1:4.13+dfsg1-1)' });
  t.is(pkg('login').licenseComments, undefined);
  t.is(pkg('python3-yaml').licenseDeclared, 'MIT');
  t.is(pkg('@types/node').licenseDeclared, 'MIT OR Apache-2.0');
  t.like(pkg('bash'), { licenseDeclared: 'NOASSERTION', licenseComments: 'The package states its license as: GPLv3+' });
  // a LicenseRef would need defining in the document
  t.like(pkg('left-pad'), { licenseDeclared: 'NOASSERTION', licenseComments: 'The package states its license as: LicenseRef-Proprietary' });

  const notes = pkg('libstdc++6').annotations!;
  t.deepEqual(
    notes.map((a) => a.comment),
    ['strata:layer=1', 'strata:createdBy=RUN /bin/sh -c apt-get install -y curl python3-yaml', 'strata:changedLayer=1', 'strata:bytes=2500000', 'strata:files=10', 'strata:declaredSize=2600000', 'strata:metadataPath=/var/lib/dpkg/status'],
  );
  t.like(notes[0], { annotator: 'Tool: strata-0.1.0', annotationDate: '2024-06-01T12:00:00Z' });
  t.true(pkg('PyYAML').annotations!.some((a) => a.comment === `strata:installedBy=${pkg('python3-yaml').externalRefs![0]!.referenceLocator}`));
});

test('SPDX: deterministic when given namespace and time; a new namespace each run otherwise', (t) => {
  const report = sampleReport();
  t.is(spdxOf(report, SPDX_OPTS), spdxOf(report, SPDX_OPTS));
  const [a, b] = [spdxOf(report, { toolVersion: '0.1.0' }), spdxOf(report, { toolVersion: '0.1.0' })].map((j) => JSON.parse(j) as SpdxDoc);
  t.deepEqual(spdxProblems(a), []);
  t.regex(a!.documentNamespace, /^https:\/\/strata\.invalid\/spdx\/registry\.example-team-app-1\.0-[0-9a-f-]{36}$/);
  t.not(a!.documentNamespace, b!.documentNamespace);
  t.regex(a!.creationInfo.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test('SPDX: hostile names, versions and licenses stay valid', (t) => {
  const doc = JSON.parse(spdxOf(hostileReport(), { toolVersion: '0.1.0' })) as SpdxDoc;
  t.deepEqual(spdxProblems(doc), []);
  t.is(doc.packages.length, 5);
  t.regex(doc.documentNamespace, /^https:\/\/strata\.invalid\/spdx\/weird-ref-/);
  t.is(doc.packages[1]!.SPDXID, 'SPDXRef-Package-deb--');
});

test('SPDX: the checks reject a broken document', (t) => {
  const good = JSON.parse(spdxOf(sampleReport(), SPDX_OPTS)) as SpdxDoc;
  const third = good.packages[2]!;
  const patched = (patch: Partial<SpdxPackage>) => ({ ...good, packages: good.packages.map((p) => (p === third ? { ...p, ...patch } : p)) });
  const renamed = { ...patched({ SPDXID: 'SPDXRef-a_b' }), relationships: good.relationships.map((r) => (r.relatedSpdxElement === third.SPDXID ? { ...r, relatedSpdxElement: 'SPDXRef-a_b' } : r)) };
  const cases: [unknown, RegExp][] = [
    [{ ...good, spdxVersion: undefined }, /must have required property 'spdxVersion'/],
    [patched({ primaryPackagePurpose: 'OPERATING-SYSTEM' }), /primaryPackagePurpose must be equal to one of the allowed values/],
    [{ ...good, dataLicense: 'MIT' }, /^dataLicense MIT$/],
    [{ ...good, documentNamespace: undefined }, /^documentNamespace undefined/],
    [{ ...good, packages: [...good.packages, third] }, /^SPDXIDs not unique$/],
    [renamed, /^SPDXID SPDXRef-a_b: malformed$/],
    [{ ...good, relationships: good.relationships.filter((r) => r.relationshipType !== 'DESCRIBES') }, /^no DESCRIBES$/],
    [{ ...good, relationships: [...good.relationships, { spdxElementId: 'SPDXRef-Image', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-nothing' }] }, /unknown element/],
    [patched({ externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'curl 1.0' }] }), /purl curl 1.0 does not parse/],
    [patched({ licenseDeclared: 'GPLv3+' }), /licenseDeclared GPLv3\+ is no SPDX expression/],
    [patched({ licenseDeclared: 'LicenseRef-x' }), /licenseDeclared LicenseRef-x is no SPDX expression/],
  ];
  for (const [doc, want] of cases) {
    const problems = spdxProblems(doc);
    t.true(problems.some((p) => want.test(p)), `${want}: ${problems.join('; ')}`);
  }
});
