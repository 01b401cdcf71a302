import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * Open `path` for reading only when it is itself a regular file of at most `maxBytes`: no
 * symbolic link is followed (O_NOFOLLOW) and a FIFO in its place cannot block the open
 * (O_NONBLOCK; fstat then turns it away), nor can a device feed bytes without end. Undefined
 * otherwise, or when it cannot be opened: for stores where such a file is a miss (the caches).
 */
export async function openRegular(path: string, maxBytes: number): Promise<{ handle: FileHandle; size: number } | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = await handle.stat();
    if (st.isFile() && st.size <= maxBytes) return { handle, size: st.size };
  } catch {
    // as unreadable
  }
  await handle.close();
  return undefined;
}
