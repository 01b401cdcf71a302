/**
 * Issue 30: one findings list and one count in every view (inspect text and JSON, the explorer, the
 * HTML page's data), `w` visiting waste only; a remedy per duplicate cause; secret-looking files that
 * packages ship (docs, test suites) reported apart as informational, never failing forbid-secrets.
 */
import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dir, file, modelOf, whiteout, writeOciLayout, type LayerSpec } from './helpers/bloat-images.js';
import { succeeds } from './helpers/hostile.js';
import { inspectReport, type InspectReport } from '../src/analyze/report.js';
import { inspectPicture } from '../src/analyze/picture/inspect-picture.js';
import { Explorer, initialState, type UiState } from '../src/tui/state.js';
import { wasteOfReport } from '../src/tui/waste.js';
import { buildKeymap } from '../src/tui/keymap.js';
import type { CiReport } from '../src/analyze/gate/gate.js';

const RUN = (s: string) => `/bin/sh -c ${s}`;
const COPY = (s: string) => `/bin/sh -c #(nop) COPY ${s}`;

function tempDir(t: { teardown: (f: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'strata-findings-views-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const changelog = 'x'.repeat(3000);
const shared = 'shared content '.repeat(200);
const linked = 'linked content '.repeat(300);
const rewritten = 'rewritten '.repeat(250);

/** Waste (deleted, overwritten), bloat (a log) and duplicates of each cause, in six layers. */
const LAYERS: LayerSpec[] = [
  { createdBy: '/bin/sh -c #(nop) ADD file:base in /', entries: [dir('etc'), file('etc/passwd', 'root:x:0:0::/root:/bin/sh\n')] },
  {
    createdBy: RUN('apt-get install -y p1 p2 p3'),
    entries: [
      dir('var'), dir('var/cache'), dir('var/cache/apt'), file('var/cache/apt/pkg.deb', 50_000),
      dir('var/log'), file('var/log/apt.log', 20_000),
      dir('usr'), dir('usr/share'), dir('usr/share/doc'),
      ...['p1', 'p2', 'p3'].flatMap((p) => [dir(`usr/share/doc/${p}`), file(`usr/share/doc/${p}/changelog`, changelog)]),
      dir('usr/lib'), dir('usr/lib/a'), file('usr/lib/a/data', shared), file('usr/lib/a/tool', rewritten, { mtime: 1 }),
    ],
  },
  { createdBy: RUN('rm /var/cache/apt/pkg.deb && echo root > /etc/passwd'), entries: [whiteout('var/cache/apt/pkg.deb'), dir('etc'), file('etc/passwd', 'root:x:0:0:changed:/root:/bin/sh\n')] },
  { createdBy: COPY('dir:ctx in /app'), entries: [dir('app'), file('app/data', shared), file('app/orig', linked, { mtime: 7 })] },
  { createdBy: RUN('ln /app/orig /app/link'), entries: [dir('app'), file('app/link', linked, { mtime: 7 })] },
  { createdBy: RUN('install tool'), entries: [dir('usr'), dir('usr/lib'), dir('usr/lib/b'), file('usr/lib/b/tool', rewritten, { mtime: 2 })] },
];

const WASTE = ['deleted', 'overwritten', 'metadata-copy'];

test('one list, one count: inspect text and JSON, the explorer and the HTML data agree; w visits waste only', async (t) => {
  const d = tempDir(t);
  const layout = join(d, 'image');
  writeOciLayout(layout, LAYERS);
  const env = { STRATA_NO_CACHE: '1' };

  const json = JSON.parse((await succeeds(t, ['inspect', '--json', `oci:${layout}`], { env })).stdout) as InspectReport;
  const total = json.summary.findingCount;
  t.is(json.findings.length, total);
  t.true(total >= 7, `${total} findings`); // 2 waste, 1 log, 4 duplicates
  const text = (await succeeds(t, ['inspect', '--top', '2', `oci:${layout}`], { env })).stdout;
  t.true(text.includes(`Findings (2 of ${total}, largest first`), text);

  const model = await modelOf(LAYERS);
  const report = inspectReport(model);
  t.is(report.summary.findingCount, total);
  const pane = wasteOfReport(report);
  t.is(pane.findings.length, total, 'the explorer lists the report\'s findings, one row each');
  const picture = inspectPicture(model, report);
  t.is(picture.summary.findingCount, total);
  t.is(picture.findings.length, total);

  // w: every waste finding once, in list order, then round again; never a duplicate or a rule match
  const explorer = new Explorer(model, pane.findings, buildKeymap());
  const waste = report.findings.filter((f) => f.kind === 'waste');
  t.true(waste.length >= 2);
  let s: UiState = initialState(model);
  const seen: string[] = [];
  for (let i = 0; i <= waste.length; i++) {
    s = explorer.reduce(s, { type: 'action', action: 'nextFinding', page: 10 });
    seen.push(s.message);
  }
  for (const [i, m] of seen.entries()) {
    const k = i % waste.length;
    t.true(m.startsWith(`waste ${k + 1}/${waste.length}: `), m);
    t.true(WASTE.some((c) => m.includes(`(${c}, layer ${waste[k].layer})`)), m);
    t.false(/duplicate|log,/.test(m), m);
  }
  t.is(s.layer, waste[0].layer);
});

test('duplicates: each cause its own title and remedy', async (t) => {
  const report = inspectReport(await modelOf(LAYERS));
  const dup = (path: string) => {
    const f = report.findings.find((x) => x.category === 'duplicate' && x.items.some((i) => i.path === path));
    if (!f) throw new Error(`no duplicate finding for ${path}`);
    return f;
  };
  const same = dup('/usr/share/doc/p1/changelog');
  t.regex(same.title, /^3 identical copies of the same content, all stored by layer 1: /);
  t.regex(same.remedy, /One step \(layer 1\) wrote every copy: most likely a package's own files/);
  t.notRegex(same.remedy, /later layer/);

  const copied = dup('/app/data');
  t.regex(copied.title, /copied in again by layer 3 \(layer 1 already stored it\)/);
  t.regex(copied.remedy, /^A later COPY\/ADD stored content an earlier layer already has/);

  const link = dup('/app/link');
  t.regex(link.title, /likely one hardlinked file in the build container, split by layers 3 and 4/);
  t.regex(link.remedy, /^A hardlink created in a later layer/);

  const again = dup('/usr/lib/b/tool');
  t.regex(again.title, /written again by layer 5 \(layer 1 already stored it\)/);
  t.regex(again.remedy, /^A later RUN wrote content an earlier layer already holds/);

  t.is(new Set([same, copied, link, again].map((f) => f.remedy)).size, 4);
});

const pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

test('secrets in files packages ship are informational: forbid-secrets fails for /app only; text, JSON, SARIF, Markdown, JUnit', async (t) => {
  const d = tempDir(t);
  const [docKey, testKey, appKey] = [pem(), pem(), pem()];
  const body = (k: string) => k.split('\n')[1];
  const layout = join(d, 'image');
  writeOciLayout(layout, [
    {
      createdBy: RUN('apt-get install -y libnet-ssleay-perl python3-foo'),
      entries: [
        dir('usr'), dir('usr/share'), dir('usr/share/doc'), dir('usr/share/doc/libnet-ssleay-perl'), dir('usr/share/doc/libnet-ssleay-perl/examples'),
        file('usr/share/doc/libnet-ssleay-perl/examples/server_key.pem', docKey),
        dir('usr/lib'), dir('usr/lib/python3'), dir('usr/lib/python3/dist-packages'), dir('usr/lib/python3/dist-packages/foo'), dir('usr/lib/python3/dist-packages/foo/tests'),
        file('usr/lib/python3/dist-packages/foo/tests/client.key', testKey),
      ],
    },
    { createdBy: COPY('dir:ctx in /app'), entries: [dir('app'), file('app/deploy.pem', appKey)] },
  ]);
  const image = `oci:${layout}`;
  const bounds = { env: { STRATA_NO_CACHE: '1' }, secrets: [docKey, testKey, appKey].map(body) };

  const ci = await succeeds(t, ['ci', '--forbid-secrets', image], { ...bounds, code: 1 });
  t.regex(ci.stdout, /FAIL +forbid-secrets +1 secret in the layers \(2 secret-looking files that packages ship: informational, not counted\)/);
  const offenders = ci.stdout.slice(ci.stdout.indexOf('Top offenders'), ci.stdout.indexOf('Informational'));
  t.true(offenders.includes('/app/deploy.pem'), ci.stdout);
  t.false(offenders.includes('/usr/'), ci.stdout);
  t.regex(ci.stdout, /\/usr\/share\/doc\/libnet-ssleay-perl\/examples\/server_key\.pem {2}private key[^:]*: a package's documentation \(\/usr\/share\/doc\)/);
  t.regex(ci.stdout, /\/usr\/lib\/python3\/dist-packages\/foo\/tests\/client\.key {2}.*: a Python package's test suite/);

  const report = JSON.parse((await succeeds(t, ['ci', '--forbid-secrets', '--format', 'json', image], { ...bounds, code: 1 })).stdout) as CiReport;
  t.deepEqual(report.risks.secrets.map((s) => s.path), ['/app/deploy.pem']);
  t.deepEqual(report.risks.shipped.map((s) => [s.path, s.shippedBy.source]), [
    ['/usr/lib/python3/dist-packages/foo/tests/client.key', 'distribution-path'],
    ['/usr/share/doc/libnet-ssleay-perl/examples/server_key.pem', 'distribution-path'],
  ]);
  t.is(report.risks.counts.secrets, 1);
  t.is(report.risks.counts.shippedSecrets, 2);

  const sarif = JSON.parse((await succeeds(t, ['ci', '--forbid-secrets', '--format', 'sarif', image], { ...bounds, code: 1 })).stdout) as {
    runs: { results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[];
  };
  const levels = sarif.runs[0].results.filter((r) => r.ruleId.includes('secret/')).map((r) => [r.locations[0].physicalLocation.artifactLocation.uri, r.ruleId.split('/')[0], r.level]).sort();
  t.deepEqual(levels, [
    ['layers/0/usr/lib/python3/dist-packages/foo/tests/client.key', 'shipped-secret', 'note'],
    ['layers/0/usr/share/doc/libnet-ssleay-perl/examples/server_key.pem', 'shipped-secret', 'note'],
    ['layers/1/app/deploy.pem', 'secret', 'error'],
  ]);

  // Markdown and JUnit list the shipped files too, each once, beside forbid-secrets' verdict
  const md = (await succeeds(t, ['ci', '--forbid-secrets', '--format', 'markdown', image], { ...bounds, code: 1 })).stdout;
  const shippedMd = md.slice(md.indexOf('<summary>Informational'));
  t.regex(shippedMd, /^- `\/usr\/share\/doc\/libnet-ssleay-perl\/examples\/server_key\.pem` private key[^\n]*: a package's documentation \(\/usr\/share\/doc\)$/m);
  t.regex(shippedMd, /^- `\/usr\/lib\/python3\/dist-packages\/foo\/tests\/client\.key` .*: a Python package's test suite$/m);
  t.false(shippedMd.includes('/app/deploy.pem'));
  const junit = (await succeeds(t, ['ci', '--forbid-secrets', '--format', 'junit', image], { ...bounds, code: 1 })).stdout;
  const secretsCase = junit.slice(junit.indexOf('name="forbid-secrets"'), junit.indexOf('</testcase>', junit.indexOf('name="forbid-secrets"')));
  t.regex(secretsCase, /<failure [^>]*>[^<]*\/app\/deploy\.pem/);
  t.regex(secretsCase, /<system-out>Informational: secret-looking files that packages ship \(not counted by forbid-secrets\)\n\/usr\/lib\/python3\/dist-packages\/foo\/tests\/client\.key {2}[^\n]*\n\/usr\/share\/doc\/libnet-ssleay-perl\/examples\/server_key\.pem {2}[^<]*<\/system-out>/);
  t.is(junit.split('<system-out>').length, 2); // on forbid-secrets' case only

  const text = (await succeeds(t, ['inspect', image], bounds)).stdout;
  t.regex(text, /secrets {7}1\n/);
  t.regex(text, /informational 2 secret-looking files that packages ship/);
  t.regex(text, /why {8}Informational: a package's documentation \(\/usr\/share\/doc\)/);
  t.regex(text, /Risks: 1 secret, runs as root\./);
});

test('an image whose only secret-looking files are packages\' passes forbid-secrets', async (t) => {
  const d = tempDir(t);
  const key = pem();
  const layout = join(d, 'image');
  writeOciLayout(layout, [
    {
      createdBy: RUN('apt-get install -y libio-socket-ssl-perl'),
      entries: [dir('usr'), dir('usr/share'), dir('usr/share/doc'), dir('usr/share/doc/libio-socket-ssl-perl'), dir('usr/share/doc/libio-socket-ssl-perl/examples'), file('usr/share/doc/libio-socket-ssl-perl/examples/server-key.pem', key)],
    },
  ]);
  const r = await succeeds(t, ['ci', '--forbid-secrets', `oci:${layout}`], { env: { STRATA_NO_CACHE: '1' }, secrets: [key.split('\n')[1]] });
  t.regex(r.stdout, /PASS +forbid-secrets +no secret found \(1 secret-looking file that packages ship: informational, not counted\)/);
});
