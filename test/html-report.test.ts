/**
 * `strata inspect --html` and `strata diff --html` in a real browser (Debian's chromium, headless):
 * the tiles of known paths and their sizes against `strata inspect --json` / `ls --json`, a zoom
 * click and the breadcrumb back, the layer highlight, the colour switch, the sortable findings, a
 * tooltip, and no request but the file itself. Screenshots land in test-artifacts/; with
 * STRATA_UPDATE_SCREENSHOTS=1 they also replace the README's (docs/images/).
 */
import anyTest, { type TestFn } from 'ava';
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { launchBrowser, openPage } from './helpers/browser.js';
import { fixture } from './helpers/fixtures.js';
import { repoRoot, runStrata } from './helpers/cli.js';
import { tempDir, writeOciArchive } from './helpers/image-builder.js';
import type { Entry } from './helpers/tar-writer.js';
import { SECRETS, writeRiskyImage } from './helpers/risky-image.js';
import type { InspectReport } from '../src/analyze/report.js';
import type { DiffReport } from '../src/analyze/diff/diff.js';

const test = anyTest as TestFn<{ browser: Browser; dir: string; cleanup: () => void }>;
const artifacts = join(repoRoot, 'test-artifacts');

test.before(async (t) => {
  mkdirSync(artifacts, { recursive: true });
  const { dir, cleanup } = tempDir();
  t.context = { browser: await launchBrowser(), dir, cleanup };
});
test.after.always(async (t) => {
  await t.context.browser?.close();
  t.context.cleanup?.();
});

/** Keep a screenshot as a test artifact, and as the README's picture when asked to. */
function keep(png: string, name: string): void {
  copyFileSync(png, join(artifacts, name));
  if (process.env.STRATA_UPDATE_SCREENSHOTS === '1') {
    mkdirSync(join(repoRoot, 'docs', 'images'), { recursive: true });
    copyFileSync(png, join(repoRoot, 'docs', 'images', name));
  }
}

async function strataOk(args: string[]): Promise<string> {
  const r = await runStrata(args, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`strata ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

test.serial('inspect --html: the treemap of tiny-overlay, checked against inspect --json and ls --json, in chromium', async (t) => {
  const file = join(t.context.dir, 'overlay.html');
  const image = 'testdata/tiny-overlay.oci.tar'; // as the README's command names it (the CLI runs in the checkout)
  const report = JSON.parse(await strataOk(['inspect', image, '--json', '--html', file])) as InspectReport;
  const listed = new Map((await strataOk(['ls', image, '--json'])).trim().split('\n').map((l) => JSON.parse(l) as { path: string; size: number; type: string; layer: number }).map((e) => [e.path, e]));
  const { page, requests, errors, url } = await openPage(t.context.browser, file);
  t.deepEqual(errors, []);

  // the map: the final view and the hidden bytes, as the report counts them
  const size = (sel: string) => page.$eval(sel, (e) => Number(e.getAttribute('data-size')));
  t.is(await size('#map'), report.summary.finalSize + report.summary.wastedBytes);
  t.is(await size('.dir[data-group="hidden in layers"]'), report.summary.wastedBytes);
  for (const l of report.layers) {
    const stored = report.findings.filter((f) => f.kind === 'waste' && f.layer === l.index).reduce((s, f) => s + f.bytes, 0);
    if (stored > 10_000) t.is(await size(`.dir[data-group="layer ${l.index}"]`), stored, `hidden in layer ${l.index}`);
  }
  const tiles = await page.$$eval('#map .tile', (els) => els.map((e) => ({
    path: e.getAttribute('data-path')!, size: Number(e.getAttribute('data-size')), layer: Number(e.getAttribute('data-layer')),
    hidden: e.classList.contains('hidden'), folded: e.hasAttribute('data-folded'), colour: e.getAttribute('data-colour'),
  })));
  const view = tiles.filter((x) => !x.hidden), hidden = tiles.filter((x) => x.hidden);
  // every file tile drawn has its size and layer in ls --json (a hardlinked pair: the bytes at one path)
  for (const x of view.filter((v) => !v.folded)) {
    const e = listed.get(x.path);
    t.truthy(e, x.path);
    if (e!.type === 'file' || x.size !== 0) t.is(x.size, e!.size, x.path);
    t.is(x.layer, e!.layer, x.path);
  }
  const busybox = view.find((x) => x.path === '/bin/busybox');
  t.truthy(busybox);
  t.is(busybox!.size, listed.get('/bin/busybox')!.size);
  t.is(busybox!.layer, listed.get('/bin/busybox')!.layer);
  // the hidden copies, per storing layer, as the waste findings list them
  for (const f of report.findings.filter((x) => x.kind === 'waste')) {
    for (const it of f.items.filter((i) => i.bytes > 10_000)) { // smaller ones are under a pixel here
      const tile = hidden.find((x) => x.path === it.path && x.layer === it.layer);
      t.truthy(tile, `hidden tile ${it.path} of layer ${it.layer}`);
      t.is(tile!.size, it.bytes);
    }
  }
  // the hardlinked pair is counted once
  const pair = ['/app/bundle.js', '/app/bundle-hardlink.js'].map((p) => view.find((x) => x.path === p)?.size ?? 0);
  t.is(pair[0] + pair[1], listed.get('/app/bundle-hardlink.js')!.size);

  // hover: path, size, layer and its instruction
  await page.hover('[data-path="/var/log/app/build.log"].tile');
  const tip = await page.$eval('#tip', (e) => (e as HTMLElement).innerText);
  t.regex(tip, /\/var\/log\/app\/build\.log/);
  t.regex(tip, /58\.9 kB/);
  t.regex(tip, /layer 1/);
  t.regex(tip, /mkdir -p \/var\/cache\/pkg/);
  t.regex(tip, /category: log/);

  // the layer highlight: layer 2's copy of bundle.js, hidden by layer 4
  await page.click('.layer[data-layer="2"]');
  const lit = await page.$$eval('#map .tile', (els) => els.map((e) => [e.getAttribute('data-layer'), e.classList.contains('hl'), e.classList.contains('dim')]));
  t.true(lit.some(([l]) => l === '2'));
  t.true(lit.every(([l, hl, dim]) => (l === '2' ? hl && !dim : dim && !hl)), 'layer 2 lit, the rest dimmed');
  await page.click('.layer[data-layer="2"]');
  t.is(await page.$$eval('#map .tile.dim', (els) => els.length), 0, 'a second click clears it');

  // colours by category
  await page.click('input[name="dim"][value="1"]');
  t.is(await page.$eval('[data-path="/var/log/app/build.log"].tile', (e) => e.getAttribute('data-colour')), 'log');
  t.is(await page.$eval('[data-path="/var/cache/pkg/index.db"].tile.hidden', (e) => e.getAttribute('data-colour')), 'deleted');
  await page.click('input[name="dim"][value="0"]');

  const png = join(t.context.dir, 'html-inspect.png');
  await page.screenshot({ path: png, fullPage: true });
  keep(png, 'html-inspect.png');

  // findings: largest first, then sorted by files on a click
  const sizesOf = () => page.$$eval('#findings tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
  t.is((await sizesOf())[0], '650 kB');
  await page.click('#findings th[data-col="3"]');
  const files = await page.$$eval('#findings tbody tr td:nth-child(4)', (tds) => tds.map((td) => Number(td.textContent)));
  t.deepEqual(files, [...files].sort((a, b) => b - a));
  t.is(files.length, report.findings.length);

  // zoom into /bin, then back with the breadcrumb
  await page.click('[data-path="/bin/busybox"].tile');
  t.deepEqual(await page.$$eval('#crumbs a', (as) => as.map((a) => a.textContent)), ['image', 'bin']);
  t.is(await page.$$eval('[data-path="/app/bundle-hardlink.js"], [data-path="/app/bundle.js"]', (els) => els.length), 0, 'outside /bin is not drawn');
  const box = await page.$eval('[data-path="/bin/busybox"].tile', (e) => (e as HTMLElement).offsetWidth * (e as HTMLElement).offsetHeight);
  const map = await page.$eval('#map', (e) => e.clientWidth * e.clientHeight);
  t.true(box > map * 0.9, 'busybox fills the zoomed map');
  await page.click('#crumbs a[data-depth="0"]');
  t.true((await page.$$eval('[data-path="/app/bundle-hardlink.js"], [data-path="/app/bundle.js"]', (els) => els.length)) > 0);

  t.deepEqual(requests, [url], 'the page loads nothing but itself');
  const csp = await page.$eval('meta[http-equiv="Content-Security-Policy"]', (m) => m.getAttribute('content'));
  t.regex(csp!, /default-src 'none'/);
  await page.close();
});

test.serial('diff --html: the tree coloured by change, the deltas per directory and category', async (t) => {
  const file = join(t.context.dir, 'diff.html');
  const a = 'testdata/tiny-commit.docker.tar', b = 'testdata/tiny-dockerfile.docker.tar';
  const report = JSON.parse(await strataOk(['diff', a, b, '--json', '--html', file])) as DiffReport;
  const { page, requests, errors, url } = await openPage(t.context.browser, file);
  t.deepEqual(errors, []);
  const colour = (p: string) => page.$eval(`[data-path="${p}"].tile`, (e) => e.getAttribute('data-colour'));
  t.is(await colour('/var/cache/pkg/index.db'), 'removed');
  t.is(await colour('/tmp/build/obj.o'), 'removed');
  t.is(await colour('/app/bundle-hardlink.js'), 'added');
  t.is(await colour('/bin/busybox'), 'same');
  const removed = report.files.find((f) => f.path === '/var/cache/pkg/index.db')!;
  t.is(Number(await page.$eval('[data-path="/var/cache/pkg/index.db"].tile', (e) => e.getAttribute('data-size'))), removed.a!.size);
  const rows = await page.$$eval('#findings tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  t.deepEqual(rows[0], [report.directories[0].path, `+${(report.directories[0].sizeDelta / 1000).toFixed(0)} kB`, String(report.directories[0].changed)]);
  t.true(rows.some((r) => r[0] === '/var/cache' && r[1] === '−400 kB'));
  const cats = await page.$$eval('#categories tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
  t.deepEqual(cats, report.bloat.categories.filter((c) => c.a || c.b).map((c) => c.category));
  await page.hover('[data-path="/var/cache/pkg/index.db"].tile');
  t.regex(await page.$eval('#tip', (e) => (e as HTMLElement).innerText), /A 400 kB → B 0 B \(−400 kB\)/);
  const png = join(t.context.dir, 'html-diff.png');
  await page.screenshot({ path: png, fullPage: true });
  keep(png, 'html-diff.png');
  t.deepEqual(requests, [url]);
  await page.close();
});

test.serial('a 60,000-file image: small files folded per directory, the page under its size budget, sums exact', async (t) => {
  const entries: Entry[] = [];
  for (let d = 0; d < 300; d++) for (let i = 0; i < 200; i++) entries.push({ name: `srv/d${d}/f${i}`, data: 'x'.repeat((d * 7 + i * 13) % 97) });
  entries.push({ name: 'srv/big.bin', data: Buffer.alloc(3_000_000, 1) });
  const image = join(t.context.dir, 'many.oci.tar');
  await writeOciArchive(image, { images: [{ layers: [{ entries }] }] });
  const file = join(t.context.dir, 'many.html');
  const report = JSON.parse(await strataOk(['inspect', image, '--json', '--html', file])) as InspectReport;
  t.true(statSync(file).size < 2_500_000, `${statSync(file).size} bytes`);
  const data = JSON.parse(/<script id="strata-data" type="application\/json">(.*?)<\/script>/s.exec(readFileSync(file, 'utf8'))![1]) as { tree: { s: number } };
  t.is(data.tree.s, report.summary.finalSize);
  const { page, errors } = await openPage(t.context.browser, file);
  t.deepEqual(errors, []);
  const folded = await page.$$eval('#map .tile[data-folded]', (els) => els.map((e) => Number(e.getAttribute('data-folded'))));
  t.true(folded.length > 0, 'folded tiles drawn');
  t.true(await page.$eval('[data-path="/srv/big.bin"].tile', (e) => (e as HTMLElement).offsetWidth > 100));
  const drawn = await page.$$eval('#map div', (els) => els.length);
  t.true(drawn < 40_000, `${drawn} elements`);
  await page.close();
});

test('--html: one image only, and a file it cannot write is a one-line error', async (t) => {
  const image = fixture('tiny-commit.docker.tar');
  const two = await runStrata(['inspect', image, image, '--html', join(t.context.dir, 'x.html')]);
  t.is(two.code, 2);
  t.regex(two.stderr, /--html draws one image/);
  const bad = await runStrata(['inspect', image, '--html', '/nonexistent-dir/x.html']);
  t.is(bad.code, 2);
  t.regex(bad.stderr.trim(), /^strata: cannot write \/nonexistent-dir\/x\.html: no such file or directory \(ENOENT\)$/);
  const conflict = await runStrata(['diff', image, image, '--html', join(t.context.dir, 'y.html'), '--file', '/bin/sh']);
  t.is(conflict.code, 2);
});

test.serial('inspect --html: the risks table in chromium: the hidden key, the risky files, the root user; no secret value on the page', async (t) => {
  const image = join(t.context.dir, 'risky.oci.tar');
  await writeRiskyImage(image);
  const file = join(t.context.dir, 'risky.html');
  await strataOk(['inspect', image, '--html', file]);
  const { page, errors, requests, url } = await openPage(t.context.browser, file);
  t.deepEqual(errors, []);
  t.deepEqual(requests, [url]);
  t.false(await page.$eval('#risks-section', (e) => (e as HTMLElement).hidden));
  t.regex(await page.$eval('#user', (e) => e.textContent ?? ''), /^Runs as root \(the config names no user\)/);
  const rows = await page.$$eval('#risks tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  t.is(rows.length, 9);
  const key = rows.find((r) => r[1] === '/root/.ssh/id_rsa')!;
  t.is(key[0], 'secret: SSH private key file');
  t.is(key[2], '1 → 2');
  t.regex(key[3], /^hidden by layer 2, still storedprivate-key line 1 sha256:[0-9a-f]{12}$/);
  t.deepEqual(rows.filter((r) => !r[0].startsWith('secret')).map((r) => [r[0], r[1], r[3]]), [
    ['world-writable', '/data', '0777 dir 0:0'],
    ['capability', '/usr/bin/pinger', 'cap_net_raw+ep'],
    ['setuid', '/usr/local/bin/helper', '4755 file 0:0'],
  ]);
  // sorted by path when its header is clicked
  await page.click('#risks th[data-col="1"]');
  const paths = await page.$$eval('#risks tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent ?? ''));
  t.deepEqual(paths, [...paths].sort().reverse());
  const text = await page.evaluate(() => document.documentElement.outerHTML);
  for (const s of SECRETS) t.false(text.includes(s));
  await page.screenshot({ path: join(t.context.dir, 'risks.png'), fullPage: true });
  keep(join(t.context.dir, 'risks.png'), 'html-risks.png');
  await page.close();
});

test.serial('audit --html: the fleet page in chromium: a row and a bar per image, the shared layers and duplicates as the JSON says', async (t) => {
  const file = join(t.context.dir, 'fleet.html');
  const images = ['tiny-dockerfile.docker.tar', 'tiny-overlay.oci.tar', 'tiny-commit.docker.tar'].map(fixture);
  const r = await runStrata(['audit', ...images, '--json', '--html', file, '--no-cache'], { timeoutMs: 60_000 });
  t.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as import('../src/analyze/fleet/fleet.js').FleetReport;
  const { page, errors, requests, url } = await openPage(t.context.browser, file);
  t.deepEqual(errors, []);
  t.deepEqual(requests, [url]);
  const rows = await page.$$eval('#images tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  t.deepEqual(rows.map((x) => x[0]), report.images.map((i) => i.ref));
  t.deepEqual(rows.map((x) => x.at(-1)), report.images.map((i) => i.verdict));
  // the bars: the biggest image's spans the whole width, the wasted part in proportion
  const widths = await page.$$eval('#images tbody tr', (trs) => trs.map((tr) => ['.vis', '.blo', '.was'].map((c) => (tr.querySelector(c) as HTMLElement).getBoundingClientRect().width)));
  const max = Math.max(...report.images.map((i) => i.uncompressedSize));
  for (const [i, img] of report.images.entries()) t.true(Math.abs(widths[i][2] - (img.wastedBytes / max) * 180) < 1, img.ref);
  t.is(await page.$$eval('#shared tbody tr', (x) => x.length), report.fleet.sharedLayers.length);
  t.is(await page.$$eval('#duplicates tbody tr', (x) => x.length), report.fleet.duplicates.length);
  t.regex(await page.$eval('#facts', (e) => e.textContent ?? ''), /optimize would save/);
  await page.screenshot({ path: join(t.context.dir, 'fleet.png'), fullPage: true });
  keep(join(t.context.dir, 'fleet.png'), 'html-fleet.png');
  await page.close();
});
