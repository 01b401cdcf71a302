/**
 * Content digests (OCI image spec, descriptor.md): the one place that knows which algorithms strata
 * verifies and how long their encoded part is. Every digest read from input is checked here, and
 * every content check hashes with the algorithm its digest names, so a digest strata cannot verify
 * is refused rather than silently trusted.
 */
import { createHash, type Hash } from 'node:crypto';
import { z } from 'zod';
import { StrataError } from './errors.js';

/** The algorithms the OCI image spec registers, with the form of their encoded part. */
const REGISTERED = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ } as const;
export type DigestAlgorithm = keyof typeof REGISTERED;

/** The spec's grammar of any digest: `algorithm ":" encoded`. */
const GRAMMAR = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** What is wrong with `d` as a digest strata can verify, or undefined when nothing is. */
export function digestProblem(d: string): string | undefined {
  const m = GRAMMAR.exec(d);
  if (!m) return `must be a digest like sha256:<64 hex digits>, not ${d.length > 20 ? `${JSON.stringify(d.slice(0, 20))}…` : JSON.stringify(d)}`;
  const alg = m[1];
  if (!Object.hasOwn(REGISTERED, alg)) return `uses unsupported digest algorithm ${JSON.stringify(alg.slice(0, 20))} (strata verifies ${Object.keys(REGISTERED).join(', ')})`;
  const form = REGISTERED[alg as DigestAlgorithm];
  if (!form.test(m[2])) return `is not a valid ${alg} digest (expected ${form === REGISTERED.sha256 ? 64 : 128} lowercase hex digits)`;
  return undefined;
}

/** A digest field of a JSON document: a string strata can verify. */
export const Digest = z.string().superRefine((d, ctx) => {
  const problem = digestProblem(d);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Check a digest that did not come through a schema (a reference, a path); `what` names it. */
export function checkDigest(d: string, what: string): DigestAlgorithm {
  const problem = digestProblem(d);
  if (problem) throw new StrataError(`${what} ${problem}`);
  return algorithmOf(d);
}

/** The algorithm of a digest already checked. */
export function algorithmOf(d: string): DigestAlgorithm {
  return d.slice(0, d.indexOf(':')) as DigestAlgorithm;
}

export function digestOf(bytes: Buffer, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/**
 * Hashes content as it streams past with the algorithm `expected` names (refused at once when strata
 * cannot verify it); `check` throws on a mismatch. `what` names the content in errors.
 */
export class DigestVerifier {
  private readonly hash: Hash;
  constructor(readonly expected: string, private readonly what: string) {
    this.hash = createHash(checkDigest(expected, what));
  }

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }

  check(): void {
    const got = `${algorithmOf(this.expected)}:${this.hash.digest('hex')}`;
    if (got !== this.expected) throw new StrataError(`${this.what}: content does not match its digest (got ${got})`);
  }
}

/** Verify whole content (a JSON blob) against its digest. */
export function verifyDigest(bytes: Buffer, expected: string, what: string): void {
  const v = new DigestVerifier(expected, what);
  v.update(bytes);
  v.check();
}
