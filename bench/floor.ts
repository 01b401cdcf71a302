/**
 * The floor any verifying reader has on this machine: every layer's blob read, inflated and its
 * uncompressed bytes hashed with sha256 (the diffID check), on as many threads as strata's scan pool
 * uses, with no tar parsing, per-file hashing or analysis. Printed beside strata's own figures so the
 * goals' ratios can be read against what verification alone costs.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { gzipDecoder, outputs } from '../src/scan/sync-decoders.js';

interface Job {
  files: string[];
  inflate: boolean;
}

/** Wall time for all files, `threads` at a time, each file read once, inflated if asked, sha256'd. */
export async function verifyFloor(files: string[], inflate: boolean, threads = Math.min(availableParallelism(), 4)): Promise<number> {
  const t0 = performance.now();
  const queues: string[][] = Array.from({ length: threads }, () => []);
  files.forEach((f, i) => queues[i % threads].push(f));
  await Promise.all(
    queues.filter((q) => q.length).map(
      (q) =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(new URL(import.meta.url), { workerData: { files: q, inflate } satisfies Job });
          w.on('error', reject).on('exit', () => resolve());
        }),
    ),
  );
  return performance.now() - t0;
}

async function job({ files, inflate }: Job): Promise<void> {
  for (const f of files) {
    const h = createHash('sha256');
    const d = inflate ? gzipDecoder()! : null;
    for await (const c of createReadStream(f, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      for (const out of d ? outputs(d, c) : [c]) h.update(out);
    }
    if (d) for (const out of outputs(d, null)) h.update(out);
    h.digest();
  }
}

if (!isMainThread) await job(workerData as Job).then(() => parentPort?.close());
