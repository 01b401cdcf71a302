/** A fleet audit's results in Redis, by image key, for one analysis (cache/audit-results.ts on disk). */
import type { Redis } from 'ioredis';
import type { AuditEntry } from '../analyze/fleet/entry.js';
import { keptEntry, type AuditResults } from '../cache/audit-results.js';

export class RedisResults implements AuditResults {
  private readonly hash: string;
  constructor(private readonly redis: Redis, settingsKey: string) {
    this.hash = `strata:audit:results:${settingsKey}`;
  }

  async get(key: string): Promise<AuditEntry | undefined> {
    const text = await this.redis.hget(this.hash, key);
    if (!text) return undefined;
    return keptEntry(text);
  }

  async put(key: string, entry: AuditEntry): Promise<void> {
    await this.redis.hset(this.hash, key, JSON.stringify(entry));
  }
}
