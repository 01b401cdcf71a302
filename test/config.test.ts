import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, loadConfig, parseConfig } from '../src/commands/config-file.js';
import { compileGlob, GlobSet } from '../src/util/glob.js';

const fails = (t: import('ava').ExecutionContext, text: string, message: string) => {
  const e = t.throws(() => parseConfig(text, '.strata.yml'));
  t.is(e?.name, 'StrataError');
  t.is(e?.message, message);
};

test('glob: a pattern without a slash matches base names at any depth', (t) => {
  const m = compileGlob('*.log');
  t.true(m('var/log/app/x.log'));
  t.true(m('x.log'));
  t.false(m('var/log/x.log.gz'));
  t.false(m('var/x.logs/y'));
});

test('glob: a pattern with a slash is anchored at the root; ** spans directories', (t) => {
  const m = compileGlob('/var/log/**');
  t.true(m('var/log/a'));
  t.true(m('var/log/a/b/c'));
  t.false(m('var/logs/a'));
  t.false(m('srv/var/log/a'));
  const git = compileGlob('**/.git/**');
  t.true(git('.git/HEAD'));
  t.true(git('src/app/.git/objects/ab/cd'));
  t.false(git('src/app/.github/workflows/ci.yml'));
  t.true(compileGlob('usr/*/bin/x')('usr/local/bin/x'));
  t.false(compileGlob('usr/*/bin/x')('usr/a/b/bin/x'));
});

test('glob: classes, alternatives and ?', (t) => {
  t.true(compileGlob('core.[0-9]*')('tmp/core.123'));
  t.false(compileGlob('core.[0-9]*')('tmp/core.py'));
  t.true(compileGlob('[!.]*.txt')('a/b.txt'));
  t.false(compileGlob('[!.]*.txt')('a/.b.txt'));
  t.true(compileGlob('/etc/{passwd,group}')('etc/group'));
  t.false(compileGlob('/etc/{passwd,group}')('etc/shadow'));
  t.true(compileGlob('a?c')('x/abc'));
  t.false(compileGlob('a?c')('x/a/c'));
  t.true(compileGlob('a.b')('a.b'));
  t.false(compileGlob('a.b')('axb'));
});

test('glob: malformed patterns are refused with a reason', (t) => {
  t.throws(() => compileGlob('a**/b'), { message: /"\*\*" must be a whole path segment/ });
  t.throws(() => compileGlob('[abc'), { message: /unclosed "\["/ });
  t.throws(() => compileGlob('{a,b'), { message: /unclosed "\{"/ });
  t.throws(() => compileGlob('/var/log/'), { message: /write "\/var\/log\/\*\*"/ });
  t.throws(() => compileGlob(''), { message: /empty pattern/ });
});

test('GlobSet: the first list with a matching glob wins, whether it matches names or paths', (t) => {
  const set = new GlobSet([['/var/log/**'], ['*.log', '/srv/**'], [], ['core']]);
  t.is(set.first('var/log/x.log'), 0);
  t.is(set.first('app/x.log'), 1);
  t.is(set.first('srv/data'), 1);
  t.is(set.first('app/core'), 3);
  t.is(set.first('app/main.js'), -1);
  t.is(new GlobSet([]).first('a'), -1);
});

test('config: YAML and JSON give the same config', (t) => {
  const yaml = parseConfig('bloat:\n  disable: [history]\n  rules:\n    - {id: r1, category: reports, paths: ["/srv/**"]}\n  ignore: ["*.keep"]\n', 'a.yml');
  const json = parseConfig(JSON.stringify({ bloat: { disable: ['history'], rules: [{ id: 'r1', category: 'reports', paths: ['/srv/**'] }], ignore: ['*.keep'] } }), 'a.yml');
  t.deepEqual(yaml, json);
  t.deepEqual(yaml.bloat, { disable: ['history'], rules: [{ id: 'r1', category: 'reports', paths: ['/srv/**'] }], ignore: ['*.keep'] });
  t.is(yaml.source, 'a.yml');
});

test('config: an empty file or an empty section is the default', (t) => {
  t.deepEqual(parseConfig('', 'x').bloat, defaultConfig().bloat);
  t.deepEqual(parseConfig('bloat:\n', 'x').bloat, defaultConfig().bloat);
});

test('config: errors name the file and the bad key', (t) => {
  fails(t, 'blot: {}', '.strata.yml: blot: unknown section (known: bloat, secrets, keys, diff, rules)');
  fails(t, '[1, 2]', '.strata.yml: (top level): expected a mapping of sections (bloat: …)');
  fails(t, 'bloat: [1]', '.strata.yml: bloat: expected a mapping with disable, rules, ignore');
  fails(t, 'bloat: {rulez: []}', '.strata.yml: bloat.rulez: unknown key (known: disable, rules, ignore)');
  fails(t, 'bloat: {rules: {id: x}}', '.strata.yml: bloat.rules: expected a list');
  fails(t, 'bloat: {rules: [{id: x, category: c, paths: ["/a/**", "[x"]}]}', '.strata.yml: bloat.rules[0].paths[1]: bad glob: "[x": unclosed "["');
  fails(t, 'bloat: {rules: [{id: x, category: c}]}', '.strata.yml: bloat.rules[0].paths: missing: expected a list of globs');
  fails(t, 'bloat: {rules: [{id: x, category: c, paths: []}]}', '.strata.yml: bloat.rules[0].paths: expected at least one glob');
  fails(t, 'bloat: {rules: [{id: x, category: c, paths: [a], fix: y}]}', '.strata.yml: bloat.rules[0].fix: unknown key (known: id, category, paths, remedy)');
  fails(t, 'bloat: {rules: [{id: x, category: Big, paths: [a]}]}', '.strata.yml: bloat.rules[0].category: expected a lower-case name like "cache" (built-in: temp, log, cache, vcs, build, history, core-dump)');
  fails(t, 'bloat: {rules: [{id: x, category: duplicate, paths: [a]}]}', '.strata.yml: bloat.rules[0].category: "duplicate" is computed by strata, not matched by path rules');
  fails(t, 'bloat: {rules: [{id: logs, category: log, paths: [a]}]}', '.strata.yml: bloat.rules[0].id: "logs" is already a rule id (disable the built-in one, or choose another id)');
  fails(t, 'bloat: {rules: [{id: "a b", category: log, paths: [a]}]}', '.strata.yml: bloat.rules[0].id: expected a name made of letters, digits, ".", "_", "-"');
  fails(t, 'bloat: {rules: [{id: x, category: log, paths: [a], remedy: 3}]}', '.strata.yml: bloat.rules[0].remedy: expected a string');
  fails(t, 'bloat: {ignore: [3]}', '.strata.yml: bloat.ignore[0]: expected a glob string');
  const e = t.throws(() => parseConfig('bloat: {disable: [histroy]}', '.strata.yml'));
  t.regex(e!.message, /^\.strata\.yml: bloat\.disable\[0\]: unknown rule or category "histroy" \(categories: temp, log, cache, vcs, build, history, core-dump; rules: core-dumps, /);
});

test('config: a custom category can be disabled; YAML syntax errors are one line', (t) => {
  t.deepEqual(parseConfig('bloat: {rules: [{id: r, category: mine, paths: [a]}], disable: [mine]}', 'x').bloat.disable, ['mine']);
  const e = t.throws(() => parseConfig('bloat: {disable: [a', 'cfg.yml'));
  t.is(e?.name, 'StrataError');
  t.regex(e!.message, /^cfg\.yml: [^\n]+$/);
});

test('loadConfig: .strata.yml in the working directory, --config FILE, or the defaults', (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'strata-config-'));
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }));
  t.deepEqual(loadConfig({ cwd }), defaultConfig());
  writeFileSync(join(cwd, '.strata.yml'), 'bloat: {disable: [logs]}\n');
  t.deepEqual(loadConfig({ cwd }).bloat.disable, ['logs']);
  t.is(loadConfig({ cwd }).source, '.strata.yml');
  const other = join(cwd, 'other.json');
  writeFileSync(other, '{"bloat": {"disable": ["vcs"]}}');
  t.deepEqual(loadConfig({ file: other, cwd }).bloat.disable, ['vcs']);
  t.throws(() => loadConfig({ file: join(cwd, 'missing.yml') }), { message: /missing\.yml: no such config file$/ });
});

test("the README's config example is a valid config", (t) => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Config file'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1];
  const c = parseConfig(yaml, 'README.md');
  t.deepEqual(c.bloat.disable, ['history', 'var-cache']);
  t.deepEqual(c.bloat.rules.map((r) => [r.id, r.category, r.paths]), [['app-reports', 'reports', ['/srv/app/reports/**', '*.tmp']]]);
  t.deepEqual(c.bloat.ignore, ['/var/log/keep-me.log']);
});
