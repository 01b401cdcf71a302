import test from 'ava';
import { compileGlob, GlobSet } from '../src/layers/glob.js';
import { BUILTIN_RULES } from '../src/layers/bloat-rules.js';

/** first() by definition: the first list with a glob that matches on its own. */
const naive = (lists: string[][]) => {
  const compiled = lists.map((globs) => globs.map(compileGlob));
  return (path: string) => compiled.findIndex((ms) => ms.some((m) => m(path)));
};

const LISTS: string[][] = [
  ['/app/*.map', '**/x\ny/**'], // name-dependent path glob; a `/**` glob with a line break in its directory
  ...BUILTIN_RULES.map((r) => r.paths),
  ['/**'],
];

const SEGMENTS = ['var', 'log', 'cache', 'tmp', '.git', 'app', 'a.map', 'core', 'x.log', 'x\ny', 'n\u2028', 'apt', 'lists', 'node_modules', '.cache', 'CMakeFiles'];

function paths(): string[] {
  const out: string[] = [];
  let x = 7;
  for (let i = 0; i < 4000; i++) {
    const parts: string[] = [];
    for (let d = 0; d < 1 + (i % 5); d++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      parts.push(SEGMENTS[x % SEGMENTS.length]);
    }
    out.push(parts.join('/'));
  }
  return out;
}

test('first() matches the globs one by one', (t) => {
  for (const lists of [LISTS, LISTS.slice(0, -1), [[]], []]) {
    const set = new GlobSet(lists);
    const want = naive(lists);
    for (const p of paths()) t.is(set.first(p), want(p), p);
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
});

test('an invalid glob throws whichever group it would be in', (t) => {
  t.throws(() => new GlobSet([['/a/b**/**']]));
  t.throws(() => new GlobSet([['x/']]));
});
