import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CACHE_SCHEMA } from '../src/cache/layer-cache.js';

const root = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

async function inspect(cacheDir: string | null, ...args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, STRATA_CACHE_DIR: cacheDir ?? '/nonexistent', STRATA_NO_CACHE: '1' };
  if (cacheDir !== null) delete env.STRATA_NO_CACHE;
  return (await run(process.execPath, [join(root, 'bin', 'strata.js'), 'inspect', '--json', ...args], { env })).stdout;
}

const reportsIn = (dir: string) => readdirSync(join(dir, 'reports'), { recursive: true }).filter((f) => String(f).endsWith('.json'));

/** Rewrites the config of a one-image OCI layout (a new config, manifest and index over the same layers). */
function editConfig(layout: string, edit: (config: { config: { Labels?: Record<string, string> }; history: { created_by?: string; empty_layer?: boolean }[] }) => void): void {
  const blob = (d: string) => join(layout, 'blobs', 'sha256', d.slice('sha256:'.length));
  const put = (json: unknown) => {
    const bytes = Buffer.from(JSON.stringify(json));
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    writeFileSync(blob(digest), bytes);
    return { digest, size: bytes.length };
  };
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), 'utf8'));
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8'));
  edit(config);
  Object.assign(manifest.config, put(config));
  Object.assign(index.manifests[0], put(manifest));
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
}

test('a second inspect of the same image comes from the report cache, named as this time', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-reports-'));
  try {
    const image = join(root, 'testdata', 'tiny-overlay.oci.tar');
    const first = JSON.parse(await inspect(dir, image));
    const reports = () => reportsIn(dir);
    t.is(reports().length, 1);
    t.is(readdirSync(join(dir, 'layers'), { recursive: true }).filter((f) => String(f).endsWith('.bin')).length, 8);
    t.deepEqual(JSON.parse(await inspect(dir, image)), first);
    // the same bytes under another name: the report is reused, the name is this run's
    const copy = join(dir, 'copy.tar');
    copyFileSync(image, copy);
    const again = JSON.parse(await inspect(dir, copy));
    t.is(again.image.ref, copy);
    t.deepEqual({ ...again, image: { ...again.image, ref: image } }, first);
    t.is(reports().length, 1);
    // --top and --category narrow the cached report that has every finding: no new analysis
    t.true(first.findings.length > 1);
    const top1 = JSON.parse(await inspect(dir, image, '--top', '1'));
    t.deepEqual(top1, { ...first, findings: first.findings.slice(0, 1) });
    const category = first.findings[first.findings.length - 1].category;
    const some = JSON.parse(await inspect(dir, image, '--category', category));
    t.deepEqual(some.findings, first.findings.filter((f: { category: string }) => f.category === category));
    t.is(some.summary.findingCount, first.summary.findingCount);
    t.is(reports().length, 1);
    // other bloat settings are another report
    const rule = first.findings.find((f: { kind: string }) => f.kind === 'bloat').rule;
    const config = join(dir, 'strata.yml');
    writeFileSync(config, `bloat:\n  disable: [${rule}]\n`);
    const other = JSON.parse(await inspect(dir, image, '--config', config));
    t.is(other.findings.length, first.findings.length - 1);
    t.is(reports().length, 2);
    // the same layers stored another way (zstd, another source): the same report, told with this image's blobs
    const zstdImage = join(root, 'testdata', 'tiny-overlay-zstd.oci-layout.tar');
    const zstd = JSON.parse(await inspect(dir, zstdImage));
    t.is(reports().length, 2);
    t.is(zstd.layers[0].compression, 'zstd');
    t.not(zstd.summary.compressedSize, first.summary.compressedSize);
    t.deepEqual(zstd, JSON.parse(await inspect(null, zstdImage)));
    const skopeoImage = join(root, 'testdata', 'tiny-overlay.skopeo-docker.tar');
    t.deepEqual(JSON.parse(await inspect(dir, skopeoImage)), JSON.parse(await inspect(null, skopeoImage)));
    t.is(reports().length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an image with the same layers under another config is the cached report told as its own; another instruction is another report', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-reports-'));
  try {
    const layout = join(dir, 'layout');
    mkdirSync(layout);
    execFileSync('tar', ['-xf', join(root, 'testdata', 'tiny-overlay.oci.tar'), '-C', layout]);
    const first = JSON.parse(await inspect(dir, layout));
    t.is(reportsIn(dir).length, 1);

    // a rebuild that only adds a label: a new config digest, the same layers and instructions
    editConfig(layout, (c) => {
      c.config.Labels = { ...c.config.Labels, 'org.opencontainers.image.revision': 'abc123' };
      c.history.push({ created_by: '/bin/sh -c #(nop) LABEL org.opencontainers.image.revision=abc123', empty_layer: true });
    });
    const relabelled = JSON.parse(await inspect(dir, layout));
    t.is(reportsIn(dir).length, 1);
    t.not(relabelled.image.configDigest, first.image.configDigest);
    t.is(relabelled.image.config.labels['org.opencontainers.image.revision'], 'abc123');
    t.is(relabelled.image.historyEntries, first.image.historyEntries + 1);
    t.deepEqual(relabelled.findings, first.findings);
    t.deepEqual(relabelled, JSON.parse(await inspect(null, layout)));

    // another instruction for a layer changes what its findings say: not the cached report
    editConfig(layout, (c) => {
      c.history.find((h) => h.created_by?.includes('COPY'))!.created_by = 'COPY app/ /app/';
    });
    const rebuilt = JSON.parse(await inspect(dir, layout));
    t.is(reportsIn(dir).length, 2);
    t.deepEqual(rebuilt, JSON.parse(await inspect(null, layout)));
    t.true(rebuilt.findings.some((f: { instruction: string | null }) => f.instruction === 'COPY app/ /app/'));
    t.false(first.findings.some((f: { instruction: string | null }) => f.instruction === 'COPY app/ /app/'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a text inspect saves the whole report: --json, another --top and strata ci of the same layers analyse nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-reports-'));
  try {
    const image = join(root, 'testdata', 'tiny-dockerfile.docker.tar');
    const env: NodeJS.ProcessEnv = { ...process.env, STRATA_CACHE_DIR: dir };
    delete env.STRATA_NO_CACHE;
    const text = (await run(process.execPath, [join(root, 'bin', 'strata.js'), 'inspect', image, '--top', '1'], { env })).stdout;
    t.regex(text, /^Findings \(1 of \d+, largest first/m);
    t.is(reportsIn(dir).length, 1);
    // the layers' records gone: a report cache miss would now have to read every layer again
    rmSync(join(dir, 'layers'), { recursive: true });
    t.deepEqual(JSON.parse(await inspect(dir, image)), JSON.parse(await inspect(null, image)));
    const ci = await run(process.execPath, [join(root, 'bin', 'strata.js'), 'ci', image, '--max-final-size', '10MB'], { env });
    t.regex(ci.stdout, /^strata ci: PASS /);
    t.is(reportsIn(dir).length, 1);
    // no layer was scanned again: the layers' bytes were only proven to give the report's diffIDs
    // (plain tars: their own diffIDs; the file digests kept, docs/security.md), no records made
    const kept = readdirSync(join(dir, 'layers', `v${CACHE_SCHEMA}`));
    t.deepEqual(kept.filter((f) => f.endsWith('.bin')), []);
    t.true(kept.some((f) => f.endsWith('.digest')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
