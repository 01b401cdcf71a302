/**
 * References that name an image somewhere else than a file: `docker://REF` (a registry, skopeo's
 * name), `docker-daemon:REF`, `podman:REF`, and a bare `REF` (`alpine`, `nginx:1.27`,
 * `ghcr.io/org/app@sha256:…`), which is read from the local Docker engine when it answers and holds
 * the image, else pulled from its registry.
 */
import { BlobCache, defaultCacheDir } from '../cache/cache.js';
import type { Image } from '../image/image.js';
import type { Platform } from '../image/platform.js';
import type { RegistryOptions } from './registry/open.js';
import type { ContentScanSettings } from '../scan/secret-scan.js';
import { formatReference, parseReference, tryParseReference } from './registry/reference.js';

/** `--timeout`: seconds a registry exchange may go without progress (here, not in registry/, so the CLI can state it without loading the HTTP client). */
export const DEFAULT_REGISTRY_TIMEOUT_S = 30;

export interface RemoteOptions extends Omit<RegistryOptions, 'platform' | 'cache'> {
  /** Blob cache directory; default $XDG_CACHE_HOME/strata (or ~/.cache/strata). */
  cacheDir?: string;
  noCache?: boolean;
  /** Cache size cap in bytes. */
  cacheMax?: number;
  /** Engine probe timeout (ping / inspect). */
  probeTimeoutMs?: number;
  /** Engine exports are scanned as they pass: what small files are read for. */
  secrets?: ContentScanSettings;
}

export type RemoteVia = 'registry' | 'docker-daemon' | 'podman' | 'auto';

export interface RemoteTarget {
  via: RemoteVia;
  /** The reference without its prefix. */
  name: string;
}

const forced: [string, RemoteVia][] = [['docker://', 'registry'], ['docker-daemon:', 'docker-daemon'], ['podman:', 'podman']];
/** What looks like a file the user meant, even when it also parses as a reference. */
const pathLike = /^(?:\.{0,2}\/|~)|\.(?:tar|tgz|gz|zst|tar\.gz|tar\.zst|json)$/;

/** The remote target `ref` names, or undefined when it is a path (or a file-kind prefix). */
export function remoteTarget(ref: string): RemoteTarget | undefined {
  for (const [prefix, via] of forced) {
    if (ref.startsWith(prefix)) return { via, name: ref.slice(prefix.length) };
  }
  if (pathLike.test(ref) || !tryParseReference(ref)) return undefined;
  return { via: 'auto', name: ref };
}

export async function openRemote(target: RemoteTarget, refText: string, platform: Platform | undefined, opts: RemoteOptions = {}): Promise<Image> {
  // loaded here, not with the CLI: a command on a file needs neither HTTP clients nor tar-stream
  const [{ dockerEndpoint, engineHas, openEngineImage, openPodmanImage, podmanEndpoints }, { openRegistryImage }] = await Promise.all([
    import('./engine.js'),
    import('./registry/open.js'),
  ]);
  const env = opts.env ?? process.env;
  const note = opts.onNote ?? (() => undefined);
  const blobs = opts.noCache ? undefined : new BlobCache(opts.cacheDir ?? defaultCacheDir(env), opts.cacheMax);
  const engineOpts = { platform, env, probeTimeoutMs: opts.probeTimeoutMs, secrets: opts.secrets, configs: blobs };
  if (target.via === 'docker-daemon') {
    const ep = dockerEndpoint(env);
    note(`reading ${target.name} from the docker engine at ${ep.url}`);
    return openEngineImage(ep, target.name, refText, engineOpts);
  }
  if (target.via === 'podman') {
    note(`reading ${target.name} from podman`);
    return openPodmanImage(target.name, refText, engineOpts);
  }
  const ref = parseReference(target.name);
  if (target.via === 'auto') {
    for (const ep of [dockerEndpoint(env), ...podmanEndpoints(env)]) {
      if (await engineHas(ep, target.name, opts.probeTimeoutMs ?? 2000)) {
        note(`reading ${target.name} from the ${ep.kind} engine at ${ep.url} (docker://${target.name} pulls from the registry instead)`);
        return openEngineImage(ep, target.name, refText, engineOpts);
      }
    }
  }
  note(`pulling ${formatReference(ref)} from the registry`);
  return openRegistryImage(ref, refText, { ...opts, platform, cache: blobs });
}
