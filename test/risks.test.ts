/** Secrets and risky files (#19) on the image of helpers/risky-image.ts; its secret values are looked for in every output. */
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runStrata } from './helpers/cli.js';
import { fixture } from './helpers/fixtures.js';
import { writeOciArchive } from './helpers/image-builder.js';
import { dir, file } from './helpers/tar-writer.js';
import { keyBody, SECRETS, writeRiskyImage } from './helpers/risky-image.js';
import type { InspectReport } from '../src/analyze/report.js';
import type { CiReport } from '../src/analyze/gate/gate.js';

const work = mkdtempSync(join(tmpdir(), 'strata-risks-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

const image = join(work, 'risky.oci.tar');
const imageReady = writeRiskyImage(image);

async function inspectJson(args: string[] = [], env: Record<string, string> = {}, cwd?: string): Promise<InspectReport> {
  await imageReady;
  const r = await runStrata(['inspect', '--json', image, ...args], { env, cwd });
  if (r.code !== 0) throw new Error(`inspect failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as InspectReport;
}

test('secrets: each stored copy with its layer, visible or hidden by a later layer', async (t) => {
  const { risks } = await inspectJson();
  const brief = risks.secrets.map((s) => [s.path, s.rule, s.layer, s.status, s.hiddenBy, s.matches.map((m) => `${m.rule}@${m.line}`).join(' ')]);
  t.deepEqual(brief, [
    ['/app/.env', 'env-credential', 1, 'visible', null, 'env-credential@2'],
    ['/app/config.js', 'aws-access-key-id', 3, 'visible', null, 'aws-access-key-id@2 aws-secret-access-key@3'],
    ['/root/.bash_history', 'shell-history', 2, 'visible', null, ''],
    ['/root/.docker/config.json', 'docker-auth', 3, 'visible', null, 'docker-auth@1'],
    ['/root/.npmrc', 'npm-token', 1, 'visible', null, 'npm-token@2 npmrc-auth@2'],
    ['/root/.ssh/id_rsa', 'ssh-key-file', 1, 'hidden', 2, 'private-key@1'],
  ]);
  const key = risks.secrets.find((s) => s.path === '/root/.ssh/id_rsa')!;
  t.is(key.instruction, 'COPY dir:ctx in /');
  t.is(key.hiddenByInstruction, 'RUN rm /root/.ssh/id_rsa && install helpers');
  t.regex(key.remedy, /layer 2 did not remove it/);
  t.regex(key.remedy, /--mount=type=secret/);
  t.regex(key.matches[0].fingerprint, /^sha256:[0-9a-f]{12}$/);
  t.deepEqual(risks.counts, { secrets: 6, hiddenSecrets: 1, shippedSecrets: 0, setuid: 1, setgid: 0, capability: 1, worldWritable: 1 });
});

test('risky files: setuid above the base, capabilities as getcap writes them, world-writable without sticky; the user', async (t) => {
  const { risks } = await inspectJson();
  t.is(risks.baseLayers, 1);
  t.deepEqual(risks.files.map((f) => [f.kind, f.path, f.mode, f.layer, f.capabilities ?? null]), [
    ['world-writable', '/data', '0777', 2, null],
    ['capability', '/usr/bin/pinger', '0755', 2, 'cap_net_raw+ep'],
    ['setuid', '/usr/local/bin/helper', '4755', 2, null],
  ]);
  t.deepEqual(risks.user, { user: null, root: true });
});

test('text report: the risks section names layers, status and fingerprints', async (t) => {
  await imageReady;
  const r = await runStrata(['inspect', image]);
  t.is(r.code, 0, r.stderr);
  const section = r.stdout.slice(r.stdout.indexOf('\nRisks\n'));
  t.regex(section, /user {10}root \(the config names no user\)/);
  t.regex(section, /secrets {7}6 \(1 hidden by a later layer but still stored\)/);
  t.regex(section, /\/root\/\.ssh\/id_rsa .*\[HIDDEN by layer 2, still stored\]/);
  t.regex(section, /private-key at line 1, fingerprint sha256:[0-9a-f]{12}/);
  t.regex(section, /risky files {3}1 setuid, 1 with capabilities, 1 world-writable/);
  t.regex(section, /capability +\/usr\/bin\/pinger +cap_net_raw\+ep/);
});

test('the secret values appear in no output: text, JSON, SARIF, CI JSON, HTML, nor the cache', async (t) => {
  await imageReady;
  const cache = join(work, 'cache');
  const env = { STRATA_NO_CACHE: '', STRATA_CACHE_DIR: cache };
  const html = join(work, 'risky.html');
  const runs = await Promise.all([
    runStrata(['inspect', image], { env }),
    runStrata(['inspect', '--json', image], { env }),
    runStrata(['inspect', image, '--html', html], { env }),
    runStrata(['ci', image, '--forbid-secrets', '--format', 'sarif'], { env }),
    runStrata(['ci', image, '--forbid-secrets', '--format', 'json'], { env }),
    runStrata(['ci', image, '--forbid-secrets', '--format', 'markdown'], { env }),
  ]);
  const outputs = runs.map((r) => r.stdout + r.stderr);
  outputs.push(readFileSync(html, 'utf8'));
  const cached = files(cache);
  t.true(cached.length >= 4, 'layer records and reports were cached');
  outputs.push(...cached.map((f) => readFileSync(f).toString('latin1')));
  t.true(outputs[1].includes('/root/.ssh/id_rsa') && outputs[3].includes('id_rsa'), 'the findings are there');
  for (const s of SECRETS) for (const [i, o] of outputs.entries()) t.false(o.includes(s), `output ${i} holds a secret`);
  // the key's first line, and any 20 characters of it, are nowhere either
  for (const o of outputs) t.false(o.includes(keyBody.slice(10, 30)));
});

function files(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).map((n) => join(root, n)).filter((p) => statSync(p).isFile());
}

test('.strata.yml secrets: allow paths, own patterns and names, a larger content limit, rules switched off', async (t) => {
  const cwd = mkdtempSync(join(work, 'cfg-'));
  writeFileSync(join(cwd, '.strata.yml'), [
    'secrets:',
    '  contentLimit: 128KiB',
    '  disable: [shell-history]',
    '  allow: ["/app/.env", "/root/.docker/**"]',
    '  patterns:',
    '    - id: deploy-comment',
    '      regex: "^// (deploy)$"',
    '  paths:',
    '    - id: passwd-file',
    '      paths: ["/etc/passwd"]',
  ].join('\n'));
  const cache = join(work, 'cache-cfg');
  const env = { STRATA_NO_CACHE: '', STRATA_CACHE_DIR: cache };
  // the layer cache is filled under the default settings first: other settings must not reuse it
  await inspectJson([], env);
  const { risks } = await inspectJson([], env, cwd);
  t.deepEqual(risks.secrets.map((s) => [s.path, s.rule]), [
    ['/app/big.txt', 'github-token'],
    ['/app/config.js', 'aws-access-key-id'],
    ['/etc/passwd', 'passwd-file'],
    ['/root/.npmrc', 'npm-token'],
    ['/root/.ssh/id_rsa', 'ssh-key-file'],
  ]);
  t.deepEqual(risks.secrets[1].matches.map((m) => m.rule), ['aws-access-key-id', 'aws-secret-access-key', 'deploy-comment']);
  // and back: the default settings' answer is still the default one
  t.is((await inspectJson([], env)).risks.secrets.length, 6);
});

test('.strata.yml secrets: contentLimit 0 reads no content; the name rules still apply', async (t) => {
  const cwd = mkdtempSync(join(work, 'names-'));
  writeFileSync(join(cwd, '.strata.yml'), 'secrets:\n  contentLimit: 0\n');
  const { risks } = await inspectJson([], {}, cwd);
  t.deepEqual(risks.secrets.map((s) => [s.path, s.rule, s.matches.length]), [['/root/.bash_history', 'shell-history', 0], ['/root/.ssh/id_rsa', 'ssh-key-file', 0]]);
});

test('.strata.yml secrets: mistakes are one line naming the key, exit 2', async (t) => {
  const cases: [string, RegExp][] = [
    ['secrets:\n  patterns:\n    - id: bad\n      regex: "a("', /secrets\.patterns\[0\]\.regex: bad regular expression/],
    ['secrets:\n  contentLimit: 2MiB', /secrets\.contentLimit: at most 1MiB/],
    ['secrets:\n  disable: [nope]', /secrets\.disable\[0\]: expected a built-in rule id/],
    ['secrets:\n  paths:\n    - id: private-key\n      paths: [x]', /secrets\.paths\[0\]\.id: "private-key" is already a rule id/],
    ['secrets:\n  alow: []', /secrets\.alow: unknown key/],
  ];
  await imageReady;
  for (const [text, message] of cases) {
    const cwd = mkdtempSync(join(work, 'bad-'));
    writeFileSync(join(cwd, '.strata.yml'), text);
    const r = await runStrata(['inspect', image], { cwd });
    t.is(r.code, 2, text);
    t.regex(r.stderr, message);
    t.is(r.stderr.trim().split('\n').length, 1);
  }
});

test('ci: forbid-secrets fails on hidden secrets too, forbid-setuid, forbid-world-writable, forbid-root-user; warn and off', async (t) => {
  await imageReady;
  const ci = async (args: string[], yml?: string) => {
    const cwd = mkdtempSync(join(work, 'ci-'));
    if (yml) writeFileSync(join(cwd, '.strata.yml'), yml);
    const r = await runStrata(['ci', image, '--format', 'json', ...args], { cwd });
    return { code: r.code, report: r.stdout ? (JSON.parse(r.stdout) as CiReport) : null, stderr: r.stderr };
  };
  const all = await ci(['--forbid-secrets', '--forbid-setuid', '--forbid-world-writable', '--forbid-root-user']);
  t.is(all.code, 1);
  t.deepEqual(all.report!.rules.map((r) => [r.rule, r.status, r.measured]), [
    ['forbid-secrets', 'fail', 6],
    ['forbid-setuid', 'fail', 2],
    ['forbid-world-writable', 'fail', 1],
    ['forbid-root-user', 'fail', 1],
  ]);
  t.regex(all.report!.rules[0].message, /6 secrets in the layers \(1 hidden by a later layer but still stored\)/);
  // the offenders: the hidden key first (everyone believes it gone), then the other secrets, then the files
  t.deepEqual(all.report!.offenders.map((o) => o.category), ['secret', 'secret', 'secret', 'secret', 'secret']);
  t.is(all.report!.offenders[0].files[0].path, '/root/.ssh/id_rsa');
  // the config names the rule with no value: on
  const named = await ci([], 'rules:\n  forbid-secrets:\n');
  t.is(named.code, 1);
  t.is(named.report!.rules[0].status, 'fail');
  // only the hidden key left (the rest allowed): it still fails
  const hiddenOnly = await ci([], 'rules:\n  forbid-secrets: true\nsecrets:\n  allow: ["/app/**", "/root/.npmrc", "/root/.docker/**", "/root/.bash_history"]\n');
  t.is(hiddenOnly.code, 1);
  t.deepEqual(hiddenOnly.report!.offenders.map((o) => o.title), ['SSH private key file: /root/.ssh/id_rsa (hidden by layer 2, still stored)']);
  const warned = await ci([], 'rules:\n  forbid-secrets: {level: warn}\n  forbid-root-user: warn\n');
  t.is(warned.code, 0);
  t.deepEqual(warned.report!.rules.map((r) => r.status), ['warn', 'warn']);
  const off = await ci(['--no-forbid-secrets', '--max-layers', '10'], 'rules:\n  forbid-secrets: true\n');
  t.is(off.code, 0);
  t.deepEqual(off.report!.rules.map((r) => r.rule), ['max-layers']);
  const bad = await ci([], 'rules:\n  forbid-secrets: 3\n');
  t.is(bad.code, 2);
  t.regex(bad.stderr, /rules\.forbid-secrets: expected true \(or nothing\), warn or off/);
});

test('ci --format sarif: valid SARIF 2.1.0, one result per finding located in its layer', async (t) => {
  await imageReady;
  const r = await runStrata(['ci', image, '--forbid-secrets', '--forbid-root-user', '--max-layers', '2', '--format', 'sarif']);
  t.is(r.code, 1, r.stderr);
  const log = JSON.parse(r.stdout);
  const { validateSarif } = await import('./helpers/sarif-schema.js');
  t.deepEqual(validateSarif(log), []);
  const results = log.runs[0].results as { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }[] }[];
  t.is(results.length, 6 + 3 + 1 + 1); // secrets, risky files, root user, the failed max-layers
  const at = (id: string) => results.find((x) => x.ruleId === id)!;
  t.is(at('secret/ssh-key-file').level, 'error');
  t.is(at('secret/ssh-key-file').locations[0].physicalLocation.artifactLocation.uri, 'layers/1/root/.ssh/id_rsa');
  t.is(at('secret/ssh-key-file').locations[0].physicalLocation.region?.startLine, 1);
  t.is(at('secret/aws-access-key-id').locations[0].physicalLocation.region?.startLine, 2);
  t.is(at('capability').level, 'note', 'forbid-setuid not checked: a note');
  t.is(at('root-user').level, 'error');
  t.is(at('gate/max-layers').level, 'error');
  const ids = new Set((log.runs[0].tool.driver.rules as { id: string }[]).map((x) => x.id));
  for (const x of results) t.true(ids.has(x.ruleId), `${x.ruleId} is described`);
  // the extension names the format too
  const out = join(work, 'report.sarif');
  const f = await runStrata(['ci', image, '--forbid-setuid', '--output', out]);
  t.is(f.code, 1);
  t.deepEqual(validateSarif(JSON.parse(readFileSync(out, 'utf8'))), []);
});

test('html report: a risks table with the hidden key and the risky files, no secret value', async (t) => {
  await imageReady;
  const html = join(work, 'page.html');
  const r = await runStrata(['inspect', image, '--html', html]);
  t.is(r.code, 0, r.stderr);
  const page = readFileSync(html, 'utf8');
  const data = JSON.parse(/<script id="strata-data" type="application\/json">(.*?)<\/script>/s.exec(page)![1].replace(/\\u003c/g, '<'));
  t.is(data.risks.secrets.length, 6);
  t.is(data.risks.files.length, 3);
  t.true(page.includes('id="risks-section"'));
});

test('secrets in the image config (ENV, a RUN line, a label, CMD): found, and masked wherever strata prints them', async (t) => {
  const pick = (n: number) => [...randomBytes(n)].map((b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[b % 62]).join('');
  const gh = `ghp_${pick(36)}`, npm = `npm_${pick(36)}`, db = pick(20), slack = `xoxb-1234567890-${pick(24)}`;
  const configImage = join(work, 'config-secrets.oci.tar');
  await writeOciArchive(configImage, {
    images: [{
      layers: [{ entries: [dir('app'), file('app/run.sh', 'echo hi\n')] }, { entries: [file('app/x', 'x')] }],
      history: [
        { created_by: '/bin/sh -c #(nop) COPY file:run in /app' },
        { created_by: `/bin/sh -c #(nop) ENV GITHUB_TOKEN=${gh}`, empty_layer: true },
        { created_by: `RUN |1 NPM_TOKEN=${npm} /bin/sh -c npm ci` },
      ],
      config: { config: { Env: ['PATH=/usr/bin', `GITHUB_TOKEN=${gh}`, `DB_PASSWORD=${db}`], Labels: { 'ci.token': slack }, Cmd: ['app', `--token=${gh}`], User: '1000' } },
    }],
  });
  const r = await runStrata(['inspect', '--json', configImage]);
  t.is(r.code, 0, r.stderr);
  const { risks, image, layers } = JSON.parse(r.stdout) as InspectReport;
  t.deepEqual(risks.config.map((c) => [c.field, c.layer, c.rule]), [
    ['ENV GITHUB_TOKEN', null, 'github-token'],
    ['ENV DB_PASSWORD', null, 'env-credential'],
    ['LABEL ci.token', null, 'slack-token'],
    ['CMD', null, 'github-token'],
    ['history 1: ENV', null, 'github-token'],
    ['history 2: RUN (layer 1)', 1, 'npm-token'],
  ]);
  // the same token in ENV, CMD and the history: one fingerprint
  t.is(new Set(risks.config.filter((c) => c.rule === 'github-token').map((c) => c.fingerprint)).size, 1);
  t.regex(image.config.env[1], /^GITHUB_TOKEN=‹secret sha256:[0-9a-f]{12}›$/);
  t.is(image.config.env[0], 'PATH=/usr/bin');
  t.regex(layers[1].createdBy!, /^RUN \|1 NPM_TOKEN=‹secret sha256:[0-9a-f]{12}› \/bin\/sh -c npm ci$/);
  const tiny = fixture('tiny-commit.docker.tar');
  const runs = await Promise.all([
    runStrata(['inspect', configImage]),
    runStrata(['ci', configImage, '--forbid-secrets', '--format', 'sarif']),
    runStrata(['ci', configImage, '--forbid-secrets', '--format', 'json']),
    runStrata(['ci', configImage, '--forbid-secrets']),
    runStrata(['diff', tiny, configImage]),
    runStrata(['diff', tiny, configImage, '--json']),
    runStrata(['inspect', configImage, '--html', join(work, 'config.html')]),
  ]);
  const ci = JSON.parse(runs[2].stdout) as CiReport;
  t.is(runs[3].code, 1);
  t.regex(ci.rules[0].message, /6 secrets in the config/);
  t.regex(runs[0].stdout, /config {8}6 secrets in the image config/);
  t.regex(runs[4].stdout, /GITHUB_TOKEN/, 'the diff names the variable');
  const outputs = [r.stdout, ...runs.map((x) => x.stdout + x.stderr), readFileSync(join(work, 'config.html'), 'utf8')];
  for (const secret of [gh, npm, db, slack]) for (const [i, o] of outputs.entries()) t.false(o.includes(secret), `output ${i}`);
});
