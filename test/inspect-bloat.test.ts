import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dir, file, writeOciLayout } from './helpers/bloat-images.js';

const bin = resolve('bin/strata.js');
const fixture = (name: string) => resolve('testdata', name);

function strata(args: string[], cwd = process.cwd()): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile('node', [bin, ...args], { cwd, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('inspect prints efficiency, waste, bloat, findings and a verdict after the layer table', async (t) => {
  const r = await strata(['inspect', fixture('tiny-dockerfile.docker.tar')]);
  t.is(r.code, 0, r.stderr);
  const out = r.stdout;
  const at = (s: string) => {
    const i = out.indexOf(s);
    t.true(i >= 0, `missing: ${s}`);
    return i;
  };
  const order = [
    at('Layers (8)'),
    at('Efficiency\n'),
    at('  efficiency    73.0% (final view 2.9 MB of 3.9 MB stored in layers)'),
    at('  dive score    80.6%'),
    at('  wasted        1.1 MB (deleted 650 kB, overwritten 30 B, metadata-copy 405 kB)'),
    at('Bloat in the final image\n'),
    at('Findings (6, largest first)'),
    at('   1.  650 kB  deleted: layer 3 deleted /tmp/build, /var/cache/pkg/index.db'),
    at('   2.  405 kB  metadata-copy: layer 4 stored 2 files of layer 2 again'),
    at('Verdict: bloated: 1.5 MB (38.9% of the stored bytes) could go'),
  ];
  t.deepEqual(order, [...order].sort((a, b) => a - b));
  t.regex(out, /\n {2}log {8}58\.9 kB {2}1 file\n/);
  t.regex(out, /\n {2}duplicate {3}405 kB {2}2 files\n/);
  t.regex(out, /hidden by {2}layer 4: RUN chmod -R 0755 \/app && chown -R 1000:1000 \/app/);
  t.regex(out, /fix {8}RUN chmod -R \/ chown -R in a later layer stores every file again/);
});

test('inspect --top and --category narrow the list, not the totals', async (t) => {
  const r = await strata(['inspect', fixture('tiny-dockerfile.docker.tar'), '--top', '1', '--category', 'deleted', '--category', 'log']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /Findings \(1 of 6, largest first; --top \/ --category\)/);
  t.regex(r.stdout, / {3}1\. {2}650 kB {2}deleted:/);
  t.notRegex(r.stdout, / {3}2\. /);
  t.regex(r.stdout, /wasted {8}1\.1 MB/);
});

test('inspect options may come before the image; an image without waste says so', async (t) => {
  const r = await strata(['inspect', '--category', 'temp', '--category', 'log', fixture('tiny-commit.docker.tar')]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /Findings \(2 of 4, largest first; --top \/ --category\)/);
  t.regex(r.stdout, /\n {2}wasted {8}0 B \(every stored byte is visible in the image\)\n/);
  t.regex(r.stdout, /\n {2}efficiency {4}100\.0% /);
  t.regex(r.stdout, /Verdict: bloated: 709 kB \(22\.9% of the stored bytes\) could go: 0 B wasted, 709 kB bloat; start with layer 1 \(temp, 250 kB\)\./);
});

test('inspect --json carries every finding and the totals under summary', async (t) => {
  const r = await strata(['inspect', fixture('tiny-overlay.oci.tar'), '--json']);
  t.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.is(j.summary.wastedBytes, 1460584);
  t.is(j.summary.efficiency, 2446476 / 3907060);
  t.is(typeof j.summary.diveEfficiency, 'number');
  t.deepEqual(j.summary.waste, { deleted: 650008, overwritten: 30, 'metadata-copy': 810546 });
  t.is(j.summary.bloat.log, 58893);
  t.is(j.summary.bloatBytes, 58893);
  t.is(j.summary.verdict, 'bloated');
  t.is(j.findings.length, 6);
  t.is(j.summary.findingCount, 6);
  t.deepEqual(Object.keys(j.findings[0]), ['category', 'kind', 'bytes', 'files', 'layer', 'instruction', 'removedBy', 'removedByInstruction', 'rule', 'title', 'remedy', 'items']);
  const top = JSON.parse((await strata(['inspect', fixture('tiny-overlay.oci.tar'), '--json', '--top', '2'])).stdout);
  t.is(top.findings.length, 2);
  t.deepEqual(top.summary, j.summary);
});

test('inspect refuses an unknown category; every whole-number option refuses what is not one (--top, --layer, --content-limit)', async (t) => {
  const bad = await strata(['inspect', fixture('tiny-commit.docker.tar'), '--category', 'nope']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^strata: --category: unknown category "nope" \(known: deleted, overwritten, metadata-copy, temp, log, cache, vcs, build, history, core-dump, toolchain, docs, duplicate, commit-build\)\n$/);
  const top = await strata(['inspect', fixture('tiny-commit.docker.tar'), '--top', '-1']);
  t.is(top.code, 2);
  t.is(top.stderr, 'strata: --top: "-1" is not a whole number >= 0\n');
  for (const [args, message] of [
    [['inspect', '--top', 'abc'], '--top: "abc" is not a whole number >= 0'],
    [['inspect', '--top', '1.5'], '--top: "1.5" is not a whole number >= 0'],
    [['ci', '--top', 'x'], '--top: "x" is not a whole number >= 0'],
    [['ls', '--layer', 'abc'], '--layer: "abc" is not a whole number'],
    [['ls', '--layer='], '--layer: "" is not a whole number'],
  ]) {
    const r = await strata([...args, fixture('tiny-commit.docker.tar')]);
    t.is(r.code, 2);
    t.is(r.stderr, `strata: ${message}\n`);
  }
  const limit = await strata(['diff', fixture('tiny-commit.docker.tar'), fixture('tiny-dockerfile.docker.tar'), '--content', '--content-limit', 'abc']);
  t.is(limit.code, 2);
  t.is(limit.stderr, 'strata: --content-limit: "abc" is not a whole number >= 0\n');
});

test('inspect reads .strata.yml from the working directory, or --config FILE', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'strata-bloat-cli-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const image = join(work, 'image');
  writeOciLayout(image, [{ entries: [dir('srv'), file('srv/reports/q1.csv', 4000), file('var/log/app.log', 100)] }]);
  const plain = await strata(['inspect', image, '--json'], work);
  t.deepEqual(JSON.parse(plain.stdout).findings.map((f: { category: string }) => f.category), ['log']);

  writeFileSync(join(work, '.strata.yml'), 'bloat:\n  rules:\n    - {id: reports, category: reports, paths: ["/srv/reports/**"], remedy: Write reports to a volume.}\n  disable: [log]\n');
  const custom = JSON.parse((await strata(['inspect', image, '--json'], work)).stdout);
  t.deepEqual(custom.findings.map((f: { category: string; bytes: number }) => [f.category, f.bytes]), [['reports', 4000]]);
  t.is(custom.summary.bloat.reports, 4000);
  const filtered = await strata(['inspect', image, '--category', 'reports'], work);
  t.is(filtered.code, 0, filtered.stderr);
  t.regex(filtered.stdout, /fix {8}Write reports to a volume\./);

  const broken = join(work, 'broken.yml');
  writeFileSync(broken, 'bloat:\n  rules:\n    - {id: x, category: c, paths: "/srv"}\n');
  const r = await strata(['inspect', image, '--config', broken], work);
  t.is(r.code, 2);
  t.is(r.stderr, `strata: ${broken}: bloat.rules[0].paths: expected a list\n`);
});
