/**
 * `optimize --dry-run` estimates the new layers' blobs from a compressed sample of their files; the
 * estimate must land near what `-o` then writes (docs/optimize.md has the measured errors: 0.1-0.2%
 * on the fixtures, 1-4% on a 1 GB docker save, gzip and zstd).
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStrata } from './helpers/cli.js';
import { fixture } from './helpers/fixtures.js';

/** Relative error allowed on the fixtures, which the sample covers whole: headers only differ. */
const FIXTURE_ERROR = 0.01;

const dir = mkdtempSync(join(tmpdir(), 'strata-estimate-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const blobBytes = (stdout: string) => (JSON.parse(stdout) as { after: { blobBytes: number }; sampledBytes?: number; written: boolean });

for (const file of ['tiny-dockerfile.docker.tar', 'tiny-commit.docker.tar', 'tiny-overlay.oci.tar']) {
  for (const compression of ['gzip', 'zstd', 'none']) {
    test(`dry run of ${file} (${compression}): the estimated blobs within ${FIXTURE_ERROR * 100}% of the written ones`, async (t) => {
      const args = ['optimize', fixture(file), '--base-layers', '0', '--compression', compression, '--json'];
      const dry = await runStrata([...args, '--dry-run']);
      t.is(dry.code, 0, dry.stderr);
      const out = join(dir, `${file}.${compression}.tar`);
      const wet = await runStrata([...args, '-o', out]);
      t.is(wet.code, 0, wet.stderr);
      const est = blobBytes(dry.stdout);
      const real = blobBytes(wet.stdout);
      t.false(est.written);
      t.true(real.written);
      t.is(est.sampledBytes! > 0, compression !== 'none', 'a sample is compressed, unless the layers stay plain');
      const error = Math.abs(est.after.blobBytes - real.after.blobBytes) / real.after.blobBytes;
      t.true(error <= FIXTURE_ERROR, `estimated ${est.after.blobBytes}, written ${real.after.blobBytes} (${(error * 100).toFixed(2)}%)`);
    });
  }
}

test('the dry run says the size is an estimate and from how big a sample', async (t) => {
  const r = await runStrata(['optimize', fixture('tiny-dockerfile.docker.tar'), '--base-layers', '0', '--dry-run']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /blobs as stored +\S+ [kMG]?B +~\S+ [kMG]?B/);
  t.regex(r.stdout, /\(~ estimated from a \d+(\.\d+)? [kMG]?B sample of the new layers, compressed as -o would; exact once written\)/);
});
