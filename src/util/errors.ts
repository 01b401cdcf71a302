/**
 * Bad input travels as a StrataError: a one-line message naming the file or layer and what was
 * expected. The command edge prints it and exits 2; anything else is a bug in strata.
 */
export class StrataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StrataError';
  }
}

/** Prefix a failure with where it happened, keeping it a StrataError. */
export function within(where: string, err: unknown): StrataError {
  const msg = err instanceof Error ? err.message : String(err);
  return new StrataError(`${where}: ${msg}`);
}
