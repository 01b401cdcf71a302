/** A registry reference -> Image: manifest (through an index by platform), config, layers streamed on demand. */
import { parseJson } from '../../util/json-doc.js';
import { StrataError } from '../../util/errors.js';
import type { BlobProgress, Image, Layer } from '../../image/image.js';
import { BlobCache } from '../../cache/cache.js';
import {
  checkImageConfig, choosePlatform, ConfigSchema, flattenIndex, isIndex, validateManifest,
  type Descriptor, type Index,
} from '../../image/oci.js';
import type { Platform } from '../../image/platform.js';
import { normalizeTag } from '../select.js';
import { RegistryClient, type BlobRef } from './client.js';
import { findCredentials, type Credentials } from './credentials.js';
import { formatReference, referenceTarget, type Reference } from './reference.js';
import { DEFAULT_REGISTRY_TIMEOUT_S } from '../remote.js';

const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

export interface RegistryOptions {
  platform?: Platform;
  /** From --username / --password-stdin; otherwise the stored logins are searched. */
  username?: string;
  password?: string;
  insecure?: boolean;
  cache?: BlobCache;
  /** How long a registry exchange may go without progress (`--timeout`; http.ts, Deadline). */
  timeoutMs?: number;
  attempts?: number;
  backoffMs?: number;
  env?: NodeJS.ProcessEnv;
  onNote?: (msg: string) => void;
  onProgress?: (p: BlobProgress) => void;
}

export function registryClient(ref: Reference, opts: RegistryOptions, push = false): RegistryClient {
  const env = opts.env ?? process.env;
  const credentials = async (): Promise<Credentials | undefined> => {
    if (opts.username !== undefined) {
      return { kind: 'basic', username: opts.username, password: opts.password ?? '', from: '--username' };
    }
    return findCredentials(ref.registry, ref.repository, env);
  };
  return new RegistryClient(ref.registry, ref.repository, {
    insecure: opts.insecure ?? false,
    insecureTls: opts.insecure ?? false,
    timeoutMs: opts.timeoutMs ?? DEFAULT_REGISTRY_TIMEOUT_S * 1000,
    attempts: opts.attempts ?? 5,
    backoffMs: opts.backoffMs ?? 1000,
    credentials,
    onNote: opts.onNote,
    onRetry: opts.onNote,
  }, push);
}

export async function openRegistryImage(ref: Reference, refText: string, opts: RegistryOptions): Promise<Image> {
  const client = registryClient(ref, opts);
  const where = formatReference(ref);
  const top = await client.manifest(referenceTarget(ref));
  let chosen = top;
  let fromIndex = false;
  if (isIndex(top.doc as Index, top.mediaType)) {
    const loadIndex = async (d: Descriptor) => {
      const m = await client.manifest(d.digest);
      if (!isIndex(m.doc as Index, m.mediaType)) throw new StrataError(`${where}: ${d.digest} is a manifest where an index was expected`);
      return m.doc as Index;
    };
    const cands = await flattenIndex(top.doc as Index, loadIndex, where);
    const pick = choosePlatform(cands, opts.platform, where);
    chosen = await client.manifest(pick.descriptor.digest);
    if (isIndex(chosen.doc as Index, chosen.mediaType)) throw new StrataError(`${where}: ${pick.descriptor.digest} is an index where a manifest was expected`);
    fromIndex = !!pick.platform;
  }
  const manifest = validateManifest(chosen.doc, `${where} manifest ${chosen.digest}`);
  const fetchBlob = (d: BlobRef, layer: number) => blobSource(client, d, layer, opts);
  const configBytes = await collect(fetchBlob(manifest.config, -1), manifest.config.size, MAX_CONFIG_BYTES, where);
  const config = parseJson(configBytes, ConfigSchema, `${where} config ${manifest.config.digest}`);
  const platform = checkImageConfig(config, manifest.layers.length, where, { listedIn: 'manifest', want: opts.platform, pickedByIndex: fromIndex });
  const layers: Layer[] = manifest.layers.map((d, i) => ({
    index: i,
    diffId: config.rootfs.diff_ids[i],
    digest: d.digest,
    mediaType: d.mediaType,
    blobSize: d.size,
    where: `layer ${i} (${d.digest.slice(0, 19)}…)`,
    open: () => fetchBlob(d, i),
    contentAddressed: true,
  }));
  return {
    ref: refText,
    source: 'registry',
    tags: ref.tag ? [normalizeTag(formatReference({ ...ref, digest: undefined }))] : [],
    manifestDigest: chosen.digest,
    configDigest: manifest.config.digest,
    annotations: manifest.annotations,
    config,
    platform,
    layers,
  };
}

/** A blob from the cache when there, else from the registry through the cache. */
async function* blobSource(client: RegistryClient, d: BlobRef, layer: number, opts: RegistryOptions): AsyncGenerator<Buffer> {
  const total = d.size;
  let done = 0;
  const report = (n: number, cached: boolean) => {
    done += n;
    opts.onProgress?.({ layer, digest: d.digest, done, total, cached });
  };
  const hit = await opts.cache?.get(d.digest, d.size);
  if (hit) {
    for await (const c of hit) {
      report(c.length, true);
      yield c;
    }
    return;
  }
  const remote = client.blob(d, (n) => report(n, false));
  yield* opts.cache ? opts.cache.through(d.digest, remote) : remote;
}

async function collect(src: AsyncIterable<Buffer>, size: number, limit: number, where: string): Promise<Buffer> {
  if (size > limit) throw new StrataError(`${where}: config is ${size} bytes, more than ${limit}`);
  const parts: Buffer[] = [];
  for await (const c of src) parts.push(c);
  return Buffer.concat(parts);
}
