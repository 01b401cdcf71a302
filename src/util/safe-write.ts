/**
 * The one way strata writes a file (issue 29): the bytes go to a temporary beside the target,
 * created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW, a random name, mode 0600), so that nothing
 * planted there beforehand (a symlink to a victim, someone else's file) is written through or
 * reused; the temporary becomes the target by one rename only when it is complete, so a failed run
 * leaves neither a temporary nor half an output. The target's last component is replaced, never
 * followed: when it is a symlink the user made, the link becomes the file and its old destination
 * is left as it was (what `mv`, `sed -i` and compilers do).
 */
import { randomBytes } from 'node:crypto';
import { constants, createWriteStream, type Stats, type WriteStream } from 'node:fs';
import { lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StrataError } from './errors.js';

const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** Nobody else reads a temporary while it is written; the mode the file ends with is set on commit. */
const TEMP_MODE = 0o600;

/** The mode a new file gets from open(0666) under this process's umask: what a user expects of an output. */
function defaultMode(): number {
  return 0o666 & ~process.umask();
}

/**
 * A new file in `dir` named `${stem}.${random hex}${suffix}`, created exclusively: an existing name (a planted
 * symlink, anything) fails with EEXIST instead of being opened. 64 random bits leave no name to plant.
 */
export async function createExclusive(dir: string, stem: string, suffix = ''): Promise<{ path: string; handle: FileHandle }> {
  const path = join(dir, `${stem}.${randomBytes(8).toString('hex')}${suffix}`);
  return { path, handle: await open(path, TEMP_FLAGS, TEMP_MODE) };
}

/** Whether `err` is a failed system call (it has an errno code), as opposed to a bug or bad input. */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/**
 * `cannot write OUT: permission denied (EACCES)`: a failed system call while writing OUT as one line,
 * with the errno's meaning (libuv's text, without the paths Node appends); other errors pass as they are.
 */
export function cannotWrite(output: string, err: unknown): unknown {
  if (!isSystemError(err)) return err;
  const meaning = /^[A-Z0-9]+: ([^,]+)/.exec(err.message)?.[1] ?? 'failed';
  return new StrataError(`cannot write ${output}: ${meaning} (${err.code})`);
}

/** The entry at `path` itself (a symlink is not followed), or undefined when there is none. */
export async function lstatOrNone(path: string): Promise<Stats | undefined> {
  return lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
}

/** What a refused target is, or undefined when it may be replaced: absent, a regular file, or a symlink (the link is replaced). */
async function refusedKind(target: string): Promise<string | undefined> {
  const st = await lstatOrNone(target);
  if (!st || st.isFile() || st.isSymbolicLink()) return undefined;
  return st.isDirectory() ? 'is a directory' : 'exists and is not a regular file (a device, pipe or socket)';
}

/**
 * Fails early, before any work, when `target` could not be written: its directory refuses a new file
 * (read-only, no permission, /proc, /sys) or the target is a directory or a device. Creates and
 * removes one temporary, the only honest test of "may I create a file here".
 */
export async function checkWritable(target: string, output = target): Promise<void> {
  try {
    const refused = await refusedKind(target);
    if (refused) throw new StrataError(`cannot write ${output}: ${refused}`);
    const probe = await createExclusive(dirname(target), `.${basename(target)}.strata`, '.tmp');
    await probe.handle.close();
    await unlink(probe.path);
  } catch (e) {
    throw cannotWrite(output, e);
  }
}

/** A file being written under a temporary name; `commit` makes it the target, `discard` leaves no trace. */
export class AtomicFile {
  private closed = false;

  private constructor(readonly target: string, readonly temporary: string, readonly handle: FileHandle, private readonly output: string, private readonly mode: number) {}

  /**
   * Start writing `target`; `output` names it in errors (default: the target), `mode` is the final
   * mode (default: 0666 less the umask).
   */
  static async open(target: string, opts: { output?: string; mode?: number } = {}): Promise<AtomicFile> {
    const output = opts.output ?? target;
    try {
      const refused = await refusedKind(target);
      if (refused) throw new StrataError(`cannot write ${output}: ${refused}`);
      // the temporary's name ends in .tmp: cache directories skip such names when they count their entries
      const { path, handle } = await createExclusive(dirname(target), `.${basename(target)}.strata`, '.tmp');
      return new AtomicFile(target, path, handle, output, opts.mode ?? defaultMode());
    } catch (e) {
      throw cannotWrite(output, e);
    }
  }

  /**
   * A stream into the temporary; ending it does not close the file (`commit` does). On the raw fd:
   * a FileHandle's own stream that leaves it open keeps a reference that makes its close() wait forever.
   */
  stream(): WriteStream {
    return createWriteStream('', { fd: this.handle.fd, autoClose: false });
  }

  async write(data: string | Uint8Array): Promise<void> {
    try {
      await this.handle.writeFile(data);
    } catch (e) {
      throw cannotWrite(this.output, e);
    }
  }

  /** Flush, give the file its mode, and rename it over the target; on failure nothing is left. */
  async commit(): Promise<void> {
    try {
      await this.handle.chmod(this.mode);
      await this.handle.sync(); // a full disk (ENOSPC) or lost network file shows here at the latest
      this.closed = true;
      await this.handle.close();
      await rename(this.temporary, this.target);
    } catch (e) {
      await this.discard();
      throw cannotWrite(this.output, e);
    }
  }

  async discard(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.handle.close().catch(() => undefined);
    }
    await unlink(this.temporary).catch(() => undefined);
  }
}

/** Write `data` to `target` whole or not at all (see the file's comment); errors are `cannot write OUTPUT: …`. */
export async function writeFileAtomic(target: string, data: string | Uint8Array, opts: { output?: string; mode?: number } = {}): Promise<void> {
  const file = await AtomicFile.open(target, opts);
  try {
    await file.write(data);
  } catch (e) {
    await file.discard();
    throw e;
  }
  await file.commit();
}
