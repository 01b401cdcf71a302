/**
 * `strata packages` against the package tools themselves, in images a real dockerd built and saved:
 * dpkg-query and dpkg -L run in the container, npm ls and pip list on the host over the very
 * directories the image was made of, importlib.metadata for a Debian-packaged Python module.
 *
 * The images, built once (docs/packages-verified.md has the figures):
 * - deb:  a Debian 12 root from this machine's own packages (helpers/debian-root.ts), imported; then
 *         COPY of .deb files built here with dpkg-deb; RUN dpkg -i of four; RUN dpkg --purge one and
 *         dpkg --remove another (its conffile stays: state config-files); RUN dpkg -i of an upgrade
 *         (by epoch) and a downgrade (by tilde), then rm of the .debs and of one package's docs.
 * - nodb: deb, then RUN rm -rf /var/lib/dpkg.
 * - lang: the root, then COPY of /app: node_modules from a real npm install, and a venv with two
 *         wheels made here, installed by pip.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { PackageURL } from 'packageurl-js';
import { openImage } from '../src/sources/resolve.js';
import { readImage } from '../src/model/read-image.js';
import { analyzePackages } from '../src/analyze/packages/packages.js';
import { Kind } from '../src/scan/records.js';
import type { PackageChange, PackagesReport } from '../src/analyze/packages/types.js';
import type { InspectReport } from '../src/analyze/report.js';
import { runStrata } from './helpers/cli.js';
import { debianRoot } from './helpers/debian-root.js';
import { startDockerd, stopDockerd, type Engine } from './helpers/dockerd.js';
import { tempDir } from './helpers/registry-harness.js';
import { requireTools } from './helpers/system-tools.js';

const run = promisify(execFile);
const BIG = 1 << 28;

requireTools('dockerd', 'docker', 'python3');

// ---- the .deb files --------------------------------------------------------------------------

type Content = string | { link: string } | { hardlink: string };

interface DebSpec {
  name: string;
  version: string;
  arch: string;
  depends?: string;
  /** Root-relative path -> content; `bin/…` is installed through the image's bin -> usr/bin. */
  files: Record<string, Content>;
  conffiles?: string[];
}

const COPYRIGHT = 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nLicense: MIT\n';
const LIB1: DebSpec = {
  name: 'strata-lib', version: '1.0-1', arch: 'amd64',
  files: { 'lib/x86_64-linux-gnu/libstrata.so.1': 'lib1\n'.repeat(9000), 'usr/share/doc/strata-lib/copyright': COPYRIGHT },
};
const LIB0: DebSpec = {
  name: 'strata-lib', version: '1.0~rc1-1', arch: 'amd64',
  files: { 'lib/x86_64-linux-gnu/libstrata.so.1': 'rc1\n'.repeat(7000), 'usr/share/doc/strata-lib/copyright': COPYRIGHT, 'usr/share/doc/strata-lib/NEWS': 'a release candidate\n' },
};
const HELLO1: DebSpec = {
  name: 'strata-hello', version: '1.0-1', arch: 'all', depends: 'strata-lib',
  files: {
    'bin/strata-hello': '#!/bin/sh\necho hello\n',
    'usr/bin/strata-hi': { link: 'strata-hello' },
    'usr/share/strata-hello/greeting.txt': 'hello\n'.repeat(1500),
    'usr/share/strata-hello/hello.txt': { hardlink: 'usr/share/strata-hello/greeting.txt' },
    'usr/share/doc/strata-hello/copyright': COPYRIGHT,
  },
};
/** Version 1:0.5-1 is above 1.0-1 (the epoch), though its upstream version is lower. */
const HELLO2: DebSpec = {
  name: 'strata-hello', version: '1:0.5-1', arch: 'all', depends: 'strata-lib',
  files: { 'bin/strata-hello': '#!/bin/sh\necho hello again\n', 'usr/share/strata-hello/greeting.txt': 'hello\n'.repeat(3000), 'usr/share/doc/strata-hello/copyright': COPYRIGHT },
};
const TOOL: DebSpec = {
  name: 'strata-tool', version: '3.1-2', arch: 'all',
  files: { 'usr/sbin/strata-tool': '#!/bin/sh\nexit 0\n', 'etc/strata-tool.conf': 'verbose = 1\n', 'usr/share/strata-tool/data': 'tool\n'.repeat(4000) },
  conffiles: ['/etc/strata-tool.conf'],
};
/** Removed, not purged: dpkg keeps its conffile and the package in state config-files. */
const CONF: DebSpec = {
  name: 'strata-conf', version: '2.0-1', arch: 'all',
  files: { 'etc/strata-conf/strata.conf': 'setting = 1\n'.repeat(50), 'usr/share/strata-conf/defaults': 'default\n'.repeat(700) },
  conffiles: ['/etc/strata-conf/strata.conf'],
};
/** The image slims strata-hello 1:0.5-1 (rm -r its /usr/share/doc): dpkg still lists what is gone. */
const HELLO2_IN_IMAGE = { bytes: debBytes(HELLO2) - Buffer.byteLength(COPYRIGHT), files: ['/usr/bin/strata-hello', '/usr/share/strata-hello/greeting.txt'] };
const DEBS: Record<string, DebSpec> = { 'lib-1.deb': LIB1, 'lib-0.deb': LIB0, 'hello-1.deb': HELLO1, 'hello-2.deb': HELLO2, 'tool.deb': TOOL, 'conf.deb': CONF };

/** Bytes of a package's files as every strata size counts them: regular files, a hardlink group once, symlinks 0. */
function debBytes(spec: DebSpec): number {
  return Object.values(spec.files).reduce((s, c) => s + (typeof c === 'string' ? Buffer.byteLength(c) : 0), 0);
}

/** The Installed-Size our packages declare: KiB, rounded up. */
const installedSize = (spec: DebSpec) => Math.ceil(debBytes(spec) / 1024);

function buildDeb(dir: string, out: string, spec: DebSpec): Promise<unknown> {
  const root = join(dir, `${spec.name}_${spec.version}`);
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  for (const [path, c] of Object.entries(spec.files)) {
    const at = join(root, path);
    mkdirSync(dirname(at), { recursive: true });
    if (typeof c === 'string') {
      writeFileSync(at, c);
      if (/^(usr\/)?s?bin\//.test(path)) chmodSync(at, 0o755);
    } else if ('link' in c) symlinkSync(c.link, at);
    else linkSync(join(root, c.hardlink), at);
  }
  const control = [`Package: ${spec.name}`, `Version: ${spec.version}`, `Architecture: ${spec.arch}`, 'Maintainer: strata tests <tests@example.org>', `Installed-Size: ${installedSize(spec)}`, ...(spec.depends ? [`Depends: ${spec.depends}`] : []), 'Description: a package of strata\'s tests'];
  writeFileSync(join(root, 'DEBIAN/control'), `${control.join('\n')}\n`);
  if (spec.conffiles) writeFileSync(join(root, 'DEBIAN/conffiles'), spec.conffiles.map((c) => `${c}\n`).join(''));
  return run('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, out]);
}

// ---- the Python wheels and the npm tree ------------------------------------------------------

/** Two wheels made by hand (zipfile: no setuptools needed), one with a console script and a License. */
const MAKE_WHEELS = `
import base64, hashlib, sys, zipfile
def wheel(out, dist, name, version, files, meta=''):
    info = f'{dist}-{version}.dist-info'
    files = dict(files)
    files[f'{info}/METADATA'] = f'Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n{meta}'
    files[f'{info}/WHEEL'] = 'Wheel-Version: 1.0\\nGenerator: strata-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'
    record = []
    for p, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
        record.append(f'{p},sha256={digest},{len(data)}')
    files[f'{info}/RECORD'] = '\\n'.join(record + [f'{info}/RECORD,,']) + '\\n'
    with zipfile.ZipFile(f'{out}/{dist}-{version}-py3-none-any.whl', 'w') as z:
        for p, text in files.items():
            z.writestr(p, text)
wheel(sys.argv[1], 'strata_demo', 'strata-demo', '1.2.3', {
    'strata_demo/__init__.py': 'def main():\\n    print("demo")\\n',
    'strata_demo/table.txt': 'row\\n' * 5000,
    'strata_demo-1.2.3.dist-info/entry_points.txt': '[console_scripts]\\nstrata-demo = strata_demo:main\\n',
}, 'License: MIT\\n')
wheel(sys.argv[1], 'strata_extra', 'Strata.Extra', '0.1.0', {'strata_extra.py': 'X = 1\\n' * 100})
`;

/** Real npm packages, pinned: debug@2 wants ms@2.0.0 and is-odd@3 is-number@6, both nested under them. */
const NPM_PACKAGES = ['ms@2.1.3', 'debug@2.6.9', 'is-number@7.0.0', 'is-odd@3.0.1', '@isaacs/string-locale-compare@1.1.0'];

interface NpmPackage {
  name: string;
  version: string;
  license: string | null;
  /** Its directory, relative to the app. */
  dir: string;
}

/** Every package of `npm ls --all --json --long`, once per directory. */
function npmPackages(tree: { dependencies?: Record<string, unknown> }, app: string): NpmPackage[] {
  const out = new Map<string, NpmPackage>();
  const walk = (deps: Record<string, unknown> | undefined) => {
    for (const d of Object.values(deps ?? {}) as { name: string; version: string; license?: string; path: string; dependencies?: Record<string, unknown> }[]) {
      out.set(d.path, { name: d.name, version: d.version, license: d.license ?? null, dir: posix.relative(app, d.path) });
      walk(d.dependencies);
    }
  };
  walk(tree.dependencies);
  return [...out.values()];
}

/** What strata counts for an npm package's directory: its regular files' bytes and its non-directory entries, nested node_modules left out. */
function treeBytes(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (e.name === 'node_modules') continue;
      const sub = treeBytes(join(dir, e.name));
      bytes += sub.bytes;
      files += sub.files;
    } else {
      files++;
      if (e.isFile()) bytes += lstatSync(join(dir, e.name)).size;
    }
  }
  return { bytes, files };
}

interface Distribution {
  name: string;
  version: string;
  /** Sum of the sizes of the RECORD's files present (their size on disk where RECORD states none: itself, pip's .pyc), and their count. */
  bytes: number;
  files: number;
}

/** Per dist-info of a site directory: the RECORD's present files; their stated sizes checked against the disk. */
function recordTotals(site: string, pipList: { name: string; version: string }[]): Distribution[] {
  return pipList.map(({ name, version }) => {
    const info = readdirSync(site).find((d) => d.endsWith('.dist-info') && d.toLowerCase().startsWith(`${name.toLowerCase().replace(/[-_.]+/g, '_')}-${version}`))!;
    let bytes = 0;
    let files = 0;
    // pip writes RECORD with the csv module: CRLF lines
    for (const line of readFileSync(join(site, info, 'RECORD'), 'utf8').split(/\r?\n/).filter(Boolean)) {
      const [path, , size] = line.split(',');
      let st;
      try {
        st = lstatSync(join(site, path));
      } catch {
        continue; // not in the image
      }
      if (size && Number(size) !== st.size) throw new Error(`${path}: RECORD says ${size} bytes, the disk ${st.size}`);
      bytes += st.size;
      files++;
    }
    return { name, version, bytes, files };
  });
}

// ---- building the images ---------------------------------------------------------------------

const BASE = 'strata-tests/debian:12';
const DEB = 'strata-tests/debs';
const NODB = 'strata-tests/nodb';
const LANG = 'strata-tests/lang';

const DEB_DOCKERFILE = `FROM ${BASE}
COPY debs/ /tmp/debs/
RUN dpkg -i /tmp/debs/lib-1.deb /tmp/debs/hello-1.deb /tmp/debs/tool.deb /tmp/debs/conf.deb
RUN dpkg --purge strata-tool && dpkg --remove strata-conf
RUN dpkg -i /tmp/debs/hello-2.deb /tmp/debs/lib-0.deb && rm -r /tmp/debs /usr/share/doc/strata-hello
`;

interface Fixture {
  engine: Engine;
  /** docker save archives by image name. */
  archives: Record<string, string>;
  basePackages: string[];
  /** The app directory the lang image's /app was copied from. */
  app: string;
  /** Its venv's site-packages, relative to the app. */
  site: string;
  npmLs: NpmPackage[];
  pipList: { name: string; version: string }[];
  /** The Debian six as importlib.metadata reads this machine's dist-packages. */
  six: { name: string; version: string };
}

let started: Promise<Engine | string> | undefined;
let fixture: Fixture | string = 'not built';

async function docker(e: Engine, args: string[]): Promise<string> {
  const { stdout } = await run('docker', ['-H', `unix://${e.socket}`, ...args], { env: { ...process.env, DOCKER_BUILDKIT: '0' }, maxBuffer: BIG });
  return stdout;
}

async function build(e: Engine, dir: string, tag: string, dockerfile: string): Promise<void> {
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  await docker(e, ['build', '--network', 'none', '-q', '-t', tag, dir]);
}

/** /app/node_modules by a real npm install, and what npm ls says of it. */
async function npmApp(app: string, work: string): Promise<NpmPackage[]> {
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'strata-app', version: '1.0.0', private: true })}\n`);
  const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_cache: join(work, 'npm-cache') };
  await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', ...NPM_PACKAGES], { cwd: app, env });
  return npmPackages(JSON.parse((await run('npm', ['ls', '--all', '--json', '--long'], { cwd: app, env, maxBuffer: BIG })).stdout), app);
}

/**
 * /app/.venv with the wheels installed by pip (strata_demo's __pycache__ then deleted: its RECORD
 * lists files the image lacks), what pip list says of it, and the Debian six as importlib.metadata
 * reads this machine's dist-packages (the image holds python3-six's files).
 */
async function pythonApp(app: string, work: string): Promise<Pick<Fixture, 'site' | 'pipList' | 'six'>> {
  try {
    await run('python3', ['-m', 'pip', '--version']);
  } catch {
    throw new Error('python3 -m pip: no pip: apt-get install python3-pip');
  }
  const wheels = join(work, 'wheels');
  mkdirSync(wheels);
  await run('python3', ['-c', MAKE_WHEELS, wheels]);
  const venv = join(app, '.venv');
  // --without-pip: no ensurepip, so no python3-venv needed; pip installs into it from outside (--python)
  await run('python3', ['-m', 'venv', '--without-pip', venv]);
  await run('python3', ['-m', 'pip', '--python', join(venv, 'bin/python'), 'install', '--no-index', '--no-deps', '--no-cache-dir', '--disable-pip-version-check', '-q', ...readdirSync(wheels).map((w) => join(wheels, w))]);
  const site = posix.join('.venv/lib', readdirSync(join(venv, 'lib'))[0], 'site-packages');
  rmSync(join(app, site, 'strata_demo/__pycache__'), { recursive: true });
  const pipList = JSON.parse((await run('python3', ['-m', 'pip', 'list', '--path', join(app, site), '--format', 'json', '--disable-pip-version-check'])).stdout) as { name: string; version: string }[];
  const six = JSON.parse((await run('python3', ['-c', 'import importlib.metadata as m, json; d = [d for d in m.distributions(path=["/usr/lib/python3/dist-packages"]) if d.metadata["Name"] == "six"][0]; print(json.dumps({"name": d.metadata["Name"], "version": d.version}))'])).stdout);
  return { site, pipList, six };
}

test.before(async () => {
  const work = tempDir('packages-images');
  started = startDockerd();
  try {
    mkdirSync(join(work, 'root'));
    const root = debianRoot(join(work, 'root'), { closure: ['dpkg', 'apt'], alone: ['python3-six'] });
    const debCtx = join(work, 'deb');
    mkdirSync(join(debCtx, 'debs'), { recursive: true });
    await Promise.all(Object.entries(DEBS).map(([file, spec]) => buildDeb(join(work, 'deb-trees'), join(debCtx, 'debs', file), spec)));
    const langCtx = join(work, 'lang');
    const app = join(langCtx, 'app');
    mkdirSync(app, { recursive: true });
    const [e, npmLs, python] = await Promise.all([started, npmApp(app, work), pythonApp(app, work)]);
    if (typeof e === 'string') throw new Error(`docker engine: ${e}`);
    await docker(e, ['import', root.tar, BASE]);
    const nodbCtx = join(work, 'nodb');
    mkdirSync(nodbCtx);
    await Promise.all([
      build(e, debCtx, DEB, DEB_DOCKERFILE).then(() => build(e, nodbCtx, NODB, `FROM ${DEB}\nRUN rm -rf /var/lib/dpkg\n`)),
      build(e, langCtx, LANG, `FROM ${BASE}\nCOPY app/ /app/\n`),
    ]);
    const archives: Record<string, string> = {};
    await Promise.all([DEB, NODB, LANG].map(async (tag) => {
      archives[tag] = join(work, `${tag.split('/')[1]}.tar`);
      await docker(e, ['save', '-o', archives[tag], tag]);
    }));
    fixture = { engine: e, archives, basePackages: root.packages, app, npmLs, ...python };
  } catch (err) {
    fixture = err instanceof Error ? err.message : String(err);
  }
});

test.after.always(async () => {
  const e = await started;
  if (e !== undefined && typeof e !== 'string') await stopDockerd(e);
});

function built(): Fixture {
  if (typeof fixture === 'string') throw new Error(`the images could not be built: ${fixture}`);
  return fixture;
}

// ---- what the tools say ----------------------------------------------------------------------

const memo = new Map<string, Promise<unknown>>();
function once<T>(key: string, f: () => Promise<T>): Promise<T> {
  if (!memo.has(key)) memo.set(key, f());
  return memo.get(key) as Promise<T>;
}

function inspectJson(image: string): Promise<InspectReport> {
  return once(`inspect ${image}`, async () => JSON.parse(await strata(['inspect', '--json', built().archives[image]])) as InspectReport);
}

async function strataJson(image: string): Promise<PackagesReport> {
  return once(`json ${image}`, async () => JSON.parse(await strata(['packages', '--json', built().archives[image]])) as PackagesReport);
}

async function strata(args: string[]): Promise<string> {
  const r = await runStrata(args, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`strata ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function inContainer(image: string, script: string, ...args: string[]): Promise<string> {
  return docker(built().engine, ['run', '--rm', '--network', 'none', image, 'sh', '-c', script, 'sh', ...args]);
}

interface DpkgRow {
  /** dpkg-query's db:Status-Abbrev: `ii`, `rc`… */
  state: string;
  name: string;
  version: string;
  arch: string;
  installedSize: string;
  source: string;
}

/** A state in which dpkg has the package's files on disk (db:Status-Abbrev's second letter), as strata's reader counts it. */
const onDisk = (d: DpkgRow) => 'iUFHWt'.includes(d.state[1]);

interface Listed {
  /** The paths that are there, directories resolved (`/bin/sh` is `/usr/bin/sh`). */
  files: Set<string>;
  /** Bytes as du -b counts them: regular files, a hardlink group once (symlinks 0). */
  bytes: number;
}

interface Dpkg {
  rows: DpkgRow[];
  listed: Map<string, Listed>;
}

/**
 * dpkg-query's rows, then a line per path `dpkg -L` lists for each package named: the path, and
 * where it is in the container (its directories resolved) with its inode, size and type, or
 * nothing when it is not there.
 */
const DPKG_SCRIPT = `dpkg-query -W -f '\${db:Status-Abbrev}\\t\${Package}\\t\${Version}\\t\${Architecture}\\t\${Installed-Size}\\t\${source:Package}\\n'
for p in "$@"; do
  dpkg -L "$p" | while IFS= read -r f; do
    case "$f" in /*) ;; *) continue ;; esac
    if [ -e "$f" ] || [ -L "$f" ]; then
      d=$(cd "$(dirname "$f")" && pwd -P)
      printf 'L\\t%s\\t%s\\t%s\\t%s\\n' "$p" "$f" "\${d%/}/\${f##*/}" "$(stat -c '%i %s %F' "$f")"
    else
      printf 'L\\t%s\\t%s\\t\\t\\n' "$p" "$f"
    fi
  done
done`;

/**
 * What dpkg says in the container (one run per image). A package's files are what `dpkg -L` lists
 * that is in the image, minus its directories: a directory in the container, or a symlink the
 * package lists paths below (merged /usr: the image links /bin to usr/bin, coreutils installed
 * /bin as a directory).
 */
function dpkgIn(image: string, packages: string[] = []): Promise<Dpkg> {
  return once(`dpkg ${image} ${packages.join(' ')}`, async () => {
    const out = await inContainer(image, DPKG_SCRIPT, ...packages);
    const rows: DpkgRow[] = [];
    const lines = new Map(packages.map((p) => [p, [] as string[][]]));
    for (const l of out.split('\n').filter(Boolean)) {
      const cells = l.split('\t');
      if (cells[0] === 'L') lines.get(cells[1])!.push(cells.slice(2));
      else rows.push({ state: cells[0].trim(), name: cells[1], version: cells[2], arch: cells[3], installedSize: cells[4], source: cells[5] });
    }
    const listed = new Map<string, Listed>();
    for (const [p, entries] of lines) {
      const dirs = new Set(entries.map(([f]) => f.slice(0, f.lastIndexOf('/'))));
      const files = new Set<string>();
      const inodes = new Set<string>();
      let bytes = 0;
      for (const [f, path, stat] of entries) {
        if (stat === '') continue; // not in the image
        const [inode, size, ...type] = stat.split(' ');
        const kind = type.join(' ');
        if (kind === 'directory' || (kind === 'symbolic link' && dirs.has(f)) || files.has(path)) continue;
        files.add(path);
        if (kind.startsWith('regular') && !inodes.has(inode)) {
          inodes.add(inode);
          bytes += Number(size);
        }
      }
      listed.set(p, { files, bytes });
    }
    return { rows, listed };
  });
}

/** The paths strata attributes to each deb package in the final view (the library: the CLI shows counts). */
async function strataFiles(image: string, packages: string[]): Promise<Map<string, Set<string>>> {
  const model = await readImage(await openImage(built().archives[image]));
  const p = analyzePackages(model);
  const u = model.union;
  const by = new Map(packages.map((name) => [name, new Set<string>()]));
  for (const v of u.visibleAt(model.layers.length - 1)) {
    if (u.kindOf(v) === Kind.dir) continue;
    const node = u.nodeOfVersion(v);
    const row = p.ownerOf(node);
    if (row?.ecosystem === 'deb') by.get(row.name)?.add(`/${u.nodePath[node]}`);
  }
  return by;
}

/** The packages whose files are compared: many paths through bin -> usr/bin, a Multi-Arch: same list, ours upgraded in place. */
const DEB_LISTED = ['coreutils', 'libc6', 'strata-hello'];

const debRows = (r: PackagesReport) => r.packages.filter((p) => p.ecosystem === 'deb');
const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const change = (c: PackageChange) => ({ name: c.name, from: c.from, to: c.to, direction: c.direction, bytes: c.bytes });

/** Which way dpkg orders a version change (the ones here are never equal). */
async function dpkgOrder(a: string, b: string): Promise<'upgrade' | 'downgrade'> {
  try {
    await run('dpkg', ['--compare-versions', a, 'lt', b]);
    return 'upgrade';
  } catch {
    return 'downgrade';
  }
}

// ---- 1. Debian -------------------------------------------------------------------------------

test('deb: the packages equal dpkg-query in the container (name, version, arch, Installed-Size × 1024, source); config-files packages are not listed', async (t) => {
  const [report, { rows: dpkg }] = await Promise.all([strataJson(DEB), dpkgIn(DEB, DEB_LISTED)]);
  const installed = dpkg.filter(onDisk);
  t.deepEqual(dpkg.filter((d) => !onDisk(d)).map((d) => `${d.state} ${d.name}`), ['rc strata-conf'], 'dpkg keeps the removed package as config-files');
  t.true(installed.every((d) => d.state === 'ii'));
  const want = installed.map((d) => ({ name: d.name, version: d.version, arch: d.arch, declaredSize: Number(d.installedSize) * 1024, source: d.source })).sort(byName);
  const got = debRows(report).map((r) => ({ name: r.name, version: r.version, arch: r.arch, declaredSize: r.declaredSize, source: r.source ?? r.name })).sort(byName);
  t.deepEqual(got, want);
  t.is(got.length, built().basePackages.length + 2);
  for (const r of debRows(report)) t.is(r.path, '/var/lib/dpkg/status');
  const hello = debRows(report).find((r) => r.name === 'strata-hello')!;
  const purl = PackageURL.fromString(hello.purl);
  t.deepEqual([purl.type, purl.namespace, purl.name, purl.version, { ...purl.qualifiers }], ['deb', 'debian', 'strata-hello', '1:0.5-1', { arch: 'all', distro: 'debian-12' }]);
  t.deepEqual(report.distro, { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' });
  t.deepEqual(report.warnings, []);
});

test('deb: the files of coreutils, libc6 and strata-hello are dpkg -L in the container (directories and absent files left out, paths through bin -> usr/bin resolved); bytes and counts as du', async (t) => {
  const [{ listed }, files, report] = await Promise.all([dpkgIn(DEB, DEB_LISTED), strataFiles(DEB, DEB_LISTED), strataJson(DEB)]);
  for (const name of DEB_LISTED) {
    const want = listed.get(name)!;
    t.deepEqual([...files.get(name)!].sort(), [...want.files].sort(), name);
    const row = debRows(report).find((r) => r.name === name)!;
    t.deepEqual({ bytes: row.bytes, files: row.files }, { bytes: want.bytes, files: want.files.size }, name);
  }
  t.true(listed.get('coreutils')!.files.has('/usr/bin/ls'), 'coreutils lists /bin/ls');
  t.true(listed.get('libc6')!.files.has('/usr/lib64/ld-linux-x86-64.so.2'), 'libc6 lists /lib64/ld-linux-x86-64.so.2');
  t.deepEqual([...listed.get('strata-hello')!.files].sort(), HELLO2_IN_IMAGE.files);
  t.is(listed.get('strata-hello')!.bytes, HELLO2_IN_IMAGE.bytes);
});

test('deb: each layer adds, removes and changes what its Dockerfile step did, with versions, direction and bytes; a package is in the layer that added it', async (t) => {
  const [report, { rows: dpkg }] = await Promise.all([strataJson(DEB), dpkgIn(DEB, DEB_LISTED)]);
  const L = report.layers;
  t.is(L.length, 5);
  t.deepEqual(L.map((l) => l.database), [true, false, true, true, true]);
  t.regex(L[1].createdBy ?? '', /COPY dir:\w+ in \/tmp\/debs\//);
  t.regex(L[2].createdBy ?? '', /dpkg -i \/tmp\/debs\/lib-1\.deb/);

  const mine = new Set(Object.values(DEBS).map((d) => d.name));
  const base = dpkg.filter((d) => onDisk(d) && !mine.has(d.name)).map((d) => ({ name: d.name, version: d.version })).sort(byName);
  t.deepEqual(L[0].added.filter((c) => c.ecosystem === 'deb').map((c) => ({ name: c.name, version: c.to })).sort(byName), base);
  t.deepEqual(L[0].added.filter((c) => c.ecosystem !== 'deb').map((c) => `${c.ecosystem} ${c.name} ${c.to}`), [`pypi six ${built().six.version}`]);
  t.deepEqual([L[0].removed, L[0].changed], [[], []]);

  const added = (s: DebSpec) => ({ name: s.name, from: null, to: s.version, direction: undefined, bytes: debBytes(s) });
  t.deepEqual(L[2].added.map(change).sort(byName), [CONF, HELLO1, LIB1, TOOL].map(added));
  t.deepEqual([L[2].removed, L[2].changed], [[], []]);

  const removed = (s: DebSpec) => ({ name: s.name, from: s.version, to: null, direction: undefined, bytes: debBytes(s) });
  t.deepEqual(L[3].removed.map(change).sort(byName), [CONF, TOOL].map(removed));
  t.deepEqual([L[3].added, L[3].changed], [[], []]);

  // the direction dpkg itself gives: 1.0-1 -> 1:0.5-1 up (the epoch), 1.0-1 -> 1.0~rc1-1 down (the tilde)
  const changed = async (from: DebSpec, to: DebSpec, bytes: number) => ({ name: to.name, from: from.version, to: to.version, direction: await dpkgOrder(from.version, to.version), bytes });
  t.deepEqual(L[4].changed.map(change).sort(byName), [await changed(HELLO1, HELLO2, HELLO2_IN_IMAGE.bytes), await changed(LIB1, LIB0, debBytes(LIB0))]);
  t.deepEqual(L[4].changed.map((c) => c.direction).sort(), ['downgrade', 'upgrade']);
  t.deepEqual([L[4].added, L[4].removed], [[], []]);

  for (const r of debRows(report)) t.is(r.layer, mine.has(r.name) ? 2 : 0, r.name);
  const row = (name: string) => report.packages.find((p) => p.name === name)!;
  t.deepEqual([row('strata-hello').layer, row('strata-hello').changedLayer, row('strata-hello').createdBy], [2, 4, L[2].createdBy]);
  t.deepEqual([row('strata-lib').layer, row('strata-lib').changedLayer], [2, 4]);
  t.deepEqual([row('coreutils').layer, row('coreutils').changedLayer], [0, 0]);
  t.deepEqual([row('strata-hello').bytes, row('strata-hello').files, row('strata-hello').declaredSize], [HELLO2_IN_IMAGE.bytes, 2, installedSize(HELLO2) * 1024]);
  // the conffile dpkg --remove kept belongs to no listed package
  t.deepEqual(report.unowned.dirs.find((d) => d.path === '/etc/strata-conf'), { path: '/etc/strata-conf', bytes: Buffer.byteLength(CONF.files['etc/strata-conf/strata.conf'] as string), files: 1 });
});

test('deb: package bytes and unowned bytes add up to inspect\'s finalSize', async (t) => {
  const [report, inspect] = await Promise.all([strataJson(DEB), inspectJson(DEB)]);
  const owned = report.packages.reduce((s, p) => s + p.bytes, 0);
  t.is(owned + report.unowned.bytes, inspect.summary.finalSize);
  t.is(report.finalSize, inspect.summary.finalSize);
  t.is(report.unowned.dirs.reduce((s, d) => s + d.bytes, 0), report.unowned.bytes);
  t.true(owned > 0.9 * inspect.summary.finalSize, `${owned} of ${inspect.summary.finalSize}`);
});

// ---- 2. npm ----------------------------------------------------------------------------------

test('npm: the packages equal npm ls --all (names, versions, licenses, one per directory, nested ones too); bytes are the directory minus nested node_modules', async (t) => {
  const f = built();
  const report = await strataJson(LANG);
  const got = report.packages.filter((p) => p.ecosystem === 'npm').map((p) => ({ name: p.name, version: p.version, license: p.license, dir: p.path.replace(/^\/app\/|\/package\.json$/g, '') }));
  const sort = (a: NpmPackage, b: NpmPackage) => (a.dir < b.dir ? -1 : 1);
  t.deepEqual(got.sort(sort), [...f.npmLs].sort(sort));
  t.is(got.length, 7);
  t.deepEqual(got.filter((p) => p.dir.includes('/node_modules/')).map((p) => `${p.dir} ${p.version}`).sort(), ['node_modules/debug/node_modules/ms 2.0.0', 'node_modules/is-odd/node_modules/is-number 6.0.0']);
  for (const p of report.packages.filter((r) => r.ecosystem === 'npm')) {
    const dir = join(f.app, p.path.slice('/app/'.length, -'/package.json'.length));
    t.deepEqual({ bytes: p.bytes, files: p.files }, treeBytes(dir), p.path);
  }
  const scoped = report.packages.find((p) => p.name === '@isaacs/string-locale-compare')!;
  t.is(scoped.purl, 'pkg:npm/%40isaacs/string-locale-compare@1.1.0');
});

// ---- 3. Python -------------------------------------------------------------------------------

test('pypi: the venv\'s distributions equal pip list --path; bytes are the sizes of the RECORD files present; the Debian six is python3-six\'s', async (t) => {
  const f = built();
  const report = await strataJson(LANG);
  const venv = report.packages.filter((p) => p.ecosystem === 'pypi' && p.path.startsWith(`/app/${f.site}/`));
  t.deepEqual(venv.map((p) => ({ name: p.name, version: p.version })).sort(byName), [...f.pipList].sort(byName));
  t.is(venv.length, 2);
  for (const d of recordTotals(join(f.app, f.site), f.pipList)) {
    const row = venv.find((p) => p.name === d.name)!;
    t.deepEqual({ bytes: row.bytes, files: row.files, installedBy: row.installedBy }, { bytes: d.bytes, files: d.files, installedBy: null }, d.name);
  }
  t.is(venv.find((p) => p.name === 'strata-demo')!.license, 'MIT');
  t.is(venv.find((p) => p.name === 'Strata.Extra')!.purl, 'pkg:pypi/strata-extra@0.1.0');

  // the Debian-packaged module: listed as importlib.metadata reads it, installed by (and counted under) python3-six
  const six = report.packages.find((p) => p.ecosystem === 'pypi' && p.path.startsWith('/usr/lib/python3/dist-packages/'))!;
  t.deepEqual({ name: six.name, version: six.version }, f.six);
  const deb = report.packages.find((p) => p.ecosystem === 'deb' && p.name === 'python3-six')!;
  t.is(six.installedBy, deb.purl);
  t.is(six.bytes, 0);
  const listed = (await dpkgIn(LANG, ['python3-six'])).listed.get('python3-six')!;
  t.true(listed.files.has('/usr/lib/python3/dist-packages/six.py'));
  t.deepEqual({ bytes: deb.bytes, files: deb.files }, { bytes: listed.bytes, files: listed.files.size });
});

// ---- 4. SBOMs --------------------------------------------------------------------------------

test('sbom: CycloneDX and SPDX list the packages and purls of --json, with their bytes', async (t) => {
  const image = built().archives[DEB];
  const [report, cdxText, spdxText] = await Promise.all([strataJson(DEB), strata(['packages', '--format', 'cyclonedx', image]), strata(['packages', '--format', 'spdx', image])]);
  const want = report.packages.map((p) => `${p.name} ${p.version} ${p.purl} ${p.bytes}`).sort();
  t.true(report.packages.some((p) => p.ecosystem === 'pypi'), 'six, besides the debs');

  const cdx = JSON.parse(cdxText) as { components: { type: string; name: string; version: string; purl?: string; properties?: { name: string; value: string }[] }[] };
  const libs = cdx.components.filter((c) => c.type === 'library');
  t.deepEqual(libs.map((c) => `${c.name} ${c.version} ${c.purl} ${c.properties?.find((p) => p.name === 'strata:bytes')?.value}`).sort(), want);
  t.deepEqual(cdx.components.filter((c) => c.type === 'operating-system').map((c) => `${c.name} ${c.version}`), ['debian 12']);

  interface SpdxPackage { SPDXID: string; name: string; versionInfo?: string; primaryPackagePurpose: string; externalRefs?: { referenceType: string; referenceLocator: string }[]; annotations?: { comment: string }[] }
  const spdx = JSON.parse(spdxText) as { packages: SpdxPackage[]; relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[] };
  const purlOf = (p: SpdxPackage) => p.externalRefs?.find((r) => r.referenceType === 'purl')?.referenceLocator;
  const spdxLibs = spdx.packages.filter((p) => p.primaryPackagePurpose === 'LIBRARY');
  t.deepEqual(spdxLibs.map((p) => `${p.name} ${p.versionInfo} ${purlOf(p)} ${p.annotations?.find((a) => a.comment.startsWith('strata:bytes='))?.comment.slice('strata:bytes='.length)}`).sort(), want);
  // python3-six CONTAINS the six it installed
  const id = (purl: string) => spdxLibs.find((p) => purlOf(p) === purl)!.SPDXID;
  const six = report.packages.find((p) => p.ecosystem === 'pypi')!;
  t.true(spdx.relationships.some((r) => r.relationshipType === 'CONTAINS' && r.spdxElementId === id(six.installedBy!) && r.relatedSpdxElement === id(six.purl)));
});

// ---- 5. inspect and CSV ----------------------------------------------------------------------

test('inspect shows the Packages section of the Debian image; its JSON summary agrees with strata packages', async (t) => {
  const [report, text, json] = await Promise.all([strataJson(DEB), strata(['inspect', built().archives[DEB]]), inspectJson(DEB)]);
  const deb = report.totals.find((x) => x.ecosystem === 'deb')!;
  t.regex(text, new RegExp(`\\nPackages \\(${report.packages.length}: deb ${deb.packages} \\(`));
  for (const p of report.packages.slice(0, 5)) t.regex(text, new RegExp(`\\n  deb +${literal(p.name)} +${literal(p.version)} +layer ${p.layer} `));
  t.regex(text, /\n {2,}no package +\S/);
  const summary = json.packages!;
  t.deepEqual(summary.list, report.packages.map(({ ecosystem, name, version, layer, bytes, files }) => ({ ecosystem, name, version, layer, bytes, files })));
  t.deepEqual([summary.count, summary.totals, summary.unownedBytes, summary.unownedFiles, summary.warnings], [report.packages.length, report.totals, report.unowned.bytes, report.unowned.files, report.warnings]);
});

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** RFC 4180, as strata writes it (CRLF lines, quotes doubled), with its spreadsheet guard undone: `'` before `= + - @`. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      (row = []), (cell = ''), i++;
    } else cell += c;
  }
  if (row.length > 0 || cell !== '') throw new Error('the CSV does not end with CRLF');
  return rows.map((r) => r.map((v) => (/^'[=+\-@]/.test(v) ? v.slice(1) : v)));
}

for (const image of [DEB, LANG]) {
  test(`csv of ${image.split('/')[1]}: parses back to the JSON's rows, then the unowned directories`, async (t) => {
    const [report, csv] = await Promise.all([strataJson(image), strata(['packages', '--csv', built().archives[image]])]);
    const [head, ...rows] = parseCsv(csv);
    t.deepEqual(head, ['ecosystem', 'name', 'version', 'arch', 'layer', 'changed_layer', 'bytes', 'files', 'declared_size', 'purl', 'path', 'installed_by']);
    const cell = (v: string | number | null) => (v === null ? '' : String(v));
    const want = [
      ...report.packages.map((p) => [p.ecosystem, p.name, p.version, p.arch, p.layer, p.changedLayer, p.bytes, p.files, p.declaredSize, p.purl, p.path, p.installedBy].map(cell)),
      ...report.unowned.dirs.map((d) => ['', d.path, '', '', '', '', String(d.bytes), String(d.files), '', '', d.path, '']),
    ];
    t.deepEqual(rows, want);
    t.true(rows.length > report.packages.length);
  });
}

// ---- 6. the database whited out --------------------------------------------------------------

test('rm -rf /var/lib/dpkg: the final view lists no deb package, and that layer removes every one', async (t) => {
  const [before, after] = await Promise.all([strataJson(DEB), strataJson(NODB)]);
  t.deepEqual(debRows(after), []);
  const last = after.layers[after.layers.length - 1];
  t.regex(last.createdBy ?? '', /rm -rf \/var\/lib\/dpkg/);
  t.true(last.database);
  t.deepEqual(last.removed.map((c) => `${c.ecosystem} ${c.name} ${c.from}`).sort(), debRows(before).map((p) => `deb ${p.name} ${p.version}`).sort());
  t.deepEqual(last.removed.map((c) => c.bytes).sort(), debRows(before).map((p) => p.bytes).sort());
  t.deepEqual([last.added, last.changed], [[], []]);
  // six's metadata is still there, now no deb's: listed on its own
  t.deepEqual(after.packages.map((p) => `${p.ecosystem} ${p.name} ${p.installedBy}`), ['pypi six null']);
  t.is(after.packages.reduce((s, p) => s + p.bytes, 0) + after.unowned.bytes, after.finalSize);
  t.deepEqual(after.layers.slice(0, -1), before.layers);
});
