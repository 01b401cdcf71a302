/**
 * The real binary in a real terminal: tmux (on its own socket) runs `strata IMAGE` at 80x24, keys are
 * sent as a user would type them, and the screen is read back with capture-pane.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SECRETS, writeRiskyImage } from './helpers/risky-image.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('tmux');

const socket = `strata-e2e-${process.pid}`;
const tmp = mkdtempSync(join(tmpdir(), 'strata-e2e-'));
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const screen = () => tmux('capture-pane', '-p', '-t', 'e2e');

async function waitFor(what: RegExp | (() => boolean), ms = 15000): Promise<boolean> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (typeof what === 'function' ? what() : what.test(screen())) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

test.after.always(() => {
  rmSync(tmp, { recursive: true, force: true });
  try {
    tmux('kill-server');
  } catch {
    // already gone: the session ended with the program
  }
});

test('explore tiny-dockerfile at 80x24: layer 3, filter /tmp shows the removed /tmp/build, q exits 0', async (t) => {
  const rc = join(tmp, 'rc-explore');
  const cmd = `node bin/strata.js testdata/tiny-dockerfile.docker.tar; echo $? > ${rc}`;
  tmux('new-session', '-d', '-s', 'e2e', '-x', '80', '-y', '24', 'sh', '-c', cmd);
  t.true(await waitFor(/Layers \(8\)/), screen());
  t.regex(screen(), /Layer 0 changes/);
  // wider: the panes go side by side; back to 80x24: stacked again
  tmux('resize-window', '-t', 'e2e', '-x', '130', '-y', '30');
  t.true(await waitFor(/^Layers \(8\) +Layer 0 changes$/m), screen());
  tmux('resize-window', '-t', 'e2e', '-x', '80', '-y', '24');
  t.true(await waitFor(/^Layer 0 changes$/m), screen());

  tmux('send-keys', '-t', 'e2e', 'j', 'j', 'j');
  t.true(await waitFor(/Layer 3 changes/), screen());
  tmux('send-keys', '-t', 'e2e', '/');
  t.true(await waitFor(/Filter \(glob or regex\)/), screen());
  tmux('send-keys', '-t', 'e2e', '-l', '/tmp');
  tmux('send-keys', '-t', 'e2e', 'Enter');
  t.true(await waitFor(/\[filter: \/tmp\]/), screen());
  const s = screen();
  t.regex(s, /^D drwxr-xr-x +0:0 +250 kB +└─▾ build\/$/m);
  t.regex(s, /^D -rw-r--r-- +0:0 +250 kB +└── obj\.o$/m);
  t.regex(s, /└─▾ tmp\/$/m);
  t.is(s.split('\n').filter((l) => /[├└]─/.test(l)).length, 3, s);

  tmux('send-keys', '-t', 'e2e', 'q');
  t.true(await waitFor(() => existsSync(rc) && readFileSync(rc, 'utf8').trim() !== ''), 'the program did not exit');
  t.is(readFileSync(rc, 'utf8').trim(), '0');
});

test('without a terminal, `strata IMAGE` prints the inspect summary', (t) => {
  const out = execFileSync('node', ['bin/strata.js', 'testdata/tiny-dockerfile.docker.tar'], { encoding: 'utf8' });
  t.regex(out, /^Image +testdata\/tiny-dockerfile\.docker\.tar$/m);
  t.regex(out, /^Layers \(8\)$/m);
});

test('Ctrl+C quits with exit code 0', async (t) => {
  const rc = join(tmp, 'rc-ctrlc');
  tmux('new-session', '-d', '-s', 'ctrlc', '-x', '80', '-y', '24', 'sh', '-c', `node bin/strata.js explore testdata/tiny-overlay.oci.tar; echo $? > ${rc}`);
  t.true(await waitFor(() => /Layers \(8\)/.test(tmux('capture-pane', '-p', '-t', 'ctrlc'))));
  tmux('send-keys', '-t', 'ctrlc', 'C-c');
  t.true(await waitFor(() => existsSync(rc) && readFileSync(rc, 'utf8').trim() !== ''), 'the program did not exit');
  t.is(readFileSync(rc, 'utf8').trim(), '0');
});

test('diff --tui at 80x24: the removed /tmp/build/obj.o in the tree, the summary above, q exits 0', async (t) => {
  const rc = join(tmp, 'rc-diff');
  const cmd = `node bin/strata.js diff testdata/tiny-commit.docker.tar testdata/tiny-dockerfile.docker.tar --tui; echo $? > ${rc}`;
  tmux('new-session', '-d', '-s', 'diff', '-x', '80', '-y', '24', 'sh', '-c', cmd);
  const diffScreen = () => tmux('capture-pane', '-p', '-t', 'diff');
  t.true(await waitFor(() => /^Changes A→B$/m.test(diffScreen())), diffScreen());
  const s = diffScreen();
  t.regex(s, /^Diff summary \(Tab: all of it\)$/m);
  t.regex(s, /^Size -245 kB {2}compressed n\/a/m);
  t.regex(s, /^m +405 kB +811 kB +\+405 kB ├─▾ app\/$/m);
  t.regex(s, /^D +250 kB +— +-250 kB │ {3}└── obj\.o$/m);
  t.true(s.split('\n').every((l) => [...l].length <= 80));
  tmux('send-keys', '-t', 'diff', 'Tab');
  t.true(await waitFor(() => /^ +-250 kB temp \(bloat\)$/m.test(diffScreen())), diffScreen());
  tmux('send-keys', '-t', 'diff', 'Tab');
  t.true(await waitFor(() => /└── obj\.o$/m.test(diffScreen())), diffScreen());
  tmux('send-keys', '-t', 'diff', 'U');
  t.true(await waitFor(() => /^All entries A→B$/m.test(diffScreen())), diffScreen());
  tmux('send-keys', '-t', 'diff', 'q');
  t.true(await waitFor(() => existsSync(rc) && readFileSync(rc, 'utf8').trim() !== ''), 'the program did not exit');
  t.is(readFileSync(rc, 'utf8').trim(), '0');
});

test('explore, and diff --tui on a terminal, with stdin not one: one line, exit 2, before any image is read', (t) => {
  const runs = [
    ['explore', 'testdata/tiny-dockerfile.docker.tar'],
    ['explore', 'no-such-image.tar'], // not opened: the missing terminal is said first
  ];
  for (const args of runs) {
    const err = t.throws(() => execFileSync('node', ['bin/strata.js', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as Error & { status: number; stderr: string; stdout: string };
    t.is(err.status, 2);
    t.is(err.stderr, 'strata: strata explore needs a terminal to read keys from: stdin is not one (strata inspect prints the report)\n');
    t.is(err.stdout, '');
  }
  // stdout a terminal (script(1) gives one), stdin not
  const diff = t.throws(() => execFileSync('script', ['-qec', 'node bin/strata.js diff testdata/tiny-commit.docker.tar testdata/tiny-dockerfile.docker.tar --tui </dev/null', '/dev/null'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as Error & { status: number; stdout: string };
  t.is(diff.status, 2);
  t.is(diff.stdout.replace(/\r/g, ''), 'strata: --tui needs a terminal to read keys from: stdin is not one (without --tui, strata diff prints the report)\n');
});

test('diff --tui without a terminal: an error, exit 2', (t) => {
  const err = t.throws(() => execFileSync('node', ['bin/strata.js', 'diff', 'testdata/tiny-commit.docker.tar', 'testdata/tiny-dockerfile.docker.tar', '--tui'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as Error & { status: number; stderr: string; stdout: string };
  t.is(err.status, 2);
  t.regex(err.stderr, /^strata: --tui needs a terminal/);
  t.is(err.stdout, '');
});

test('explore an image with secrets: the risks line, w visits the risks first (the hidden key among them), then the waste, no secret on screen', async (t) => {
  const image = join(tmp, 'risky.oci.tar');
  await writeRiskyImage(image);
  const rc = join(tmp, 'rc-risky');
  tmux('new-session', '-d', '-s', 'risky', '-x', '120', '-y', '40', 'sh', '-c', `node bin/strata.js explore ${image}; echo $? > ${rc}`);
  const risky = () => tmux('capture-pane', '-p', '-t', 'risky');
  t.true(await waitFor(() => /Risks: 6 secrets \(1 hidden but stored\), 1 setuid\/setgid, 1 with capabilities, 1 world-writable, runs as root/.test(risky().replace(/\s+/g, ' '))), risky());
  const screens = [risky()];
  // the risks come first in w's round: six secrets in path order (the key, hidden, the sixth), three risky files
  for (let i = 0; i < 9; i++) {
    tmux('send-keys', '-t', 'risky', 'w');
    t.true(await waitFor(() => new RegExp(`risk ${i + 1}/10: `).test(risky())), risky());
    screens.push(risky());
  }
  t.regex(screens[6].replace(/\n/g, ' '), /risk 6\/10: \/root\/\.ssh\/id_rsa \(secret, layer 1\): SSH private key file, hidden by layer 2 but still stored/);
  // then the waste findings only: the key deleted by layer 2 is the one wasted file, in the layer that stored it
  tmux('send-keys', '-t', 'risky', 'w');
  t.true(await waitFor(() => /waste 10\/10: /.test(risky())), risky());
  screens.push(risky());
  t.regex(screens[10].replace(/\n/g, ' '), /waste 10\/10: \/root\/\.ssh\/id_rsa \(deleted, layer 1\): Deleting in a later layer/);
  for (const s of SECRETS) for (const screen of screens) t.false(screen.includes(s));
  tmux('send-keys', '-t', 'risky', 'q');
  t.true(await waitFor(() => existsSync(rc) && readFileSync(rc, 'utf8').trim() !== ''), 'the program did not exit');
  t.is(readFileSync(rc, 'utf8').trim(), '0');
});
