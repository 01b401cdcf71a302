/**
 * Builds synthetic images on disk for tests: layers from entry lists (gzip, multi-member gzip,
 * zstd or plain), then an OCI layout directory, an OCI archive, or a legacy `docker save` archive,
 * with correct digests and diff_ids unless a test tampers with the files before writing them.
 * Images are first built as a map of files so a test can corrupt any one of them.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import { tar, type Entry } from './tar-writer.js';

const require = createRequire(import.meta.url);
const { compress: zstdCompress } = require('zstd-napi') as { compress: (b: Uint8Array) => Buffer };

export type LayerCompression = 'gzip' | 'gzip-multi' | 'zstd' | 'none';

export interface LayerSpec {
  entries?: Entry[];
  /** Raw uncompressed tar bytes, instead of entries (hand-made or truncated streams). */
  tar?: Buffer;
  compression?: LayerCompression;
  /** Descriptor media type, overriding the one matching the compression. */
  mediaType?: string;
  createdBy?: string;
  /** Damage the blob after compression (digest follows the damaged bytes, diff_id the tar). */
  mangle?: (blob: Buffer) => Buffer;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageSpec {
  layers: LayerSpec[];
  /** `repo:tag` names (docker RepoTags; the OCI ref.name annotation takes the first). */
  tags?: string[];
  platform?: Platform;
  /** History entries; default one per layer from createdBy; null leaves history out. */
  history?: object[] | null;
  /** Extra config fields merged over the generated ones. */
  config?: Record<string, unknown>;
  /** The manifest's config media type (an artifact's, to test refusal). */
  configMediaType?: string;
}

export interface BuiltLayer {
  tar: Buffer;
  blob: Buffer;
  diffId: string;
  digest: string;
  compression: LayerCompression;
  mediaType: string;
}

export interface BuiltImage {
  layers: BuiltLayer[];
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
  spec: ImageSpec;
}

export type FileContent = Buffer | { symlink: string };
/** Archive or layout contents: relative path -> bytes or a symlink. Insertion order is tar order. */
export type Files = Map<string, FileContent>;

export const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hex = (digest: string) => digest.slice('sha256:'.length);

/** n incompressible but reproducible bytes (sha256 in counter mode), so failures replay exactly. */
export function noise(n: number, seed = 0): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, off = 0; off < n; i++, off += 32) {
    createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  }
  return out;
}
export const blobPath = (digest: string) => `blobs/sha256/${hex(digest)}`;

export const OCI = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

export function compressLayer(tarBytes: Buffer, c: LayerCompression): Buffer {
  switch (c) {
    case 'none':
      return tarBytes;
    case 'gzip':
      return gzipSync(tarBytes);
    case 'gzip-multi': {
      // two gzip members back to back, split mid-stream (pigz and `cat a.gz b.gz` make these)
      const cut = Math.floor(tarBytes.length / 2) + 7;
      return Buffer.concat([gzipSync(tarBytes.subarray(0, cut)), gzipSync(tarBytes.subarray(cut))]);
    }
    case 'zstd':
      return zstdCompress(tarBytes);
  }
}

const layerMediaType = (c: LayerCompression) => (c === 'none' ? OCI.layer : c === 'zstd' ? `${OCI.layer}+zstd` : `${OCI.layer}+gzip`);

export function buildLayer(spec: LayerSpec, defaultCompression: LayerCompression = 'gzip'): BuiltLayer {
  const tarBytes = spec.tar ?? tar(spec.entries ?? []);
  const compression = spec.compression ?? defaultCompression;
  const compressed = compressLayer(tarBytes, compression);
  const blob = spec.mangle ? spec.mangle(compressed) : compressed;
  return {
    tar: tarBytes,
    blob,
    diffId: sha256(tarBytes),
    digest: sha256(blob),
    compression,
    mediaType: spec.mediaType ?? layerMediaType(compression),
  };
}

export function buildImage(spec: ImageSpec, defaultCompression: LayerCompression = 'gzip'): BuiltImage {
  const layers = spec.layers.map((l) => buildLayer(l, defaultCompression));
  const platform = spec.platform ?? { os: 'linux', architecture: 'amd64' };
  const history = spec.history === undefined
    ? spec.layers.map((l, i) => ({ created: '2024-01-01T00:00:00Z', created_by: l.createdBy ?? `/bin/sh -c #(nop) layer ${i}` }))
    : spec.history;
  const config = Buffer.from(JSON.stringify({
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created: '2024-01-01T00:00:00Z',
    config: { Cmd: ['/bin/sh'], Env: ['PATH=/usr/bin:/bin'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    ...(history === null ? {} : { history }),
    ...spec.config,
  }));
  const configDigest = sha256(config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI.manifest,
    config: { mediaType: spec.configMediaType ?? OCI.config, digest: configDigest, size: config.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length })),
  }));
  return { layers, config, configDigest, manifest, manifestDigest: sha256(manifest), spec };
}

// ---- OCI layout ----------------------------------------------------------------------------------

export interface LayoutSpec {
  images: ImageSpec[];
  /**
   * Several images as one multi-platform index instead of one index.json entry per image.
   * nested: index.json points to an index blob; attestation: add a buildx attestation manifest
   * (unknown/unknown) before the images; tag: ref.name of the index.
   */
  multiPlatform?: { nested?: boolean; attestation?: boolean; tag?: string };
}

export interface BuiltLayout {
  files: Files;
  images: BuiltImage[];
  /** Digest of the nested index, when there is one. */
  indexDigest?: string;
}

function descriptor(mediaType: string, bytes: Buffer, extra: object = {}) {
  return { mediaType, digest: sha256(bytes), size: bytes.length, ...extra };
}

function addBlob(files: Files, bytes: Buffer): string {
  const d = sha256(bytes);
  files.set(blobPath(d), bytes);
  return d;
}

function attestationManifest(files: Files, subject: string): Buffer {
  const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', subject: [{ digest: { sha256: hex(subject) } }] }));
  const config = Buffer.from(JSON.stringify({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(statement)] } }));
  addBlob(files, statement);
  addBlob(files, config);
  return Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI.manifest,
    config: descriptor(OCI.config, config),
    layers: [descriptor('application/vnd.in-toto+json', statement, { annotations: { 'in-toto.io/predicate-type': 'https://spdx.dev/Document' } })],
  }));
}

export function ociLayoutFiles(spec: LayoutSpec): BuiltLayout {
  const files: Files = new Map();
  files.set('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  const images = spec.images.map((s) => buildImage(s));
  for (const img of images) {
    for (const l of img.layers) files.set(blobPath(l.digest), l.blob);
    addBlob(files, img.config);
    addBlob(files, img.manifest);
  }
  const platformOf = (img: BuiltImage) => img.spec.platform ?? { os: 'linux', architecture: 'amd64' };
  let top: object[];
  let indexDigest: string | undefined;
  if (spec.multiPlatform) {
    const mp = spec.multiPlatform;
    const manifests: object[] = images.map((img) => descriptor(OCI.manifest, img.manifest, { platform: platformOf(img) }));
    if (mp.attestation) {
      const att = attestationManifest(files, images[0].manifestDigest);
      addBlob(files, att);
      manifests.unshift(descriptor(OCI.manifest, att, {
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.digest': images[0].manifestDigest, 'vnd.docker.reference.type': 'attestation-manifest' },
      }));
    }
    const annotations = mp.tag ? { annotations: { 'org.opencontainers.image.ref.name': mp.tag } } : {};
    if (mp.nested) {
      const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI.index, manifests }));
      indexDigest = addBlob(files, index);
      top = [descriptor(OCI.index, index, annotations)];
    } else {
      top = manifests.map((m) => ({ ...m, ...annotations }));
    }
  } else {
    top = images.map((img) => {
      const tag = img.spec.tags?.[0];
      return descriptor(OCI.manifest, img.manifest, tag ? { annotations: { 'org.opencontainers.image.ref.name': tag } } : {});
    });
  }
  files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI.index, manifests: top })));
  return { files, images, indexDigest };
}

// ---- legacy docker save --------------------------------------------------------------------------

export interface DockerArchiveSpec {
  images: ImageSpec[];
  /** docker save writes manifest.json after the layers; true puts it first. */
  manifestFirst?: boolean;
}

export interface BuiltDockerArchive {
  files: Files;
  images: BuiltImage[];
  /** Per image, the Layers paths written in manifest.json. */
  layerPaths: string[][];
}

/**
 * Docker 20.10's layout: `<v1id>/{VERSION,json,layer.tar}` per layer position, `<config hex>.json`,
 * manifest.json and repositories. A layer whose blob appeared before is written as a symlink
 * `../<first id>/layer.tar`, as docker does. Layers default to plain tar.
 */
export function dockerArchiveFiles(spec: DockerArchiveSpec): BuiltDockerArchive {
  const files: Files = new Map();
  const images = spec.images.map((s) => buildImage(s, 'none'));
  const firstDirOf = new Map<string, string>();
  const manifest: object[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const layerPaths: string[][] = [];
  for (const img of images) {
    const paths: string[] = [];
    let parent = '';
    img.layers.forEach((l, i) => {
      const id = hex(sha256(`${parent}\n${l.diffId}\n${i}`));
      if (!files.has(`${id}/VERSION`)) {
        files.set(`${id}/VERSION`, Buffer.from('1.0'));
        files.set(`${id}/json`, Buffer.from(JSON.stringify({ id, ...(parent ? { parent } : {}), created: '2024-01-01T00:00:00Z' })));
        const first = firstDirOf.get(l.digest);
        files.set(`${id}/layer.tar`, first ? { symlink: `../${first}/layer.tar` } : l.blob);
        if (!first) firstDirOf.set(l.digest, id);
      }
      paths.push(`${id}/layer.tar`);
      parent = id;
    });
    const configName = `${hex(img.configDigest)}.json`;
    files.set(configName, img.config);
    manifest.push({ Config: configName, RepoTags: img.spec.tags ?? null, Layers: paths });
    for (const t of img.spec.tags ?? []) {
      const colon = t.lastIndexOf(':');
      (repositories[t.slice(0, colon)] ??= {})[t.slice(colon + 1)] = parent;
    }
    layerPaths.push(paths);
  }
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  if (spec.manifestFirst) {
    const rest = [...files];
    files.clear();
    files.set('manifest.json', manifestBytes);
    for (const [k, v] of rest) files.set(k, v);
  } else {
    files.set('manifest.json', manifestBytes);
  }
  files.set('repositories', Buffer.from(JSON.stringify(repositories)));
  return { files, images, layerPaths };
}

/**
 * Docker 25+'s `docker save`: an OCI layout (oci-layout, index.json, blobs/) plus a manifest.json
 * whose Config and Layers point into blobs/.
 */
export function docker25ArchiveFiles(spec: LayoutSpec): BuiltLayout {
  const built = ociLayoutFiles(spec);
  const manifest = built.images.map((img) => ({
    Config: blobPath(img.configDigest),
    RepoTags: img.spec.tags ?? null,
    Layers: img.layers.map((l) => blobPath(l.digest)),
  }));
  built.files.set('manifest.json', Buffer.from(JSON.stringify(manifest)));
  return built;
}

// ---- writing -------------------------------------------------------------------------------------

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'strata-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writeDir(dir: string, files: Files): string {
  for (const [p, c] of files) {
    const full = join(dir, p);
    mkdirSync(dirname(full), { recursive: true });
    if (Buffer.isBuffer(c)) writeFileSync(full, c);
    else symlinkSync(c.symlink, full);
  }
  return dir;
}

/** The files as a tar archive (tar-stream's writer: independent of strata's tar reader). */
export async function tarFiles(files: Files, opts: { dirs?: boolean } = {}): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  const put = (h: Partial<Header> & { name: string }, data?: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (data) p.entry(h, data, cb);
      else p.entry(h, cb);
    });
  const mtime = new Date('2024-01-01T00:00:00Z');
  const seenDirs = new Set<string>();
  for (const [path, c] of files) {
    if (opts.dirs) {
      const parts = path.split('/').slice(0, -1);
      for (let i = 1; i <= parts.length; i++) {
        const d = parts.slice(0, i).join('/');
        if (seenDirs.has(d)) continue;
        seenDirs.add(d);
        await put({ name: `${d}/`, type: 'directory', mode: 0o755, mtime });
      }
    }
    if (Buffer.isBuffer(c)) await put({ name: path, type: 'file', mode: 0o644, size: c.length, mtime }, c);
    else await put({ name: path, type: 'symlink', linkname: c.symlink, mode: 0o777, mtime });
  }
  p.finalize();
  await collected;
  return Buffer.concat(chunks);
}

export async function writeTar(path: string, files: Files, opts: { dirs?: boolean } = {}): Promise<string> {
  writeFileSync(path, await tarFiles(files, opts));
  return path;
}

// ---- one-call conveniences -----------------------------------------------------------------------

export function writeOciLayout(dir: string, spec: LayoutSpec): BuiltLayout {
  const built = ociLayoutFiles(spec);
  writeDir(dir, built.files);
  return built;
}

export async function writeOciArchive(path: string, spec: LayoutSpec): Promise<BuiltLayout> {
  const built = ociLayoutFiles(spec);
  await writeTar(path, built.files);
  return built;
}

export async function writeDockerArchive(path: string, spec: DockerArchiveSpec): Promise<BuiltDockerArchive> {
  const built = dockerArchiveFiles(spec);
  await writeTar(path, built.files, { dirs: true });
  return built;
}
