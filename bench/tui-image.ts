/**
 * Synthetic OCI image layouts for the explorer benchmark: headers from the tests' tar writer streaming into gzip, hashed on
 * the way (diff_id over the tar, digest over the blob), and a layout (oci-layout, index.json,
 * manifest, config, blobs) around the layers.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { headerBlock, ustarSplit } from '../test/helpers/tar-writer.js';

export interface Entry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size?: number;
  mode?: number;
  link?: string;
}

const BLOCK = 512;

export function tarHeader(e: Entry): Buffer {
  const path = e.type === 'dir' ? `${e.path}/` : e.path;
  const { name, prefix } = path.length > 100 ? ustarSplit(path) : { name: path, prefix: undefined };
  const typeflag = e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2';
  return headerBlock({ name, prefix, typeflag, size: e.type === 'file' ? (e.size ?? 0) : 0, mode: e.mode ?? (e.type === 'dir' ? 0o755 : 0o644), mtime: 1700000000, linkname: e.link });
}

export interface Blob {
  digest: string;
  diffId: string;
  size: number;
}

/** Write entries as a gzip tar layer into `blobsDir`, named by its digest. */
export async function writeLayer(blobsDir: string, entries: Iterable<Entry>): Promise<Blob> {
  const tmp = join(blobsDir, `tmp-${process.pid}-${Date.now()}`);
  const out = createWriteStream(tmp);
  const gz = createGzip({ level: 1 });
  const tarHash = createHash('sha256');
  const blobHash = createHash('sha256');
  let size = 0;
  gz.on('data', (b: Buffer) => {
    blobHash.update(b);
    size += b.length;
  });
  gz.pipe(out);
  const zeros = Buffer.alloc(64 * 1024);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    const chunk = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    tarHash.update(chunk);
    if (!gz.write(chunk)) await new Promise((r) => gz.once('drain', r));
  };
  const push = async (b: Buffer) => {
    pending.push(b);
    pendingBytes += b.length;
    if (pendingBytes >= 1 << 20) await flush();
  };
  for (const e of entries) {
    await push(tarHeader(e));
    if (e.type === 'file' && e.size) {
      const padded = Math.ceil(e.size / BLOCK) * BLOCK;
      for (let left = padded; left > 0; left -= zeros.length) await push(zeros.subarray(0, Math.min(left, zeros.length)));
    }
  }
  await push(Buffer.alloc(BLOCK * 2));
  await flush();
  gz.end();
  await new Promise<void>((resolve, reject) => {
    out.on('finish', () => resolve());
    out.on('error', reject);
  });
  const digest = `sha256:${blobHash.digest('hex')}`;
  await rename(tmp, join(blobsDir, digest.slice(7)));
  return { digest, diffId: `sha256:${tarHash.digest('hex')}`, size };
}

/** An OCI layout directory holding one image made of the given layers (each a list of entries). */
export async function writeOciLayout(dir: string, layers: (() => Iterable<Entry>)[], createdBy: string[]): Promise<void> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const written: Blob[] = [];
  for (const l of layers) written.push(await writeLayer(blobs, l()));
  const putJson = async (obj: unknown, mediaType: string) => {
    const buf = Buffer.from(JSON.stringify(obj));
    const hex = createHash('sha256').update(buf).digest('hex');
    await writeFile(join(blobs, hex), buf);
    return { mediaType, digest: `sha256:${hex}`, size: buf.length };
  };
  const config = await putJson(
    {
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: written.map((w) => w.diffId) },
      history: createdBy.map((c) => ({ created_by: c })),
    },
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = await putJson(
    {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config,
      layers: written.map((w) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: w.digest, size: w.size })),
    },
    'application/vnd.oci.image.manifest.v1+json',
  );
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }] }));
}
