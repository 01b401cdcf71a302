/**
 * Checked reads over the bytes of an rpm database, shared by the backends and the header reader:
 * a count, length or offset the input declares is compared with the bytes actually there before
 * anything is read or allocated by it, and a failed check is an Unreadable (what was expected),
 * which the reader turns into a warning.
 */

/** The input is not what the format says: the message is what was expected (and what was found). */
export class Unreadable extends Error {}

export function fail(expected: string): never {
  throw new Unreadable(expected);
}

/** Fail unless bytes [at, at + n) are in `b`. */
export function need(b: Uint8Array, at: number, n: number, what: string): void {
  if (!(at >= 0 && n >= 0 && at + n <= b.length)) fail(`expected ${what} at byte ${at}, past the end of ${b.length} bytes`);
}

export function u16(b: Uint8Array, at: number, le: boolean, what = 'a 16-bit number'): number {
  need(b, at, 2, what);
  return le ? b[at] | (b[at + 1] << 8) : (b[at] << 8) | b[at + 1];
}

export function u32(b: Uint8Array, at: number, le: boolean, what = 'a 32-bit number'): number {
  need(b, at, 4, what);
  return le ? (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0 : ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/**
 * What one database's package records may add up to: at most the file's own size, since in a
 * sound file they are disjoint, so a record (or a page of them) that hostile offsets make appear
 * many times ends the read instead of costing its size once per appearance. (File paths are
 * charged to the view's budget, path-budget.ts.)
 */
export class Budget {
  constructor(
    private left: number,
    /** What was expected, for the message. */
    private readonly expected: string,
  ) {}

  spend(n: number): void {
    this.left -= n;
    if (this.left < 0) fail(`expected ${this.expected}`);
  }
}

/** A database backend: hands each package header blob to `each`, in the database's order; throws Unreadable. */
export type BlobReader = (bytes: Uint8Array, each: (blob: Uint8Array) => void) => void;
