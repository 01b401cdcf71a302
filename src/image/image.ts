/**
 * The one image model every source produces and every analysis consumes (like
 * go-containerregistry's v1.Image). Analyses never learn where the bytes came from.
 */
import type { LayerScan } from '../scan/scan-layer.js';
import type { Platform } from './platform.js';

/** Where a file's bytes lie on disk: a scan worker reads them itself (docs/performance.md). */
export interface FileRange {
  file: string;
  offset: number;
  size: number;
}

/** How far the bytes of a blob being fetched have come (a source reports it; progress bars show it). */
export interface BlobProgress {
  /** Layer position, or -1 for the config. */
  layer: number;
  digest: string;
  done: number;
  total: number;
  cached: boolean;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
  author?: string;
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: {
    User?: string;
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, object> | null;
    Volumes?: Record<string, object> | null;
  };
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
}

export interface Layer {
  /** Position in the manifest: a blob listed twice is two layers. */
  index: number;
  /** From config.rootfs.diff_ids: verified against the uncompressed stream. */
  diffId: string;
  /** Blob digest where the source declares one (manifest descriptor, content-addressed path). */
  digest?: string;
  mediaType?: string;
  /** Size of the blob as stored or declared. */
  blobSize?: number;
  /** Names the layer in messages: "layer 3 (blobs/sha256/ab12…)". */
  where: string;
  /** The blob's bytes as stored (compressed or not; the reader sniffs). */
  open(): AsyncIterable<Buffer>;
  /** The same bytes as a range of a local file, when they are one: a scan worker reads them itself. */
  file?: FileRange;
  /** Set by sources that had to read the bytes before the layer order was known (stdin). */
  scanned?: LayerScan;
  /**
   * The bytes are fetched by `digest` from a store that verifies it on every fetch (a registry), so
   * the digest names these very bytes; local bytes are named by nothing until they are hashed.
   */
  contentAddressed?: boolean;
}

export type SourceKind = 'docker-archive' | 'oci' | 'oci-archive' | 'docker-archive-stdin' | 'registry' | 'docker-daemon' | 'podman';

export interface Image {
  /** The reference as the user gave it. */
  ref: string;
  source: SourceKind;
  tags: string[];
  /** Digest of the manifest, where the image has one (OCI layouts, Docker 25+ saves). */
  manifestDigest?: string;
  configDigest: string;
  /** The manifest's annotations, where the image has a manifest (e.g. `org.opencontainers.image.base.name`). */
  annotations?: Record<string, string>;
  /**
   * The config with every secret value masked (analyze/risks/config-secrets.ts, applied once when
   * the image is opened): what every analysis, renderer and cache reads.
   */
  config: ImageConfig;
  /** The config as the image holds it, secrets and all: only for finding them and for writing images. */
  rawConfig?: ImageConfig;
  /**
   * Set on a stand-in opened without its layers' bytes (an engine's image whose config strata kept):
   * enough to find a cached report; reading the layers needs the image `reopen` gives.
   */
  reopen?: () => Promise<Image>;
  platform: Platform;
  layers: Layer[];
}
