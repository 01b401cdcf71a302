import test from 'ava';
import { hashPath, PathTable } from '../src/model/path-table.js';

test('paths get ids in insertion order and are found again across growth', (t) => {
  const table = new PathTable();
  const paths = Array.from({ length: 5000 }, (_, i) => `usr/share/doc/pkg${i % 97}/file-${i}`);
  for (const [i, p] of paths.entries()) {
    t.is(table.find(p), -1);
    t.is(table.insert(p), i);
  }
  for (const [i, p] of paths.entries()) t.is(table.find(p), i);
  t.is(table.find('usr/share/doc/pkg0/file-5000'), -1);
  t.deepEqual(table.paths, paths);
});

test('equal hashes are told apart by the strings', (t) => {
  const table = new PathTable();
  // every path given one hash: each lookup walks the whole run and must compare strings
  for (let i = 0; i < 300; i++) t.is(table.insert(`p${i}`, 7), i);
  for (let i = 0; i < 300; i++) t.is(table.find(`p${i}`, 7), i);
  t.is(table.find('p300', 7), -1);
  t.is(table.find('p1'), -1, 'found only under the hash it was stored with');
});

test('hashPath spreads similar paths over the low bits', (t) => {
  const low = new Set<number>();
  for (let i = 0; i < 4096; i++) low.add(hashPath(`a/b/${i}`) & 4095);
  t.true(low.size > 2500, `${low.size} distinct slots of 4096`);
  t.is(hashPath(''), hashPath(''));
  t.not(hashPath('ab'), hashPath('ba'));
});
