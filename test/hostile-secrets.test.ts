/**
 * Secrets printed (issue 29, class 9): a value strata's rules recognise, wherever it stands in the
 * config (Env, a label, a history line, a healthcheck, an annotation) or in a file a content diff
 * shows, appears in no output of any command and in no cache file; the image optimize writes keeps
 * the config as it was (masking is for people and caches, not for images).
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeOciArchive, tempDir, writeDockerArchive } from './helpers/image-builder.js';
import { dir, file } from './helpers/tar-writer.js';
import { succeeds, assertNoSecretsInTree } from './helpers/hostile.js';
import { openImage } from '../src/sources/resolve.js';

const pick = (n: number) => [...randomBytes(n)].map((b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[b % 62]).join('');

const { dir: work, cleanup } = tempDir();
test.after.always(cleanup);

const aws = pick(40);
const gh = `ghp_${pick(36)}`;
const glab = `glpat-${pick(20)}`;
const npm = `npm_${pick(36)}`;
const inFile = `ghp_${pick(36)}`;
const secrets = [aws, gh, glab, npm, inFile];

const base = join(work, 'base.tar');
const leaky = join(work, 'leaky.oci.tar');
const cache = join(work, 'cache');
const out = join(work, 'out');
const env = { STRATA_NO_CACHE: '', STRATA_CACHE_DIR: cache };

test.before(async () => {
  await writeDockerArchive(base, { images: [{ tags: ['base:1'], layers: [{ entries: [dir('app'), file('app/.env', 'API_TOKEN=changeme-later\n'), file('app/run.sh', 'echo hi\n')] }] }] });
  await writeOciArchive(leaky, {
    images: [{
      tags: ['leaky:1'],
      layers: [
        { entries: [dir('app'), file('app/.env', `API_TOKEN=${inFile}\n`), file('app/run.sh', 'echo hi\n')] },
        { entries: [file('app/x', 'x')] },
      ],
      history: [
        { created_by: `/bin/sh -c printf 'AWS_SECRET_ACCESS_KEY=${aws}\\n' > /app/.env` },
        { created_by: `/bin/sh -c make && echo ${gh}` },
      ],
      config: {
        author: `ops ${glab}`,
        config: {
          Labels: { 'org.example.deploy': `token ${npm}`, AWS_SECRET_ACCESS_KEY: aws },
          Healthcheck: { Test: ['CMD', 'curl', '-H', `Authorization: token ${gh}`, 'http://localhost/'] },
          Env: ['PATH=/usr/bin'],
        },
      },
    }],
  });
});

test('every output of every command and every cache file are free of the secret values', async (t) => {
  const runs: [string, string[]][] = [
    ['inspect', ['inspect', leaky]],
    ['inspect json', ['inspect', '--json', leaky]],
    ['inspect html', ['inspect', leaky, '--html', join(out, 'inspect.html')]],
    ['diff', ['diff', base, leaky]],
    ['diff json', ['diff', base, leaky, '--json']],
    ['diff markdown', ['diff', base, leaky, '--markdown']],
    ['diff content', ['diff', base, leaky, '--content']],
    ['diff content json', ['diff', base, leaky, '--content', '--json']],
    ['diff html', ['diff', base, leaky, '--html', join(out, 'diff.html')]],
    ['ci', ['ci', leaky, '--forbid-secrets', '--format', 'text', '--format', 'sarif', '--format', 'junit', '--format', 'markdown', '--format', 'json',
      '--output', '-', '--output', join(out, 'ci.sarif'), '--output', join(out, 'ci.xml'), '--output', join(out, 'ci.md'), '--output', join(out, 'ci.json')]],
    ['ci baseline', ['ci', leaky, '--save-baseline', join(out, 'baseline.json')]],
    ['audit', ['audit', leaky, base]],
    ['audit json', ['audit', leaky, base, '--json']],
    ['audit html', ['audit', leaky, base, '--html', join(out, 'audit.html')]],
  ];
  const { mkdirSync } = await import('node:fs');
  mkdirSync(out, { recursive: true });
  for (const [name, args] of runs) {
    // ci with forbid-secrets fails the gate (1); everything else succeeds
    const r = await succeeds(t, args, { env, secrets, code: name === 'ci' ? 1 : 0, ms: 60_000 });
    t.true(r.stdout.length > 0 || name.endsWith('html') || name === 'ci baseline', name);
  }
  t.true(readdirSync(out).length >= 7);
  assertNoSecretsInTree(t, out, secrets);
  assertNoSecretsInTree(t, cache, secrets);
});

test('the config secrets are found before masking: inspect --json lists each, masked by one fingerprint', async (t) => {
  const r = await succeeds(t, ['inspect', '--json', leaky], { secrets });
  const report = JSON.parse(r.stdout) as { risks: { config: { field: string; rule: string }[] }; image: { config: { labels: Record<string, string> } } };
  const fields = report.risks.config.map((c) => `${c.field} ${c.rule}`);
  t.true(fields.includes('LABEL AWS_SECRET_ACCESS_KEY aws-secret-access-key'), fields.join('; '));
  t.true(fields.includes('LABEL org.example.deploy npm-token'), fields.join('; '));
  t.true(fields.some((f) => f.startsWith('history 0: ') && f.endsWith('aws-secret-access-key')), fields.join('; '));
  t.true(fields.some((f) => f.startsWith('history 1: ') && f.endsWith('github-token')), fields.join('; '));
  t.true(fields.includes('author gitlab-token'), fields.join('; '));
  t.true(fields.some((f) => f.startsWith('config.Healthcheck.Test[3]') && f.endsWith('github-token')), fields.join('; '));
  t.regex(report.image.config.labels.AWS_SECRET_ACCESS_KEY, /^‹secret sha256:[0-9a-f]{12}›$/);
});

test('the image keeps its raw config for writers: optimize writes the config as it was', async (t) => {
  const image = await openImage(leaky);
  t.false(JSON.stringify(image.config).includes(gh));
  t.true(JSON.stringify(image.rawConfig).includes(gh));
  const target = join(work, 'optimized.tar');
  await succeeds(t, ['optimize', leaky, '-o', target], { secrets: secrets.filter((s) => s !== inFile) });
  const written = await openImage(target);
  t.deepEqual(written.rawConfig?.config, image.rawConfig?.config);
  t.true(readFileSync(target).includes(gh));
});
