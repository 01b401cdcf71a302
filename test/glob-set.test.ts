import test from 'ava';
import { compileGlob, GlobSet } from '../src/util/glob.js';
import { BUILTIN_RULES } from '../src/analyze/bloat/rules.js';
import { analyzeBloat } from '../src/analyze/bloat/findings.js';
import { parseConfig } from '../src/commands/config-file.js';
import { analyzeWaste } from '../src/analyze/waste.js';
import { dir, file, modelOf, whiteout } from './helpers/bloat-images.js';

/** first() by definition: the first list with a glob that matches on its own. */
const naive = (lists: string[][]) => {
  const compiled = lists.map((globs) => globs.map(compileGlob));
  return (path: string) => compiled.findIndex((ms) => ms.some((m) => m(path)));
};

const LISTS: string[][] = [
  ['/app/*.map', '**/x\ny/**'], // name-dependent path glob; a `/**` glob with a line break in its directory
  ['a.map', '*.lo', '*.tar.gz', 'c?re'], // looked up (a name, `*.EXT`) before built-ins that look up the same keys; matched
  ...BUILTIN_RULES.map((r) => r.paths),
  ['/**'],
];

const SEGMENTS = [
  'var', 'log', 'cache', 'tmp', '.git', 'app', 'a.map', 'core', 'x.log', 'x\ny', 'n\u2028', 'apt', 'lists', 'node_modules', '.cache', 'CMakeFiles',
  '.log', 'a.b.log', 'x.LOG', 'core.1', 'hs_err_pid7.log', 'CMakeCache.txt', 'x.tar.gz', 'x.lo', 'lo', '.swp', 'x.o',
];

/** Path globs that each end in a literal name (only files of those names are tried against them), and a name list beside them. */
const LITERAL_ENDS: string[][] = [['**/.aws/credentials', '**/.kube/config'], ['*.log'], ['/var/**/core', '/app/a.map']];

function paths(segments = SEGMENTS): string[] {
  const out: string[] = [];
  let x = 7;
  for (let i = 0; i < 4000; i++) {
    const parts: string[] = [];
    for (let d = 0; d < 1 + (i % 5); d++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      parts.push(segments[x % segments.length]);
    }
    out.push(parts.join('/'));
  }
  return out;
}

test('first() matches the globs one by one', (t) => {
  // the last: a regex-matched name glob that does not start with a literal character
  for (const lists of [LISTS, LISTS.slice(0, -1), [[]], [], [['*re.1', 'lo']]]) {
    const set = new GlobSet(lists);
    const want = naive(lists);
    for (const p of paths()) t.is(set.first(p), want(p), p);
  }
  const named = [...SEGMENTS, '.aws', 'credentials', '.kube', 'config', 'configs', 'cred'];
  for (const lists of [LITERAL_ENDS, [...LITERAL_ENDS, ['**/.git/conf*']]]) {
    const set = new GlobSet(lists);
    const want = naive(lists);
    const near = ['.aws/credentials', 'home/u/.aws/credentials', 'home/u/.aws/credentials.bak', 'home/u/aws/credentials', 'x/.kube/config', 'x/.kube/configs', 'var/lib/core', 'var/core', 'app/a.map', 'x/app/a.map'];
    let matched = 0;
    for (const p of [...paths(named), ...near]) {
      t.is(set.first(p), want(p), p);
      if (want(p) === 0 || want(p) === 2) matched++;
    }
    t.true(matched >= 5);
  }
});

test('firstInDir + firstInFile give first() for every name without line breaks, and only then claim to', (t) => {
  const set = new GlobSet(LISTS);
  let dirDecided = 0;
  let unsafe = 0;
  for (const p of paths()) {
    const i = p.lastIndexOf('/');
    const dir = i < 0 ? '' : p.slice(0, i);
    if (!GlobSet.sameForDir(p)) {
      unsafe++;
      continue;
    }
    t.is(set.firstInFile(p, set.firstInDir(dir)), set.first(p), p);
    if (set.firstInDir(dir) >= 0 && set.firstInDir(dir) === set.first(p)) dirDecided++;
  }
  t.true(unsafe > 0 && dirDecided > 100);
  // the reason for sameForDir: `.` does not match a line break, so "/**" misses this name
  t.is(new GlobSet([['/var/log/**']]).first('var/log/a\nb'), -1);
  t.is(new GlobSet([['/var/log/**']]).firstInDir('var/log'), 0);
  t.false(GlobSet.sameForDir('var/log/a\nb'));
  // from where the base name starts: a line break before it is not looked at
  t.true(GlobSet.sameForDir('x\ny/name', 4));
  for (const br of ['\n', '\r', '\u2028', '\u2029']) t.false(GlobSet.sameForDir(`x/na${br}me`, 2));
});

test('an invalid glob throws whichever group it would be in', (t) => {
  t.throws(() => new GlobSet([['/a/b**/**']]));
  t.throws(() => new GlobSet([['x/']]));
});

test('bloat findings: rules and ignore globs matched per directory give what per-file matching gives', async (t) => {
  const m = await modelOf([
    {
      entries: [
        dir('var'), dir('var/log'), file('var/log/a.log', 100), file('var/log/x\ny', 50), file('var/log/old.log', 40),
        dir('srv'), dir('srv/app'), file('srv/app/a.map', 30), file('srv/app/b.txt', 30),
        dir('srv/keep'), file('srv/keep/c.log', 10),
      ],
    },
    { entries: [dir('var'), dir('var/log'), whiteout('var/log/old.log')] },
  ]);
  const config = parseConfig('bloat:\n  rules:\n    - {id: maps, category: maps, paths: ["/srv/app/*.map"]}\n  ignore: ["/srv/keep/**"]\n', 'test.yml').bloat;
  const b = analyzeBloat(m, analyzeWaste(m), config);
  t.deepEqual(
    b.findings.map((f) => [f.category, f.rule, f.bytes, f.items.map((i) => [i.path, i.rule ?? null])]),
    [
      ['log', 'logs', 100, [['/var/log/a.log', 'logs']]],
      // the deleted file keeps the rule its path matches; "x\ny" is matched by no glob ("." skips "\n")
      ['deleted', null, 40, [['/var/log/old.log', 'logs']]],
      ['maps', 'maps', 30, [['/srv/app/a.map', 'maps']]],
    ],
  );
});
