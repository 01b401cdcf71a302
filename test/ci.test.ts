import test, { type ExecutionContext } from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { fixture, loadFixture, strataBin } from './helpers/fixtures.js';
import { file, writeOciLayout } from './helpers/bloat-images.js';
import { parseConfig } from '../src/commands/config-file.js';
import { checkRules, ciReport, evaluateGate, gateNeedsModel, type Baseline, type CiReport, type RuleResult } from '../src/analyze/gate/gate.js';
import { mergeRules, parseRuleFlags, type GateRule } from '../src/analyze/gate/rules.js';
import { diveDefaults, humanizeBytes, parseDiveCi } from '../src/analyze/gate/dive-ci.js';
import { planGate } from '../src/analyze/gate/plan.js';
import { inspectReport } from '../src/analyze/report.js';
import { renderCiJunit, renderCiMarkdown } from '../src/render/ci.js';
import { pairOutputs } from '../src/commands/ci.js';
import { StrataError } from '../src/util/errors.js';

const VFS = 'tiny-dockerfile.docker.tar'; // the Dockerfile build, plain tar layers (testdata/README.md)
const OVERLAY = 'tiny-overlay.oci.tar'; // the same recipe built by buildah, gzip layers
const COMMIT = 'tiny-commit.docker.tar'; // the docker-commit build: one fat layer

/** Layer sizes of the vfs build, from the recipe (testdata/README.md): busybox base, then 1..7. */
const BUNDLE = 405264;
const INDEX_JS = 18;
const CACHE_DB = 400000;
const OBJ_O = 250000;

/** Evaluate rules written as the config file's `rules:` section (YAML) on a fixture. */
async function gate(name: string, rulesYaml: string, opts: { baseline?: Baseline; bloat?: string } = {}) {
  const config = parseConfig(`${opts.bloat ?? ''}rules:\n${rulesYaml.replace(/^/gm, '  ')}\n`, '.strata.yml');
  const model = await loadFixture(name);
  const report = inspectReport(model, { bloat: config.bloat });
  const rules = mergeRules(config.rules, {});
  checkRules(rules, config.bloat);
  const input = { report, model, bloat: config.bloat, baseline: opts.baseline ?? null };
  return ciReport(input, evaluateGate(input, rules));
}

async function one(t: ExecutionContext, name: string, rule: string, expected: { status: RuleResult['status']; measured: number | null }, opts = {}): Promise<RuleResult> {
  const r = await gate(name, rule, opts);
  t.is(r.rules.length, 1);
  const x = r.rules[0];
  t.is(x.status, expected.status, `${rule}: ${x.message}`);
  t.is(x.measured, expected.measured, rule);
  return x;
}

test('max-uncompressed-size, max-final-size: equal passes, one byte less fails', async (t) => {
  const model = await loadFixture(VFS);
  const uncompressed = model.layers.reduce((n, l) => n + l.size, 0);
  t.is(uncompressed, 3907060);
  await one(t, VFS, `max-uncompressed-size: ${uncompressed}`, { status: 'pass', measured: 3907060 });
  await one(t, VFS, `max-uncompressed-size: ${uncompressed - 1}`, { status: 'fail', measured: 3907060 });
  await one(t, VFS, 'max-uncompressed-size: 3.9MB', { status: 'fail', measured: 3907060 });
  await one(t, VFS, 'max-uncompressed-size: 3.8MiB', { status: 'pass', measured: 3907060 }); // 3984588 B
  // final view: everything but the deleted and re-stored copies; the split hardlink is a second inode.
  const final = uncompressed - (CACHE_DB + OBJ_O + 8) - (BUNDLE + INDEX_JS) - 30;
  t.is(final, 2851740);
  await one(t, VFS, `max-final-size: ${final}`, { status: 'pass', measured: final });
  const f = await one(t, VFS, 'max-final-size: 2.5MB', { status: 'fail', measured: final });
  t.is(f.message, 'final view 2.9 MB (2851740 B), limit at most 2.5 MB (2500000 B)');
});

test('max-compressed-size: gzip layers are measured; plain tars cannot be (error, or a warning at warn level)', async (t) => {
  const model = await loadFixture(OVERLAY);
  const compressed = model.layers.reduce((n, l) => n + l.compressedSize!, 0);
  t.is(compressed, 2913233);
  await one(t, OVERLAY, 'max-compressed-size: 2913233', { status: 'pass', measured: compressed });
  await one(t, OVERLAY, 'max-compressed-size: 2913232', { status: 'fail', measured: compressed });
  const e = await one(t, VFS, 'max-compressed-size: 10MB', { status: 'error', measured: null });
  t.regex(e.message, /stores its layers uncompressed/);
  const r = await gate(VFS, 'max-compressed-size: 10MB');
  t.is(r.exitCode, 2);
  t.is(r.verdict, 'error');
  await one(t, VFS, 'max-compressed-size: {warn: 10MB}', { status: 'warn', measured: null });
});

test('max-wasted-bytes, max-wasted-percent, min-efficiency on the vfs build', async (t) => {
  // deleted: index.db + obj.o (layer 3) + two 4-byte confs (layer 6); overwritten: /etc/passwd; metadata copy: /app (layer 4)
  const wasted = CACHE_DB + OBJ_O + 8 + 30 + BUNDLE + INDEX_JS;
  t.is(wasted, 1055320);
  await one(t, VFS, `max-wasted-bytes: ${wasted}`, { status: 'pass', measured: wasted });
  const w = await one(t, VFS, 'max-wasted-bytes: 1MB', { status: 'fail', measured: wasted });
  t.deepEqual(w.offenders.map((o) => [o.category, o.bytes, o.layer]), [['deleted', CACHE_DB + OBJ_O, 1], ['metadata-copy', BUNDLE + INDEX_JS, 2], ['overwritten', 30, 0], ['deleted', 8, 5]]);
  t.deepEqual(w.offenders[0].files, [{ path: '/var/cache/pkg/index.db', bytes: CACHE_DB }, { path: '/tmp/build/obj.o', bytes: OBJ_O }]);
  t.is(w.offenders[0].removedBy, 3);
  t.is(w.offenders[0].instruction?.startsWith('RUN mkdir -p /var/cache/pkg'), true);
  t.regex(w.offenders[0].remedy!, /Remove them in the same RUN/);
  await one(t, VFS, 'max-wasted-percent: 27.02%', { status: 'pass', measured: wasted / 3907060 }); // 27.011%
  await one(t, VFS, 'max-wasted-percent: 0.2702', { status: 'pass', measured: wasted / 3907060 });
  await one(t, VFS, 'max-wasted-percent: 27%', { status: 'fail', measured: wasted / 3907060 });
  await one(t, VFS, 'min-efficiency: 72.98%', { status: 'pass', measured: 2851740 / 3907060 }); // 72.989%
  await one(t, VFS, 'min-efficiency: 0.73', { status: 'fail', measured: 2851740 / 3907060 });
  await one(t, COMMIT, 'min-efficiency: 100%', { status: 'pass', measured: 1 });
});

test('forbid-categories: categories and rule ids, in the final image', async (t) => {
  const log = await one(t, VFS, 'forbid-categories: [log]', { status: 'fail', measured: 58893 });
  t.is(log.message, '1 file, 58.9 kB (58893 B), matching log');
  t.deepEqual(log.offenders[0].files, [{ path: '/var/log/app/build.log', bytes: 58893 }]);
  await one(t, VFS, 'forbid-categories: [vcs, cache, temp]', { status: 'pass', measured: 0 });
  // the commit build keeps its cache and temp files: forbid one rule id only (var-cache), as a warning
  const warn = await one(t, COMMIT, 'forbid-categories: {warn: [var-cache]}', { status: 'warn', measured: CACHE_DB });
  t.is(warn.message, '1 file, 400 kB (400000 B), matching var-cache (warning)');
  await one(t, COMMIT, 'forbid-categories: {fail: [vcs], warn: [temp]}', { status: 'warn', measured: OBJ_O });
  const both = await one(t, COMMIT, 'forbid-categories: {fail: [temp], warn: [cache]}', { status: 'fail', measured: OBJ_O });
  t.is(both.message, '1 file, 250 kB (250000 B), matching temp; 1 file, 400 kB (400000 B), matching cache (warning)');
  t.deepEqual(both.offenders.map((o) => o.category), ['temp', 'cache']);
  const err = await t.throwsAsync(gate(VFS, 'forbid-categories: [logs-and-more]'));
  t.regex(err!.message, /^\.strata\.yml: rules\.forbid-categories: unknown category or rule "logs-and-more" \(categories: deleted, overwritten/);
  // a custom category of the config is known
  await one(t, VFS, 'forbid-categories: [js]', { status: 'fail', measured: BUNDLE + INDEX_JS + BUNDLE }, { bloat: 'bloat:\n  rules:\n    - {id: app-js, category: js, paths: ["/app/*.js"]}\n' });
});

test('forbid-paths: globs over the final view, grouped by the layer that set the paths', async (t) => {
  const app = await one(t, VFS, 'forbid-paths: ["/app/**"]', { status: 'fail', measured: BUNDLE + INDEX_JS + BUNDLE });
  t.is(app.message, '3 paths, 811 kB (810546 B), matching /app/**');
  t.deepEqual(app.offenders.map((o) => [o.layer, o.fileCount, o.bytes]), [[4, 2, BUNDLE + INDEX_JS], [7, 1, BUNDLE]]);
  t.regex(app.offenders[1].instruction!, /ln \/app\/bundle\.js \/app\/bundle-hardlink\.js/);
  await one(t, VFS, 'forbid-paths: ["**/.git/**", "*.pem"]', { status: 'pass', measured: 0 });
  // a glob naming a directory covers what is beneath it, as diff --ignore does
  const logs = await one(t, VFS, 'forbid-paths: ["/var/log"]', { status: 'fail', measured: 58893 });
  t.is(logs.message, '3 paths, 58.9 kB (58893 B), matching /var/log');
  t.deepEqual(logs.offenders.map((o) => [o.layer, o.fileCount, o.files[0]]), [[1, 3, { path: '/var/log/app/build.log', bytes: 58893 }]]);
  // the busybox applets are symlinks: counted as paths, 0 bytes
  const bin = await one(t, VFS, 'forbid-paths: {warn: ["/bin/ls"]}', { status: 'warn', measured: 0 });
  t.is(bin.message, '1 path, 0 B, matching /bin/ls (warning)');
});

test('max-layers and max-layer-size', async (t) => {
  await one(t, VFS, 'max-layers: 8', { status: 'pass', measured: 8 });
  await one(t, VFS, 'max-layers: 7', { status: 'fail', measured: 8 });
  await one(t, COMMIT, 'max-layers: 2', { status: 'pass', measured: 2 });
  const model = await loadFixture(VFS);
  const biggest = Math.max(...model.layers.map((l) => l.size));
  t.is(biggest, 1982296); // the busybox base layer
  await one(t, VFS, `max-layer-size: ${biggest}`, { status: 'pass', measured: biggest });
  const x = await one(t, VFS, 'max-layer-size: {limit: 1MB, level: warn}', { status: 'warn', measured: biggest });
  t.deepEqual(x.offenders.slice(0, 2).map((o) => [o.layer, o.bytes]), [[0, biggest], [1, CACHE_DB + OBJ_O + 58893]]);
  t.deepEqual(x.offenders[1].files.map((f) => f.path), ['/var/cache/pkg/index.db', '/tmp/build/obj.o', '/var/log/app/build.log']);
});

test('growth rules against a baseline: bytes, percent, and the size they compare', async (t) => {
  const base = inspectReport(await loadFixture(COMMIT)).summary;
  const baseline: Baseline = { ref: 'commit', summary: { compressedSize: base.compressedSize, uncompressedSize: base.uncompressedSize, finalSize: base.finalSize }, packages: null };
  const growth = 3907060 - 3096471;
  t.is(growth, 810589);
  await one(t, VFS, `max-growth-bytes: ${growth}`, { status: 'pass', measured: growth }, { baseline });
  const g = await one(t, VFS, 'max-growth-bytes: 800kB', { status: 'fail', measured: growth }, { baseline });
  t.is(g.message, 'uncompressed growth (3.1 MB -> 3.9 MB against commit) 811 kB (810589 B), limit at most 800 kB (800000 B)');
  await one(t, VFS, 'max-growth-percent: {warn: 20%, fail: 30%}', { status: 'warn', measured: growth / 3096471 }, { baseline });
  // the final views: 2851740 against 3096471, the image shrank
  const shrank = await one(t, VFS, 'max-growth-bytes: {fail: 0, size: final}', { status: 'pass', measured: 2851740 - 3096471 }, { baseline });
  t.is(shrank.message, 'final growth (3.1 MB -> 2.9 MB against commit) -245 kB (-244731 B), limit at most 0 B');
  await one(t, VFS, 'max-growth-bytes: {fail: 1MB, size: compressed}', { status: 'error', measured: null }, { baseline });
  // without a baseline (a first run) growth rules are set aside with a note, the others checked
  const rules = mergeRules(parseConfig('rules:\n  max-growth-percent: 10%\n  max-layers: 30\n', '.strata.yml').rules, {});
  const first = planGate(rules, null, false);
  t.deepEqual(first.rules.map((r) => r.key), ['max-layers']);
  t.deepEqual(first.notes, ['.strata.yml: rules.max-growth-percent: skipped, no --baseline to compare with (give --baseline REF or a report.json)']);
  t.deepEqual(planGate(rules, null, true), { rules, diveRules: [], notes: [] });
});

test("no rules at all: dive's defaults (lowestEfficiency 0.9, highestUserWastedPercent 0.1, highestWastedBytes disabled), said in a note", (t) => {
  const plan = planGate([], null, false);
  t.deepEqual(plan.rules, []);
  t.deepEqual(plan.diveRules, [
    { key: 'lowestEfficiency', limit: 0.9, origin: '(dive default for lowestEfficiency)' },
    { key: 'highestUserWastedPercent', limit: 0.1, origin: '(dive default for highestUserWastedPercent)' },
  ]);
  t.deepEqual(plan.notes, ["no rules given (.strata.yml rules:, rule flags or .dive-ci): checking dive's defaults, lowestEfficiency 0.9, highestUserWastedPercent 0.1"]);
  t.deepEqual(plan.diveRules, diveDefaults());
  // a .dive-ci that disables every rule is a choice: no default comes back
  t.deepEqual(planGate([], parseDiveCi('rules:\n  lowestEfficiency: disabled\n  highestUserWastedPercent: disabled\n', '.dive-ci'), false), { rules: [], diveRules: [], notes: [] });
});

test('config: rule keys, sizes, percents and levels are validated with the key named', (t) => {
  const bad = (yaml: string, message: string) => {
    const e = t.throws(() => parseConfig(yaml, '.strata.yml'));
    t.true(e instanceof StrataError);
    t.is(e?.message, message);
  };
  bad('rules:\n  max-final-sise: 10MB\n', '.strata.yml: rules.max-final-sise: unknown rule (known: max-compressed-size, max-uncompressed-size, max-final-size, max-wasted-bytes, max-wasted-percent, min-efficiency, forbid-categories, forbid-paths, max-layers, max-layer-size, max-growth-bytes, max-growth-percent, forbid-secrets, forbid-setuid, forbid-world-writable, forbid-root-user, forbid-packages, max-package-size, max-package-growth)');
  bad('rules:\n  max-final-size: 10XB\n', '.strata.yml: rules.max-final-size: "10XB" is not a size (use bytes, or 10MB, 1.5GiB)');
  bad('rules:\n  max-final-size: -5\n', '.strata.yml: rules.max-final-size: -5 is not a size (use bytes, or 10MB, 1.5GiB)');
  bad('rules:\n  max-wasted-percent: 20\n', '.strata.yml: rules.max-wasted-percent: 20 is not a percent (write 20% or 0.2)');
  bad('rules:\n  min-efficiency: 120%\n', '.strata.yml: rules.min-efficiency: "120%" is above 100%');
  bad('rules:\n  max-wasted-percent: {warn: ten}\n', '.strata.yml: rules.max-wasted-percent.warn: "ten" is not a percent (write 20% or 0.2)');
  bad('rules:\n  max-layers: 2.5\n', '.strata.yml: rules.max-layers: 2.5 is not a whole number >= 0');
  bad('rules:\n  max-layers: {limit: 5, level: error}\n', '.strata.yml: rules.max-layers.level: expected fail or warn, got "error"');
  bad('rules:\n  max-layers: {limit: 5, warn: 4}\n', '.strata.yml: rules.max-layers: write either {limit, level} or {warn, fail}, not both');
  bad('rules:\n  max-layers: {warn: 9, fail: 5}\n', '.strata.yml: rules.max-layers: the warning limit must be reached before the failure limit (warn 9, fail 5)');
  bad('rules:\n  min-efficiency: {warn: 80%, fail: 90%}\n', '.strata.yml: rules.min-efficiency: the warning limit must be reached before the failure limit (warn 80%, fail 90%)');
  bad('rules:\n  max-layers: {max: 5}\n', '.strata.yml: rules.max-layers.max: unknown key (known: fail, warn, limit, level)');
  bad('rules:\n  max-final-size: {size: final, fail: 1}\n', '.strata.yml: rules.max-final-size.size: unknown key (known: fail, warn, limit, level)');
  bad('rules:\n  max-growth-bytes: {size: disk, fail: 1}\n', '.strata.yml: rules.max-growth-bytes.size: expected one of uncompressed, compressed, final');
  bad('rules:\n  forbid-paths: ["/var/log/"]\n', '.strata.yml: rules.forbid-paths[0]: bad glob: "/var/log/" ends with "/": write "/var/log/**" to match everything beneath a directory');
  bad('rules:\n  forbid-categories: [{a: 1}]\n', '.strata.yml: rules.forbid-categories[0]: expected a string');
  bad('rules: [max-layers]\n', '.strata.yml: rules: expected a mapping of rules (max-compressed-size, max-uncompressed-size, max-final-size, max-wasted-bytes, max-wasted-percent, min-efficiency, forbid-categories, forbid-paths, max-layers, max-layer-size, max-growth-bytes, max-growth-percent, forbid-secrets, forbid-setuid, forbid-world-writable, forbid-root-user, forbid-packages, max-package-size, max-package-growth)');
});

test('config: one .strata.yml serves every command: diff.ignore sits next to rules, and is checked', (t) => {
  const c = parseConfig('diff:\n  ignore: [/run, "*.pyc"]\nrules:\n  max-layers: 3\n', '.strata.yml');
  t.deepEqual(c.rules['max-layers'], { key: 'max-layers', origin: '.strata.yml: rules.max-layers', fail: 3 });
  t.notThrows(() => parseConfig('diff:\n  ignore: /run\n', '.strata.yml'));
  t.throws(() => parseConfig('diff:\n  ignor: [/run]\n', '.strata.yml'), { message: '.strata.yml: diff.ignor: unknown key (known: ignore)' });
  t.throws(() => parseConfig('diff:\n  ignore: ["/run/"]\n', '.strata.yml'), { message: /^\.strata\.yml: diff\.ignore\[0\]: bad glob: / });
});

test('config: the value forms, JSON as YAML, and off', (t) => {
  const c = parseConfig(
    JSON.stringify({ rules: { 'max-final-size': '1.5GiB', 'max-wasted-bytes': { warn: '10MB', fail: 20e6 }, 'min-efficiency': { limit: 0.9, level: 'warn' }, 'forbid-paths': '**/.git/**', 'max-layers': 'off' } }),
    'strata.json',
  );
  t.deepEqual(c.rules, {
    'max-final-size': { key: 'max-final-size', origin: 'strata.json: rules.max-final-size', fail: 1610612736 },
    'max-wasted-bytes': { key: 'max-wasted-bytes', origin: 'strata.json: rules.max-wasted-bytes', fail: 20000000, warn: 10000000 },
    'min-efficiency': { key: 'min-efficiency', origin: 'strata.json: rules.min-efficiency', warn: 0.9 },
    'forbid-paths': { key: 'forbid-paths', origin: 'strata.json: rules.forbid-paths', fail: ['**/.git/**'] },
    'max-layers': null,
  });
  t.deepEqual(mergeRules(c.rules, {}).map((r) => r.key), ['max-final-size', 'max-wasted-bytes', 'min-efficiency', 'forbid-paths']);
});

test('flags: same names, warn: prefix, repeatable lists, off cancels a config rule', (t) => {
  const fail = (key: string, msg: string): never => {
    throw new StrataError(`${key}: ${msg}`);
  };
  const flags = parseRuleFlags({ 'max-final-size': ['warn:80MB', '100MB'], 'forbid-paths': ['**/.git/**', 'warn:*.pem', '*.key'], 'max-layers': ['off'] }, fail);
  t.deepEqual(flags['max-final-size'], { key: 'max-final-size', origin: '--max-final-size', warn: 80e6, fail: 100e6 });
  t.deepEqual(flags['forbid-paths'], { key: 'forbid-paths', origin: '--forbid-paths', fail: ['**/.git/**', '*.key'], warn: ['*.pem'] });
  const config = parseConfig('rules:\n  max-layers: 5\n  max-final-size: 1GB\n  min-efficiency: 0.5\n', '.strata.yml').rules;
  const merged: GateRule[] = mergeRules(config, flags);
  t.deepEqual(merged.map((r) => [r.key, r.origin]), [['max-final-size', '--max-final-size'], ['min-efficiency', '.strata.yml: rules.min-efficiency'], ['forbid-paths', '--forbid-paths']]);
  t.throws(() => parseRuleFlags({ 'max-layers': ['3', '4'] }, fail), { message: '--max-layers: given twice as a failure limit' });
  t.throws(() => parseRuleFlags({ 'min-efficiency': ['90'] }, fail), { message: '--min-efficiency: "90" is not a percent (write 20% or 0.2)' });
  t.throws(() => parseRuleFlags({ 'max-final-size': ['warn:2MB', '1MB'] }, fail), { message: '--max-final-size: the warning limit must be reached before the failure limit (warn 2MB, fail 1MB)' });
  t.throws(() => parseRuleFlags({ 'max-layers': ['off', '3'] }, fail), { message: '--max-layers: "off" cannot be combined with limits' });
});

test('.dive-ci: read as dive reads it, evaluated on dive\'s numbers', async (t) => {
  const rules = parseDiveCi('rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n  highestUserWastedPercent: 0.20\n', '.dive-ci');
  t.deepEqual(rules, [
    { key: 'lowestEfficiency', limit: 0.95, origin: '.dive-ci: rules.lowestEfficiency' },
    { key: 'highestWastedBytes', limit: 20e6, origin: '.dive-ci: rules.highestWastedBytes' },
    { key: 'highestUserWastedPercent', limit: 0.2, origin: '.dive-ci: rules.highestUserWastedPercent' },
  ]);
  // dive's defaults for keys left out (0.9, disabled, 0.1); "disabled" switches a rule off
  t.deepEqual(parseDiveCi('rules:\n  highestUserWastedPercent: disabled\n', '.dive-ci'), [{ key: 'lowestEfficiency', limit: 0.9, origin: '(dive default for lowestEfficiency)' }]);
  t.throws(() => parseDiveCi('rules:\n  lowestEfficency: 0.9\n', '.dive-ci'), { message: '.dive-ci: rules.lowestEfficency: unknown rule (dive knows lowestEfficiency, highestWastedBytes, highestUserWastedPercent)' });
  t.throws(() => parseDiveCi('rules:\n  lowestEfficiency: 95\n', '.dive-ci'), { message: '.dive-ci: rules.lowestEfficiency: 95 is outside the allowed range 0-1 (dive reads a ratio: 0.9 for 90%)' });
  t.throws(() => parseDiveCi('rules:\n  highestWastedBytes: lots\n', '.dive-ci'), { message: '.dive-ci: rules.highestWastedBytes: "lots" is not a size (dive reads sizes like 20MB, 1.5GiB, 1000)' });
  // go-humanize: single letters are SI, "i" units binary, commas ignored, fractions truncated
  t.deepEqual(['1000', '20MB', '20M', '20mib', '1.5 GiB', '1,000kB', '0.5b', '3ib'].map(humanizeBytes), [1000, 20e6, 20e6, 20 * 2 ** 20, 1.5 * 2 ** 30, 1e6, 0, null]);

  const model = await loadFixture(VFS);
  const report = inspectReport(model);
  const input = { report, model, bloat: parseConfig('', 'x').bloat };
  const r = evaluateGate(input, [], parseDiveCi('rules:\n  lowestEfficiency: 0.8\n  highestWastedBytes: 1MB\n  highestUserWastedPercent: 0.63\n', '.dive-ci'));
  // dive's wasted bytes: every copy of a path seen in more than one layer, the visible copy too:
  // index.db (400000 + its whiteout 0), /app/index.js and bundle.js (layers 2 and 4), /etc/passwd
  // (30 + 31), the two confs (4 + 0 each). Deleting /tmp/build is free in dive (its own path).
  const diveWasted = CACHE_DB + 2 * INDEX_JS + 2 * BUNDLE + 30 + 31 + 8;
  t.is(diveWasted, 1210633);
  const user = 3907060 - 1982296; // all layers but the base
  t.deepEqual(
    r.rules.map((x) => [x.rule, x.status, x.measured]),
    [
      ['lowestEfficiency', 'pass', report.summary.diveEfficiency],
      ['highestWastedBytes', 'fail', diveWasted],
      ['highestUserWastedPercent', 'pass', diveWasted / user],
    ],
  );
  t.is(report.summary.diveEfficiency.toFixed(3), '0.806');
  t.is((diveWasted / user).toFixed(4), '0.6290');
});

test('verdict and exit code: warnings pass, a failure fails, an unmeasurable rule is an error', async (t) => {
  const warn = await gate(VFS, 'max-layers: {warn: 5, fail: 10}\nmax-final-size: 10MB');
  t.deepEqual([warn.verdict, warn.exitCode, warn.counts], ['warn', 0, { pass: 1, warn: 1, fail: 0, error: 0 }]);
  const failed = await gate(VFS, 'max-layers: {warn: 5, fail: 7}\nmax-final-size: 10MB');
  t.deepEqual([failed.verdict, failed.exitCode], ['fail', 1]);
  const error = await gate(VFS, 'max-layers: 7\nmax-compressed-size: 10MB');
  t.deepEqual([error.verdict, error.exitCode], ['error', 2]);
});

/**
 * A minimal XML well-formedness check: one root, balanced tags, quoted attributes, known entities,
 * no stray `<` or `&`. Returns the elements as {name, attrs, text} in document order.
 */
function parseXml(xml: string): { name: string; attrs: Record<string, string>; text: string }[] {
  const out: { name: string; attrs: Record<string, string>; text: string }[] = [];
  const stack: { name: string; attrs: Record<string, string>; text: string }[] = [];
  const decode = (s: string) => {
    if (/[<]/.test(s)) throw new Error(`stray < in ${JSON.stringify(s)}`);
    if (/&(?![a-z]+;)/.test(s)) throw new Error(`bare & in ${JSON.stringify(s)}`);
    return s.replace(/&([^;]*);/g, (m, e: string) => {
      const known: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
      if (!(e in known)) throw new Error(`unknown entity ${m}`);
      return known[e];
    });
  };
  let i = 0;
  let roots = 0;
  const decl = /^<\?xml [^?]*\?>\s*/.exec(xml);
  if (decl) i = decl[0].length;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = lt < 0 ? xml.slice(i) : xml.slice(i, lt);
    if (stack.length) stack[stack.length - 1].text += decode(text);
    else if (text.trim()) throw new Error(`text outside the root at ${i}`);
    if (lt < 0) break;
    const gt = xml.indexOf('>', lt);
    if (gt < 0) throw new Error('unclosed tag');
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const open = stack.pop();
      if (!open || open.name !== tag.slice(1)) throw new Error(`</${tag.slice(1)}> closes ${open?.name ?? 'nothing'}`);
      continue;
    }
    const self = tag.endsWith('/');
    const m = /^([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*\/?$/.exec(tag);
    if (!m) throw new Error(`malformed tag <${tag}>`);
    const attrs: Record<string, string> = {};
    for (const a of m[2].matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
      if (a[1] in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      attrs[a[1]] = decode(a[2]);
    }
    const el = { name: m[1], attrs, text: '' };
    if (stack.length === 0 && ++roots > 1) throw new Error('more than one root');
    out.push(el);
    if (!self) stack.push(el);
  }
  if (stack.length) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  return out;
}

test('the XML check itself rejects what is not well-formed', (t) => {
  t.throws(() => parseXml('<a><b></a></b>'), { message: '</a> closes b' });
  t.throws(() => parseXml('<a x="1 & 2"/>'), { message: /unknown entity|bare &/ });
  t.throws(() => parseXml('<a>1 & 2</a>'), { message: /bare & in "1 & 2"/ });
  t.throws(() => parseXml('<a>&nbsp;</a>'), { message: 'unknown entity &nbsp;' });
  t.throws(() => parseXml('<a x=1/>'), { message: /malformed tag/ });
  t.throws(() => parseXml('<a/><b/>'), { message: 'more than one root' });
  t.throws(() => parseXml('<a>'), { message: 'unclosed <a>' });
  t.deepEqual(parseXml('<?xml version="1.0"?><a x="&lt;&amp;"><b>t&gt;</b></a>'), [{ name: 'a', attrs: { x: '<&' }, text: '' }, { name: 'b', attrs: {}, text: 't>' }]);
});

test('JUnit: well-formed, one test case per rule, failures and errors counted, hostile names escaped', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'strata-ci-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const image = join(work, 'img');
  const nasty = 'srv/a<&"\']]>b\u0001.log';
  writeOciLayout(image, [{ entries: [file(nasty, 300), file('srv/app.bin', 1000)], createdBy: '/bin/sh -c echo "<&>" > /srv/x' }]);
  const run = await strata(['ci', image, '--forbid-paths', '/srv/*.log', '--max-layers', '0', '--max-final-size', 'warn:1kB', '--max-compressed-size', 'warn:1MB', '--format', 'junit'], work);
  t.is(run.code, 1, run.stderr);
  const els = parseXml(run.stdout);
  const suites = els.filter((e) => e.name === 'testsuite');
  t.is(suites.length, 1);
  t.deepEqual(suites[0].attrs, { name: `strata ci ${image}`, tests: '4', failures: '2', errors: '0', skipped: '0' });
  const cases = els.filter((e) => e.name === 'testcase').map((e) => e.attrs.name);
  t.deepEqual(cases, ['max-compressed-size', 'max-final-size', 'forbid-paths', 'max-layers']);
  const failures = els.filter((e) => e.name === 'failure');
  t.deepEqual(failures.map((f) => f.attrs.type), ['forbid-paths', 'max-layers']);
  t.is(failures[0].attrs.message, '1 path, 300 B, matching /srv/*.log');
  t.true(failures[0].text.includes(`/${nasty.replace('\u0001', '\\x01')} (300 B)`), failures[0].text); // shown, not dropped
  t.true(failures[0].text.includes('echo "<&>" > /srv/x'));
  t.deepEqual(els.filter((e) => e.name === 'system-out').map((e) => e.text.split('\n')[0]), [
    'WARN cannot measure: the image stores its layers uncompressed (e.g. docker save), so it has no compressed size; gate on max-uncompressed-size, or read the image from a registry (--max-compressed-size)',
    'WARN final view 1.3 kB (1300 B), warning at most 1.0 kB (1000 B) (--max-final-size)',
  ]);
});

test('Markdown: a table row per rule, cells that cannot break the table', async (t) => {
  const r: CiReport = await gate(VFS, 'max-layers: 7\nforbid-paths: ["/app/{index,bundle}.js"]');
  const md = renderCiMarkdown(r);
  t.true(md.startsWith(`### strata ci: ❌ FAIL \`${fixture(VFS)}\`\n\n2 failed, 0 warnings, 0 passed\n`));
  const rows = md.split('\n').filter((l) => l.startsWith('| ❌'));
  t.deepEqual(rows, ['| ❌ FAIL | `forbid-paths` | 405 kB | fail /app/{index,bundle}.js | 2 paths, 405 kB (405282 B), matching /app/{index,bundle}.js |', '| ❌ FAIL | `max-layers` | 8 | fail 7 | layers 8, limit at most 7 |']);
  const piped = renderCiMarkdown({ ...r, rules: [{ ...r.rules[0], message: 'a | b <script> *x* __init__.py [l](u)' }] });
  t.true(piped.includes('| a \\| b &lt;script> \\*x\\* \\_\\_init\\_\\_.py \\[l\\](u) |'), piped);
  const ticks = renderCiMarkdown({ ...r, offenders: [{ ...r.offenders[0], instruction: 'RUN curl x | sh && echo `id`' }] });
  t.true(ticks.includes('   - stored by: layer 4 `` RUN curl x | sh && echo `id` ``\n'), ticks);
  t.regex(md, /<details open><summary>Top offenders<\/summary>/);
  t.regex(md, /\n {3}- files: `\/app\/bundle\.js` \(405 kB\), `\/app\/index\.js` \(18 B\)\n {3}- stored by: layer 4 `RUN chmod -R 0755 \/app && chown -R 1000:1000 \/app`\n {3}- fix: Keep these paths out of the image/);
  // JUnit of the same report parses
  t.is(parseXml(renderCiJunit(r)).filter((e) => e.name === 'failure').length, 2);
});

test('--format and --output pair by position; extensions name the format otherwise', (t) => {
  t.deepEqual(pairOutputs([], []), []);
  t.deepEqual(pairOutputs(['json'], []), [{ format: 'json', file: '-' }]);
  t.deepEqual(pairOutputs(['junit', 'markdown'], ['r.xml', 'r.md']), [{ format: 'junit', file: 'r.xml' }, { format: 'markdown', file: 'r.md' }]);
  t.deepEqual(pairOutputs([], ['r.xml', 'r.md', 'r.json', 'log.txt', 'r.sarif']).map((o) => o.format), ['junit', 'markdown', 'json', 'text', 'sarif']);
  t.throws(() => pairOutputs(['json', 'junit'], []), { message: '--format given more than once: give each its --output FILE (in the same order)' });
  t.throws(() => pairOutputs(['json'], ['a.json', 'b.xml']), { message: /1 --format for 2 --output/ });
  t.throws(() => pairOutputs([], ['report']), { message: '--output report: name its format with --format (or use .json, .xml, .md, .txt, .sarif)' });
  t.throws(() => pairOutputs(['yaml'], []), { message: '--format: unknown format "yaml" (known: text, json, junit, markdown, sarif)' });
  t.throws(() => pairOutputs(['json', 'text'], ['-', '-']), { message: '--output -: stdout can take only one report' });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real binary, as a CI step runs it; $GITHUB_STEP_SUMMARY only when a test sets it. */
function strata(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const base = { ...process.env };
  delete base.GITHUB_STEP_SUMMARY;
  return new Promise((done) => {
    execFile(process.execPath, [strataBin, ...args], { cwd, env: { ...base, ...env }, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('binary: exit 0 on pass and on warnings, 1 on a failed rule, 2 when it cannot evaluate', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'strata-ci-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const image = fixture(VFS);
  const pass = await strata(['ci', image, '--max-final-size', '10MB', '--max-layers', '8'], work);
  t.is(pass.code, 0, pass.stderr);
  t.is(pass.stdout.split('\n')[0], `strata ci: PASS ${image} (0 failed, 0 warnings, 2 passed)`);
  t.regex(pass.stdout, /\n {2}PASS {3}max-final-size {2}final view 2\.9 MB \(2851740 B\), limit at most 10\.0 MB \(10000000 B\)\n/);
  t.notRegex(pass.stdout, /Top offenders/);

  const warned = await strata(['ci', image, '--max-final-size', 'warn:2MB'], work);
  t.is(warned.code, 0, warned.stderr);
  t.regex(warned.stdout, /^strata ci: WARN /);
  t.regex(warned.stdout, /\nTop offenders\n/);

  writeFileSync(join(work, '.strata.yml'), 'rules:\n  max-wasted-bytes: 1MB\n  forbid-categories: [log]\n');
  const failed = await strata(['ci', image], work);
  t.is(failed.code, 1, failed.stderr);
  t.is(failed.stderr, '');
  t.regex(failed.stdout, /\n {2}FAIL {3}max-wasted-bytes {3}wasted 1\.1 MB \(1055320 B\), limit at most 1\.0 MB \(1000000 B\)\n/);
  t.regex(failed.stdout, /\n {3}1\. {2}650 kB {2}deleted: layer 3 deleted \/tmp\/build, \/var\/cache\/pkg\/index\.db/);
  t.regex(failed.stdout, /\n {6}stored by {2}layer 1: RUN mkdir -p/);
  t.regex(failed.stdout, /\n {6}fix {8}Deleting in a later layer does not shrink the image/);
  // a flag replaces the config's rule of the same name
  const relaxed = await strata(['ci', image, '--max-wasted-bytes', '2MB', '--forbid-categories', 'off'], work);
  t.is(relaxed.code, 0, relaxed.stdout);

  const cases: [string[], RegExp][] = [
    [['ci', join(work, 'missing.tar'), '--max-layers', '3'], /missing\.tar/],
    [['ci', image, '--max-final-size', 'big'], /^strata: --max-final-size: "big" is not a size/],
    [['ci', image, '--config', join(work, 'nope.yml')], /nope\.yml: no such config file/],
    [['ci', image, '--baseline', join(work, 'none.json'), '--max-growth-bytes', '1MB'], /none\.json: no such file/],
    [['ci', image, '--max-compressed-size', '1MB'], /^strata: could not evaluate --max-compressed-size: cannot measure/],
  ];
  for (const [args, message] of cases) {
    const r = await strata(args, work);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
    t.regex(r.stderr, message);
  }
  writeFileSync(join(work, '.strata.yml'), 'rules:\n  max-final-sise: 1MB\n');
  const typo = await strata(['ci', image], work);
  t.is(typo.code, 2);
  t.regex(typo.stderr, /^strata: \.strata\.yml: rules\.max-final-sise: unknown rule/);
  writeFileSync(join(work, '.strata.yml'), '');
  // growth rules without a baseline: skipped with a note, the rest checked
  const first = await strata(['ci', image, '--max-growth-bytes', '1MB', '--max-layers', '30'], work);
  t.is(first.code, 0, first.stderr);
  t.is(first.stderr, 'strata: --max-growth-bytes: skipped, no --baseline to compare with (give --baseline REF or a report.json)\n');
  t.is(first.stdout.split('\n')[0], `strata ci: PASS ${image} (0 failed, 0 warnings, 1 passed)`);
  // no rules at all: dive's defaults, said on stderr (the vfs build: dive's efficiency 80.63%, user waste 62.90%)
  const none = await strata(['ci', image, '--format', 'json'], work);
  t.is(none.code, 1, none.stderr);
  t.regex(none.stderr, /^strata: no rules given \(.*\): checking dive's defaults, lowestEfficiency 0\.9, highestUserWastedPercent 0\.1\n$/);
  const verdicts = (JSON.parse(none.stdout) as CiReport).rules.map((x) => [x.rule, x.status, x.origin]);
  t.deepEqual(verdicts, [
    ['lowestEfficiency', 'fail', '(dive default for lowestEfficiency)'],
    ['highestUserWastedPercent', 'fail', '(dive default for highestUserWastedPercent)'],
  ]);
});

test('binary: baseline round trip; reports written per --output; the Markdown appended to $GITHUB_STEP_SUMMARY', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'strata-ci-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const saved = await strata(['ci', fixture(COMMIT), '--save-baseline', 'base.json'], work);
  t.is(saved.code, 0, saved.stderr);
  t.is(saved.stdout, 'strata ci: no rules to check; baseline written to base.json\n');
  const base = JSON.parse(readFileSync(join(work, 'base.json'), 'utf8'));
  t.deepEqual([base.schemaVersion, base.summary.uncompressedSize, base.summary.finalSize, base.summary.compressedSize], [1, 3096471, 3096471, null]);

  const summary = join(work, 'summary.md');
  writeFileSync(summary, '# earlier step\n');
  const args = ['ci', fixture(VFS), '--baseline', 'base.json', '--max-growth-bytes', '500kB', '--max-growth-percent', 'warn:10%'];
  const grown = await strata([...args, '--format', 'junit', '--output', 'r.xml', '--format', 'markdown', '--output', 'r.md', '--output', 'r.json', '--format', 'json'], work, { GITHUB_STEP_SUMMARY: summary });
  t.is(grown.code, 1, grown.stderr);
  t.regex(grown.stdout, /^strata ci: FAIL .* \(1 failed, 1 warning, 0 passed\)\nbaseline: base\.json\n/);
  t.regex(grown.stdout, /FAIL {3}max-growth-bytes {4}uncompressed growth \(3\.1 MB -> 3\.9 MB against base\.json\) 811 kB \(810589 B\), limit at most 500 kB/);
  const json = JSON.parse(readFileSync(join(work, 'r.json'), 'utf8'));
  t.deepEqual([json.verdict, json.exitCode, json.baseline.uncompressedSize], ['fail', 1, 3096471]);
  t.deepEqual(json.rules.map((x: RuleResult) => [x.rule, x.status, x.measured]), [['max-growth-bytes', 'fail', 810589], ['max-growth-percent', 'warn', 810589 / 3096471]]);
  const md = readFileSync(join(work, 'r.md'), 'utf8');
  t.is(readFileSync(summary, 'utf8'), `# earlier step\n${md}`);
  t.is(parseXml(readFileSync(join(work, 'r.xml'), 'utf8')).filter((e) => e.name === 'failure').length, 1);

  // the same image as its own baseline, read from an image reference: no growth
  const same = await strata(['ci', fixture(VFS), '--baseline', fixture(VFS), '--max-growth-bytes', '0', '--format', 'json'], work);
  t.is(same.code, 0, same.stderr);
  t.is(JSON.parse(same.stdout).rules[0].measured, 0);
  // a ci JSON report is a baseline too (schemaVersion 1 and summary sizes)
  const again = await strata(['ci', fixture(VFS), '--baseline', 'r.json', '--max-growth-percent', '0%'], work);
  t.is(again.code, 0, again.stderr);
  writeFileSync(join(work, 'other.json'), '{"schemaVersion": 2}');
  const wrong = await strata(['ci', fixture(VFS), '--baseline', 'other.json', '--max-growth-percent', '0%'], work);
  t.is(wrong.code, 2);
  t.regex(wrong.stderr, /other\.json \(a strata report, as written by --save-baseline\): schemaVersion must be 1, not a number/);
});

test('binary: a .dive-ci in the working directory is read, and --dive-ci names one', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'strata-ci-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  writeFileSync(join(work, '.dive-ci'), 'rules:\n  lowestEfficiency: 0.8\n  highestWastedBytes: 2MB\n  highestUserWastedPercent: disabled\n');
  const r = await strata(['ci', fixture(VFS)], work);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /\n {2}PASS {3}lowestEfficiency {4}dive's efficiency 80\.63%, limit at least 80\.00%\n/);
  t.regex(r.stdout, /\n {2}PASS {3}highestWastedBytes {2}dive's wasted bytes 1\.2 MB \(1210633 B\), limit at most 2\.0 MB/);
  t.notRegex(r.stdout, /highestUserWastedPercent/);
  writeFileSync(join(work, 'strict.yml'), 'rules:\n  lowestEfficiency: 0.81\n');
  const strict = await strata(['ci', fixture(VFS), '--dive-ci', 'strict.yml', '--format', 'json'], work);
  t.is(strict.code, 1, strict.stderr);
  t.deepEqual(JSON.parse(strict.stdout).rules.map((x: RuleResult) => [x.rule, x.status, x.origin]), [
    ['lowestEfficiency', 'fail', 'strict.yml: rules.lowestEfficiency'],
    ['highestUserWastedPercent', 'fail', '(dive default for highestUserWastedPercent)'],
  ]);
});

test("the README's CI gate examples: the config parses, the report lines are the real ones", async (t) => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## CI gate'), readme.indexOf('### dive'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1];
  const rules = mergeRules(parseConfig(yaml, 'README.md').rules, {});
  t.deepEqual(
    rules.map((r) => [r.key, r.fail, r.warn, r.size]),
    [
      ['max-compressed-size', 120e6, undefined, undefined],
      ['max-final-size', 300e6, 250e6, undefined],
      ['max-wasted-percent', undefined, 0.1, undefined],
      ['min-efficiency', 0.9, undefined, undefined],
      ['forbid-categories', ['vcs', 'apt-lists'], undefined, undefined],
      ['forbid-paths', ['**/.git/**', '*.pem'], ['/root/**'], undefined],
      ['max-layers', 30, undefined, undefined],
      ['max-layer-size', 200 * 2 ** 20, undefined, undefined],
      ['max-growth-bytes', 10e6, undefined, undefined],
      ['max-growth-percent', 0.05, undefined, 'compressed'],
      ['forbid-secrets', 0, undefined, undefined],
      ['forbid-setuid', 0, undefined, undefined],
      ['forbid-world-writable', undefined, 0, undefined],
      ['forbid-root-user', undefined, 0, undefined],
      ['forbid-packages', ['gcc*', 'deb:*-dev'], undefined, undefined],
      ['max-package-size', 100000000, undefined, undefined],
      ['max-package-growth', 20, 5, undefined],
    ],
  );
  // the CI jobs are valid YAML; their strata commands use ci's options, outputs paired as documented
  const jobs = readme.slice(readme.indexOf('### Worked example: GitHub Actions'), readme.indexOf('## Exit codes'));
  const blocks = [...jobs.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parseYaml(m[1]));
  t.is(blocks.length, 2);
  const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : []);
  const commands = blocks.flatMap(strings).filter((c) => c.startsWith('strata ci '));
  t.is(commands.length, 2);
  for (const c of commands) {
    const words = c.split(/\s+/);
    const after = (flag: string) => words.flatMap((w, i) => (w === flag ? [words[i + 1]] : []));
    t.deepEqual(words.filter((w) => w.startsWith('--')).filter((w) => !['--baseline', '--output', '--format'].includes(w)), [], c);
    t.notThrows(() => pairOutputs(after('--format'), after('--output')), c);
  }
  // the example sits in a list item: its lines are indented by two spaces
  const block = section.slice(section.indexOf('  strata ci: FAIL app:ci'));
  const shown = block.slice(0, block.indexOf('```')).split('\n').map((l) => l.replace(/^ {2}/, ''));
  const work = mkdtempSync(join(tmpdir(), 'strata-ci-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const run = await strata(['ci', fixture(VFS), '--max-final-size', '10MB', '--max-wasted-bytes', 'warn:500kB', '--forbid-paths', '/app/**'], work);
  t.is(run.code, 1, run.stderr);
  const real = run.stdout.split('\n');
  t.is(real[0], shown[0].replace('app:ci', fixture(VFS)));
  t.deepEqual(real.slice(1, 4), shown.slice(1, 4));
  // the example .strata.yml on a first run (no baseline yet), on an image with compressed layers:
  // evaluated (min-efficiency fails), the growth rules skipped with a note, not exit 2
  writeFileSync(join(work, '.strata.yml'), yaml);
  const first = await strata(['ci', fixture(OVERLAY), '--format', 'json'], work);
  t.is(first.code, 1, first.stderr);
  t.deepEqual(first.stderr.split('\n').filter(Boolean), ['max-growth-bytes', 'max-growth-percent', 'max-package-growth'].map((k) => `strata: .strata.yml: rules.${k}: skipped, no --baseline to compare with (give --baseline REF or a report.json)`));
  const checked = (JSON.parse(first.stdout) as CiReport).rules;
  t.deepEqual(checked.filter((x) => x.status !== 'pass').map((x) => [x.rule, x.status]), [['max-wasted-percent', 'warn'], ['min-efficiency', 'fail']]);
  t.is(checked.length, 14); // the README's 17 rules but the 3 that need a baseline
});

test(".dive-ci on the overlay build: dive ignores the opaque whiteout, so the confs it hides are not dive's waste", async (t) => {
  const model = await loadFixture(OVERLAY);
  const report = inspectReport(model);
  const r = evaluateGate({ report, model, bloat: parseConfig('', 'x').bloat }, [], parseDiveCi('rules:\n  highestWastedBytes: 1\n', '.dive-ci'));
  const diveWasted = CACHE_DB + 2 * INDEX_JS + 2 * BUNDLE + 30 + 31; // as the vfs build, without one.conf and two.conf
  t.deepEqual(r.rules.map((x) => [x.rule, x.measured]), [
    ['lowestEfficiency', report.summary.diveEfficiency],
    ['highestWastedBytes', diveWasted],
    ['highestUserWastedPercent', diveWasted / (3907060 - 1982296)],
  ]);
  t.is(diveWasted, 1210625);
  t.is(report.summary.wastedBytes, 1460584); // strata: the hardlink copy-up of bundle.js is waste too
});

test('binary: a report of the same layers spares scanning the image (its blobs are only hashed); a damaged blob is refused by every rule', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'strata-ci-cache-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  writeFileSync(join(work, 'dive.yml'), 'rules:\n  lowestEfficiency: 0.5\n');
  const env = { STRATA_CACHE_DIR: join(work, 'cache'), STRATA_NO_CACHE: '' }; // the tests run without a cache otherwise
  const layout = join(work, 'layout');
  mkdirSync(layout);
  execFileSync('tar', ['-xf', fixture(OVERLAY), '-C', layout]);
  const base = ['ci', layout, '--max-final-size', '10MB', '--forbid-categories', 'core-dump'];
  const args = [...base, '--max-layer-size', '3MB'];
  const first = await strata(args, work, env);
  t.is(first.code, 0, first.stderr);
  // the layer records gone: the cached report serves once the blobs are proven to give its diffIDs
  rmSync(join(work, 'cache', 'layers'), { recursive: true });
  const again = await strata(args, work, env);
  t.is(again.code, 0, again.stderr);
  t.is(again.stdout, first.stdout);
  // as a baseline only its sizes count: its cached report serves
  const growth = ['ci', fixture(OVERLAY), '--baseline', layout, '--max-growth-bytes', '0'];
  const vs = await strata(growth, work, env);
  t.is(vs.code, 0, vs.stderr);
  t.regex(vs.stdout, /PASS +max-growth-bytes +uncompressed growth \(.* against .*layout\) 0 B/);
  // a layer blob damaged (same size): a cached report never stands for other bytes (docs/security.md)
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8'));
  const blob = join(layout, 'blobs', 'sha256', manifest.layers[2].digest.slice(7));
  const bytes = readFileSync(blob);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(blob, bytes);
  for (const more of [args, [...args, '--forbid-paths', '/tmp/**'], [...base, '--max-layer-size', '1MB'], [...args, '--dive-ci', join(work, 'dive.yml')], growth]) {
    const r = await strata(more, work, env);
    t.is(r.code, 2, `${more.join(' ')}: ${r.stdout}`);
    t.regex(r.stderr, /^strata: .*layer 2 .*(digest mismatch|corrupt gzip)/, more.join(' '));
  }
});

test('which rules need the image beyond its report', async (t) => {
  const model = await loadFixture(VFS);
  const report = inspectReport(model);
  const rules = (yaml: string) => mergeRules(parseConfig(`rules:\n${yaml.replace(/^/gm, '  ')}\n`, '.strata.yml').rules, {});
  t.false(gateNeedsModel(rules('max-final-size: 10MB\nforbid-categories: [log]\nmax-wasted-bytes: 1MB'), [], report));
  t.true(gateNeedsModel(rules('forbid-paths: ["/tmp/**"]'), [], report));
  t.true(gateNeedsModel([], parseDiveCi('rules:\n  lowestEfficiency: 0.9\n', '.dive-ci'), report));
  const biggest = Math.max(...report.layers.map((l) => l.size));
  t.false(gateNeedsModel(rules(`max-layer-size: ${biggest}`), [], report));
  t.true(gateNeedsModel(rules(`max-layer-size: ${biggest - 1}`), [], report));
  t.true(gateNeedsModel(rules(`max-layer-size: {warn: ${biggest - 1}, fail: ${biggest * 2}}`), [], report));
  // a layer over the limit lists its files, read from the model: the gate's answer needs it
  const input = { report, model, bloat: parseConfig('', '.strata.yml').bloat, baseline: null };
  const withModel = evaluateGate(input, rules(`max-layer-size: ${biggest - 1}`));
  t.true(withModel.offenders[0].files.length > 0);
  t.throws(() => evaluateGate({ ...input, model: null }, rules(`max-layer-size: ${biggest - 1}`)), { message: /needs the image model/ });
  t.is(evaluateGate({ ...input, model: null }, rules(`max-layer-size: ${biggest}`)).verdict, 'pass');
});
