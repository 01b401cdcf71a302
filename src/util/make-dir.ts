import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * `mkdir -p`, one component at a time. Node's `mkdir(…, { recursive: true })` never returns when
 * the parent refuses with ENOENT (any path under /proc, Node 20–24): it retries the parent forever.
 * `mode` (less the umask) is that of each directory made; one that exists is left as it is.
 */
export async function makeDir(dir: string, mode = 0o777): Promise<void> {
  try {
    await mkdir(dir, mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw e;
    await makeDir(parent, mode);
    await mkdir(dir, mode).catch((e2: NodeJS.ErrnoException) => {
      if (e2.code !== 'EEXIST') throw e2;
    });
  }
}
