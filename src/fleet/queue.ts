/**
 * The distributed audit on BullMQ: one job per image in a queue named by the run, taken by
 * `strata worker` processes on any machine. A job is retried (3 attempts) when it fails, and when
 * its worker dies (its lock expires, BullMQ's stalled check hands the job to another worker). The
 * results stay in Redis as the jobs' return values, so `--collect` can print the report later, and
 * enqueueing the same images again finds their jobs done.
 */
import { createHash } from 'node:crypto';
import { Job, Queue, Worker, type RedisOptions as BullRedisOptions } from 'bullmq';
import type { AuditEntry } from '../analyze/fleet/entry.js';
import type { AuditFailure } from '../analyze/fleet/fleet.js';
import { redisOptions } from './redis.js';

/** What a worker needs to audit one image as the single-machine run would. */
export interface AuditJob {
  ref: string;
  platform?: string;
  insecure?: boolean;
  /** The enqueuer's analysis settings (the config's bloat and secrets sections). */
  settings: unknown;
}

export const ATTEMPTS = 3;
/** Requests in flight at once when asking about many jobs. */
const BATCH = 1000;

const queueName = (run: string) => `strata-audit.${run}`;

/** ioredis' options as BullMQ's type has them (the same fields; its type is its own). */
const bullConnection = (url: string) => redisOptions(url) as BullRedisOptions;

/** One job per reference and platform: enqueueing it again is a no-op (its result is kept). */
export function jobIdOf(job: Pick<AuditJob, 'ref' | 'platform'>): string {
  return createHash('sha256').update(`${job.ref}\0${job.platform ?? ''}`).digest('hex').slice(0, 32);
}

export class AuditQueue {
  private readonly queue: Queue;
  constructor(url: string, run: string) {
    this.queue = new Queue(queueName(run), { connection: bullConnection(url) });
    this.queue.on('error', () => undefined); // reconnects are retried; a command that needs Redis waits
  }

  /** Adds the jobs not there yet; jobs of these images that failed before are tried again. */
  async enqueue(jobs: AuditJob[]): Promise<string[]> {
    const ids = jobs.map(jobIdOf);
    const states = await this.states(ids);
    const fresh = jobs.filter((_, i) => states[i] === 'unknown');
    for (let i = 0; i < fresh.length; i += BATCH) {
      await this.queue.addBulk(fresh.slice(i, i + BATCH).map((job) => ({ name: 'image', data: job, opts: { jobId: jobIdOf(job), attempts: ATTEMPTS, backoff: { type: 'fixed', delay: 1000 } } })));
    }
    for (const [i, id] of ids.entries()) if (states[i] === 'failed') await (await Job.fromId(this.queue, id))?.retry('failed');
    return ids;
  }

  /** Each job's state ('unknown': not in the queue), asked BATCH at a time. */
  private async states(ids: string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i += BATCH) out.push(...(await Promise.all(ids.slice(i, i + BATCH).map((id) => this.queue.getJobState(id)))));
    return out;
  }

  /** Waits until every job is completed or failed for good, telling progress as they finish. */
  async settle(ids: string[], onProgress?: (done: number, failed: number) => void): Promise<void> {
    let pending = ids;
    let failed = 0;
    for (;;) {
      const states = await this.states(pending);
      failed += states.filter((s) => s === 'failed').length;
      pending = pending.filter((_, i) => states[i] !== 'completed' && states[i] !== 'failed');
      onProgress?.(ids.length - pending.length, failed);
      if (pending.length === 0) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** The results of these jobs (all of the run's when not given): entries and failures. */
  async collect(ids?: string[]): Promise<{ entries: AuditEntry[]; failed: AuditFailure[]; pending: string[] }> {
    const jobs = ids
      ? await Promise.all(ids.map((id) => Job.fromId<AuditJob, AuditEntry>(this.queue, id)))
      : ((await this.queue.getJobs(['completed', 'failed', 'waiting', 'active', 'delayed'])) as Job<AuditJob, AuditEntry>[]);
    const entries: AuditEntry[] = [];
    const failed: AuditFailure[] = [];
    const pending: string[] = [];
    for (const [i, job] of jobs.entries()) {
      if (!job) {
        pending.push(ids![i]);
        continue;
      }
      const state = await job.getState();
      if (state === 'completed') entries.push({ ...job.returnvalue, ref: job.data.ref });
      else if (state === 'failed') failed.push({ ref: job.data.ref, error: job.failedReason, attempts: job.attemptsMade });
      else pending.push(job.data.ref);
    }
    return { entries, failed, pending };
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

export interface WorkerOptions {
  concurrency: number;
  /** A job whose worker stops renewing its lock for this long is given to another worker. */
  lockMs: number;
  onJob?: (event: 'active' | 'completed' | 'failed', ref: string, detail?: string) => void;
}

/** Takes the run's jobs until closed; `audit` audits one image. */
export function startWorker(url: string, run: string, audit: (job: AuditJob) => Promise<AuditEntry>, opts: WorkerOptions): Worker<AuditJob, AuditEntry> {
  const worker = new Worker<AuditJob, AuditEntry>(queueName(run), (job) => audit(job.data), {
    connection: bullConnection(url),
    concurrency: opts.concurrency,
    lockDuration: opts.lockMs,
    stalledInterval: opts.lockMs,
    maxStalledCount: ATTEMPTS - 1,
  });
  worker.on('error', () => undefined); // connection errors: ioredis reconnects
  worker.on('active', (job) => opts.onJob?.('active', job.data.ref));
  worker.on('completed', (job) => opts.onJob?.('completed', job.data.ref));
  worker.on('failed', (job, e) => job && opts.onJob?.('failed', job.data.ref, e.message));
  return worker;
}
