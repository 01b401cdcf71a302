/**
 * `strata dockerfile` on synthetic images: what the plan keeps, leaves out, reinstalls and copies,
 * and a Dockerfile that hostile names and values cannot break. The real builds are in
 * dockerfile-images.test.ts (commit-built images, a real dockerd) and dockerfile-verify.test.ts.
 */
import test from 'ava';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { planDockerfile } from '../src/analyze/dockerfile/plan.js';
import { renderDockerfile, renderDockerfileSummary } from '../src/render/dockerfile.js';
import { assertNoRawControl } from './helpers/hostile.js';
import { defaultBloatConfig } from '../src/analyze/bloat/section.js';
import { defaultSecretsConfig } from '../src/analyze/risks/section.js';
import type { DockerfilePlan } from '../src/analyze/dockerfile/types.js';
import type { ImageModel } from '../src/model/read-image.js';
import type { ImageConfig } from '../src/image/image.js';
import { finalLines } from '../src/analyze/dockerfile/config-lines.js';
import { modelOf } from './helpers/model.js';
import { tempDir, writeOciLayout } from './helpers/image-builder.js';
import type { Entry } from './helpers/tar-writer.js';
import { runStrata } from './helpers/cli.js';

const SECRET_KEY = 'AKIAZ7QW3ERTY5UIOP2X';
const SECRET_VALUE = 'aws_secret_access_key = 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';
const TOKEN = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';

const stanza = (f: Record<string, string>) => `${Object.entries(f).map(([k, v]) => `${k}: ${v}`).join('\n')}\n`;
const deb = (name: string, version: string, more: Record<string, string> = {}) => stanza({ Package: name, Status: 'install ok installed', Priority: 'optional', Architecture: 'amd64', Version: version, Description: 'test', ...more });
const file = (path: string, content: string, more: Partial<Entry> = {}): Entry => ({ name: path, type: 'file', data: content, ...more });
const dir = (path: string, more: Partial<Entry> = {}): Entry => ({ name: `${path}/`, type: 'dir', ...more });

const BASE: Entry[] = [
  dir('bin'), file('bin/sh', '#!fake shell', { mode: 0o755 }),
  dir('etc'), file('etc/motd', 'hello'), file('etc/issue', 'Debian'), file('etc/old\nname', 'old'), dir('tmp', { mode: 0o1777 }),
  dir('usr'), dir('usr/lib'), dir('usr/lib/python3.11'), file('usr/lib/python3.11/EXTERNALLY-MANAGED', '[externally-managed]'),
  dir('var'), dir('var/lib'), dir('var/lib/dpkg'), dir('var/lib/dpkg/info'),
  file('var/lib/dpkg/status', [deb('base-files', '12.4'), deb('oldtool', '1.0')].join('\n')),
  file('var/lib/dpkg/info/base-files.list', '/etc\n/etc/issue\n'),
  file('var/lib/dpkg/info/oldtool.list', '/usr/bin/oldtool\n'),
  dir('usr/bin'), file('usr/bin/oldtool', 'old tool'), dir('usr/sbin'), file('usr/sbin/setcap', 'setcap', { mode: 0o755 }),
  dir('var/lib/apt'), file('var/lib/apt/extended_states', ''),
];

/** Everything a docker commit of a busy container holds, in one layer. */
const COMMIT: Entry[] = [
  // apt: jq asked for, libjq1 automatic; oldtool purged
  file('var/lib/dpkg/status', [deb('base-files', '12.4'), deb('jq', '1.6-2.1', { Depends: 'libjq1' }), deb('libjq1', '1.6-2.1')].join('\n')),
  file('var/lib/dpkg/status-old', 'old status'),
  file('var/lib/dpkg/info/jq.list', '/usr/bin/jq\n'),
  file('var/lib/dpkg/info/libjq1.list', '/usr/lib/libjq.so.1\n'),
  file('var/lib/apt/extended_states', stanza({ Package: 'libjq1', Architecture: 'amd64', 'Auto-Installed': '1' })),
  file('usr/bin/jq', 'jq binary', { mode: 0o755 }), file('usr/lib/libjq.so.1', 'libjq'),
  { name: 'usr/bin/.wh.oldtool', type: 'file', data: '' },
  dir('var/lib/apt/lists'), file('var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease', 'x'.repeat(5000)),
  // the app, owned by a user, a setuid helper, a symlink, a hardlink, a capability
  dir('app', { uid: 1001, gid: 1001 }), file('app/run.sh', 'echo hi', { mode: 0o755, uid: 1001, gid: 1001 }),
  file('app/data.txt', 'data', { mode: 0o640, uid: 1001, gid: 1001 }),
  dir('srv'), dir('srv/empty', { mode: 0o750 }),
  dir('usr/local'), dir('usr/local/bin'), file('usr/local/bin/suid', 'suid', { mode: 0o4755 }),
  { name: 'usr/local/bin/run', type: 'symlink', linkname: '/app/run.sh' },
  { name: 'usr/local/bin/we\nird', type: 'symlink', linkname: '/app/we\nird $HOME `x`/f' },
  { name: 'app/run-again.sh', type: 'hardlink', linkname: 'app/run.sh', uid: 1001, gid: 1001 },
  file('usr/local/bin/ping', 'ping', { mode: 0o755, pax: { 'SCHILY.xattr.security.capability': Buffer.from('0100000200200000000000000000000000000000', 'hex') } }),
  // a base file deleted
  { name: 'etc/.wh.motd', type: 'file', data: '' }, { name: 'etc/.wh.old\nname', type: 'file', data: '' },
  // leftovers and a secret
  file('tmp/scratch.bin', 'x'.repeat(3000)), dir('var/log'), file('var/log/setup.log', 'log line\n'),
  dir('root'), file('root/.bash_history', 'apt-get install jq\n'), dir('root/.aws'),
  file('root/.aws/credentials', `[default]\naws_access_key_id = ${SECRET_KEY}\n${SECRET_VALUE}\n`),
  // pip: one from the index (asked for), one from a local wheel
  dir('usr/local/lib'), dir('usr/local/lib/python3.11'), dir('usr/local/lib/python3.11/dist-packages'),
  ...pipPackage('six', '1.16.0', { requested: true }),
  ...pipPackage('localpkg', '0.1', { directUrl: 'file:///tmp/localpkg-0.1-py3-none-any.whl' }),
  // npm: a project with a lock file
  dir('app/web', { uid: 1001, gid: 1001 }),
  file('app/web/package.json', '{"name":"web","version":"1.0.0","dependencies":{"left-pad":"1.3.0"}}', { uid: 1001, gid: 1001 }),
  file('app/web/package-lock.json', '{"lockfileVersion":3}', { uid: 1001, gid: 1001 }),
  file('app/web/index.js', 'require("left-pad")', { uid: 1001, gid: 1001 }),
  dir('app/web/node_modules', { uid: 1001, gid: 1001 }), dir('app/web/node_modules/left-pad', { uid: 1001, gid: 1001 }),
  file('app/web/node_modules/left-pad/package.json', '{"name":"left-pad","version":"1.3.0"}', { uid: 1001, gid: 1001 }),
  file('app/web/node_modules/left-pad/index.js', 'module.exports = 1', { uid: 1001, gid: 1001 }),
  file('app/web/node_modules/.package-lock.json', '{}', { uid: 1001, gid: 1001 }),
  // hostile names: a line break and shell/Dockerfile syntax in a directory name
  dir('app/we\nird $HOME `x`', { uid: 1001, gid: 1001 }), file('app/we\nird $HOME `x`/f', 'weird', { uid: 1001, gid: 1001 }),
];

/** Every file the COPY lines write, as its absolute path in the image. */
const copiedPaths = (plan: DockerfilePlan) => plan.copies.flatMap((c) => c.items.map((i) => `${c.dest === '/' ? '' : c.dest}/${i.name}`));

function pipPackage(name: string, version: string, o: { requested?: boolean; directUrl?: string }): Entry[] {
  const site = 'usr/local/lib/python3.11/dist-packages';
  const info = `${site}/${name}-${version}.dist-info`;
  const files = [`${name}/__init__.py`, `${name}-${version}.dist-info/METADATA`, `${name}-${version}.dist-info/RECORD`, `${name}-${version}.dist-info/INSTALLER`];
  if (o.requested) files.push(`${name}-${version}.dist-info/REQUESTED`);
  if (o.directUrl) files.push(`${name}-${version}.dist-info/direct_url.json`);
  return [
    dir(`${site}/${name}`), file(`${site}/${name}/__init__.py`, `# ${name}`),
    dir(info), file(`${info}/METADATA`, `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`),
    file(`${info}/RECORD`, files.map((f) => `${f},,`).join('\n')), file(`${info}/INSTALLER`, 'pip\n'),
    ...(o.requested ? [file(`${info}/REQUESTED`, '')] : []),
    ...(o.directUrl ? [file(`${info}/direct_url.json`, JSON.stringify({ url: o.directUrl, archive_info: {} }))] : []),
  ];
}

const CONFIG = { config: { config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin', `API_TOKEN=${TOKEN}`, 'GREETING=a "quoted" $value'], Cmd: ['/app/run.sh'], User: '1001', WorkingDir: '/app', ExposedPorts: { '8080/tcp': {} }, Labels: { 'org.example.team': 'platform' } } } };

let built: { model: ImageModel; plan: DockerfilePlan; text: string } | undefined;
async function commitImage() {
  if (!built) {
    const model = await modelOf([{ entries: BASE, createdBy: 'ADD rootfs.tar /' }, { entries: COMMIT, createdBy: '/bin/bash' }], CONFIG);
    const plan = planDockerfile(model, { base: { layers: 1, from: '--base-layers', ref: null }, bloat: defaultBloatConfig(), secrets: defaultSecretsConfig() });
    built = { model, plan, text: renderDockerfile(plan, { ref: 'commit.tar', configDigest: model.image.configDigest, version: 'test' }) };
  }
  return built;
}

test('packages: the explicit one installed pinned, its automatic dependency left to apt, a removed base package purged', async (t) => {
  const { plan, text } = await commitImage();
  const debStep = plan.packages.find((s) => s.ecosystem === 'deb')!;
  t.deepEqual(debStep.install, [{ name: 'jq', version: '1.6-2.1' }]);
  t.deepEqual(debStep.remove, ['oldtool']);
  t.regex(text, /apt-get install -y --no-install-recommends jq=1\.6-2\.1 \\\n && apt-get purge -y oldtool/);
  t.notRegex(text, /libjq1=/);
  // what the packages install is not copied, nor the database, nor the purged file's deletion
  const copied = copiedPaths(plan);
  for (const p of ['/usr/bin/jq', '/usr/lib/libjq.so.1', '/var/lib/dpkg/status', '/var/lib/apt/extended_states']) t.false(copied.includes(p), p);
  t.false(plan.removed.includes('/usr/bin/oldtool'));
});

test('pip: a package from the index reinstalled pinned, one from a local wheel copied with a note', async (t) => {
  const { plan, text } = await commitImage();
  const pip = plan.packages.find((s) => s.ecosystem === 'pypi')!;
  t.is(pip.where, 'python3.11');
  t.true(pip.breakSystemPackages);
  t.deepEqual(pip.install, [{ name: 'six', version: '1.16.0' }]);
  t.regex(text, /RUN python3\.11 -m pip install --no-cache-dir --break-system-packages six==1\.16\.0/);
  t.deepEqual(pip.copied?.map((c) => c.name), ['localpkg']);
  t.true(plan.notes.some((n) => n.includes('localpkg') && n.includes('file:///tmp/localpkg-0.1-py3-none-any.whl')));
  const copied = copiedPaths(plan);
  t.true(copied.includes('/usr/local/lib/python3.11/dist-packages/localpkg/__init__.py'));
  t.false(copied.includes('/usr/local/lib/python3.11/dist-packages/six/__init__.py'));
});

test('npm: the manifests copied first, then npm ci; node_modules never copied', async (t) => {
  const { plan, text } = await commitImage();
  const npm = plan.packages.find((s) => s.ecosystem === 'npm')!;
  t.is(npm.where, '/app/web');
  t.deepEqual(npm.manifests, ['/app/web/package.json', '/app/web/package-lock.json']);
  const manifests = plan.copies.find((c) => c.manifests)!;
  t.deepEqual(manifests.items.map((i) => i.name).sort(), ['package-lock.json', 'package.json']);
  const at = (re: RegExp) => text.search(re);
  t.true(at(/COPY --chown=1001:1001 \["files\/\d+\/", "\/app\/web\/"\]\nRUN cd \/app\/web/) > 0);
  t.regex(text, /npm ci --cache \/tmp\/npm-cache/);
  t.false(plan.copies.some((c) => c.dest.includes('node_modules')));
  t.false(plan.copies.some((c) => !c.manifests && c.items.some((i) => i.name.endsWith('web/package.json'))));
});

test('files: one tree per owner, rooted where its directories begin; special bits and capabilities set after, links and deletions made', async (t) => {
  const { plan, text } = await commitImage();
  // /app is the user's: the tree starts at / (left as it is) and holds app/ with its mode
  const app = plan.copies.find((c) => c.uid === 1001 && !c.manifests)!;
  t.is(app.dest, '/');
  t.deepEqual(app.items.filter((i) => i.name.startsWith('app/') && !i.name.includes('\n')).map((i) => [i.name, i.mode.toString(8)]), [['app/data.txt', '640'], ['app/web/index.js', '644']]);
  t.deepEqual(app.dirs.filter((d) => !d.name.includes('\n')).map((d) => [d.name, d.mode.toString(8)]), [['app', '755'], ['app/web', '755']]);
  // root's files: one tree at /, the directories root owns included
  const root = plan.copies.filter((c) => c.uid === 0 && !c.manifests);
  t.deepEqual(root.map((c) => c.dest), ['/']);
  t.true(root[0].items.some((i) => i.name === 'usr/local/bin/suid'));
  t.true(root[0].dirs.some((d) => d.name === 'usr/local/bin'));
  t.regex(text, /# \/app, \/app\/web, \/app\/we\\nird \$HOME `x`\nCOPY --chown=1001:1001 \["files\/\d+\/", "\/"\]/);
  // a hardlinked pair is one tar ADD unpacks (COPY would make two files, a later ln cannot join layers)
  t.deepEqual(plan.hardlinks, []);
  t.deepEqual(plan.linked?.paths, ['/app/run-again.sh', '/app/run.sh']);
  t.deepEqual(plan.linked?.layer.files.map((f) => [f.path, f.uid, f.mode.toString(8)]), [['app/run.sh', 1001, '755']]);
  t.deepEqual(plan.linked?.layer.links.map((l) => [l.path, l.linkname]), [['app/run-again.sh', 'app/run.sh']]);
  t.regex(text, /\nADD \["hardlinks\.tar", "\/"\]\n/);
  t.deepEqual(plan.symlinks.map((l) => [l.path, l.target]), [['/usr/local/bin/run', '/app/run.sh'], ['/usr/local/bin/we\nird', '/app/we\nird $HOME `x`/f']]);
  t.deepEqual(plan.removed, ['/etc/motd', '/etc/old\nname']);
  t.regex(text, /chmod 4755 \/usr\/local\/bin\/suid/);
  t.regex(text, /setcap cap_net_raw\+ep \/usr\/local\/bin\/ping/);
  t.regex(text, /mkdir -p [^\n]*\/srv\/empty/);
  t.regex(text, /chmod 0750 [^\n]*\/srv\/empty/);
  t.false(plan.dirs.some((d) => d.path === '/app'), 'made by its COPY');
});

test('left out: temp, log, history, apt lists and regenerated files, with their bytes; secrets listed, never copied', async (t) => {
  const { plan, text } = await commitImage();
  const out = Object.fromEntries(plan.leftOut.map((l) => [l.path, l.category]));
  t.is(out['/tmp/scratch.bin'], 'temp');
  t.is(out['/var/log/setup.log'], 'log');
  t.is(out['/root/.bash_history'], 'history');
  t.is(out['/var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease'], 'cache');
  t.is(out['/var/lib/dpkg/status-old'], 'regenerated');
  t.is(plan.leftOut.find((l) => l.path === '/tmp/scratch.bin')!.bytes, 3000);
  t.deepEqual(plan.secrets.map((s) => [s.path, s.rule]), [['/root/.aws/credentials', 'aws-credentials-file'], ['/root/.bash_history', 'shell-history']]);
  t.false(plan.copies.some((c) => c.items.some((i) => i.name === 'credentials')));
  for (const v of [SECRET_KEY, TOKEN, 'Zq8vN3xT5kLm2Pw9Rb7Yc4Hd6Jf1Gs0Ae3Ui8Ko5']) t.false(text.includes(v), v);
  t.regex(text, /#\s+\/root\/\.aws\/credentials {2}aws-credentials-file {2}sha256:[0-9a-f]{12}\n/);
});

test('config: ENV first (a secret one as an ARG), the rest after the steps, USER and CMD last', async (t) => {
  const { text } = await commitImage();
  t.regex(text, /ARG API_TOKEN\n/);
  t.regex(text, /# ENV API_TOKEN held a secret \(sha256:[0-9a-f]+\)/);
  t.regex(text, /ENV GREETING="a \\"quoted\\" \\\$value"/);
  const order = ['FROM ', 'ENV PATH', 'RUN apt-get', 'COPY', 'LABEL org.example.team=platform', 'EXPOSE 8080/tcp', 'WORKDIR /app', 'USER 1001', 'CMD ["/app/run.sh"]'].map((s) => text.indexOf(s));
  t.deepEqual(order, [...order].sort((a, b) => a - b));
  t.false(order.includes(-1));
});

test('hostile names: no line of the Dockerfile is anything but a comment, an instruction or a continuation', async (t) => {
  const { plan, text } = await commitImage();
  // the file and the symlink to it are in the context, not in the Dockerfile
  t.true(copiedPaths(plan).includes('/app/we\nird $HOME `x`/f'));
  const link = plan.copies.flatMap((c) => c.items).find((i) => i.name === 'usr/local/bin/we\nird');
  t.is(link?.link, '/app/we\nird $HOME `x`/f');
  // a deleted base path with a line break: the RUN is in exec form, the shell gets the name as a parameter, never as code
  t.true(text.includes(`RUN ${JSON.stringify(['/bin/sh', '-c', 'rm -rf /etc/motd "${1}"', 'sh', '/etc/old\nname'])}`));
  const instruction = /^(FROM|ARG|ENV|RUN|COPY|ADD|LABEL|EXPOSE|VOLUME|WORKDIR|USER|CMD|ENTRYPOINT|STOPSIGNAL|HEALTHCHECK|SHELL) /;
  let continued = false;
  for (const line of text.split('\n')) {
    t.true(line === '' || line.startsWith('#') || instruction.test(line) || (continued && line.startsWith(' && ')), JSON.stringify(line));
    continued = line.endsWith(' \\');
  }
});

test('the CLI writes DIR/Dockerfile and the context with the files and their modes; an existing DIR is refused', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const image = join(dir, 'image');
  writeOciLayout(image, { images: [{ layers: [{ entries: BASE, createdBy: 'ADD rootfs.tar /' }, { entries: COMMIT, createdBy: '/bin/bash' }], ...CONFIG }] });
  const out = join(dir, 'out');
  const r = await runStrata(['dockerfile', image, '--base-layers', '1', '-o', out, '--json']);
  t.is(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as { plan: DockerfilePlan };
  t.true(existsSync(join(out, 'Dockerfile')));
  const app = json.plan.copies.find((c) => c.uid === 1001 && !c.manifests)!;
  t.is(readFileSync(join(out, 'context', app.source, 'app/data.txt'), 'utf8'), 'data');
  t.is(statSync(join(out, 'context', app.source, 'app/data.txt')).mode & 0o7777, 0o640);
  t.is(statSync(join(out, 'context', app.source, 'app')).mode & 0o7777, 0o755);
  const links = readFileSync(join(out, 'context', 'hardlinks.tar'));
  t.true(links.includes('app/run-again.sh') && links.includes('echo hi'));
  t.false('items' in app, 'the JSON does not list the context files');
  t.deepEqual(readdirSync(join(out, 'context', app.source, 'app', 'we\nird $HOME `x`')), ['f']);
  // nothing of the secret anywhere in the output
  const all = (d: string): string[] => readdirSync(d).flatMap((n) => {
    const st = lstatSync(join(d, n));
    return st.isDirectory() ? all(join(d, n)) : st.isFile() ? [readFileSync(join(d, n), 'utf8')] : [];
  });
  // the image's symlinks are in the context as symlinks, never followed
  t.is(readlinkSync(join(out, 'context', json.plan.copies.find((c) => c.uid === 0 && !c.manifests)!.source, 'usr/local/bin/run')), '/app/run.sh');
  for (const content of [...all(out), r.stdout]) for (const v of [SECRET_KEY, TOKEN]) t.false(content.includes(v));

  const again = await runStrata(['dockerfile', image, '--base-layers', '1', '-o', out]);
  t.is(again.code, 2);
  t.regex(again.stderr, /exists and is not empty/);
  const link = join(dir, 'link');
  mkdirSync(join(dir, 'elsewhere'));
  symlinkSync(join(dir, 'elsewhere'), link);
  const through = await runStrata(['dockerfile', image, '--base-layers', '1', '-o', link]);
  t.is(through.code, 2);
  t.regex(through.stderr, /is a symlink/);
  t.deepEqual(readdirSync(join(dir, 'elsewhere')), []);
  writeFileSync(join(dir, 'afile'), 'x');
  t.is((await runStrata(['dockerfile', image, '-o', join(dir, 'afile')])).code, 2);
  t.deepEqual(readdirSync(dir).filter((n) => n.includes('.strata-')), [], 'no stage left behind');
});

test('apk: what world names is added pinned, its dependencies left to apk, a removed one deleted; the database is not copied', async (t) => {
  const apk = (name: string, version: string, files: string[]) => `P:${name}\nV:${version}\nA:x86_64\nF:usr/bin\n${files.map((f) => `R:${f}`).join('\n')}\n`;
  const model = await modelOf([
    { entries: [dir('bin'), file('bin/sh', 'sh', { mode: 0o755 }), dir('lib'), dir('lib/apk'), dir('lib/apk/db'), file('lib/apk/db/installed', `${apk('busybox', '1.36.1-r15', ['busybox'])}\n${apk('old', '1-r0', ['old'])}`), dir('etc'), dir('etc/apk'), file('etc/apk/world', 'busybox\nold\n'), dir('usr'), dir('usr/bin'), file('usr/bin/busybox', 'bb'), file('usr/bin/old', 'old')] },
    { entries: [file('lib/apk/db/installed', `${apk('busybox', '1.36.1-r15', ['busybox'])}\n${apk('curl', '8.5.0-r0', ['curl'])}\n${apk('libcurl', '8.5.0-r0', ['libcurl.so'])}`), file('etc/apk/world', 'busybox\ncurl\n'), file('usr/bin/curl', 'curl'), file('usr/bin/libcurl.so', 'lib'), { name: 'usr/bin/.wh.old', type: 'file', data: '' }] },
  ]);
  const plan = planDockerfile(model, { base: { layers: 1, from: '--base-layers', ref: 'alpine:3.19' }, bloat: defaultBloatConfig(), secrets: defaultSecretsConfig() });
  t.deepEqual(plan.packages.map((s) => [s.ecosystem, s.install, s.remove]), [['apk', [{ name: 'curl', version: '8.5.0-r0' }], ['old']]]);
  const text = renderDockerfile(plan, { ref: 'x', configDigest: 'sha256:0', version: 'test' });
  t.regex(text, /^FROM alpine:3\.19$/m);
  t.regex(text, /RUN apk add --no-cache curl=8\.5\.0-r0 \\\n && apk del --no-cache old\n/);
  t.deepEqual(plan.copies, []);
  t.deepEqual(plan.removed, [], 'the purge removes /usr/bin/old');
});

test('config: every instruction a config can hold, and values a Dockerfile cannot write left out with a note', async (t) => {
  const config = {
    Env: ['A=1', 'BAD\nNAME=x', 'MULTI=line\nbreak', 'EMPTY='],
    User: 'app:staff', WorkingDir: '/srv/my app', Entrypoint: ['/entry', '--flag'], Cmd: ['serve'],
    ExposedPorts: { '80/tcp': {}, '53/udp': {}, 'evil\nport': {} }, Volumes: { '/data': {}, "/it's": {} },
    Labels: { 'org.opencontainers.image.title': 'my "app"', 'evil\nlabel': 'x' },
    StopSignal: 'SIGTERM', Shell: ['/bin/bash', '-c'],
    Healthcheck: { Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], Interval: 30e9, Timeout: 5e9, Retries: 3 },
  };
  const model = await modelOf([[dir('bin'), file('bin/sh', 'sh')], [dir('srv'), file('srv/x', 'x')]], { config: { config } });
  const plan = planDockerfile(model, { base: { layers: 1, from: '--base-layers', ref: 'base:1' }, bloat: defaultBloatConfig(), secrets: defaultSecretsConfig() });
  const text = renderDockerfile(plan, { ref: 'x', configDigest: 'sha256:0', version: 'test' });
  for (const line of [
    'ENV A=1', 'ENV EMPTY=""', 'LABEL org.opencontainers.image.title="my \\"app\\""', 'EXPOSE 80/tcp', 'EXPOSE 53/udp',
    `VOLUME ["/data","/it\\\\'s"]`, 'STOPSIGNAL SIGTERM', 'HEALTHCHECK --interval=30000ms --timeout=5000ms --retries=3 CMD curl -f http://localhost/ || exit 1',
    'SHELL ["/bin/bash","-c"]', 'WORKDIR "/srv/my app"', 'USER app:staff', 'ENTRYPOINT ["/entry","--flag"]', 'CMD ["serve"]',
  ]) t.true(text.split('\n').includes(line), line);
  t.deepEqual(plan.notes.filter((n) => n.includes('not carried over')).sort(), [
    'ENV MULTI: its value holds a control character a Dockerfile cannot write; not carried over',
    'LABEL with a control character: a Dockerfile cannot write it; not carried over',
    'an ENV entry: its name is not a variable name; not carried over',
    'an EXPOSE entry: it is not PORT[/tcp|udp|sctp]; not carried over',
  ]);
  t.false(/evil|BAD/.test(text.split('\n').filter((l) => !l.startsWith('#')).join('\n')));
});

test('a COPY destination with quotes, $ and a backslash: escaped for the word expansion COPY does', async (t) => {
  // a user's file in a root directory: the tree starts at that directory, whose name is the destination
  const model = await modelOf([[dir('bin'), file('bin/sh', 'sh'), dir(`h`), dir(`h/root's "d" $X\\`)], [file(`h/root's "d" $X\\/f`, 'f', { uid: 7, gid: 7 })]]);
  const plan = planDockerfile(model, { base: { layers: 1, from: '--base-layers', ref: 'base:1' }, bloat: defaultBloatConfig(), secrets: defaultSecretsConfig() });
  t.deepEqual(plan.copies.map((c) => c.dest), [`/h/root's "d" $X\\`]);
  const text = renderDockerfile(plan, { ref: 'x', configDigest: 'sha256:0', version: 'test' });
  t.true(text.includes(`COPY --chown=7:7 ["files/0001/", ${JSON.stringify(`/h/root\\'s \\"d\\" \\$X\\\\/`)}]`));
});

test('a hostile number of paths: every RUN script stays under the 128 KiB one argument may have, and keeps its command', (t) => {
  const paths = Array.from({ length: 20_000 }, (_, i) => `/var/lib/deep/directory/name/number-${i}`);
  const plan: DockerfilePlan = {
    base: { layers: 1, from: '--base-layers', ref: 'base:1' }, history: [], packages: [], removed: paths,
    dirs: paths.map((p) => ({ path: `${p}-d`, mode: 0o700, uid: 5, gid: 5, existed: false })),
    copies: [], symlinks: [], hardlinks: [], linked: null, modes: [], config: [], leftOut: [], secrets: [], notes: [],
  };
  const text = renderDockerfile(plan, { ref: 'x', configDigest: 'sha256:0', version: 'test' });
  const runs = text.split('\n').filter((l) => l.startsWith('RUN ')).map((l, i, all) => {
    // a RUN goes on over its ` && ` lines
    const at = text.indexOf(l);
    const end = all[i + 1] ? text.indexOf(all[i + 1], at + 1) : text.length;
    return text.slice(at, end);
  });
  t.true(runs.length > 4);
  for (const r of runs) t.true(Buffer.byteLength(r) < 128 * 1024, `${Buffer.byteLength(r)}`);
  for (const r of runs) for (const cmd of r.slice(4).split(' \\\n && ')) t.regex(cmd.trim(), /^(rm -rf \/|mkdir -p \/|chown 5:5 \/|chmod 0700 \/)/);
  const removed = runs.flatMap((r) => [...r.matchAll(/number-(\d+)(?!-d)\b/g)].map((m) => Number(m[1])));
  t.is(new Set(removed).size, 20_000);
});

test('the install lines of rpm, of pip with dependencies pinned as constraints, and of npm without a lock file', (t) => {
  const plan: DockerfilePlan = {
    base: { layers: 1, from: '--from', ref: 'fedora:40' }, history: [], removed: [], dirs: [], copies: [], symlinks: [], hardlinks: [], linked: null, modes: [], config: [], leftOut: [], secrets: [], notes: [],
    packages: [
      { ecosystem: 'rpm', install: [{ name: 'jq', version: '1.7.1-4.fc40' }, { name: 'bash', version: '1:5.2.26-3.fc40' }], remove: ['nano'] },
      { ecosystem: 'pypi', install: [{ name: 'requests', version: '2.32.3' }, { name: 'idna', version: '3.7' }], remove: [], where: '/opt/venv/bin/python', explicit: ['requests'] },
      { ecosystem: 'npm', install: [{ name: 'left-pad', version: '1.3.0' }], remove: [], where: '/srv/web', manifests: ['/srv/web/package.json'] },
    ],
  };
  const text = renderDockerfile(plan, { ref: 'x', configDigest: 'sha256:0', version: 'test' });
  t.true(text.includes('RUN dnf install -y --setopt=install_weak_deps=False jq-1.7.1-4.fc40 bash-1:5.2.26-3.fc40 \\\n && dnf remove -y nano \\\n && dnf clean all\n'));
  t.true(text.includes("RUN printf '%s\\n' idna==3.7 > /tmp/strata-constraints.txt \\\n && /opt/venv/bin/python -m pip install --no-cache-dir -c /tmp/strata-constraints.txt requests==2.32.3 \\\n && rm -f /tmp/strata-constraints.txt\n"));
  t.true(text.includes('RUN cd /srv/web \\\n && npm install --cache /tmp/npm-cache \\\n && rm -rf /tmp/npm-cache\n'));
});

test('the summary and the Dockerfile carry no raw control byte from any field of the plan', (t) => {
  const E = 'x\x1b]52;c;ZXZpbA==\x07\n\r\u202e\u0085\u{E0041}';
  const plan: DockerfilePlan = {
    base: { layers: 1, from: '--from', ref: `base${E}` }, history: [`RUN ${E}`], removed: [`/r${E}`],
    dirs: [{ path: `/d${E}`, mode: 0o700, uid: 1, gid: 1, existed: false }],
    copies: [{ source: 'files/0001', dest: `/c${E}`, uid: 1, gid: 1, entries: 1, bytes: 1, items: [], dirs: [], tops: [{ path: `/c${E}`, files: 1 }] }],
    symlinks: [{ path: `/s${E}`, target: `/t${E}`, uid: 0, gid: 0 }], hardlinks: [{ path: `/h${E}`, target: `/g${E}`, uid: 0, gid: 0 }], linked: null,
    modes: [{ path: `/m${E}`, mode: 0o4755, capabilities: `cap${E}`, xattrs: { [`user.${E}`]: 'AA==' } }],
    config: [{ instruction: 'ENV', text: 'A=1', note: `note${E}` }],
    leftOut: [{ path: `/l${E}`, bytes: 1, category: `cat${E}` }], secrets: [{ path: `/k${E}`, rule: `rule${E}`, fingerprint: null, remedy: E }], notes: [`n${E}`],
    packages: [{ ecosystem: 'pypi', install: [{ name: `p${E}`, version: `v${E}` }], remove: [], where: `/w${E}`, copied: [{ name: `c${E}`, version: E, why: E }] }],
  };
  assertNoRawControl(t, renderDockerfileSummary(plan, `/out${E}`), 'summary');
  t.regex(renderDockerfileSummary(plan, 'out'), /^FROM: a placeholder/m, 'the summary says what the Dockerfile says');
  // the Dockerfile: a control byte only inside a JSON string (escaped there), never raw
  const text = renderDockerfile(plan, { ref: `ref${E}`, configDigest: 'sha256:0', version: 'test' });
  t.false(/[\x00-\x08\x0b-\x1f\x7f-\x9f\p{Cf}]/u.test(text.replaceAll('\n', '')), 'no raw control or format character besides line ends');
  t.regex(text, /^# The base's name basex\\x1b/m, 'a FROM that is no image name is a placeholder');
  for (const line of text.split('\n')) t.true(line === '' || line.startsWith('#') || /^(FROM|ARG|ENV|USER|RUN|COPY|CMD) /.test(line) || line.startsWith(' && '), JSON.stringify(line));
  t.regex(text, /^FROM \$\{BASE\}$/m);
});

test('a capability in an image without setcap: not set (the build would fail there), and a note says so', async (t) => {
  const cap = { pax: { 'SCHILY.xattr.security.capability': Buffer.from('0100000200200000000000000000000000000000', 'hex') } };
  const model = await modelOf([[dir('bin'), file('bin/sh', 'sh')], [dir('usr'), dir('usr/bin'), file('usr/bin/ping', 'ping', { mode: 0o4755, ...cap })]]);
  const plan = planDockerfile(model, { base: { layers: 1, from: '--base-layers', ref: 'base:1' }, bloat: defaultBloatConfig(), secrets: defaultSecretsConfig() });
  t.deepEqual(plan.modes, [{ path: '/usr/bin/ping', mode: 0o4755 }]);
  t.deepEqual(plan.notes, ['/usr/bin/ping: its file capabilities are not set: the image has no setcap']);
  t.notRegex(renderDockerfile(plan, { ref: 'x', configDigest: 'sha256:0', version: 'test' }), /setcap cap_/);
});

/** The config lines and notes finalLines makes of a config (test: a hostile image's values). */
const tailOf = (config: Record<string, unknown>) => finalLines({ config } as ImageConfig);
const texts = (config: Record<string, unknown>) => tailOf(config).lines.map((l) => `${l.instruction} ${l.text}`);

test('HEALTHCHECK CMD-SHELL is written raw to the end of its line: one the parser would read otherwise (a trailing \\, a JSON array, white space at an end) is left out with a note', async (t) => {
  // a trailing backslash continued the line: the USER after it became part of the healthcheck, and the image ran as root
  const config = { User: 'appuser', Healthcheck: { Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1 \\'] }, Cmd: ['/app/x'] };
  const model = await modelOf([[dir('bin'), file('bin/sh', 'sh')], [dir('app'), file('app/x', 'x')]], { config: { config } });
  const plan = planDockerfile(model, { base: { layers: 1, from: '--base-layers', ref: 'base:1' }, bloat: defaultBloatConfig(), secrets: defaultSecretsConfig() });
  const lines = renderDockerfile(plan, { ref: 'x', configDigest: 'sha256:0', version: 'test' }).split('\n');
  t.true(lines.includes('USER appuser'));
  t.false(lines.some((l) => l.startsWith('HEALTHCHECK')));
  t.false(lines.some((l) => !l.startsWith('#') && /\\[ \t]*$/.test(l) && !l.startsWith('RUN ') && !l.startsWith(' && ')), 'no instruction line is continued');
  t.true(plan.notes.includes('HEALTHCHECK: its command ends with `\\`, which a Dockerfile reads as a line continuation; not carried over'));
  // nothing an image names can be a parser directive: the first line is strata's own comment
  t.regex(lines[0], /^# Written by strata /);

  for (const [text, why] of [
    ['exit 1\\  \t', 'is empty or begins or ends with white space'],
    ['["/bin/true"]', 'reads as a JSON array'],
    ['[1]', 'reads as a JSON array'],
    ['  true', 'is empty or begins or ends with white space'],
    ['', 'is empty or begins or ends with white space'],
  ]) {
    const r = tailOf({ Healthcheck: { Test: ['CMD-SHELL', text] } });
    t.deepEqual(r.lines, [], text);
    t.true(r.notes[0]?.startsWith(`HEALTHCHECK: its command ${why}`), text);
  }
  // `[` that is no JSON array is the shell's test command: written
  t.deepEqual(texts({ Healthcheck: { Test: ['CMD-SHELL', '[ -f /tmp/ok ] || exit 1'] } }), ['HEALTHCHECK CMD [ -f /tmp/ok ] || exit 1']);
  // a secret masked when the image was opened is written masked, and said, as for CMD and ENTRYPOINT
  const masked = tailOf({ Healthcheck: { Test: ['CMD', 'curl', '-H', 'Authorization: ‹secret sha256:0123456789ab›', 'http://localhost/'] } }).lines;
  t.is(masked.length, 1);
  t.is(masked[0].note, 'HEALTHCHECK held a secret (sha256:0123456789ab): written masked; give the value at run time');
});

test('HEALTHCHECK durations: exact (nanoseconds unless whole milliseconds); one a build refuses (under 1ms, huge, fractional, negative) leaves it out with a note', (t) => {
  const hc = (more: Record<string, unknown>) => tailOf({ Healthcheck: { Test: ['CMD', '/ok'], ...more } });
  t.deepEqual(hc({ Interval: 30e9, Timeout: 1_500_000, StartPeriod: 0, Retries: 3 }).lines.map((l) => l.text), ['--interval=30000ms --timeout=1500000ns --retries=3 CMD ["/ok"]']);
  for (const [field, value, why] of [
    ['Interval', 1e300, 'its interval is not a duration'], ['Timeout', 0.4, 'its timeout is not a duration'], ['Timeout', 999_999, 'its timeout is not a duration'],
    ['StartPeriod', -1, 'its start-period is not a duration'], ['Interval', '30s', 'its interval is not a duration'],
    ['Retries', 1e300, 'its retries are not a count'], ['Retries', -1, 'its retries are not a count'], ['Retries', 1.5, 'its retries are not a count'],
  ] as const) {
    const r = hc({ [field]: value });
    t.deepEqual(r.lines, [], `${field} ${value}`);
    t.true(r.notes[0]?.startsWith(`HEALTHCHECK: ${why}`), `${field} ${value}: ${r.notes[0]}`);
  }
});

test('config values a Dockerfile reads otherwise: a LABEL key with =, a leading -- (a flag), an empty VOLUME, a relative WORKDIR, a port over 65535', (t) => {
  const r = tailOf({
    Labels: { 'a=b': 'c', '--x': '--y', ok: 'v' }, Volumes: { '': {}, ' ': {}, '/data': {} }, WorkingDir: '--x', User: '--x',
    ExposedPorts: { '99999/tcp': {}, '8080': {} },
  });
  t.deepEqual(r.lines.map((l) => `${l.instruction} ${l.text}`), ['LABEL "--x"="--y"', 'LABEL ok=v', 'EXPOSE 8080', 'VOLUME ["/data"]']);
  t.deepEqual(r.notes, [
    'LABEL a=b: its key holds `=`, which a Dockerfile reads as the end of the key; not carried over',
    'an EXPOSE entry: it is not PORT[/tcp|udp|sctp]; not carried over',
    'a VOLUME entry: it is empty (a build refuses one); not carried over',
    'a VOLUME entry: it is empty (a build refuses one); not carried over',
    'WORKDIR: it is not an absolute path; not carried over',
    'USER: it is not a user[:group] name or id; not carried over',
  ]);
  t.deepEqual(texts({ WorkingDir: '$HOME/x' }), []);
  t.deepEqual(texts({ WorkingDir: '/--x' }), ['WORKDIR /--x']);
});

test('pip: a direct_url.json URL is shown with its userinfo and any secret in it masked (note, summary, Dockerfile, JSON)', async (t) => {
  const github = `https://x-access-token:${TOKEN}@github.com/acme/priv.git`;
  const site = 'usr/local/lib/python3.11/dist-packages';
  const model = await modelOf([BASE, [dir('usr/local'), dir('usr/local/lib'), dir('usr/local/lib/python3.11'), dir(site),
    ...pipPackage('priv', '1.0', { directUrl: github }), ...pipPackage('other', '2.0', { directUrl: 'https://build:hunter2@pypi.example.com/other-2.0.whl?sig=x' })]]);
  const plan = planDockerfile(model, { base: { layers: 1, from: '--base-layers', ref: 'base:1' }, bloat: defaultBloatConfig(), secrets: defaultSecretsConfig() });
  const shown = [JSON.stringify(plan), renderDockerfileSummary(plan, 'out'), renderDockerfile(plan, { ref: 'x', configDigest: 'sha256:0', version: 'test' })];
  for (const s of shown) for (const v of [TOKEN, 'x-access-token', 'hunter2']) t.false(s.includes(v), v);
  t.true(plan.notes.some((n) => /pypi priv 1\.0: pip installed it from https:\/\/‹secret sha256:[0-9a-f]{12}›@github\.com\/acme\/priv\.git,/.test(n)), plan.notes.join('\n'));
  t.true(plan.notes.some((n) => /pypi other 2\.0: pip installed it from https:\/\/‹secret sha256:[0-9a-f]{12}›@pypi\.example\.com\/other-2\.0\.whl\?sig=x,/.test(n)));
});

test('pip in a venv made above the base: after the COPY that brings the venv\'s python and pyvenv.cfg', async (t) => {
  const site = 'opt/venv/lib/python3.11/site-packages';
  const info = `${site}/six-1.16.0.dist-info`;
  const model = await modelOf([[...BASE, file('usr/bin/python3', 'py', { mode: 0o755 })], [dir('opt'), dir('opt/venv'), file('opt/venv/pyvenv.cfg', 'home = /usr/bin\n'), dir('opt/venv/bin'),
    { name: 'opt/venv/bin/python', type: 'symlink', linkname: '/usr/bin/python3' }, dir('opt/venv/lib'), dir('opt/venv/lib/python3.11'), dir(site), dir(`${site}/six`), file(`${site}/six/__init__.py`, '#'),
    dir(info), file(`${info}/METADATA`, 'Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n'), file(`${info}/RECORD`, 'six/__init__.py,,\n'), file(`${info}/INSTALLER`, 'pip\n')]]);
  const plan = planDockerfile(model, { base: { layers: 1, from: '--base-layers', ref: 'base:1' }, bloat: defaultBloatConfig(), secrets: defaultSecretsConfig() });
  t.true(copiedPaths(plan).includes('/opt/venv/pyvenv.cfg'));
  const text = renderDockerfile(plan, { ref: 'x', configDigest: 'sha256:0', version: 'test' });
  const pip = text.indexOf('RUN /opt/venv/bin/python -m pip install');
  t.true(pip > 0);
  t.true(text.indexOf('\nCOPY ') < pip);
});
