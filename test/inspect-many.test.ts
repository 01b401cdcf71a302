import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { Loading, loadModel } from '../src/commands/common.js';
import { inspectReport } from '../src/analyze/report.js';
import { openImage } from '../src/sources/resolve.js';
import { readImage } from '../src/model/read-image.js';

const root = join(import.meta.dirname, '..', '..');
const fixture = (name: string) => join(root, 'testdata', name);
const run = promisify(execFile);

test('images sharing layers in one command read each distinct layer once', async (t) => {
  await Loading.with(async (loading) => {
    const a = await loadModel({ image: fixture('tiny-dockerfile.docker.tar') }, { loading });
    const b = await loadModel({ image: fixture('tiny-dockerfile.docker25.tar') }, { loading });
    t.is(loading.memo.size, 8); // the same 8 layers, saved by two writers
    const noMediaType = (r: ReturnType<typeof inspectReport>) => r.layers.map(({ mediaType: _, ...l }) => l); // only the Docker 25 save declares them
    t.deepEqual(noMediaType(inspectReport(b)), noMediaType(inspectReport(a)));
    const amd = await loadModel({ image: fixture('tiny-multiarch.oci-layout.tar'), platform: 'linux/amd64' }, { loading });
    const arm = await loadModel({ image: fixture('tiny-multiarch.oci-layout.tar'), platform: 'linux/arm64' }, { loading });
    t.is(amd.layers[0].digest, arm.layers[0].digest);
    t.is(loading.memo.size, 8 + 3); // their base layer once, each top layer once
  });
});

test('a shared scan is verified again for every image that uses it', async (t) => {
  await Loading.with(async (loading) => {
    const good = await openImage(fixture('tiny-overlay.oci.tar'));
    await readImage(good, { pool: loading.pool, memo: loading.memo });
    const lying = await openImage(fixture('tiny-overlay.oci.tar'));
    lying.layers[3] = { ...lying.layers[3], diffId: lying.layers[4].diffId };
    await t.throwsAsync(readImage(lying, { pool: loading.pool, memo: loading.memo }), { message: /layer 3 .*diff_id .* mismatch/ });
  });
});

test('strata inspect A B prints a report per image; --json prints an array', async (t) => {
  const a = fixture('tiny-commit.docker.tar');
  const b = fixture('tiny-dockerfile.docker.tar');
  const text = await run(process.execPath, [join(root, 'bin', 'strata.js'), 'inspect', a, b]);
  t.is(text.stdout.match(/^Image {7}/gm)?.length, 2);
  const json = await run(process.execPath, [join(root, 'bin', 'strata.js'), 'inspect', a, b, '--json']);
  const reports = JSON.parse(json.stdout) as { image: { ref: string }; summary: { layerCount: number } }[];
  t.deepEqual(reports.map((r) => [r.image.ref, r.summary.layerCount]), [[a, 2], [b, 8]]);
  const one = JSON.parse((await run(process.execPath, [join(root, 'bin', 'strata.js'), 'inspect', a, '--json'])).stdout);
  t.is(one.schemaVersion, 1);
});
