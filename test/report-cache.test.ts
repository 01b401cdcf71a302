import test from 'ava';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

async function inspect(cacheDir: string, ...args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, STRATA_CACHE_DIR: cacheDir };
  delete env.STRATA_NO_CACHE;
  return (await run(process.execPath, [join(root, 'bin', 'strata.js'), 'inspect', '--json', ...args], { env })).stdout;
}

test('a second inspect of the same image comes from the report cache, named as this time', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-reports-'));
  try {
    const image = join(root, 'testdata', 'tiny-overlay.oci.tar');
    const first = JSON.parse(await inspect(dir, image));
    const reports = () => readdirSync(join(dir, 'reports'), { recursive: true }).filter((f) => String(f).endsWith('.json'));
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
    // the same layers stored another way (zstd) are another report, made from the cached layer records
    const zstd = JSON.parse(await inspect(dir, join(root, 'testdata', 'tiny-overlay-zstd.oci-layout.tar')));
    t.is(zstd.layers[0].compression, 'zstd');
    t.is(zstd.summary.finalSize, first.summary.finalSize);
    t.is(zstd.summary.wastedBytes, first.summary.wastedBytes);
    t.not(zstd.summary.compressedSize, first.summary.compressedSize);
    t.is(reports().length, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
