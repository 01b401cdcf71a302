/**
 * `strata audit --queue redis://…`: the images become BullMQ jobs for `strata worker`s, and the
 * report is made from the jobs' results, the same as a single-machine run's. Loaded only for it.
 */
import { AuditQueue, type AuditJob } from '../fleet/queue.js';
import { connectRedis } from '../fleet/redis.js';
import { RedisRecords } from '../fleet/redis-records.js';
import type { AuditOutcome } from '../fleet/audit-run.js';
import type { AuditSettings } from './audit-image.js';
import { Tally } from './audit.js';

interface QueueArgs {
  queue?: string;
  run: string;
  collect?: boolean;
  wait: boolean;
  platform?: string;
  insecure?: boolean;
}

export async function auditOnQueue(args: QueueArgs, refs: string[], settings: AuditSettings): Promise<AuditOutcome | undefined> {
  const url = args.queue!;
  const redis = await connectRedis(url); // a wrong address is an error now, not a wait for reconnects
  const queue = new AuditQueue(url, args.run);
  try {
    if (args.collect) {
      const got = await queue.collect();
      if (got.pending.length) process.stderr.write(`strata: ${got.pending.length} image${got.pending.length === 1 ? '' : 's'} of run "${args.run}" not done yet: the report has the others\n`);
      return got;
    }
    const jobs: AuditJob[] = refs.map((ref) => ({ ref, platform: args.platform, insecure: args.insecure, settings }));
    const ids = await queue.enqueue(jobs);
    if (!args.wait) {
      process.stderr.write(`strata: ${ids.length} image${ids.length === 1 ? '' : 's'} enqueued in run "${args.run}"; strata audit --queue ${url} --run ${args.run} --collect prints the report\n`);
      return undefined;
    }
    const tally = new Tally(ids.length, false);
    try {
      await queue.settle(ids, (done, failed) => tally.progress(done - failed, failed));
    } finally {
      tally.end();
    }
    const scans = Object.values(await redis.hgetall(new RedisRecords(redis, settings.secrets.scan).scansKey)).map(Number);
    process.stderr.write(`strata audit: the shared store holds ${scans.length} layers, scanned ${scans.reduce((a, b) => a + b, 0)} times in all\n`);
    return await queue.collect(ids);
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
