import type { CommandModule } from 'yargs';
import { imageFlags, Loading, wholeNumber, type ImageArgs } from './common.js';
import { auditImage, type AuditSettings } from './audit-image.js';
import { StrataError } from '../util/errors.js';
import type { LayerScan } from '../scan/scan-layer.js';
import { terminalText } from '../util/terminal-text.js';

type Args = Omit<ImageArgs, 'image' | 'username' | 'passwordStdin'> & {
  queue?: string;
  run: string;
  jobs?: number;
  'stalled-after'?: number;
};

export const workerCommand: CommandModule<object, Args> = {
  command: 'worker',
  describe: 'take the images of `strata audit --queue` (BullMQ on Redis), audit them, store the results; until stopped',
  builder: (y) =>
    imageFlags(y)
      .option('queue', { type: 'string', describe: 'redis://HOST:PORT the audit enqueued on' })
      .option('run', { type: 'string', default: 'default', describe: 'the audit run to work for (as given to strata audit --run)' })
      .option('jobs', { type: 'string', coerce: wholeNumber('jobs'), describe: 'images audited at once (default 1; scans use every core anyway)' })
      .option('stalled-after', { type: 'string', coerce: wholeNumber('stalled-after'), describe: 'seconds without a sign of life after which a job goes to another worker (default 30)' }) as never,
  handler: async (args) => {
    if (!args.queue) throw new StrataError('strata worker needs --queue redis://HOST:PORT');
    const url = args.queue;
    const [{ connectRedis }, { RedisRecords }, { RedisResults }, { startWorker }, { auditSettingsKey }, { InFlight }] = await Promise.all([
      import('../fleet/redis.js'),
      import('../fleet/redis-records.js'),
      import('../fleet/redis-results.js'),
      import('../fleet/queue.js'),
      import('../cache/audit-results.js'),
      import('../fleet/in-flight.js'),
    ]);
    const redis = await connectRedis(url);
    redis.on('error', () => undefined); // reconnects are retried forever: a restarted Redis is found again
    const loading = new Loading(new InFlight<LayerScan>(), false);
    // job refs and errors come from the queue and the images: one escaped line each
    const say = (msg: string) => process.stderr.write(`strata worker: ${terminalText(msg)}\n`);
    const worker = startWorker(
      url,
      args.run,
      (job) => {
        const settings = job.settings as AuditSettings;
        const imageArgs: ImageArgs = { ...args, image: job.ref, platform: job.platform ?? args.platform, insecure: job.insecure ?? args.insecure };
        return auditImage(imageArgs, { loading, settings, records: new RedisRecords(redis, settings.secrets.scan), results: new RedisResults(redis, auditSettingsKey(settings)) });
      },
      {
        concurrency: args.jobs || 1,
        lockMs: (args['stalled-after'] ?? 30) * 1000,
        onJob: (event, ref, detail) => say(`${event} ${ref}${detail ? `: ${detail}` : ''}`),
      },
    );
    say(`waiting for jobs of run "${args.run}" on ${url}`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    say('stopping: the job in hand is finished first');
    await worker.close();
    await loading.pool.close();
    redis.disconnect();
  },
};
