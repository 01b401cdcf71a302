/**
 * Terminal and Markdown injection (issue 29, class 10): an image whose file names, link target,
 * tag, User, Env, Labels, Cmd, history created_by and comment carry ESC[2J (clear the screen), an
 * OSC 52 sequence (write the clipboard), BEL, CR, LF and U+202E (right-to-left override). Every
 * human output shows them escaped (`\x1b`, `\n`, `\u202e`), one line stays one line, JSON keeps
 * the exact values, Markdown holds no HTML of the image's and no broken table row.
 */
import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { tempDir, writeOciLayout, type ImageSpec } from './helpers/image-builder.js';
import { dir, file, symlink } from './helpers/tar-writer.js';
import { assertNoRawControl, refuses, succeeds } from './helpers/hostile.js';
import { jsonLines, runStrata } from './helpers/cli.js';
import { openImage } from '../src/sources/resolve.js';
import { readImage } from '../src/model/read-image.js';
import { ExplorerApp } from '../src/tui/app.js';
import { buildKeymap } from '../src/tui/keymap.js';
import { ProgressBars } from '../src/render/progress.js';
import { markdownBlock, markdownCode, markdownText, terminalCopy, terminalText } from '../src/util/terminal-text.js';

/** ESC[2J, OSC 52 (clipboard := "echo pwned"), BEL, CR, LF, U+202E. */
const BAD = '\x1b[2J\x1b]52;c;ZWNobyBwd25lZA==\x07\x07\r\n\u202e';
/** How every human output must show BAD: each character named, in the C/JavaScript notation. */
const SHOWN = String.raw`\x1b[2J\x1b]52;c;ZWNobyBwd25lZA==\x07\x07\r\n\u202e`;
const IMG = '<img src=x onerror=alert(1)>';
/**
 * BAD without its line breaks, for names that globs must match (forbid-paths, bloat rules): their
 * `.` matches no CR or LF, so a name holding one escapes them (reported; util/glob.ts).
 */
const GLOBBED = BAD.replace(/[\r\n]/g, '');
const GLOBBED_SHOWN = SHOWN.replace(/\\[rn]/g, '');

const hostileFile = `app/file${BAD}.txt`;
const linkTarget = `target${BAD}`;

function spec(side: 'a' | 'b'): ImageSpec {
  return {
    tags: [`evil/repo:tag${BAD}`],
    layers: [
      { entries: [dir('app'), file(hostileFile, 'x'), symlink('app/link', linkTarget), file(`app/${IMG}|pipe`, 'y'), file(`app/bell${GLOBBED}`, 'z')] },
      { entries: [dir('tmp'), file(`tmp/scratch${GLOBBED}`, side === 'a' ? 'temp' : 'temp, changed'), ...(side === 'b' ? [file(`app/new${BAD}`, 'new')] : [])] },
    ],
    history: [
      { created: '2024-01-01T00:00:00Z', created_by: `/bin/sh -c echo ${side}${BAD}` },
      { created: '2024-01-01T00:00:00Z', comment: `comment ${side}${BAD}` },
    ],
    config: {
      config: {
        User: `user${BAD}`,
        Env: ['PATH=/bin', `EVIL=${BAD}`],
        Labels: { [`label${BAD}`]: `${IMG}|${side}${BAD}` },
        Cmd: ['/bin/sh', '-c', `echo ${BAD}`],
      },
    },
  };
}

/** The two images of the comparisons, built once. */
const fixture = (() => {
  const { dir: root, cleanup } = tempDir();
  writeOciLayout(join(root, 'a'), { images: [spec('a')] });
  writeOciLayout(join(root, 'b'), { images: [spec('b')] });
  return { root, a: join(root, 'a'), b: join(root, 'b'), cleanup };
})();
test.after.always(() => fixture.cleanup());

const { a, b } = fixture;
const BOUNDS = { ms: 30_000, rssMb: 400 };

/** Lines of a Markdown table (from its header row to the first line that is not a row). */
function tableAfter(md: string, header: string): string[] {
  const lines = md.split('\n');
  const start = lines.indexOf(header);
  const rows: string[] = [];
  for (let i = start + 2; start >= 0 && lines[i]?.startsWith('|'); i++) rows.push(lines[i]);
  return rows;
}

/** The cell borders of a row: its `|` but the escaped `\|`. */
const borders = (row: string) => row.match(/(?<!\\)\|/g)?.length ?? 0;

/** Markdown less its code spans (a run of N backticks to the next run of exactly N), which are literal text. */
const withoutCode = (md: string) => md.replace(/(?<!`)(`+)(?!`)[^]*?(?<!`)\1(?!`)/g, '');

function assertMarkdown(t: ExecutionContext, md: string): void {
  t.false(withoutCode(md).includes('<img'), 'the image\'s HTML reached the Markdown');
  t.true(md.includes('&lt;img src=x onerror=alert(1)>') || md.includes(`/app/${IMG}`), 'the HTML-looking text is shown as text');
}

test('the escape functions: named characters, idempotent, no copy of honest text', (t) => {
  t.is(terminalText(`a${BAD}z`), `a${SHOWN}z`);
  t.is(terminalText('\t\x7f\x85\x9b\u200b\u2066\ufeff\u{e0041}'), String.raw`\t\x7f\x85\x9b\u200b\u2066\ufeff\u{e0041}`);
  t.is(terminalText(terminalText(BAD)), SHOWN, 'escaping twice changes nothing');
  t.is(terminalText('RUN make \\ && café ✓ 日本'), 'RUN make \\ && café ✓ 日本');
  const honest = { path: '/usr/bin/env', list: ['a', 1, null], labels: { k: 'v' } };
  t.is(terminalCopy(honest), honest, 'an honest report is not copied');
  const copy = terminalCopy({ labels: { [`k${BAD}`]: `v${BAD}`, __proto__x: 'p' }, n: 1 });
  t.deepEqual(copy, { labels: { [`k${SHOWN}`]: `v${SHOWN}`, __proto__x: 'p' }, n: 1 });
  t.is(markdownText(`${IMG} | *b* _c_ [l](u) \`d\` &#x202e; ~e~\n`), String.raw`&lt;img src=x onerror=alert(1)> \| \*b\* \_c\_ \[l\](u) \`d\` &amp;#x202e; \~e\~\\n`);
  t.is(markdownCode('a|b`c'), '``a|b`c``');
  t.is(markdownCode('a|b', true), '`a\\|b`', 'GitHub tables read \\| in a code span as a pipe');
  t.is(markdownBlock('diff', ' ```\n+x\x1b'), '````diff\n ```\n+x\\x1b\n````', 'no line inside closes the block');
});

test('inspect: every image string escaped, each on its own line', async (t) => {
  const r = await succeeds(t, ['inspect', a], BOUNDS);
  const line = (key: string) => r.stdout.split('\n').find((l) => l.startsWith(key)) ?? '';
  t.is(line('Tags'), `Tags        evil/repo:tag${SHOWN}`);
  t.is(line('User'), `User        user${SHOWN}`);
  t.true(r.stdout.includes(`\n            EVIL=${SHOWN}\n`), r.stdout);
  t.is(line('Labels'), `Labels      label${SHOWN}=${IMG}|a${SHOWN}`);
  // argv is shown as JSON, whose own escapes name the C0 characters
  t.is(line('Cmd'), String.raw`Cmd         ["/bin/sh","-c","echo \u001b[2J\u001b]52;c;ZWNobyBwd25lZA==\u0007\u0007\r\n\u202e"]`);
  t.regex(r.stdout, /^ {2}0 .*RUN echo a\\x1b\[2J\\x1b\]52;c;/m);
  t.regex(r.stdout, /^ {2}1 .*\(comment a\\x1b\[2J/m);
});

test('ls: one line per entry, names and link targets escaped; --json keeps the exact strings', async (t) => {
  const [text, json] = await Promise.all([succeeds(t, ['ls', a], BOUNDS), succeeds(t, ['ls', '--json', a], BOUNDS)]);
  const entries = jsonLines(json.stdout);
  const lines = text.stdout.replace(/\n$/, '').split('\n');
  t.is(lines.length, entries.length, 'a newline in a name forged a line');
  const byPath = new Map(entries.map((e) => [e.path as string, e]));
  const fileEntry = [...byPath.keys()].find((p) => p.endsWith(`file${BAD}.txt`));
  t.truthy(fileEntry, 'the exact name, control characters and all, is in the JSON');
  t.is(byPath.get([...byPath.keys()].find((p) => p.endsWith('app/link'))!)!.linkTarget, linkTarget);
  t.true(lines.some((l) => l.endsWith(`  app/file${SHOWN}.txt`) || l.endsWith(`  /app/file${SHOWN}.txt`)), text.stdout);
  t.true(lines.some((l) => l.endsWith(`app/link -> target${SHOWN}`)), text.stdout);
});

test('diff: text escaped; Markdown with no HTML of the image and a row per change; JSON exact', async (t) => {
  const [text, md, json] = await Promise.all([
    succeeds(t, ['diff', a, b], BOUNDS),
    succeeds(t, ['diff', a, b, '--markdown'], BOUNDS),
    succeeds(t, ['diff', a, b, '--json'], BOUNDS),
  ]);
  const r = JSON.parse(json.stdout) as { files: { path: string }[]; config: { a: string | null; b: string | null }[]; history: unknown[] };
  t.true(r.files.some((f) => f.path.endsWith(`new${BAD}`)), 'the JSON holds the raw path');
  t.true(r.config.some((c) => c.a === `${IMG}|a${BAD}` && c.b === `${IMG}|b${BAD}`), 'the JSON holds the raw label values');
  t.true(text.stdout.includes(`new${SHOWN}`), text.stdout);
  t.true(text.stdout.includes(`+ RUN echo b${SHOWN}`) || text.stdout.includes(`+ (comment b${SHOWN}`), text.stdout);

  assertMarkdown(t, md.stdout);
  const config = tableAfter(md.stdout, '| field | A | B |');
  t.is(config.length, r.config.length, md.stdout);
  for (const row of config) t.is(borders(row), 4, row);
  const files = tableAfter(md.stdout, '| | path | Δ size | detail |');
  t.is(files.length, r.files.length, md.stdout);
  for (const row of files) t.is(borders(row), 5, row);
  const history = /```diff\n([^]*?)\n```/.exec(md.stdout)?.[1].split('\n') ?? [];
  t.is(history.length, r.history.length, 'one history line per entry in the code block');
});

test('ci: text, Markdown, JUnit and JSON of the same failing gate', async (t) => {
  const rules = ['--forbid-paths', '/app/**', '--max-layers', '1'];
  const run = (format: string) => succeeds(t, ['ci', a, ...rules, '--format', format], { ...BOUNDS, code: 1 });
  const [text, md, junit, json] = await Promise.all([run('text'), run('markdown'), run('junit'), run('json')]);
  t.true(text.stdout.includes(`app/bell${GLOBBED_SHOWN}`), text.stdout);
  t.regex(text.stdout, /^strata ci: FAIL /);

  assertMarkdown(t, md.stdout);
  const rows = tableAfter(md.stdout, '| result | rule | measured | limits | detail |');
  t.is(rows.length, 2, md.stdout);
  for (const row of rows) t.is(borders(row), 6, row);
  t.true(md.stdout.includes(`\`/app/bell${GLOBBED_SHOWN}\``), 'control characters shown in code spans');

  // every character XML 1.0 allows; the control characters shown, not dropped
  t.is(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.exec(junit.stdout), null);
  t.true(junit.stdout.includes(`app/bell${GLOBBED_SHOWN}`), junit.stdout);
  t.false(junit.stdout.includes('<img'), 'markup escaped');

  const report = JSON.parse(json.stdout) as { offenders: { files: { path: string }[] }[] };
  t.true(report.offenders.some((o) => o.files.some((f) => f.path.endsWith(`bell${GLOBBED}`))), 'JSON keeps the raw path');
});

test('ci: the informational files packages ship, named with control bytes and HTML, escaped in Markdown and JUnit', async (t) => {
  const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const doc = 'usr/share/doc/libpkg/examples';
  const { dir: root, cleanup } = tempDir();
  t.teardown(cleanup);
  writeOciLayout(join(root, 'shipped'), {
    images: [{ layers: [{ entries: [dir('usr'), dir('usr/share'), dir('usr/share/doc'), dir('usr/share/doc/libpkg'), dir(doc), file(`${doc}/key${GLOBBED}.pem`, key), file(`${doc}/${IMG}.pem`, key)] }] }],
  });
  const run = (format: string) => succeeds(t, ['ci', join(root, 'shipped'), '--forbid-secrets', '--format', format], { ...BOUNDS, secrets: [key.split('\n')[1]] });
  const [md, junit] = await Promise.all([run('markdown'), run('junit')]);
  const shipped = md.stdout.slice(md.stdout.indexOf('<summary>Informational'));
  t.true(shipped.includes(`\`/${doc}/key${GLOBBED_SHOWN}.pem\``), md.stdout);
  t.false(withoutCode(shipped).includes('<img'), 'the image\'s HTML reached the Markdown');
  t.true(shipped.includes(`\`/${doc}/${IMG}.pem\``), 'the HTML-looking name is a code span');
  t.is(shipped.split('\n').filter((l) => l.startsWith('- ')).length, 2, 'one line per file');
  t.is(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.exec(junit.stdout), null);
  t.true(junit.stdout.includes(`/${doc}/key${GLOBBED_SHOWN}.pem`), junit.stdout);
  t.false(junit.stdout.includes('<img'), 'markup escaped');
});

test('optimize --dry-run: dropped paths escaped', async (t) => {
  const r = await succeeds(t, ['optimize', a, '--dry-run', '--base-layers', '0', '--drop', 'temp'], BOUNDS);
  t.true(r.stdout.includes(`tmp/scratch${GLOBBED_SHOWN}`), r.stdout);
});

test('audit: text and CSV rows stay one line, a failed image\'s error escaped', async (t) => {
  const { dir: work, cleanup } = tempDir();
  t.teardown(cleanup);
  const missing = join(work, `missing${BAD}`);
  const [text, csv] = await Promise.all([
    succeeds(t, ['audit', a, missing], { ...BOUNDS, code: 2 }),
    runStrata(['audit', a, missing, '--csv']),
  ]);
  t.true(text.stdout.includes(`FAILED ${work}/missing${SHOWN}`), text.stdout);
  t.is(csv.code, 2, csv.stderr);
  // CSV ends its records with CRLF (RFC 4180); nothing else may be a control character
  const records = csv.stdout.split('\r\n');
  assertNoRawControl(t, records.join('\n'), 'CSV');
  t.is(records.filter(Boolean).length, 3, 'a header and a row per image');
  // quoted: BAD holds `;` (a cell separator in some locales)
  t.true(records[2].endsWith(`,failed,"${missing.replace(BAD, SHOWN)}: no such file or directory"`), records[2]);
});

test('the one-line error escapes what it quotes', async (t) => {
  const { dir: work, cleanup } = tempDir();
  t.teardown(cleanup);
  const message = await refuses(t, ['inspect', join(work, `missing${BAD}`)], BOUNDS);
  t.true(message.includes(`missing${SHOWN}`), message);
});

test('ci with rules from .strata.yml: offenders escaped in the Markdown code spans and the text', async (t) => {
  const { dir: work, cleanup } = tempDir();
  t.teardown(cleanup);
  writeFileSync(join(work, '.strata.yml'), 'rules:\n  forbid-paths: ["/tmp/**"]\n');
  const [md, text] = await Promise.all([
    succeeds(t, ['ci', a, '--format', 'markdown'], { ...BOUNDS, code: 1, cwd: work }),
    succeeds(t, ['ci', a], { ...BOUNDS, code: 1, cwd: work }),
  ]);
  t.true(md.stdout.includes(`\`/tmp/scratch${GLOBBED_SHOWN}\``), md.stdout);
  t.true(text.stdout.includes(`/tmp/scratch${GLOBBED_SHOWN}`), text.stdout);
});

test('explorer: no raw control character in any frame; names escaped, lines within the width', async (t) => {
  const model = await readImage(await openImage(a));
  const app = render(createElement(ExplorerApp, { model, keymap: buildKeymap(), width: 100, height: 30 }));
  t.teardown(() => app.unmount());
  await new Promise((r) => setTimeout(r, 100));
  app.stdin.write(']'); // the next layer: its comment in the layer details
  await new Promise((r) => setTimeout(r, 100));
  t.true(app.frames.length > 0);
  const sgr = /\x1b\[[0-9;]*m/g; // ink's own colours
  for (const frame of app.frames) assertNoRawControl(t, frame.replace(sgr, ''), 'frame');
  const first = app.frames[0].replace(sgr, '');
  t.true(first.includes(`file${SHOWN.slice(0, 20)}`), first);
  t.true(first.includes(`echo a${SHOWN.slice(0, 20)}`), first);
  for (const l of first.split('\n')) t.true([...l].length <= 100, l);
});

test('progress bars: a digest from the manifest is shown escaped, the bars keep their own sequences', (t) => {
  let out = '';
  const bars = new ProgressBars({ write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream, () => 1000);
  bars.update({ layer: 0, digest: `sha256:${BAD}${'a'.repeat(40)}`, done: 1, total: 2, cached: false });
  assertNoRawControl(t, out.replace(/\x1b\[\d*[AKJ]/g, '').replace(/\n/g, ''), 'progress');
  t.true(out.includes(String.raw`\x1b[2J\x1b]`), JSON.stringify(out));
});
