import test from 'ava';
import { openImage } from '../src/sources/resolve.js';
import { readImage, type ImageModel } from '../src/model/read-image.js';
import { Kind, RecordsBuilder } from '../src/scan/records.js';
import { Union } from '../src/model/union.js';
import { clip, treeRowText } from '../src/tui/panes.js';
import { changeCounts, layerChanges } from '../src/model/views.js';
import { DirSizes } from '../src/tui/dir-sizes.js';
import { compileFilter, isGlob } from '../src/tui/filter.js';
import { matchingNodes, TreeView, type Status, type ViewSpec } from '../src/tui/tree-view.js';
import { wasteSummary } from '../src/tui/waste.js';
import { inspectReport } from '../src/analyze/report.js';

const models = new Map<string, Promise<ImageModel>>();
const load = (f: string) => {
  if (!models.has(f)) models.set(f, openImage(`testdata/${f}`).then((i) => readImage(i)));
  return models.get(f)!;
};

function view(m: ImageModel, spec: Partial<ViewSpec> & { layer: number }): TreeView {
  return new TreeView(m.union, { from: spec.layer, sort: 'name', hide: new Set(), matches: null, collapsedByDefault: false, toggled: new Set(), ...spec }, new DirSizes(m.union));
}

/** Every row of a view, in screen order, as "status path". */
function rows(v: TreeView): string[] {
  const out: string[] = [];
  for (let n = v.first(); n >= 0; n = v.next(n)) out.push(`${v.status(n)} /${v.u.nodePath[n]}`);
  return out;
}

test('single-layer view: every change of the layer matches `ls --changes`', async (t) => {
  const m = await load('tiny-overlay.oci.tar');
  for (let L = 0; L < m.layers.length; L++) {
    const v = view(m, { layer: L });
    const shown = new Map(rows(v).map((r) => [r.slice(r.indexOf(' ') + 1), r.slice(0, r.indexOf(' '))]));
    for (const e of layerChanges(m, L)) t.is(shown.get(e.path), e.change, `layer ${L} ${e.path}`);
  }
});

test('layer 3 of tiny-overlay: /tmp/build and index.db removed, the rest unchanged', async (t) => {
  const m = await load('tiny-overlay.oci.tar');
  const r = rows(view(m, { layer: 3 }));
  t.true(r.includes('removed /tmp/build'));
  t.true(r.includes('removed /tmp/build/obj.o'));
  t.true(r.includes('removed /var/cache/pkg/index.db'));
  t.true(r.includes('unchanged /bin/busybox'));
  t.false(r.some((x) => x.startsWith('added')));
});

test('aggregated view 1..4 compares with the union after layer 0', async (t) => {
  const m = await load('tiny-overlay.oci.tar');
  const r = rows(view(m, { layer: 4, from: 1 }));
  t.true(r.includes('added /app/bundle.js')); // added in 2, chmod in 4: still "added" over the range
  t.true(r.includes('added /var/log/app/build.log'));
  t.false(r.some((x) => x.endsWith('/tmp/build/obj.o'))); // added and removed inside the range
  t.true(r.includes('unchanged /bin/busybox'));
  const r45 = rows(view(m, { layer: 5, from: 4 }));
  t.true(r45.includes('metadata /app/bundle.js'));
  t.true(r45.includes('added /etc/conf.d/one.conf'));
  const r6 = rows(view(m, { layer: 6, from: 5 }));
  t.false(r6.some((x) => x.endsWith('/two.conf'))); // added in 5, removed in 6: nothing over the range
  t.true(r6.includes('added /etc/conf.d/three.conf'));
  t.true(r6.includes('modified /etc/passwd'));
});

test('hide toggles keep the ancestors of what stays', async (t) => {
  const m = await load('tiny-overlay.oci.tar');
  const hide = new Set<Status>(['unchanged']);
  t.deepEqual(rows(view(m, { layer: 3, hide })), ['unchanged /tmp', 'removed /tmp/build', 'removed /tmp/build/obj.o', 'unchanged /var', 'unchanged /var/cache', 'unchanged /var/cache/pkg', 'removed /var/cache/pkg/index.db']);
  const noRemoved = rows(view(m, { layer: 3, hide: new Set<Status>(['removed']) }));
  t.false(noRemoved.some((x) => x.startsWith('removed')));
  t.true(noRemoved.includes('unchanged /bin/busybox'));
  t.deepEqual(rows(view(m, { layer: 3, hide: new Set<Status>(['removed', 'unchanged']) })), []);
});

test('filter keeps matches and their ancestors; glob and regex', async (t) => {
  const m = await load('tiny-overlay.oci.tar');
  const f = (p: string, layer = 3) => rows(view(m, { layer, matches: matchingNodes(m.union, compileFilter(p)) }));
  t.deepEqual(f('/tmp'), ['unchanged /tmp', 'removed /tmp/build', 'removed /tmp/build/obj.o']);
  t.deepEqual(f('*.db'), ['unchanged /var', 'unchanged /var/cache', 'unchanged /var/cache/pkg', 'removed /var/cache/pkg/index.db']);
  t.deepEqual(f('/etc/conf.d', 7), ['unchanged /etc', 'unchanged /etc/conf.d', 'unchanged /etc/conf.d/three.conf']);
  t.deepEqual(f('/app/*.js', 7), ['unchanged /app', 'added /app/bundle-hardlink.js', 'unchanged /app/bundle.js', 'unchanged /app/index.js']);
  t.deepEqual(f('app/index.*', 7), ['unchanged /app', 'unchanged /app/index.js']); // anchored at the root like /app/…
  t.deepEqual(f('local/bin/*', 7), []); // not /usr/local/bin: a glob with a / starts at the root
  t.deepEqual(f('**/bin/app', 7), ['added /usr', 'added /usr/local', 'added /usr/local/bin', 'added /usr/local/bin/app']);
  t.deepEqual(f('^/bin/(ls|cat)$', 0), ['added /bin', 'added /bin/cat', 'added /bin/ls']);
  t.true(isGlob('**/*.so'));
  t.false(isGlob('.*\\.so'));
  t.throws(() => compileFilter('a('), { message: /^filter: / });
});

test('a filter without regex syntax is a substring of the /-prefixed path, matched on the path as it is', async (t) => {
  const m = await load('tiny-overlay.oci.tar');
  const asRegex = (p: string) => matchingNodes(m.union, (abs: string) => new RegExp(p).test(abs));
  for (const p of ['/tmp', 'tmp/', '/etc/', 'conf', '/', 'bin/', '/usr/local/bin/app', 'nowhere']) {
    const f = compileFilter(p);
    t.truthy(f.relative, p);
    t.deepEqual(matchingNodes(m.union, f), asRegex(p), p);
  }
  // with a top-level directory named like a deeper one: /x matches x/… at the root and …/x anywhere
  const tops = matchingNodes(m.union, compileFilter('/bin'));
  t.true([...tops].some((n) => m.union.nodePath[n] === 'bin'));
  t.true([...tops].some((n) => m.union.nodePath[n] === 'usr/local/bin'));
  t.is(compileFilter('a.b').relative, undefined); // `.` is regex syntax: any character
});

test('collapse: a collapsed directory hides its subtree; collapse-all shows only the top', async (t) => {
  const m = await load('tiny-overlay.oci.tar');
  const bin = m.union.nodeOf('bin')!;
  const r = rows(view(m, { layer: 0, toggled: new Set([bin]) }));
  t.true(r.includes('added /bin'));
  t.false(r.some((x) => x.startsWith('added /bin/')));
  const top = rows(view(m, { layer: 7, collapsedByDefault: true }));
  t.true(top.every((x) => x.slice(x.indexOf(' ') + 2).indexOf('/') < 0), top.join());
  t.true(top.length > 3);
});

test('prev is the inverse of next; resolve falls back to a shown ancestor', async (t) => {
  const m = await load('tiny-overlay.oci.tar');
  const v = view(m, { layer: 7 });
  const all: number[] = [];
  for (let n = v.first(); n >= 0; n = v.next(n)) all.push(n);
  for (let i = 1; i < all.length; i++) t.is(v.prev(all[i]), all[i - 1]);
  t.is(v.prev(all[0]), -1);
  t.is(v.last(), all[all.length - 1]);
  const collapsed = view(m, { layer: 7, toggled: new Set([m.union.nodeOf('etc')!]) });
  t.is(collapsed.resolve(m.union.nodeOf('etc/passwd')!), m.union.nodeOf('etc')!);
  // /tmp/build does not exist after layer 7: the cursor falls back to /tmp
  t.is(v.resolve(m.union.nodeOf('tmp/build/obj.o')!), m.union.nodeOf('tmp')!);
});

test('directory sizes: the sum of visible children, incremental across layers equals a direct walk', async (t) => {
  for (const f of ['tiny-overlay.oci.tar', 'tiny-dockerfile.docker.tar']) {
    const m = await load(f);
    const u = m.union;
    const incremental = new DirSizes(u);
    for (let k = 0; k < m.layers.length; k++) {
      // direct: sum sizes of files below each directory from a full walk, a hardlinked inode at its first path only
      const direct = new Map<number, number>();
      const seen = new Set<number>();
      for (const { node, version } of u.walk(k)) {
        const ino = u.inodeOf(version);
        if (u.kindOf(version) === Kind.dir || seen.has(ino)) continue;
        if (ino >= 0) seen.add(ino);
        for (let p = u.parentOf(node); p >= 0; p = u.parentOf(p)) direct.set(p, (direct.get(p) ?? 0) + u.sizeOf(version));
      }
      for (const { node, version } of u.walk(k)) {
        if (u.kindOf(version) === Kind.dir) t.is(incremental.dirSize(node, k), direct.get(node) ?? 0, `${f} layer ${k} /${u.nodePath[node]}`);
      }
    }
  }
});

test('sort by size: largest first, and the tree shows link targets', async (t) => {
  const m = await load('tiny-overlay.oci.tar');
  const v = view(m, { layer: 7, sort: 'size' });
  const top = [...v.children(0)].map((n) => v.size(n));
  t.deepEqual(top, [...top].sort((a, b) => b - a));
  t.is(m.union.nodePath[v.children(0)[0]], 'bin');
});

test('waste for the explorer: the report\'s findings, one row each at its largest file, largest first', async (t) => {
  const m = await load('tiny-overlay.oci.tar');
  const w = wasteSummary(m);
  const report = inspectReport(m);
  // one list, one count: the explorer's rows are the report's findings (issue 30)
  t.is(w.findings.length, report.summary.findingCount);
  t.deepEqual(w.findings.map((f) => f.bytes), report.findings.map((f) => f.bytes));
  const byPath = new Map(w.findings.map((f) => [f.path, f]));
  // /var/cache/pkg and /tmp/build deleted by one later layer: one finding, shown at its largest file
  t.is(byPath.get('/var/cache/pkg/index.db')?.category, 'deleted');
  t.is(byPath.get('/var/cache/pkg/index.db')?.bytes, 650000);
  t.is(byPath.get('/tmp/build/obj.o'), undefined);
  t.is(byPath.get('/var/log/app/build.log')?.category, 'log');
  // stored in layer 2, re-stored by the chmod of layer 4, then copied up again by layer 7's hardlink
  const bundle = w.findings.filter((f) => f.path === '/app/bundle.js');
  t.deepEqual(bundle.map((f) => [f.layer, f.category]).sort(), [[2, 'metadata-copy'], [4, 'metadata-copy']]);
  t.is(w.wastedBytes, report.summary.wastedBytes);
  t.is(w.efficiency, report.summary.efficiency);
  t.deepEqual(w.findings.map((f) => f.bytes), [...w.findings.map((f) => f.bytes)].sort((x, y) => y - x));
});

test('change counts from change codes equal the statuses layerChanges lists, on every fixture layer', async (t) => {
  for (const f of ['tiny-overlay.oci.tar', 'tiny-dockerfile.docker.tar', 'tiny-commit.docker.tar', 'tiny-overlay.skopeo-docker.tar']) {
    const m = await load(f);
    for (let L = 0; L < m.layers.length; L++) {
      const listed = { added: 0, modified: 0, metadata: 0, removed: 0, unchanged: 0 };
      for (const e of layerChanges(m, L)) listed[e.change]++;
      t.deepEqual(changeCounts(m.union, L), listed, `${f} layer ${L}`);
    }
  }
});

test('hiding unchanged entries: the touched-nodes shortcut equals testing every node', async (t) => {
  for (const f of ['tiny-overlay.oci.tar', 'tiny-dockerfile.docker.tar']) {
    const m = await load(f);
    const everything = matchingNodes(m.union, () => true);
    const hide = new Set<Status>(['unchanged']);
    for (let to = 0; to < m.layers.length; to++) {
      for (const from of [0, Math.max(0, to - 2), to]) {
        const fast = rows(view(m, { layer: to, from, hide }));
        t.deepEqual(fast, rows(view(m, { layer: to, from, hide, matches: everything })), `${f} ${from}..${to}`);
        // an unchanged row stays only as the ancestor of a change
        const changed = fast.filter((r) => !r.startsWith('unchanged ')).map((r) => r.slice(r.indexOf(' ') + 1));
        for (const r of fast.filter((x) => x.startsWith('unchanged '))) t.true(changed.some((c) => c.startsWith(`${r.slice(10)}/`)), r);
      }
    }
  }
});

test('tree rows: control characters in names are shown escaped (\\n), links show their targets', (t) => {
  const b = new RecordsBuilder();
  b.add('etc', Kind.dir, 0, 0o755, 0, 0, 0);
  b.add('etc/bad\nname', Kind.file, 5, 0o644, 0, 0, 0);
  const link = b.add('etc/ln', Kind.symlink, 0, 0o777, 0, 0, 0);
  b.records.link[link] = '../x\ty';
  const hard = b.add('etc/hard', Kind.hardlink, 0, 0o644, 0, 0, 0);
  b.records.link[hard] = 'etc/bad\nname';
  const u = new Union();
  u.addLayer(b.finish(5, 2048));
  const v = new TreeView(u, { layer: 0, from: 0, sort: 'name', hide: new Set(), matches: null, collapsedByDefault: false, toggled: new Set() }, new DirSizes(u));
  const text = (p: string) => clip(treeRowText(v, u.nodeOf(p)!, true), 200); // as the pane draws it
  t.regex(text('etc/bad\nname'), /^A -rw-r--r-- +0:0 +5 B {3}├── bad\\nname$/);
  t.regex(text('etc/ln'), /^A lrwxrwxrwx +0:0 +0 B {3}└── ln -> \.\.\/x\\ty$/);
  // the group's bytes count once, at its first path (bad\nname): the link shows 0 B, etc/ 5 B
  t.regex(text('etc/hard'), /^A -rw-r--r-- +0:0 +0 B {3}├── hard => \/etc\/bad\\nname$/);
  t.regex(text('etc'), /^A drwxr-xr-x +0:0 +5 B └─▾ etc\/$/);
});
