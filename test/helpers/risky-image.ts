/**
 * An image with secrets and risky files (#19): a key added then deleted, tokens in .npmrc, .env, a
 * Docker login and source code, a shell history, a setuid binary (and one in the base), a
 * capability xattr, a 0777 directory and a sticky one. The secret values are generated per run, so
 * no credential-shaped string sits in the repository; SECRETS lists them for tests to look for.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeOciArchive } from './image-builder.js';
import { dir, file, whiteout, type Entry } from './tar-writer.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const pick = (alphabet: string, n: number) => [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');

const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
export const keyBody = key.split('\n')[1];
const npmToken = `npm_${pick(ALNUM, 36)}`;
const envToken = pick(ALNUM, 24);
const awsId = `AKIA${pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
const awsSecret = pick(`${ALNUM}+/`, 40);
const dockerAuth = Buffer.from(`robot:${pick(ALNUM, 20)}`).toString('base64');
const bigToken = `ghp_${pick(ALNUM, 36)}`;
export const SECRETS = [keyBody, npmToken, envToken, awsId, awsSecret, dockerAuth, bigToken];

/** vfs_cap_data revision 2, effective, permitted = cap_net_raw (13). */
const netRaw = Buffer.alloc(20);
netRaw.writeUInt32LE(0x02000001, 0);
netRaw.writeUInt32LE(1 << 13, 4);

const layers: { createdBy: string; entries: Entry[] }[] = [
  {
    createdBy: '/bin/sh -c #(nop) ADD file:base in /',
    entries: [dir('bin'), file('bin/sh', 'shell', { mode: 0o4755 }), dir('etc'), file('etc/passwd', 'root:x:0:0::/root:/bin/sh\n'), dir('tmp', { mode: 0o1777 })],
  },
  {
    createdBy: '/bin/sh -c #(nop) COPY dir:ctx in /',
    entries: [
      dir('root'), dir('root/.ssh', { mode: 0o700 }), file('root/.ssh/id_rsa', key, { mode: 0o600 }),
      file('root/.npmrc', `registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=${npmToken}\n`),
      dir('app'), file('app/.env', `DEBUG=1\nAPI_TOKEN=${envToken}\n`), file('app/.env.example', 'API_TOKEN=changeme\n'),
      file('app/settings.env', 'PASSWORD=${DB_PASSWORD}\n'),
    ],
  },
  {
    createdBy: '/bin/sh -c rm /root/.ssh/id_rsa && install helpers',
    entries: [
      whiteout('root/.ssh/id_rsa'),
      dir('usr'), dir('usr/local'), dir('usr/local/bin'), file('usr/local/bin/helper', 'ELF', { mode: 0o4755 }),
      dir('usr/bin'), file('usr/bin/pinger', 'ELF', { mode: 0o755, pax: { 'SCHILY.xattr.security.capability': netRaw } }),
      dir('data', { mode: 0o777 }), dir('shared', { mode: 0o1777 }),
      file('root/.bash_history', 'ls\ncd /app\n'),
    ],
  },
  {
    createdBy: '/bin/sh -c #(nop) COPY dir:app in /app',
    entries: [
      dir('root/.docker'), file('root/.docker/config.json', JSON.stringify({ auths: { 'registry.example.com': { auth: dockerAuth } } })),
      file('app/config.js', `// deploy\nconst id = "${awsId}";\nconst creds = { aws_secret_access_key: "${awsSecret}" };\nconst doc = "AKIAIOSFODNN7EXAMPLE";\n`),
      file('app/big.txt', `${'x'.repeat(70 * 1024)}\ntoken=${bigToken}\n`),
    ],
  },
];

const history = [
  { created_by: layers[0].createdBy },
  { created_by: '/bin/sh -c #(nop) CMD ["sh"]', empty_layer: true },
  ...layers.slice(1).map((l) => ({ created_by: l.createdBy })),
];


/** Writes the image as an OCI archive at `path`. */
export async function writeRiskyImage(path: string): Promise<void> {
  await writeOciArchive(path, { images: [{ layers: layers.map((l) => ({ entries: l.entries })), history }] });
}
