/**
 * Push an optimized image: every blob first (those the repository has already, like the kept base
 * layers, are skipped after a HEAD), the config, and the manifest last, so that a failure part way
 * leaves no manifest naming missing blobs. Credentials: the stored logins strata reads for pulls
(Docker and Podman auth files, credential helpers).
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { StrataError } from '../util/errors.js';
import { registryClient } from '../sources/registry/open.js';
import { parseReference, referenceTarget } from '../sources/registry/reference.js';
import type { BuiltImage } from './build-image.js';

export interface PushOptions {
  insecure?: boolean;
  /** `--timeout`: how long an exchange may go without progress (the pull's deadline policy). */
  timeoutMs?: number;
  onNote?: (msg: string) => void;
}

export async function pushImage(img: BuiltImage, refText: string, opts: PushOptions): Promise<void> {
  const ref = parseReference(refText);
  if (ref.digest) throw new StrataError(`-o docker://${refText}: push to a tag, not a digest (the manifest's digest is known only once written)`);
  const client = registryClient(ref, { insecure: opts.insecure, timeoutMs: opts.timeoutMs, onNote: opts.onNote }, true);
  const done = new Set<string>();
  for (const l of img.layers) {
    if (done.has(l.digest)) continue;
    done.add(l.digest);
    if (!(await client.hasBlob(l.digest))) await client.putBlob(l, () => createReadStream(l.file));
  }
  if (!(await client.hasBlob(img.configDigest))) await client.putBlob({ digest: img.configDigest, size: img.config.length }, () => Readable.from([img.config]));
  await client.putManifest(referenceTarget(ref), img.manifest, img.manifestMediaType);
}
