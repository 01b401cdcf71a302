/**
 * Issue 30: one rule for hardlinks in every directory total. A hardlink group's bytes count once, in
 * the directory of its first path in walk order, and every directory total of a view adds up to that
 * view's total: the explorer's tree (every layer), the diff's per-directory deltas (JSON and text),
 * the diff explorer's tree, the diff and inspect HTML treemaps. The images are generated here: 13
 * links to one 1 MB file in one directory (the mesa `*_dri.so` case), a group spanning directories
 * whose tar file is not its first path, a group created across layers, and a later layer deleting
 * the first path. Also: the HTML header says n/a for the compressed size of uncompressed layers.
 */
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openImage } from '../src/sources/resolve.js';
import { readImage, type ImageModel } from '../src/model/read-image.js';
import { Kind } from '../src/scan/records.js';
import { DirSizes } from '../src/tui/dir-sizes.js';
import { TreeView } from '../src/tui/tree-view.js';
import { DiffTree } from '../src/tui/diff-tree.js';
import { diffImages, type DiffReport } from '../src/analyze/diff/diff.js';
import { type DiffSide } from '../src/analyze/diff/side.js';
import { imageSizes } from '../src/model/views.js';
import type { Tile } from '../src/analyze/picture/tile-tree.js';
import type { InspectReport } from '../src/analyze/report.js';
import { noise, tempDir, writeOciArchive, type LayerCompression } from './helpers/image-builder.js';
import { dir, file, hardlink, whiteout, type Entry } from './helpers/tar-writer.js';
import { succeeds } from './helpers/hostile.js';

const MB = 1_000_000;
const TOOL = 200_000;
const DATA = 300_000;
const DRI = 'usr/lib/x86_64-linux-gnu/dri';

/** The mesa case: one 1 MB file and 12 hardlinks to it in one directory. */
const mesa: Entry[] = [
  dir(DRI),
  file(`${DRI}/libgallium_dri.so`, noise(MB, 1)),
  ...Array.from({ length: 12 }, (_, i) => hardlink(`${DRI}/driver${String(i).padStart(2, '0')}_dri.so`, `${DRI}/libgallium_dri.so`)),
];
/** Stored at usr/bin/tool, linked from /opt: its first path in walk order is /opt/a/tool. */
const base: Entry[] = [
  file('usr/bin/tool', noise(TOOL, 2)),
  hardlink('opt/b/tool', 'usr/bin/tool'),
  hardlink('opt/a/tool', 'usr/bin/tool'),
  file('srv/data.bin', noise(DATA, 3)),
  file('usr/share/doc/readme', 'hello\n'),
];
/** A group made across layers, then the first path of the /opt group deleted. */
const later = (compression: LayerCompression) => [
  { entries: [hardlink('srv/copy/data.bin', 'srv/data.bin')], compression, createdBy: 'ln srv/data.bin srv/copy/' },
  { entries: [whiteout('opt/a/tool')], compression, createdBy: 'rm /opt/a/tool' },
];

interface Images {
  dir: string;
  /** base + mesa, then the two later layers; gzip. */
  full: string;
  /** The same without the mesa group. */
  slim: string;
  /** `full` with every layer stored uncompressed. */
  plain: string;
}

const test = anyTest as TestFn<Images & { cleanup: () => void }>;

test.before(async (t) => {
  const { dir: root, cleanup } = tempDir();
  const image = async (name: string, entries: Entry[], compression: LayerCompression) => {
    const path = join(root, name);
    await writeOciArchive(path, { images: [{ layers: [{ entries, compression, createdBy: 'base' }, ...later(compression)] }] });
    return path;
  };
  t.context = {
    dir: root,
    cleanup,
    full: await image('full.oci.tar', [...base, ...mesa], 'gzip'),
    slim: await image('slim.oci.tar', base, 'gzip'),
    plain: await image('plain.oci.tar', [...base, ...mesa], 'none'),
  };
});
test.after.always((t) => t.context.cleanup?.());

const load = async (path: string) => readImage(await openImage(path));
const side = (m: ImageModel, layer = m.layers.length - 1): DiffSide => ({ model: m, layer });

/**
 * `du` of the view after layer k, written apart from strata's code: the walk meets paths in walk
 * order, so an inode's first meeting is its group's first path; its bytes go to that path's directories.
 */
function du(m: ImageModel, k: number): { total: number; dirs: Map<number, number> } {
  const u = m.union;
  const seen = new Set<number>();
  const dirs = new Map<number, number>();
  let total = 0;
  for (const { node, version } of u.walk(k)) {
    const ino = u.inodeOf(version);
    if (u.kindOf(version) === Kind.dir || ino < 0 || seen.has(ino)) continue;
    seen.add(ino);
    total += u.sizeOf(ino);
    for (let p = u.parentOf(node); p > 0; p = u.parentOf(p)) dirs.set(p, (dirs.get(p) ?? 0) + u.sizeOf(ino));
  }
  return { total, dirs };
}

test('explorer tree: at every layer each directory is the sum of its children and du, the top level adds up to the total', async (t) => {
  const m = await load(t.context.full);
  const u = m.union;
  const sizes = new DirSizes(u); // one instance across layers: its incremental reuse is under test too
  for (let k = 0; k < m.layers.length; k++) {
    const view = new TreeView(u, { layer: k, from: k, sort: 'name', hide: new Set(), matches: null, collapsedByDefault: false, toggled: new Set() }, sizes);
    const want = du(m, k);
    // the rows the range removed are listed too, with their size before it: not part of the view
    const sum = (n: number) => [...view.children(n)].filter((c) => view.status(c) !== 'removed').reduce((s, c) => s + view.size(c), 0);
    t.is(sum(0), want.total, `layer ${k}: the top level adds up to the view's total`);
    for (const { node, version } of u.walk(k)) {
      if (u.kindOf(version) !== Kind.dir) continue;
      t.is(view.size(node), sum(node), `layer ${k} /${u.nodePath[node]}: the sum of its children`);
      t.is(view.size(node), want.dirs.get(node) ?? 0, `layer ${k} /${u.nodePath[node]}: du`);
    }
    // the 13 links of the mesa group: 1 MB, once, at its first path
    t.is(view.size(u.nodeOf(DRI)!), MB, `layer ${k}: ${DRI}`);
    t.is(view.size(u.nodeOf(`${DRI}/driver00_dri.so`)!), MB);
    t.is(view.size(u.nodeOf(`${DRI}/libgallium_dri.so`)!), 0);
  }
  const at = (k: number, path: string) => new TreeView(u, { layer: k, from: k, sort: 'name', hide: new Set(), matches: null, collapsedByDefault: false, toggled: new Set() }, sizes).size(u.nodeOf(path)!);
  // /opt/a/tool is the first path; once layer 2 deletes it, /opt/b (a directory layer 2 never touched) counts the bytes
  t.deepEqual([at(1, 'opt/a'), at(1, 'opt/b'), at(1, 'usr/bin')], [TOOL, 0, 0]);
  t.deepEqual([at(2, 'opt/b'), at(2, 'usr/bin')], [TOOL, 0]);
  // the group made across layers: /srv/copy/data.bin is the first path (copy < data.bin)
  t.deepEqual([at(0, 'srv'), at(1, 'srv'), at(1, 'srv/copy')], [DATA, DATA, DATA]);
  t.is(imageSizes(m).final, du(m, m.layers.length - 1).total);
});

/** Each directory's delta is the sum of its children's (files and directories); the top level's is the total. */
function assertDeltasAddUp(t: ExecutionContext, r: DiffReport, what: string): void {
  const parent = (p: string) => p.slice(0, p.lastIndexOf('/'));
  const sums = new Map<string, number>();
  const add = (p: string, d: number) => sums.set(parent(p), (sums.get(parent(p)) ?? 0) + d);
  for (const f of r.files) add(f.path, f.sizeDelta);
  for (const d of r.directories) add(d.path, d.sizeDelta);
  for (const d of r.directories) t.is(d.sizeDelta, sums.get(d.path) ?? 0, `${what}: ${d.path}`);
  t.is(sums.get('') ?? 0, r.summary.sizeDelta, `${what}: the top level adds up to the size delta`);
  t.is(r.summary.sizeDelta, r.summary.b.size - r.summary.a.size);
}

test('diff --json and text: two images differing by the 13-link group, deltas add up to -1 MB', async (t) => {
  const run = async (a: string, b: string) => JSON.parse((await succeeds(t, ['diff', a, b, '--json'], { ms: 60_000 })).stdout) as DiffReport;
  const [removed, added] = await Promise.all([run(t.context.full, t.context.slim), run(t.context.slim, t.context.full)]);
  for (const [r, sign] of [[removed, -1], [added, 1]] as const) {
    assertDeltasAddUp(t, r, sign < 0 ? 'full -> slim' : 'slim -> full');
    t.is(r.summary.sizeDelta, sign * MB);
    for (const d of ['/usr', '/usr/lib', `/${DRI}`]) t.is(r.directories.find((x) => x.path === d)?.sizeDelta, sign * MB, d);
    t.is(r.files.filter((f) => f.sizeDelta !== 0).length, 1, 'the group counts at one path');
  }
  const text = (await succeeds(t, ['diff', t.context.full, t.context.slim], { ms: 60_000 })).stdout;
  t.regex(text, /size +\S+ MB -> \S+ kB +\(-1\.0 MB\)/);
  t.regex(text, /-1\.0 MB +\/usr\/lib\/x86_64-linux-gnu\/dri +13 changed/);
  t.notRegex(text, /-13\.0 MB/);
});

test('diff of two layers of one image: the first path deleted moves the count, the deltas add up', async (t) => {
  const m = await load(t.context.full);
  for (const [x, y] of [[0, 1], [1, 2], [0, 2], [2, 0]]) assertDeltasAddUp(t, diffImages(side(m, x), side(m, y)), `layers ${x} -> ${y}`);
  const r = diffImages(side(m, 1), side(m, 2));
  t.is(r.summary.sizeDelta, 0);
  t.deepEqual(r.files.map((f) => [f.path, f.change, f.sizeDelta]), [['/opt/a/tool', 'removed', -TOOL], ['/opt/b/tool', 'metadata', TOOL], ['/usr/bin/tool', 'metadata', 0]]);
  // the same over the CLI (--layers), as JSON
  const cli = JSON.parse((await succeeds(t, ['diff', t.context.full, '--layers', '1..2', '--json'], { ms: 60_000 })).stdout) as DiffReport;
  assertDeltasAddUp(t, cli, 'CLI --layers 1..2');
  t.is(cli.directories.find((d) => d.path === '/opt')?.sizeDelta, 0);
});

test('diff: a group stored at another path of the tar counts at the same path, so no delta', async (t) => {
  const { dir: root, cleanup } = tempDir();
  t.teardown(cleanup);
  const write = async (name: string, entries: Entry[]) => {
    await writeOciArchive(join(root, name), { images: [{ layers: [{ entries }] }] });
    return load(join(root, name));
  };
  const x = await write('x.oci.tar', [file('b/f', noise(1000, 4)), hardlink('a/f', 'b/f')]);
  const y = await write('y.oci.tar', [file('a/f', noise(1000, 4)), hardlink('b/f', 'a/f')]);
  const r = diffImages(side(x), side(y));
  t.is(r.files.length, 0);
  t.true(r.summary.identical);
});

test('diff explorer tree: each directory is the sum of its children on both sides, the root each side total', async (t) => {
  const [full, slim] = await Promise.all([load(t.context.full), load(t.context.slim)]);
  for (const [a, b] of [[side(full), side(slim)], [side(slim), side(full)], [side(full, 1), side(full, 2)]]) {
    const report = diffImages(a, b);
    const tree = new DiffTree(a, b, report);
    const sums = { a: new Map<number, number>(), b: new Map<number, number>() };
    for (let n = 1; n < tree.count; n++) {
      for (const s of ['a', 'b'] as const) {
        const size = tree.size(n, s);
        if (size !== null) sums[s].set(tree.parent[n], (sums[s].get(tree.parent[n]) ?? 0) + size);
      }
    }
    for (let n = 0; n < tree.count; n++) {
      if (!tree.isDir(n)) continue;
      for (const s of ['a', 'b'] as const) if (tree.size(n, s) !== null) t.is(tree.size(n, s), sums[s].get(n) ?? 0, `${s} /${tree.paths[n]}`);
    }
    t.is(tree.size(0, 'a'), report.summary.a.size);
    t.is(tree.size(0, 'b'), report.summary.b.size);
  }
});

/** The picture the page draws: its JSON data block. */
function pictureOf(html: string): { tree: Tile; summary: Record<string, unknown> } {
  const m = /<script id="strata-data" type="application\/json">(.*?)<\/script>/s.exec(html);
  if (!m) throw new Error('no data block');
  return JSON.parse(m[1]) as { tree: Tile; summary: Record<string, unknown> };
}

/** Every directory tile is the sum of its tiles: area, and each side of a diff. */
function assertTilesAddUp(t: ExecutionContext, tile: Tile, path: string): void {
  if (!tile.k) return;
  const sum = (f: (x: Tile) => number | undefined) => tile.k!.reduce((s, x) => s + (f(x) ?? 0), 0);
  t.is(tile.s, sum((x) => x.s), `${path}: area`);
  if (tile.a !== undefined) t.is(tile.a, sum((x) => x.a), `${path}: A`);
  if (tile.b !== undefined) t.is(tile.b, sum((x) => x.b), `${path}: B`);
  for (const k of tile.k) assertTilesAddUp(t, k, `${path}/${k.n}`);
}

const find = (tile: Tile, path: string): Tile | undefined => path.split('/').reduce<Tile | undefined>((at, n) => at?.k?.find((x) => x.n === n), tile);

test('diff --html: the treemap root is each side total, every directory the sum of its tiles', async (t) => {
  const out = join(t.context.dir, 'diff.html');
  const r = JSON.parse((await succeeds(t, ['diff', t.context.full, t.context.slim, '--json', '--html', out], { ms: 60_000 })).stdout) as DiffReport;
  const p = pictureOf(readFileSync(out, 'utf8'));
  assertTilesAddUp(t, p.tree, '');
  t.is(p.tree.a, r.summary.a.size);
  t.is(p.tree.b, r.summary.b.size);
  const dri = find(p.tree, DRI);
  t.deepEqual([dri?.a, dri?.b, dri?.s], [MB, 0, MB]);
});

test('inspect --html: the view tiles add up to the final size, every directory the sum of its tiles', async (t) => {
  const out = join(t.context.dir, 'inspect.html');
  const r = JSON.parse((await succeeds(t, ['inspect', t.context.full, '--json', '--html', out], { ms: 60_000 })).stdout) as InspectReport;
  const p = pictureOf(readFileSync(out, 'utf8'));
  assertTilesAddUp(t, p.tree, '');
  const view = p.tree.k!.filter((x) => !x.v).reduce((s, x) => s + x.s, 0);
  t.is(view, r.summary.finalSize);
  t.is(r.summary.finalSize, MB + TOOL + DATA + 6);
  t.is(find(p.tree, DRI)?.s, MB);
  t.is(find(p.tree, 'opt/b')?.s, TOOL); // /opt/a/tool deleted: the next path of the group counts
});

test('HTML header: n/a for the compressed size of uncompressed layers, the size for compressed ones', async (t) => {
  const header = async (image: string, name: string) => {
    const out = join(t.context.dir, name);
    const r = JSON.parse((await succeeds(t, ['inspect', image, '--json', '--html', out], { ms: 60_000 })).stdout) as InspectReport;
    const html = readFileSync(out, 'utf8');
    return { r, p: pictureOf(html), facts: /<p id="facts">(.*?)<\/p>/s.exec(html)?.[1] ?? '' };
  };
  const plain = await header(t.context.plain, 'plain.html');
  t.is(plain.r.summary.compressedSize, null);
  t.is(plain.p.summary.compressedSize, null);
  t.regex(plain.facts, /compressed <b>n\/a<\/b>/);
  t.regex(plain.facts, /final view <b>1\.5 MB<\/b>/);
  const gzip = await header(t.context.full, 'gzip.html');
  t.true(typeof gzip.r.summary.compressedSize === 'number' && gzip.r.summary.compressedSize < gzip.r.summary.blobSize + 1);
  t.regex(gzip.facts, /compressed <b>1\.\d MB<\/b>/);
  const diff = join(t.context.dir, 'plain-diff.html');
  await succeeds(t, ['diff', t.context.plain, t.context.slim, '--html', diff], { ms: 60_000 });
  t.regex(/<p id="facts">(.*?)<\/p>/s.exec(readFileSync(diff, 'utf8'))?.[1] ?? '', /compressed n\/a/);
});
