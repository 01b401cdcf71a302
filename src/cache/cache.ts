/**
 * A content-addressed blob cache: `DIR/blobs/<alg>/<hex>`, so a second run, or a second image on the
 * same base, downloads nothing twice. A blob enters only after its digest checked out (written to a
 * temp file, renamed into place); the least recently used blobs leave when the cache passes its cap.
 */
import { createHash } from 'node:crypto';
import { readdir, rename, stat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { openRegular } from '../util/open-regular.js';
import { makeDir } from '../util/make-dir.js';
import { createExclusive } from '../util/safe-write.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { StrataError } from '../util/errors.js';

export const DEFAULT_CACHE_MAX = 10 * 1024 ** 3;

/**
 * What the cache makes, only its user reads: records and reports list a private image's files,
 * packages and config. Blobs are written 0600 (createExclusive); directories it makes are 0700.
 */
export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/** The cache root: blobs under `blobs/`, layer records under `layers/` (layer-cache.ts). */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'strata');
}

/** The cache root: `--cache-dir`, else $STRATA_CACHE_DIR, else the default (the CLI and its launcher). */
export function cacheRoot(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.STRATA_CACHE_DIR ?? defaultCacheDir(env);
}

/** No cache: `--no-cache`, else STRATA_NO_CACHE unless `--cache` says otherwise (the CLI and its launcher). */
export function cacheOff(flag: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  return flag === false || (flag === undefined && !!env.STRATA_NO_CACHE);
}

const cacheable = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export class BlobCache {
  constructor(readonly dir: string, readonly maxBytes = DEFAULT_CACHE_MAX) {}

  pathOf(digest: string): string {
    const [alg, hex] = digest.split(':');
    return join(this.dir, 'blobs', alg, hex);
  }

  /**
   * The cached blob as a stream, or undefined; a hit counts as a use for eviction. It is hashed as it
   * is read: a blob damaged on disk is removed and reported, and the next run fetches it again.
   */
  async get(digest: string, size?: number): Promise<AsyncIterable<Buffer> | undefined> {
    if (!cacheable.test(digest)) return undefined;
    const p = this.pathOf(digest);
    // a link, FIFO or device in the store is a miss (a cache restored from elsewhere), as is a blob of another size
    const found = await openRegular(p, size ?? Number.MAX_SAFE_INTEGER);
    if (!found) return undefined;
    await found.handle.close();
    if (size !== undefined && found.size !== size) return undefined;
    const now = new Date();
    await utimes(p, now, now).catch(() => undefined);
    return (async function* () {
      const hash = createHash(digest.split(':')[0]);
      let complete = false;
      try {
        // opened again as it is read: what is there now must still be a regular file of that size
        const again = await openRegular(p, found.size);
        if (!again) throw new StrataError(`cached blob ${p} changed while strata read it; run again`);
        for await (const c of again.handle.createReadStream({ highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
          hash.update(c);
          yield c;
        }
        complete = true;
      } finally {
        // A reader stops early only on an error (bad gzip data, say): then check the whole file.
        if (!complete && !(await hashFile(p, digest))) await unlink(p).catch(() => undefined);
      }
      if (`${digest.split(':')[0]}:${hash.digest('hex')}` !== digest) {
        await unlink(p).catch(() => undefined);
        throw new StrataError(`cached blob ${p} does not match its digest (damaged on disk); removed it, run again to fetch it`);
      }
    })();
  }

  /**
   * Pass `source` through unchanged while copying it to a temp file; when the source ends and the
   * copy hashes to `digest`, it becomes the cached blob. A failure anywhere leaves nothing behind,
   * and a cache that cannot be written only costs the caching.
   */
  async *through(digest: string, source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    if (!cacheable.test(digest)) {
      yield* source;
      return;
    }
    const final = this.pathOf(digest);
    const tmpDir = join(this.dir, 'tmp');
    let tmp: string | undefined;
    let fh: FileHandle | undefined;
    try {
      await makeDir(tmpDir, PRIVATE_DIR);
      // `<digest>.<pid>.<random>`, created exclusively: nothing planted in tmp/ is written through (sweepTemp reads the pid)
      ({ path: tmp, handle: fh } = await createExclusive(tmpDir, `${digest.replace(':', '-')}.${process.pid}`));
    } catch {
      fh = undefined;
    }
    const hash = createHash(digest.split(':')[0]);
    let committed = false;
    try {
      for await (const c of source) {
        if (fh) {
          hash.update(c);
          try {
            await fh.write(c);
          } catch {
            await fh.close().catch(() => undefined);
            fh = undefined;
          }
        }
        yield c;
      }
      if (fh) {
        await fh.close();
        fh = undefined;
        if (`${digest.split(':')[0]}:${hash.digest('hex')}` === digest) {
          await makeDir(join(final, '..'), PRIVATE_DIR);
          await rename(tmp!, final);
          committed = true;
          await this.evict();
        }
      }
    } finally {
      await fh?.close().catch(() => undefined);
      if (!committed && tmp) await unlink(tmp).catch(() => undefined);
    }
  }

  /** Remove least recently used blobs until the cache fits its cap, and temp files of dead runs. */
  async evict(): Promise<void> {
    await this.sweepTemp();
    const files: { path: string; size: number; used: number }[] = [];
    for (const alg of ['sha256', 'sha512']) {
      const dir = join(this.dir, 'blobs', alg);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      for (const n of names.filter((n) => OWN_BLOB[alg].test(n))) {
        try {
          const st = await stat(join(dir, n));
          files.push({ path: join(dir, n), size: st.size, used: st.mtimeMs });
        } catch {
          // removed meanwhile by another process
        }
      }
    }
    let total = files.reduce((s, f) => s + f.size, 0);
    files.sort((a, b) => a.used - b.used);
    for (const f of files) {
      if (total <= this.maxBytes) break;
      await unlink(f.path).catch(() => undefined);
      total -= f.size;
    }
  }

  /** A run killed mid-download leaves `<digest>.<pid>.<rand>`; remove those whose process is gone. */
  private async sweepTemp(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(join(this.dir, 'tmp'));
    } catch {
      return;
    }
    for (const n of names) {
      // only what strata names so: the cache root may be a directory of the user's (`--cache-dir ~`)
      const m = OWN_TEMP.exec(n);
      if (!m) continue;
      const pid = Number(m[1]);
      if (pid === process.pid || alive(pid)) continue;
      await unlink(join(this.dir, 'tmp', n)).catch(() => undefined);
    }
  }
}

/** A download's temp file: `<alg>-<hex digest>.<pid>.<16 hex>` (createExclusive). */
const OWN_TEMP = /^(?:sha256-[0-9a-f]{64}|sha512-[0-9a-f]{128})\.([1-9][0-9]{0,9})\.[0-9a-f]{16}$/;
/** A cached blob's name under `blobs/<alg>/`: nothing else there is evicted. */
const OWN_BLOB: Record<string, RegExp> = { sha256: /^[0-9a-f]{64}$/, sha512: /^[0-9a-f]{128}$/ };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the file at `p` hashes to `digest`. */
async function hashFile(p: string, digest: string): Promise<boolean> {
  const hash = createHash(digest.split(':')[0]);
  try {
    const found = await openRegular(p, Number.MAX_SAFE_INTEGER);
    if (!found) return false;
    for await (const c of found.handle.createReadStream() as AsyncIterable<Buffer>) hash.update(c);
  } catch {
    return false;
  }
  return `${digest.split(':')[0]}:${hash.digest('hex')}` === digest;
}
