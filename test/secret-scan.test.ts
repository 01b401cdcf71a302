/**
 * The content scan and the risk analysis on their own: shapes found and placeholders not, a file
 * split across chunks, binaries skipped, capabilities decoded; and no false positives on the real
 * fixtures (busybox) nor on a stock Debian base made of the files this machine's Debian packages of
 * priority required and important installed.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SecretScanner, defaultContentScan } from '../src/scan/secret-scan.js';
import { scanLayer } from '../src/scan/scan-layer.js';
import { capabilityText } from '../src/analyze/risks/capabilities.js';
import { inspectReport } from '../src/analyze/report.js';
import { FIXTURE_FILES, loadFixture } from './helpers/fixtures.js';
import { modelOf } from './helpers/model.js';
import { dir, file, tar } from './helpers/tar-writer.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('setcap', 'getcap', 'python3');

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const pick = (n: number) => [...randomBytes(n)].map((b) => ALNUM[b % ALNUM.length]).join('');
const scanner = new SecretScanner(defaultContentScan());
const rules = (path: string, text: string | Buffer) => scanner.scan(path, Buffer.from(text)).map((h) => `${h.rule}@${h.line}`);

test('token shapes are found with their line; documentation examples, placeholders and references are not', (t) => {
  t.deepEqual(rules('app/x.py', `a\nb\ntoken = "ghp_${pick(36)}"\n`), ['github-token@3']);
  t.deepEqual(rules('app/x.py', `glpat-${pick(20)} xoxb-123456789-${pick(24)}`), ['gitlab-token@1', 'slack-token@1']);
  t.deepEqual(rules('app/x.py', 'key = "AKIAIOSFODNN7EXAMPLE"\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n'), []);
  t.deepEqual(rules('usr/share/doc/x', '-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n'), [], 'a header alone');
  t.deepEqual(rules('root/.npmrc', '//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n'), []);
  t.deepEqual(rules('root/.npmrc', `; _authToken=${pick(30)}\n`), [], 'a comment');
  t.deepEqual(rules('srv/.env', 'PASSWORD=changeme\nSECRET_KEY=<your key>\nTOKEN=$TOKEN\n'), []);
  t.deepEqual(rules('srv/.env.example', `PASSWORD=${pick(16)}\n`), [], 'a sample');
  t.deepEqual(rules('srv/.env.production', `export DB_PASSWORD="${pick(16)}"\nDEBUG=1\n`), ['env-credential@1']);
  t.deepEqual(rules('srv/notes.env', `DB_PASSWORD=${pick(16)}\n`), [], 'only .env files are read as env files');
  t.deepEqual(rules('root/.git-credentials', `https://bob:${pick(20)}@github.com\n`), ['git-credentials@1']);
  t.deepEqual(rules('root/.netrc', `machine h login bob password ${pick(12)}\n`), ['netrc-password@1']);
  const bin = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0]), Buffer.from(`ghp_${pick(36)}`)]);
  t.deepEqual(rules('usr/bin/tool', bin), [], 'binaries are skipped');
});

test('the same value has the same fingerprint in any file; another value another one', (t) => {
  const v = `ghp_${pick(36)}`;
  const [a] = scanner.scan('a', Buffer.from(`x=${v}`));
  const [b] = scanner.scan('b/c', Buffer.from(`\n\n${v}\n`));
  const [c] = scanner.scan('a', Buffer.from(`x=ghp_${pick(36)}`));
  t.is(a.fingerprint, b.fingerprint);
  t.not(a.fingerprint, c.fingerprint);
  t.false(a.fingerprint.includes(v.slice(4, 10)));
});

test('a file split across many chunks is matched whole; files above the limit are not read', async (t) => {
  const token = `ghp_${pick(36)}`;
  const layer = tar([dir('app'), file('app/a.txt', `${'line\n'.repeat(500)}${token}\n`), file('app/big.txt', `${'y'.repeat(70_000)}\n${token}\n`)]);
  async function* chunks() {
    for (let i = 0; i < layer.length; i += 97) yield layer.subarray(i, i + 97);
  }
  const r = (await scanLayer(chunks())).records;
  t.deepEqual(Object.entries(r.secrets).map(([row, hits]) => [r.path[Number(row)], hits.map((h) => `${h.rule}@${h.line}`)]), [['app/a.txt', ['github-token@501']]]);
  const wide = (await scanLayer(chunks(), { secrets: { ...defaultContentScan(), contentLimit: 128 * 1024 } })).records;
  t.deepEqual(Object.values(wide.secrets).map((h) => h[0].line), [501, 2]);
});

test('capabilities are written as getcap writes them', (t) => {
  const caps = (magic: number, words: [number, number][]) => {
    const b = Buffer.alloc(4 + words.length * 8);
    b.writeUInt32LE(magic, 0);
    words.forEach(([p, i], n) => {
      b.writeUInt32LE(p, 4 + n * 8);
      b.writeUInt32LE(i, 8 + n * 8);
    });
    return capabilityText(b);
  };
  t.is(caps(0x02000001, [[1 << 13, 0], [0, 0]]), 'cap_net_raw+ep');
  t.is(caps(0x02000000, [[(1 << 10) | (1 << 12), 0], [0, 0]]), 'cap_net_bind_service,cap_net_admin+p');
  t.is(caps(0x02000001, [[1 << 21, 1 << 21], [1 << 6, 0]]), 'cap_sys_admin+eip cap_perfmon+ep');
  t.is(caps(0x01000001, [[1, 0]]), 'cap_chown+ep');
  t.is(capabilityText(Buffer.from([1, 2])), null);
  const v3 = Buffer.alloc(24);
  v3.writeUInt32LE(0x03000001, 0);
  v3.writeUInt32LE(1 << 13, 4);
  t.is(capabilityText(v3), 'cap_net_raw+ep');
});

test('capabilities decoded as getcap reads what setcap wrote (libcap 2.66 writes the first "+" as "=")', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-caps-'));
  try {
    const f = join(dir, 'prog');
    writeFileSync(f, 'x');
    for (const text of ['cap_net_raw+ep', 'cap_net_bind_service,cap_net_admin+p', 'cap_sys_admin+eip cap_perfmon+ep', 'cap_bpf,cap_checkpoint_restore+eip', 'cap_chown,cap_dac_override,cap_fowner+ip cap_kill+p']) {
      execFileSync('setcap', [text, f]);
      const raw = execFileSync('python3', ['-c', 'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], "security.capability").hex())', f], { encoding: 'utf8' });
      const getcap = execFileSync('getcap', [f], { encoding: 'utf8' }).trim().slice(f.length + 1);
      t.is(capabilityText(Buffer.from(raw, 'hex')), getcap.replace('=', '+'), text);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const name of FIXTURE_FILES) {
  test(`no secret and no risky file in the busybox fixture ${name}`, async (t) => {
    const { risks } = inspectReport(await loadFixture(name));
    t.deepEqual(risks.secrets, []);
    t.deepEqual(risks.files, []);
  });
}

test('a stock Debian base (the files of the required and important packages here) reports no secret, and its setuid programs are the base', async (t) => {
  const packages = execFileSync('dpkg-query', ['-W', '-f=${Package}\t${Priority}\n'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /\t(required|important)$/.test(l))
    .map((l) => l.split('\t')[0]);
  const listed = execFileSync('dpkg', ['-L', ...packages], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n');
  const files = [...new Set(listed)].filter((p) => p.startsWith('/') && isFile(p)).map((p) => p.slice(1));
  t.true(files.length > 3000, `${files.length} files`);
  const base = execFileSync('tar', ['-C', '/', '--no-recursion', '-cf', '-', '-T', '-'], { input: files.join('\n'), maxBuffer: 1 << 30 });
  const model = await modelOf([{ tar: base, createdBy: '/bin/sh -c #(nop) ADD file:debian in /' }, [dir('app'), file('app/main.sh', 'echo hi\n', { mode: 0o755 })]], {
    history: [{ created_by: '/bin/sh -c #(nop) ADD file:debian in /' }, { created_by: '/bin/sh -c #(nop) CMD ["bash"]', empty_layer: true }, { created_by: '/bin/sh -c #(nop) COPY file:main in /app' }],
  });
  const { risks } = inspectReport(model);
  t.deepEqual(risks.secrets, []);
  t.deepEqual(risks.files, []);
  t.true(model.union.layers[0].count === files.length);
  // the base does hold setuid programs (su, passwd…): a one-layer image of it reports them as its own
  const alone = inspectReport(await modelOf([{ tar: base }]));
  t.true(alone.risks.counts.setuid > 0);
  t.deepEqual(alone.risks.secrets, []);
});

function isFile(p: string): boolean {
  try {
    return lstatSync(p).isFile();
  } catch {
    return false;
  }
}
