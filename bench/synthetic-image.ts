/**
 * Generates large synthetic images for the benchmark: an OCI layout with gzip layers, and the same
 * image as an uncompressed docker-archive. Two kinds of content: `text`, slices of a text corpus of
 * 30 words (it compresses 19x and inflates fast), and `binary`, slices of a corpus of short random
 * tokens, which compresses (2.3x) and inflates (300-350 MB/s of output) like this machine's /usr
 * (2.1x, 330-340 MB/s, measured side by side on 100 MB of it).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { writeLayer } from './tui-image.js';
import { headerBlock } from '../test/helpers/tar-writer.js';
import { once } from 'node:events';

export interface Spec {
  name: string;
  layers: number;
  filesPerLayer: number;
  /** Files of each layer, where they differ (one dominant layer and small ones); else filesPerLayer each. */
  filesByLayer?: number[];
  /** Mean file size; sizes vary from 0 to 2x. */
  meanSize: number;
  content?: 'text' | 'binary';
}

const words = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua function return const export import class static void int char include define struct'.split(' ');

function corpus(bytes: number, seed: number): Buffer {
  let x = seed;
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const w = words[x % words.length] + (x % 7 === 0 ? `${x % 1000}\n` : ' ');
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

/** 2,048 random tokens of 2-9 bytes, drawn with a skew (a few frequent, many rare): short matches and literals. */
function binaryCorpus(bytes: number, seed: number): Buffer {
  let y = seed | 1;
  const rnd = () => {
    y ^= y << 13;
    y ^= y >>> 17;
    y ^= y << 5;
    return y >>> 0;
  };
  const tokens = Array.from({ length: 2048 }, () => Buffer.from(Array.from({ length: 2 + (rnd() % 8) }, rnd)));
  const out = Buffer.alloc(bytes);
  for (let n = 0; n < bytes; ) n += tokens[Math.floor(((rnd() % 65536) / 65536) ** 2 * tokens.length)].copy(out, n);
  return out;
}

function header(name: string, size: number, type: '0' | '5'): Buffer {
  return headerBlock({ name, typeflag: type, size, mode: type === '5' ? 0o755 : 0o644, mtime: 0o14712345670 });
}

/** Yields the tar stream of one layer in ~1 MiB chunks. */
function* layerTar(spec: Spec, layer: number, text: Buffer): Generator<Buffer> {
  let x = 0x9e3779b9 ^ layer;
  const pending: Buffer[] = [];
  let pendingLen = 0;
  const emit = function* (b: Buffer) {
    pending.push(b);
    pendingLen += b.length;
    if (pendingLen >= 1 << 20) {
      yield Buffer.concat(pending);
      pending.length = 0;
      pendingLen = 0;
    }
  };
  const perDir = 100;
  const files = spec.filesByLayer?.[layer] ?? spec.filesPerLayer;
  for (let i = 0; i < files; i++) {
    if (i % perDir === 0) yield* emit(header(`usr/share/l${layer}/d${Math.floor(i / perDir)}/`, 0, '5'));
    x = (x * 1664525 + 1013904223) >>> 0;
    const name = `usr/share/l${layer}/d${Math.floor(i / perDir)}/f${i}.txt`;
    // Each file starts with its own name, so contents are distinct as in a real file system (random
    // slices of a small corpus would make most tiny files duplicates of each other).
    const own = Buffer.from(`${name}\n`);
    const textSize = spec.meanSize === 0 ? 0 : x % (2 * spec.meanSize + 1);
    const off = x % (text.length - textSize - 1);
    const size = own.length + textSize;
    yield* emit(header(name, size, '0'));
    yield* emit(own);
    yield* emit(text.subarray(off, off + textSize));
    const pad = (512 - (size % 512)) % 512;
    if (pad) yield* emit(Buffer.alloc(pad));
  }
  yield* emit(Buffer.alloc(1024));
  if (pendingLen) yield Buffer.concat(pending);
}

export interface Generated {
  ociDir: string;
  dockerArchive: string;
  gzipBlobs: string[];
  plainLayers: string[];
  files: number;
  gzipBytes: number;
  uncompressedBytes: number;
}

/** Generate (or reuse) the image for `spec` under `root`. */
export async function generate(root: string, spec: Spec): Promise<Generated> {
  const dir = join(root, spec.name);
  const meta = join(dir, 'generated.json');
  if (existsSync(meta)) return (await import(meta, { with: { type: 'json' } })).default as Generated;
  rmSync(dir, { recursive: true, force: true });
  const oci = join(dir, 'oci');
  const plainDir = join(dir, 'plain');
  mkdirSync(join(oci, 'blobs', 'sha256'), { recursive: true });
  mkdirSync(plainDir, { recursive: true });
  const text = spec.content === 'binary' ? binaryCorpus(4 << 20, 7) : corpus(4 << 20, 7);
  const layers: { digest: string; diffId: string; size: number; plain: string }[] = [];
  let uncompressed = 0;
  for (let l = 0; l < spec.layers; l++) {
    const gzPath = join(oci, 'blobs', 'sha256', 'tmp');
    const plainPath = join(plainDir, `${l}.tar`);
    const gz = createGzip({ level: 6 });
    const gzOut = createWriteStream(gzPath);
    const plainOut = createWriteStream(plainPath);
    const blobHash = createHash('sha256');
    const diffHash = createHash('sha256');
    let blobSize = 0;
    gz.on('data', (c: Buffer) => {
      blobHash.update(c);
      blobSize += c.length;
      if (!gzOut.write(c)) gz.pause();
    });
    gzOut.on('drain', () => gz.resume());
    for (const chunk of layerTar(spec, l, text)) {
      diffHash.update(chunk);
      uncompressed += chunk.length;
      if (!plainOut.write(chunk)) await once(plainOut, 'drain');
      if (!gz.write(chunk)) await once(gz, 'drain');
    }
    gz.end();
    await once(gz, 'end');
    gzOut.end();
    plainOut.end();
    await Promise.all([once(gzOut, 'finish'), once(plainOut, 'finish')]);
    const digest = blobHash.digest('hex');
    renameSync(gzPath, join(oci, 'blobs', 'sha256', digest));
    layers.push({ digest: `sha256:${digest}`, diffId: `sha256:${diffHash.digest('hex')}`, size: blobSize, plain: plainPath });
  }
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created_by: `/bin/sh -c generate layer ${i}` })),
  }));
  const configDigest = createHash('sha256').update(config).digest('hex');
  writeFileSync(join(oci, 'blobs', 'sha256', configDigest), config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configDigest}`, size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
  }));
  const manifestDigest = createHash('sha256').update(manifest).digest('hex');
  writeFileSync(join(oci, 'blobs', 'sha256', manifestDigest), manifest);
  writeFileSync(join(oci, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${manifestDigest}`, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }] }));
  writeFileSync(join(oci, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  // The uncompressed docker-archive: layer tars + config + manifest.json, packed with GNU tar.
  writeFileSync(join(plainDir, 'config.json'), config);
  writeFileSync(join(plainDir, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: ['bench:latest'], Layers: layers.map((_, i) => `${i}.tar`) }]));
  const dockerArchive = join(dir, 'docker-archive.tar');
  const { execFileSync } = await import('node:child_process');
  execFileSync('tar', ['-cf', dockerArchive, '-C', plainDir, '.']);
  const g: Generated = {
    ociDir: oci,
    dockerArchive,
    gzipBlobs: layers.map((l) => join(oci, 'blobs', 'sha256', l.digest.slice(7))),
    plainLayers: layers.map((l) => l.plain),
    files: spec.filesByLayer?.reduce((a, b) => a + b, 0) ?? spec.layers * spec.filesPerLayer,
    gzipBytes: layers.reduce((s, l) => s + l.size, 0),
    uncompressedBytes: uncompressed,
  };
  writeFileSync(meta, JSON.stringify(g));
  return g;
}

/** A config or manifest as parsed, edited field by field. */
type Json = Record<string, any>;

/**
 * Another image made from `g`'s: an OCI layout beside it whose blobs are hard links to its layers,
 * with the config and layers `derive` gives (it may write new layer blobs into `blobs`). Generated
 * once; returns the layout's path.
 */
async function derivedLayout(g: Generated, name: string, derive: (config: Json, manifest: Json, blobs: string) => Promise<{ config: Json; layers: Json[] }>): Promise<string> {
  const dir = join(g.ociDir, '..', name);
  if (existsSync(join(dir, 'index.json'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (bytes: Buffer): { digest: string; size: number } => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const read = (digest: string) => JSON.parse(readFileSync(join(g.ociDir, 'blobs', 'sha256', digest.slice(7)), 'utf8'));
  const index = JSON.parse(readFileSync(join(g.ociDir, 'index.json'), 'utf8'));
  const manifest = read(index.manifests[0].digest);
  for (const l of manifest.layers) linkSync(join(g.ociDir, 'blobs', 'sha256', l.digest.slice(7)), join(blobs, l.digest.slice(7)));
  const { config, layers } = await derive(read(manifest.config.digest), manifest, blobs);
  const man = put(Buffer.from(JSON.stringify({ ...manifest, config: { ...manifest.config, ...put(Buffer.from(JSON.stringify(config))) }, layers })));
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: manifest.mediaType, ...man, annotations: { 'org.opencontainers.image.ref.name': name } }] }));
  return dir;
}

/** Another image on the same base: `g`'s layers plus one small new layer (an application rebuilt over an unchanged base). */
export function appOnSameBase(g: Generated): Promise<string> {
  return derivedLayout(g, 'oci-app', async (config, manifest, blobs) => {
    // the new layer: 200 small files of an application
    const files = Array.from({ length: 200 }, (_, i) => ({ path: `srv/app-${i}.js`, type: 'file' as const, size: 200 + i }));
    const layer = await writeLayer(blobs, [{ path: 'srv', type: 'dir' }, ...files]);
    return {
      config: { ...config, rootfs: { type: 'layers', diff_ids: [...config.rootfs.diff_ids, layer.diffId] }, history: [...config.history, { created_by: 'COPY srv/ /srv/ # buildkit' }] },
      layers: [...manifest.layers, { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size }],
    };
  });
}

/** `g`'s image rebuilt with only a new label: another config (and manifest) over the same layers. */
export function relabelled(g: Generated): Promise<string> {
  return derivedLayout(g, 'oci-label', async (config, manifest) => ({
    config: {
      ...config,
      config: { ...config.config, Labels: { ...config.config?.Labels, 'org.opencontainers.image.revision': 'bench' } },
      history: [...config.history, { created_by: 'LABEL org.opencontainers.image.revision=bench # buildkit', empty_layer: true }],
    },
    layers: manifest.layers,
  }));
}

/**
 * An image of `g`'s first layer alone, stored gzip as in `g` or as plain tar: the shape of a base
 * image or a squashed one, where one layer is all the work.
 */
export function firstLayerAlone(g: Generated, plain: boolean): Promise<string> {
  return derivedLayout(g, plain ? 'one-layer-plain' : 'one-layer', async (config, manifest, blobs) => {
    const diffId: string = config.rootfs.diff_ids[0];
    if (plain) linkSync(g.plainLayers[0], join(blobs, diffId.slice(7)));
    return {
      config: { ...config, rootfs: { type: 'layers', diff_ids: [diffId] }, history: config.history.slice(0, 1) },
      layers: plain
        ? [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: diffId, size: statSync(g.plainLayers[0]).size }]
        : manifest.layers.slice(0, 1),
    };
  });
}

/** `g`'s image with its layers stored zstd (level 3, as `optimize --compression zstd` writes them). */
export function zstdLayers(g: Generated): Promise<string> {
  return derivedLayout(g, 'oci-zstd', async (config, _manifest, blobs) => {
    const { compress } = await import('zstd-napi');
    const layers = g.plainLayers.map((plain) => {
      const blob = compress(readFileSync(plain), { compressionLevel: 3 });
      const hex = createHash('sha256').update(blob).digest('hex');
      writeFileSync(join(blobs, hex), blob);
      return { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: `sha256:${hex}`, size: blob.length };
    });
    return { config, layers };
  });
}
