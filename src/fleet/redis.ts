/**
 * Redis connections for the fleet audit: BullMQ's queue and workers, the shared layer records and
 * results. `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS). Connections retry
 * forever once up (a restarted Redis is reconnected to), but the first one must answer quickly:
 * a wrong address is a one-line error, not a hang.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { StrataError } from '../util/errors.js';

export function redisOptions(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StrataError(`--queue ${url}: not a redis:// URL`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new StrataError(`--queue ${url}: expected redis://HOST:PORT (or rediss://)`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new StrataError(`--queue ${url}: the database (/N) must be a whole number`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    // BullMQ's workers block on Redis: a command must wait for a reconnect, never fail for lack of one
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
}

/** A connection known to answer (PING within 3 s), or a StrataError naming the address. */
export async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis({ ...redisOptions(url), lazyConnect: true });
  let last: Error | undefined;
  redis.on('error', (e: Error) => (last = e)); // reconnects are retried; the first failure is reported below
  try {
    await withTimeout(redis.connect().then(() => redis.ping()), 3000);
    return redis;
  } catch (e) {
    redis.disconnect();
    const why = (last as NodeJS.ErrnoException | undefined)?.code ?? last?.message ?? (e as Error).message;
    throw new StrataError(`--queue ${url}: cannot reach Redis (${why})`);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error('no answer in 3 s')), ms)))]).finally(() => clearTimeout(timer));
}
