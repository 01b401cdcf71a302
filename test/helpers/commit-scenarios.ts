/**
 * Commit-built images, the input of `strata dockerfile`: a container from a Debian base in which
 * things are done by hand (`docker exec`), then `docker commit` and `docker save`, on the tests'
 * real dockerd (helpers/dockerd.ts).
 *
 * - seed: apt-get install of jq (libjq1 and libonig5 come as automatic dependencies, apt's lists and
 *         archives stay), an app in /app, a temp file, a log, a shell history.
 * - rich: a user and files chowned to it, a setuid copy, a symlink, a deleted base file, pip install
 *         of a local wheel (gone afterwards), npm install of real packages, an AWS credentials file
 *         and a token in ENV.
 *
 * Two bases, each a Debian root of this machine's own packages (helpers/debian-root.ts): nodejs
 * alone is 190 MB installed and vfs copies the whole root for every layer and container, so the
 * seed's base has only apt (about 120 MB), the rich one's nodejs and python3-pip too (about 365 MB).
 * Containers run with `--network host` (the engine has no bridge): apt reaches Debian's archive and
 * npm the registry as this machine does, through the files NETWORK_FILES copies into the bases.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { debianRoot } from './debian-root.js';
import type { Engine } from './dockerd.js';

const run = promisify(execFile);
const BIG = 1 << 28;

export interface Scenario {
  /** Tag of the base image it was made from (one layer, `docker import`). */
  base: string;
  tag: string;
  /** Its `docker save` tar. */
  archive: string;
  /** What `docker run --rm --network none TAG` prints. */
  runOutput: string;
  /** Absolute paths the scenario made that must be left out: temp, log, history, cache, secret. */
  leftOut: string[];
  facts: Record<string, string>;
}

export interface CommitScenarios {
  seed: Scenario;
  rich: Scenario;
}

/** The docker CLI against the engine (legacy builder: the CLI has no buildx); its stdout. */
export async function dockerRun(engine: Engine, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('docker', ['-H', `unix://${engine.socket}`, ...args], { env: { ...process.env, DOCKER_BUILDKIT: '0' }, maxBuffer: BIG });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    // the command line may hold a whole script: name the command, then what docker said last
    throw new Error(`docker ${args.slice(0, 3).join(' ')}…: ${(e.stderr ?? e.message).trim().split('\n').slice(-15).join('\n')}`);
  }
}

/** What the image prints when run as the tests run every image: no network. */
export function runImage(engine: Engine, tag: string): Promise<string> {
  return dockerRun(engine, ['run', '--rm', '--network', 'none', tag]);
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * This machine's files that let a container reach Debian's archive and the npm registry: the apt
 * sources and its 99* settings (snapshot dates), and the CA bundle (npm goes through a TLS proxy
 * whose CA is in it; the bundle is generated, no package lists it). Parent directories first.
 */
function networkFiles(): string[] {
  const sources = readdirSync('/etc/apt/sources.list.d').filter((f) => /\.(list|sources)$/.test(f)).map((f) => `etc/apt/sources.list.d/${f}`);
  const conf = readdirSync('/etc/apt/apt.conf.d').filter((f) => f.startsWith('99')).map((f) => `etc/apt/apt.conf.d/${f}`);
  return ['etc/apt', 'etc/apt/sources.list.d', ...sources, 'etc/apt/apt.conf.d', ...conf, 'etc/ssl', 'etc/ssl/certs', CA_BUNDLE.slice(1)];
}

/**
 * Directories the tar has files in but no entry for (debianRoot's usr/lib64: no package lists it,
 * only /lib64 -> usr/lib64): the engine makes them mode 0600 and every user but root then fails to
 * run anything (apt's _apt cannot exec apt-key). Parents first.
 */
function missingParents(has: Set<string>): string[] {
  const missing = new Set<string>();
  for (const p of has) for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) if (!has.has(p.slice(0, i))) missing.add(p.slice(0, i));
  return [...missing].sort();
}

/** Every entry below a root-relative directory of this machine, the directory first. */
function treeOf(top: string): string[] {
  return [top, ...readdirSync(`/${top}`, { recursive: true }).map((p) => `${top}/${p}`)];
}

/**
 * A Debian root with `closure`, the network files and `trees` (directories taken whole from this
 * machine, as they are on disk rather than as dpkg lists them), imported as `tag`.
 */
async function importBase(engine: Engine, dir: string, tag: string, closure: string[], trees: string[] = []): Promise<void> {
  mkdirSync(dir);
  const root = debianRoot(dir, { closure, alone: [] });
  // appended to debianRoot's tar (a second layer would cost vfs another copy of the whole root),
  // those it lacks: the engine refuses a layer naming a path twice
  const has = new Set((await run('tar', ['-tf', root.tar], { maxBuffer: BIG })).stdout.split('\n').filter(Boolean).map((p) => p.replace(/\/$/, '')));
  const list = join(dir, 'extra');
  writeFileSync(list, [...missingParents(has), ...networkFiles(), ...trees.flatMap(treeOf)].filter((p) => !has.has(p)).map((p) => `${p}\n`).join(''));
  await run('tar', ['-C', '/', '--no-recursion', '--numeric-owner', '-rf', root.tar, '--verbatim-files-from', '-T', list]);
  await dockerRun(engine, [
    'import', '--change', 'CMD ["bash"]', '--change', `ENV PATH=${PATH}`, '--change', `ENV NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`, root.tar, tag,
  ]);
}

interface Steps {
  name: string;
  base: string;
  /** bash, run with -euo pipefail by `docker exec` after the copies. */
  script: string;
  /** Host path -> container path, by `docker cp` before the script. */
  copies?: [string, string][];
  /** Asked of the container after the script: fact name -> shell command printing it. */
  ask?: Record<string, string>;
  /** `docker commit --change` lines. */
  changes: string[];
}

/** Run the steps in a live container (history says `sleep infinity`, as a `docker run -it … bash` says bash), commit and save it. */
async function commitBuilt(engine: Engine, work: string, s: Steps): Promise<Omit<Scenario, 'leftOut'>> {
  const container = `strata-commit-${s.name}`;
  const tag = `strata-tests/commit-${s.name}`;
  await dockerRun(engine, ['run', '-d', '--network', 'host', '--name', container, s.base, 'sleep', 'infinity']);
  const facts: Record<string, string> = {};
  try {
    for (const [from, to] of s.copies ?? []) await dockerRun(engine, ['cp', from, `${container}:${to}`]);
    await dockerRun(engine, ['exec', container, 'bash', '-euo', 'pipefail', '-c', s.script]);
    for (const [name, command] of Object.entries(s.ask ?? {})) facts[name] = (await dockerRun(engine, ['exec', container, 'bash', '-euo', 'pipefail', '-c', command])).trim();
    await dockerRun(engine, ['commit', ...s.changes.flatMap((c) => ['--change', c]), container, tag]);
  } finally {
    await dockerRun(engine, ['rm', '-f', container]);
  }
  const archive = join(work, `${s.name}.tar`);
  await dockerRun(engine, ['save', '-o', archive, tag]);
  return { base: s.base, tag, archive, runOutput: await runImage(engine, tag), facts };
}

const SEED_RUN = `#!/bin/sh
set -e
echo '{"a":[1,2,3]}' | jq -c .a
jq --version
cat /app/data.txt
`;

const SEED_SCRIPT = `
apt-get update -q
apt-get install -y -q --no-install-recommends jq
mkdir /app
printf 'strata seed data\\n' > /app/data.txt
cat > /app/run.sh <<'EOF'
${SEED_RUN}EOF
chmod 755 /app/run.sh
head -c 300000 /dev/urandom > /tmp/scratch.bin
printf 'setup: jq installed\\nsetup: /app written\\n' > /var/log/app-setup.log
printf 'apt-get update\\napt-get install -y jq\\nvi /app/run.sh\\n' > /root/.bash_history
`;

/** The lines rich's CMD prints (through the symlink), one variant each. */
const RICH_RUN = `#!/bin/sh
set -e
echo "owner $(stat -c '%u:%g %U' /srv/data/report.txt)"
echo "private $(stat -c '%a %u:%g' /srv/data/private)"
echo "setuid $(stat -c '%a' /usr/local/bin/suid-true)"
echo "link $(readlink /usr/local/bin/run)"
if [ -e /etc/issue.net ]; then echo 'issue.net present'; else echo 'issue.net gone'; fi
python3 -c 'import strata_commit; print("wheel", strata_commit.VERSION)'
node -e 'console.log("left-pad", JSON.stringify(require("/app/web/node_modules/left-pad")("x", 3)))'
node -e 'console.log("is-number", require("/app/web/node_modules/is-number")(5))'
`;

const WHEEL = 'strata_commit-0.4.2-py3-none-any.whl';

/** A wheel made with zipfile (no setuptools): one module and its RECORD. */
const MAKE_WHEEL = `
import base64, hashlib, sys, zipfile
info = 'strata_commit-0.4.2.dist-info'
files = {
    'strata_commit/__init__.py': 'VERSION = "0.4.2"\\n',
    f'{info}/METADATA': 'Metadata-Version: 2.1\\nName: strata-commit\\nVersion: 0.4.2\\nLicense: MIT\\n',
    f'{info}/WHEEL': 'Wheel-Version: 1.0\\nGenerator: strata-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n',
}
record = [f'{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(t.encode()).digest()).rstrip(b"=").decode()},{len(t.encode())}' for p, t in files.items()]
files[f'{info}/RECORD'] = '\\n'.join(record + [f'{info}/RECORD,,']) + '\\n'
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for p, t in files.items():
        z.writestr(p, t)
`;

/** Fake, in the shapes strata's rules catch (src/scan/secret-scan.ts): an access key id, a 40-character secret key, a token. */
const AWS_KEY_ID = 'AKIASTRATATESTFAKE01';
const AWS_SECRET = 'strataTestOnly/notARealSecretKey+0123456';
const API_TOKEN = 'strata-test-token-5f3c9a71';

const RICH_SCRIPT = `
useradd -u 1001 appuser
mkdir -p /srv/data/private /usr/local/bin /app/web
printf 'report\\n' > /srv/data/report.txt
printf 'private notes\\n' > /srv/data/private/notes.txt
chown -R 1001:1001 /srv/data
chmod 0750 /srv/data/private
cp /usr/bin/true /usr/local/bin/suid-true
chmod 4755 /usr/local/bin/suid-true
cat > /app/run.sh <<'EOF'
${RICH_RUN}EOF
chmod 755 /app/run.sh
ln -s /app/run.sh /usr/local/bin/run
rm /etc/issue.net
pip install -q --break-system-packages --no-index --disable-pip-version-check /tmp/${WHEEL}
rm /tmp/${WHEEL}
cd /app/web
npm init -y > /dev/null
npm install --no-audit --no-fund --no-update-notifier is-number@7.0.0 left-pad@1.3.0
`;

/** Both scenarios' images, built in `work` (kept there: the archives). */
export async function buildCommitScenarios(engine: Engine, work: string): Promise<CommitScenarios> {
  const wheel = join(work, WHEEL);
  const aws = join(work, 'aws');
  mkdirSync(aws, { mode: 0o700 });
  writeFileSync(join(aws, 'credentials'), `[default]\naws_access_key_id = ${AWS_KEY_ID}\naws_secret_access_key = ${AWS_SECRET}\n`, { mode: 0o600 });
  const aptBase = 'strata-tests/debian-apt:12';
  const richBase = 'strata-tests/debian-node-pip:12';
  await Promise.all([
    run('python3', ['-c', MAKE_WHEEL, wheel]),
    importBase(engine, join(work, 'apt-root'), aptBase, ['dpkg', 'apt']),
    // this machine's npm was upgraded in place (npm install -g): its files are not the ones dpkg lists
    importBase(engine, join(work, 'rich-root'), richBase, ['dpkg', 'apt', 'nodejs', 'python3-pip'], ['usr/lib/node_modules/npm']),
  ]);

  const [seed, rich] = await Promise.all([
    commitBuilt(engine, work, {
      name: 'seed', base: aptBase, script: SEED_SCRIPT, changes: ['CMD ["/app/run.sh"]'],
      ask: {
        jq: "dpkg-query -W -f '${Version}' jq",
        libjq1: "dpkg-query -W -f '${Version}' libjq1",
        libonig5: "dpkg-query -W -f '${Version}' libonig5",
        auto: 'apt-mark showauto | sort | paste -sd " "',
        aptList: 'ls /var/lib/apt/lists/*_InRelease | head -1',
        aptArchive: 'ls /var/cache/apt/archives/jq_*.deb',
      },
    }),
    commitBuilt(engine, work, {
      name: 'rich', base: richBase, script: RICH_SCRIPT, changes: ['CMD ["/usr/local/bin/run"]', `ENV API_TOKEN=${API_TOKEN}`],
      copies: [[wheel, `/tmp/${WHEEL}`], [aws, '/root/.aws']],
      ask: {
        wheelDir: 'python3 -c "import os, strata_commit; print(os.path.dirname(strata_commit.__file__))"',
        isNumber: "node -p 'require(\"/app/web/node_modules/is-number/package.json\").version'",
        leftPad: "node -p 'require(\"/app/web/node_modules/left-pad/package.json\").version'",
      },
    }),
  ]);
  return {
    seed: {
      ...seed,
      leftOut: ['/tmp/scratch.bin', '/var/log/app-setup.log', '/root/.bash_history', '/var/log/dpkg.log', '/var/log/apt/history.log', seed.facts.aptList, '/var/cache/apt/pkgcache.bin', seed.facts.aptArchive],
    },
    rich: {
      ...rich,
      leftOut: ['/root/.aws/credentials', '/root/.npm/_cacache'],
      facts: {
        ...rich.facts, uid: '1001', user: 'appuser', wheel: 'strata-commit 0.4.2', setuid: '/usr/local/bin/suid-true', symlink: '/usr/local/bin/run -> /app/run.sh', deleted: '/etc/issue.net',
        secretPath: '/root/.aws/credentials', awsKeyId: AWS_KEY_ID, secretEnv: 'API_TOKEN',
      },
    },
  };
}
