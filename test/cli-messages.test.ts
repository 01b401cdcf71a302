/**
 * Issue 30, messages: a mistyped command or option is named with what was meant (never pulled as an
 * image), and a report written to a file or a pipe keeps every column (only a terminal cuts).
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refuses, succeeds } from './helpers/hostile.js';
import { fixture } from './helpers/fixtures.js';
import { closest, mistypedCommand, typoDistance } from '../src/commands/typos.js';

const IMAGE = fixture('tiny-overlay.oci.tar');
const COMMANDS = ['inspect', 'ls', 'packages', 'diff', 'ci', 'optimize', 'dockerfile', 'audit', 'worker', 'explore'];
/** No engine to ask and no registry to reach: a run that tried to pull would say so. */
const OFFLINE = { DOCKER_HOST: 'unix:///nonexistent/docker.sock', CONTAINER_HOST: 'unix:///nonexistent/podman.sock', STRATA_NO_CACHE: '1' };

function workDir(t: { teardown(f: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-messages-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a mistyped command before an image: named, with the command meant', async (t) => {
  t.is(await refuses(t, ['inpsect', IMAGE], { env: OFFLINE, ms: 10_000 }), 'unknown command inpsect; did you mean inspect?');
  t.is(await refuses(t, ['optimise', IMAGE, '-o', 'x.tar'], { env: OFFLINE, ms: 10_000 }), 'unknown command optimise; did you mean optimize?');
  // nothing close: the commands are listed
  t.is(await refuses(t, ['frobnicate', IMAGE], { env: OFFLINE, ms: 10_000 }), `unknown command frobnicate; commands: ${COMMANDS.join(', ')}`);
});

test('an unknown option is named (yargs took the image for its value), with the option meant when close', async (t) => {
  t.is(await refuses(t, ['inspect', '--bogus-flag', IMAGE], { env: OFFLINE, ms: 10_000 }), 'unknown option --bogus-flag');
  t.is(await refuses(t, ['inspect', '--jsn', IMAGE], { env: OFFLINE, ms: 10_000 }), 'unknown option --jsn; did you mean --json?');
  t.is(await refuses(t, ['ci', IMAGE, '--max-final-sise', '1MB'], { env: OFFLINE, ms: 10_000 }), 'unknown option --max-final-sise; did you mean --max-final-size?');
  t.is(await refuses(t, ['ls', '-Z', IMAGE], { env: OFFLINE, ms: 10_000 }), 'unknown option -Z');
  // on the default command too; known options, their negations and camelCase forms pass
  t.is(await refuses(t, [IMAGE, '--bogus'], { env: OFFLINE, ms: 10_000 }), 'unknown option --bogus');
  await succeeds(t, ['inspect', '--no-cache', '--top=1', '--json', IMAGE], { env: OFFLINE, ms: 20_000 });
});

test('a lone word close to a command is refused with a hint, not pulled', async (t) => {
  t.is(await refuses(t, ['inspec'], { env: OFFLINE, ms: 10_000 }), 'unknown command inspec; did you mean inspect? (for an image of that name: strata inspec:latest)');
  t.is(await refuses(t, ['lss'], { env: OFFLINE, ms: 10_000 }), 'unknown command lss; did you mean ls? (for an image of that name: strata lss:latest)');
  // a file of that name is what the user meant
  const dir = workDir(t);
  writeFileSync(join(dir, 'inspec'), 'not an image');
  t.is(await refuses(t, ['inspec'], { env: OFFLINE, cwd: dir, ms: 10_000 }), 'inspec: not an image (expected a tar archive or an OCI layout directory)');
});

test('what counts as a mistyped command: close, same first letter, not qualified, not on disk', (t) => {
  t.is(typoDistance('inpsect', 'inspect'), 1); // a swap is one edit
  t.is(closest('expolre', COMMANDS), 'explore');
  t.is(closest('nginx', COMMANDS), undefined);
  for (const [word, meant] of [['inspec', 'inspect'], ['lss', 'ls'], ['dif', 'diff'], ['optimze', 'optimize'], ['audt', 'audit'], ['cii', 'ci']]) t.is(mistypedCommand(word, COMMANDS), meant, word);
  // Docker Hub official images within two edits of a command differ from it in the first letter
  for (const image of ['alpine', 'docker', 'unit', 'gcc', 'ros', 'alt', 'nginx', 'node', 'busybox']) t.is(mistypedCommand(image, COMMANDS), undefined, image);
  // a reference the user qualified: a registry or namespace, a tag, a digest
  for (const ref of ['library/inspec', 'inspec:latest', 'inspec@sha256:0000', 'docker.io/inspec']) t.is(mistypedCommand(ref, COMMANDS), undefined, ref);
});

/** Lines over the 124 columns the audit text was cut at, in output that goes to a pipe (not a terminal). */
const longest = (text: string) => Math.max(...text.split('\n').map((l) => l.length));

test('text written to a pipe or a file is not cut to a width: audit, inspect, ci --output', async (t) => {
  const dir = workDir(t);
  const other = fixture('tiny-dockerfile.docker.tar');
  const audit = await succeeds(t, ['audit', IMAGE, other], { env: OFFLINE, ms: 30_000 });
  const header = audit.stdout.split('\n').find((l) => l.includes('IMAGE'))!;
  t.regex(header, /SECRETS {2}VERDICT$/);
  t.regex(audit.stdout, new RegExp(`${other.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .* bloated\\n`));
  // the whole RUN line of the fixture's layer 1 (265 columns), not cut with an ellipsis
  t.regex(audit.stdout, /head -c 250000 \/dev\/urandom > \/tmp\/build\/obj\.o\n/);
  t.true(longest(audit.stdout) > 200);
  const inspect = await succeeds(t, ['inspect', IMAGE], { env: OFFLINE, ms: 30_000 });
  t.regex(inspect.stdout, /head -c 250000 \/dev\/urandom > \/tmp\/build\/obj\.o/);
  const report = join(dir, 'r.txt');
  await succeeds(t, ['ci', IMAGE, '--max-wasted-bytes', '1', '--output', report], { env: OFFLINE, ms: 30_000, code: 1 });
  t.regex(readFileSync(report, 'utf8'), /stored by {2}layer 1: RUN mkdir .* head -c 250000 \/dev\/urandom > \/tmp\/build\/obj\.o\n/);
});
