/**
 * Small synthetic images for the waste and bloat tests: layers from entry lists (tar-writer.ts), an in-memory
 * Image fed to the real readImage pipeline, and an OCI layout writer for command-line tests.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Image } from '../../src/image/image.js';
import { readImage, type ImageModel } from '../../src/model/read-image.js';
import { tar } from './tar-writer.js';

export interface Entry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink';
  content?: Buffer;
  link?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
}

export interface LayerSpec {
  entries: Entry[];
  /** The history entry's created_by (default: a Dockerfile RUN). */
  createdBy?: string;
}

type Opts = Partial<Pick<Entry, 'mode' | 'uid' | 'gid' | 'mtime'>>;

/** Content of `size` bytes derived from `seed`: the same seed and size give the same bytes. */
export function bytes(size: number, seed: string): Buffer {
  const unit = Buffer.from(`${seed}\n`);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += unit.length) unit.copy(out, i, 0, Math.min(unit.length, size - i));
  return out;
}

export const file = (path: string, content: number | string | Buffer, o: Opts = {}): Entry => ({
  path,
  type: 'file',
  content: typeof content === 'number' ? bytes(content, path) : Buffer.from(content),
  ...o,
});
export const dir = (path: string, o: Opts = {}): Entry => ({ path, type: 'dir', ...o });
export const symlink = (path: string, link: string): Entry => ({ path, type: 'symlink', link, mode: 0o777 });
export const hardlink = (path: string, target: string, o: Opts = {}): Entry => ({ path, type: 'hardlink', link: target, ...o });
/** `.wh.NAME` next to the deleted path. */
export const whiteout = (path: string): Entry => {
  const i = path.lastIndexOf('/');
  return { path: `${path.slice(0, i + 1)}.wh.${path.slice(i + 1)}`, type: 'file', content: Buffer.alloc(0) };
};
export const opaque = (dirPath: string): Entry => ({ path: `${dirPath}/.wh..wh..opq`, type: 'file', content: Buffer.alloc(0) });

export function tarOf(entries: Entry[]): Buffer {
  return tar(
    entries.map((e) => ({
      name: e.type === 'dir' ? `${e.path}/` : e.path,
      type: e.type,
      data: e.type === 'file' ? e.content : undefined,
      linkname: e.link,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      mtime: e.mtime,
    })),
  );
}

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function configOf(tars: Buffer[], layers: LayerSpec[]) {
  return {
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: tars.map((t) => sha(t)) },
    history: layers.map((l, i) => ({ created_by: l.createdBy ?? `/bin/sh -c step ${i}` })),
  };
}

/** The image model of these layers, read by the real pipeline (tar parser, union). */
export async function modelOf(layers: LayerSpec[]): Promise<ImageModel> {
  const tars = layers.map((l) => tarOf(l.entries));
  const config = configOf(tars, layers);
  const image: Image = {
    ref: 'synthetic',
    source: 'oci',
    tags: [],
    configDigest: sha(JSON.stringify(config)),
    config,
    platform: { os: 'linux', architecture: 'amd64' },
    layers: tars.map((t, i) => ({
      index: i,
      diffId: sha(t),
      where: `layer ${i}`,
      open: async function* () {
        yield t;
      },
    })),
  };
  return readImage(image);
}

/** Write the layers as an OCI image layout directory (uncompressed layers). */
export function writeOciLayout(dirPath: string, layers: LayerSpec[]): void {
  const tars = layers.map((l) => tarOf(l.entries));
  const blobs = join(dirPath, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer | string) => {
    const d = sha(b);
    writeFileSync(join(blobs, d.slice(7)), b);
    return { digest: d, size: Buffer.byteLength(b) };
  };
  const config = put(JSON.stringify(configOf(tars, layers)));
  const manifest = put(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: tars.map((t) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...put(t) })),
    }),
  );
  writeFileSync(join(dirPath, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dirPath, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }] }));
}
