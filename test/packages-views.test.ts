/**
 * Packages in the HTML report and in the explorer, against analyzePackages: the page's packages
 * table and unowned directories, the treemap coloured by package (a tile per file in its package's
 * colour, the smaller packages in one, unowned files in a neutral one) in Debian's chromium, hostile
 * names shown as text; the explorer's file line naming the cursor's package through terminalText.
 */
import anyTest, { type TestFn } from 'ava';
import { join } from 'node:path';
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import type { Browser, Page } from 'puppeteer-core';
import { launchBrowser, openPage } from './helpers/browser.js';
import { runStrata } from './helpers/cli.js';
import { requireTools } from './helpers/system-tools.js';
import { tempDir, writeOciArchive, type LayerSpec } from './helpers/image-builder.js';
import { modelOf } from './helpers/model.js';
import type { Entry } from './helpers/tar-writer.js';
import { openImage } from '../src/sources/resolve.js';
import { readImage, type ImageModel } from '../src/model/read-image.js';
import { analyzePackages } from '../src/analyze/packages/packages.js';
import { inspectReport } from '../src/analyze/report.js';
import { inspectPicture } from '../src/analyze/picture/inspect-picture.js';
import { HIDDEN_BYTES, NO_PACKAGE, UNLISTED_PACKAGE } from '../src/analyze/picture/package-classes.js';
import type { Tile } from '../src/analyze/picture/tile-tree.js';
import { humanBytes } from '../src/util/units.js';
import { ExplorerApp } from '../src/tui/app.js';
import { buildKeymap } from '../src/tui/keymap.js';

requireTools('chromium');

const test = anyTest as TestFn<{ browser: Browser; dir: string; cleanup: () => void }>;

test.before(async (t) => {
  const { dir, cleanup } = tempDir();
  t.context = { browser: await launchBrowser(), dir, cleanup };
});
test.after.always(async (t) => {
  await t.context.browser?.close();
  t.context.cleanup?.();
});

/** A package name that is markup, and a version that is a terminal escape (set the window title). */
const EVIL = 'x<img src=x onerror=document.body.dataset.pwned=1>';
const EVIL_VERSION = '1.0\x1b]0;pwned\x07';
const FILLERS = 12;

const stanza = (name: string, version: string) => `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\nInstalled-Size: 300\n`;
const bytes = (n: number, seed: number) => Buffer.alloc(n, seed);

/**
 * Layer 0: dpkg's status (curl, the hostile package, 12 small ones), their .list files and files;
 * layer 1: an npm package, an application file and /tmp/scratch; layer 2 deletes /tmp/scratch.
 */
function packagedLayers(): LayerSpec[] {
  const fill = Array.from({ length: FILLERS }, (_, i) => `fill${String(i).padStart(2, '0')}`);
  const broken = 'Package: broken\nStatus: install ok installed\n'; // no Version: a warning
  const status = [stanza('curl', '7.88.1-10+deb12u5'), stanza(EVIL, EVIL_VERSION), ...fill.map((f) => stanza(f, '1')), broken].join('\n');
  const base: Entry[] = [
    { name: 'var/lib/dpkg/status', data: status },
    { name: 'var/lib/dpkg/info/curl.list', data: '/.\n/usr\n/usr/bin\n/usr/bin/curl\n/usr/share/doc/curl/copyright\n' },
    { name: `var/lib/dpkg/info/${EVIL}.list`, data: '/usr/lib/evil.so\n' },
    ...fill.map((f) => ({ name: `var/lib/dpkg/info/${f}.list`, data: `/usr/share/fill/${f}\n` })),
    { name: 'usr/bin/curl', data: bytes(300_000, 1) },
    { name: 'usr/share/doc/curl/copyright', data: bytes(5000, 30) },
    { name: 'usr/lib/evil.so', data: bytes(100_000, 2) },
    ...fill.map((f, i) => ({ name: `usr/share/fill/${f}`, data: bytes(20_000 - i * 1000, 3 + i) })),
  ];
  const app: Entry[] = [
    { name: 'app/node_modules/left-pad/package.json', data: JSON.stringify({ name: 'left-pad', version: '1.3.0' }) },
    { name: 'app/node_modules/left-pad/index.js', data: bytes(50_000, 20) },
    { name: 'app/main.js', data: bytes(200_000, 21) },
    { name: 'tmp/scratch', data: bytes(30_000, 22) },
  ];
  return [
    { entries: base, createdBy: 'ADD rootfs.tar /' },
    { entries: app, createdBy: 'RUN npm install' },
    { entries: [{ name: 'tmp/.wh.scratch', data: '' }], createdBy: 'RUN rm /tmp/scratch' },
  ];
}

let built: Promise<{ file: string; model: ImageModel }> | undefined;
/** The packaged image as an OCI archive, and its model read in process. */
function packagedImage(dir: string) {
  built ??= (async () => {
    const file = join(dir, 'packaged.oci.tar');
    await writeOciArchive(file, { images: [{ layers: packagedLayers() }] });
    return { file, model: await readImage(await openImage(file)) };
  })();
  return built;
}

async function inspectHtml(t: { context: { dir: string } }, image: string, name: string): Promise<string> {
  const html = join(t.context.dir, name);
  const r = await runStrata(['inspect', image, '--html', html], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`strata inspect --html: exit ${r.code}: ${r.stderr}`);
  return html;
}

function* leaves(t: Tile, path = ''): Generator<[string, Tile]> {
  const here = t.v || t.x || path === '' && t.n === '' ? path : `${path}/${t.n}`;
  if (!t.k) yield [here, t];
  for (const k of t.k ?? []) yield* leaves(k, here);
}

const cellTexts = (page: Page, sel: string) => page.$$eval(`${sel} tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));

test.serial('the picture: the packages as analyzePackages has them, each file tile the index of its package', async (t) => {
  const { model } = await packagedImage(t.context.dir);
  const p = analyzePackages(model);
  const picture = inspectPicture(model, inspectReport(model));
  const k = picture.packages!;
  t.deepEqual(k.rows, p.rows.map((r) => ({ ecosystem: r.ecosystem, name: r.name, version: r.version, layer: r.layer, bytes: r.bytes, files: r.files })));
  t.is(k.count, 15);
  t.deepEqual(k.rows.slice(0, 3).map((r) => r.name), ['curl', EVIL, 'left-pad']);
  t.deepEqual(k.unowned, { ...p.unowned, dirCount: p.unowned.dirs.length });
  t.deepEqual(k.warnings, p.warnings);
  t.is(k.warningCount, 1);
  t.true(k.unowned.dirs.some((d) => d.path === '/app/main.js' || d.path === '/app'), JSON.stringify(k.unowned.dirs));
  const dim = picture.dims.indexOf('package');
  const classes = new Map([...leaves(picture.tree)].map(([path, tile]) => [path, tile.c![dim]]));
  const index = (name: string) => k.rows.findIndex((r) => r.name === name);
  t.is(classes.get('/usr/bin/curl'), index('curl'));
  t.is(classes.get('/usr/share/doc/curl/copyright'), index('curl'));
  t.is(classes.get('/usr/lib/evil.so'), index(EVIL));
  t.is(classes.get('/app/node_modules/left-pad/index.js'), index('left-pad'));
  t.is(classes.get('/app/main.js'), NO_PACKAGE);
  t.is(classes.get('/var/lib/dpkg/status'), NO_PACKAGE);
  // the hidden copy of /tmp/scratch: in no package of the final view, a class of its own
  t.deepEqual([...leaves(picture.tree)].filter(([path]) => path.endsWith('/tmp/scratch')).map(([, tile]) => tile.c![dim]), [HIDDEN_BYTES]);
});

test.serial('the 2,000 largest packages are listed, long names clipped; a smaller package\'s file is "unlisted", among the other packages on the page', async (t) => {
  const n = 2001;
  const long = `big${'n'.repeat(297)}`;
  const names = Array.from({ length: n }, (_, i) => (i === 0 ? long : `p${i}`));
  const image = join(t.context.dir, 'many-packages.oci.tar');
  const entries: Entry[] = [
    { name: 'var/lib/dpkg/status', data: names.map((x) => stanza(x, '1')).join('\n') },
    { name: `var/lib/dpkg/info/${long}.list`, data: '/opt/big\n', gnuLongName: true },
    { name: 'opt/big', data: bytes(100_000, 1) },
    ...names.slice(1).map((x) => ({ name: `var/lib/dpkg/info/${x}.list`, data: `/opt/${x}\n` })),
    ...names.slice(1).map((x, i) => ({ name: `opt/${x}`, data: bytes(5000 - i, 1) })),
  ];
  await writeOciArchive(image, { images: [{ layers: [{ entries }] }] });
  const model = await readImage(await openImage(image));
  const picture = inspectPicture(model, inspectReport(model));
  const k = picture.packages!;
  t.is(k.count, analyzePackages(model).rows.length);
  t.is(k.rows.length, 2000);
  const dim = picture.dims.indexOf('package');
  const classes = new Map([...leaves(picture.tree)].map(([path, tile]) => [path, tile.c![dim]]));
  const smallest = analyzePackages(model).rows.at(-1)!;
  t.is(smallest.files, 1);
  t.true(k.rows.every((r) => r.name !== smallest.name), 'the smallest package is not listed');
  t.is(classes.get(`/opt/${smallest.name}`), UNLISTED_PACKAGE);
  t.is(classes.get('/opt/p1'), k.rows.findIndex((r) => r.name === 'p1'));
  const big = k.rows[0];
  t.is(classes.get('/opt/big'), 0);
  t.is(big.name.length, 200);
  t.true(big.name.endsWith('…'));

  const { page, errors } = await openPage(t.context.browser, await inspectHtml(t, image, 'many-packages.html'));
  t.deepEqual(errors, []);
  t.is(await page.$$eval('#packages tbody tr', (trs) => trs.length), 2000);
  t.regex(await page.$eval('#packages', (e) => e.textContent ?? ''), /2000 largest of 2001 packages/);
  await page.click('input[name="dim"][value="3"]');
  const colour = (path: string) => page.$eval(`#map .tile[data-path="${path}"]`, (e) => [e.getAttribute('data-colour'), getComputedStyle(e).backgroundColor]);
  t.deepEqual(await colour(`/opt/${smallest.name}`), await colour('/opt/p100'), 'unlisted and listed small packages share one colour');
  t.is((await colour(`/opt/${smallest.name}`))[0], 'other packages');
  await page.hover(`#map .tile[data-path="/opt/${smallest.name}"]`);
  t.regex(await page.$eval('#tip', (e) => (e as HTMLElement).innerText), /package: one of the smaller packages, not listed/);
  await page.close();
});

test.serial('inspect --html in chromium: the packages table, the unowned directories, the map coloured by package', async (t) => {
  const { file, model } = await packagedImage(t.context.dir);
  const p = analyzePackages(model);
  const html = await inspectHtml(t, file, 'packaged.html');
  const { page, requests, errors, url } = await openPage(t.context.browser, html);
  t.deepEqual(errors, []);
  t.deepEqual(requests, [url]);

  // the table: analyzePackages's rows, largest first; the hostile name is text, not an element
  const rows = await cellTexts(page, '#packages');
  t.deepEqual(rows.map((r) => r.slice(1)), p.rows.map((r) => [r.ecosystem, r.name, r.version.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, ''), String(r.layer), humanBytes(r.bytes), String(r.files)]));
  t.is(rows[1][2], EVIL);
  t.is(await page.$$eval('#packages img, #packages b', (els) => els.length), 0);
  t.is(await page.evaluate(() => document.body.dataset.pwned), undefined);
  t.regex(await page.$eval('#package-totals', (e) => e.textContent ?? ''), /deb 14 packages .* · npm 1 package .* · no package /);
  // sorted by name on a click, again reversed
  await page.click('#packages th[data-col="2"]');
  const names = (await cellTexts(page, '#packages')).map((r) => r[2]);
  t.deepEqual(names, [...names].sort().reverse());
  await page.click('#packages th[data-col="2"]');
  t.deepEqual((await cellTexts(page, '#packages')).map((r) => r[2]), [...names].reverse());

  // what no package owns, by directory; the readers' warnings
  t.deepEqual(await cellTexts(page, '#unowned'), p.unowned.dirs.map((d) => [d.path, humanBytes(d.bytes), String(d.files)]));
  t.deepEqual(await page.$$eval('#package-warnings li', (lis) => lis.map((li) => li.textContent)), p.warnings);
  t.regex(p.warnings[0], /a stanza without Version/);

  // the map coloured by package: a file in its package's colour (the table's swatch and the legend's), the rest shared
  const tile = (path: string) => page.$eval(`#map .tile[data-path="${path}"]:not(.hidden)`, (e) => [e.getAttribute('data-colour'), getComputedStyle(e).backgroundColor]);
  t.is((await tile('/usr/bin/curl'))[0], 'layer 0', 'coloured by layer first');
  await page.click('input[name="dim"][value="3"]');
  // the table is sorted by name now: a row is found by its name
  const swatch = (name: string) =>
    page.$$eval('#packages tbody tr', (trs, name) => {
      const sw = trs.find((tr) => tr.children[2].textContent === name)?.querySelector('.sw');
      return sw ? getComputedStyle(sw).backgroundColor : null;
    }, name);
  const legend = () => page.$$eval('#legend .key', (ks) => ks.map((k) => [k.textContent ?? '', getComputedStyle(k.querySelector('i')!).backgroundColor]));
  const keys = new Map((await legend()).map(([text, colour]) => [text.replace(/ \S+ \S?B$/, ''), colour]));
  const key = (name: string) => keys.get(name) ?? `no legend key ${name}`;
  const curl = await tile('/usr/bin/curl');
  t.is(curl[0], 'deb curl 7.88.1-10+deb12u5');
  t.is(curl[1], await swatch('curl'));
  t.is(curl[1], key('deb curl 7.88.1-10+deb12u5'));
  t.deepEqual(await tile('/usr/share/doc/curl/copyright'), curl);
  const leftPad = await tile('/app/node_modules/left-pad/index.js');
  t.is(leftPad[0], 'npm left-pad 1.3.0');
  t.is(leftPad[1], await swatch('left-pad'));
  t.is(await swatch('fill09'), null, 'a smaller package has no colour of its own');
  t.notDeepEqual(leftPad[1], curl[1]);
  const main = await tile('/app/main.js');
  t.is(main[0], 'no package');
  t.is(main[1], key('no package'));
  t.true((await legend()).some(([text]) => text === `no package ${humanBytes(p.unowned.bytes)}`), 'the legend\'s unowned bytes are the table\'s');
  const hidden = await page.$eval('#map .tile.hidden[data-path="/tmp/scratch"]', (e) => [e.getAttribute('data-colour'), getComputedStyle(e).backgroundColor]);
  t.deepEqual(hidden, ['hidden in layers', key('hidden in layers')]);
  t.not(hidden[1], main[1]);
  // the 12 largest packages have a colour each; fill09..fill11 are smaller and share one
  const others = await Promise.all(['fill09', 'fill10', 'fill11'].map((f) => tile(`/usr/share/fill/${f}`)));
  t.true(others.every(([name, colour]) => name === 'other packages' && colour === key('other packages')), JSON.stringify(others));
  const own = await Promise.all(Array.from({ length: 9 }, (_, i) => tile(`/usr/share/fill/fill0${i}`)));
  t.is(new Set([curl[1], leftPad[1], main[1], others[0][1], ...own.map(([, c]) => c)]).size, 13, 'distinct colours');
  t.is(await page.$$eval('#packages tbody .sw', (els) => els.length), 12);
  // the tooltip names the package
  await page.hover('#map .tile[data-path="/usr/bin/curl"]');
  t.regex(await page.$eval('#tip', (e) => (e as HTMLElement).innerText), /package: deb curl 7\.88\.1-10\+deb12u5/);
  await page.close();
});

test.serial('inspect --html of an image without a package database: no packages section, no package colouring', async (t) => {
  const image = join(t.context.dir, 'bare.oci.tar');
  await writeOciArchive(image, { images: [{ layers: [{ entries: [{ name: 'app/main.js', data: 'x' }] }] }] });
  const { page, errors } = await openPage(t.context.browser, await inspectHtml(t, image, 'bare.html'));
  t.deepEqual(errors, []);
  t.true(await page.$eval('#packages-section', (e) => (e as HTMLElement).hidden));
  t.deepEqual(await page.$$eval('input[name="dim"]', (els) => els.map((e) => (e as HTMLInputElement).value)), ['0', '1']);
  await page.close();
});

// ---- the explorer

const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').replace(/ +$/gm, '');

async function until(ok: () => boolean): Promise<void> {
  const start = Date.now();
  while (!ok() && Date.now() - start < 10_000) await new Promise((r) => setTimeout(r, 5));
}

/** The explorer of `model` at 100x30, and its file line: the tree pane's last line (the status line follows it). */
function explorer(model: ImageModel) {
  const app = render(createElement(ExplorerApp, { model, keymap: buildKeymap(), width: 100, height: 30 }));
  const frame = () => plain(app.lastFrame() ?? '');
  const fileLine = (f = frame()) => f.split('\n').at(-2) ?? '';
  const press = async (...keys: string[]) => {
    for (const k of keys) {
      const before = app.frames.length;
      app.stdin.write(k);
      await until(() => app.frames.length > before);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { app, frame, fileLine, press };
}

/** The file line with the cursor on the last row the filter keeps, after `keys` (layer moves). */
async function fileLineAt(t: { teardown: (f: () => void) => void }, model: ImageModel, pattern: string, ...keys: string[]): Promise<{ line: string; raw: string; lines: string[] }> {
  const { app, press, fileLine, frame } = explorer(model);
  t.teardown(() => app.unmount());
  await until(() => !fileLine().includes('reading'));
  await press(...keys, '/', pattern, '\r', 'G');
  return { line: fileLine(), raw: app.lastFrame() ?? '', lines: frame().split('\n') };
}

test.serial('explorer: the file line names the cursor\'s package, `no package`, or that the file is gone from the final view', async (t) => {
  const { model } = await packagedImage(t.context.dir);
  t.is((await fileLineAt(t, model, '/usr/bin/curl$')).line, 'package: deb curl 7.88.1-10+deb12u5 · /usr/bin/curl');
  // the version's escape is shown, not sent (the line is cut at the pane's 100 columns)
  const evil = await fileLineAt(t, model, 'evil\\.so');
  t.true(evil.line.startsWith(`package: deb ${EVIL} 1.0\\x1b]0;pwned\\x07 · /usr/lib/`), evil.line);
  t.false(evil.raw.includes('\x1b]0;'));
  t.true(evil.lines.every((l) => [...l].length <= 100));
  t.is((await fileLineAt(t, model, 'main\\.js', ']')).line, 'no package · /app/main.js');
  t.is((await fileLineAt(t, model, 'left-pad/index', ']')).line, 'package: npm left-pad 1.3.0 · /app/node_modules/left-pad/index.js');
  t.is((await fileLineAt(t, model, 'scratch', ']')).line, 'not in the final view · /tmp/scratch');
  t.is((await fileLineAt(t, model, '^/tmp$', ']')).line, '/tmp/');
});

test.serial('explorer: the first screen does not wait for the packages; they are read after it', async (t) => {
  const model = await modelOf([[{ name: 'a.txt', data: 'a' }]]); // a model of its own: nothing read yet
  const { app, fileLine } = explorer(model);
  t.teardown(() => app.unmount());
  await until(() => app.frames.length > 0);
  t.is(fileLine(plain(app.frames[0])), 'package: reading the package databases… · /a.txt');
  await until(() => fileLine() === 'no package · /a.txt');
  t.is(fileLine(), 'no package · /a.txt');
});
