/**
 * Layer records shared by every worker of a fleet audit, in Redis: the layer cache's entry format
 * (cache/layer-cache.ts) under the layer's diffID. A layer is scanned by one worker: the first to
 * take its lock (SET NX with an expiry, kept alive while the scan runs) scans and stores it; the
 * others wait for the record. A worker that dies lets its lock expire and another takes over, so
 * a layer is scanned once, at worst twice, and a record is stored whole or not at all (one SET).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CACHE_SCHEMA, LayerCache, decodeScan, encodeScan } from '../cache/layer-cache.js';
import type { RecordStore } from '../model/read-image.js';
import type { LayerScan } from '../scan/scan-layer.js';
import type { ContentScanSettings } from '../scan/secret-scan.js';

/** A lock outlives a stalled worker by this much; a live one renews it every third of it. */
const LOCK_MS = 15_000;
/** How often a worker waiting for another's scan looks for the record. */
const POLL_MS = 200;

const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export class RedisRecords implements RecordStore {
  private readonly prefix: string;

  constructor(private readonly redis: Redis, secrets?: ContentScanSettings) {
    this.prefix = `strata:layers:v${CACHE_SCHEMA}${LayerCache.variantOf(secrets)}`;
  }

  /** Scans stored per layer: a count above 1 is a layer scanned twice (a lock that expired). */
  get scansKey(): string {
    return `${this.prefix}:scans`;
  }

  async get(diffId: string): Promise<LayerScan | undefined> {
    const buf = await this.redis.getBuffer(`${this.prefix}:${diffId}`);
    return buf ? decodeScan(buf, diffId) : undefined;
  }

  async put(diffId: string, scan: LayerScan): Promise<void> {
    const m = this.redis.multi().set(`${this.prefix}:${diffId}`, encodeScan(scan, diffId)).hincrby(this.scansKey, diffId, 1);
    if (scan.blobDigest) m.set(this.blobKey(scan.blobDigest), diffId);
    await m.exec();
  }

  /** The diffID a verified read of the blob gave: what lets a stored record stand for a layer (read-image.ts). */
  async diffIdOf(blobDigest: string): Promise<string | undefined> {
    return (await this.redis.get(this.blobKey(blobDigest))) ?? undefined;
  }

  async vouch(blobDigest: string, diffId: string): Promise<void> {
    await this.redis.set(this.blobKey(blobDigest), diffId);
  }

  private blobKey(blobDigest: string): string {
    return `strata:layers:blob:${blobDigest}`;
  }

  async once(diffId: string, scan: () => Promise<LayerScan>): Promise<{ scan: LayerScan; stored: boolean }> {
    const lock = `${this.prefix}:lock:${diffId}`;
    for (;;) {
      const hit = await this.get(diffId);
      if (hit) return { scan: hit, stored: true };
      const token = randomUUID();
      if ((await this.redis.set(lock, token, 'PX', LOCK_MS, 'NX')) === 'OK') {
        const renew = setInterval(() => void this.redis.eval(RENEW, 1, lock, token, LOCK_MS).catch(() => undefined), LOCK_MS / 3);
        try {
          const again = await this.get(diffId); // stored between the look and the lock
          if (again) return { scan: again, stored: true };
          const made = await scan();
          await this.put(diffId, made);
          return { scan: made, stored: false };
        } finally {
          clearInterval(renew);
          await this.redis.eval(RELEASE, 1, lock, token).catch(() => undefined);
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}
