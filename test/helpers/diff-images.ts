/**
 * Synthetic OCI layouts for the diff tests: layers from entry lists (tar-writer.ts, with PAX
 * xattrs, so every field the diff compares can be set), gzip or plain, with correct digests.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tar } from './tar-writer.js';

export interface Entry {
  path: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char';
  content?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  link?: string;
  dev?: [number, number];
  xattrs?: Record<string, string>;
}

export interface LayerSpec {
  entries: Entry[];
  createdBy?: string;
  gzip?: boolean;
}

export interface ImageSpec {
  layers: LayerSpec[];
  config?: Record<string, unknown>;
  architecture?: string;
  /** Extra history entries with no layer, appended after the layers'. */
  emptyHistory?: string[];
}

export function tarOf(entries: Entry[]): Buffer {
  return tar(
    entries.map((e) => {
      const type = e.type ?? (e.content !== undefined ? 'file' : 'dir');
      const pax = e.xattrs && Object.fromEntries(Object.entries(e.xattrs).map(([k, v]) => [`SCHILY.xattr.${k}`, v]));
      return {
        name: type === 'dir' ? `${e.path}/` : e.path,
        type,
        data: type === 'file' ? (e.content ?? '') : undefined,
        linkname: e.link,
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        mtime: e.mtime,
        devmajor: e.dev?.[0],
        devminor: e.dev?.[1],
        pax,
      };
    }),
  );
}

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const made: string[] = [];

/** A fresh temporary directory, removed by removeTemp(). */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-diff-'));
  made.push(dir);
  return dir;
}

export function removeTemp(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Write an OCI layout directory for the image; returns its path. */
export function writeImage(spec: ImageSpec, dir = tempDir()): string {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const blob = (b: Buffer | string) => {
    const d = sha(b);
    writeFileSync(join(dir, 'blobs', 'sha256', d.slice(7)), b);
    return { digest: d, size: Buffer.byteLength(b) };
  };
  const diffIds: string[] = [];
  const layers = spec.layers.map((l) => {
    const tar = tarOf(l.entries);
    diffIds.push(sha(tar));
    const gz = l.gzip ?? true;
    return { mediaType: `application/vnd.oci.image.layer.v1.tar${gz ? '+gzip' : ''}`, ...blob(gz ? gzipSync(tar) : tar) };
  });
  const config = {
    architecture: spec.architecture ?? 'amd64',
    os: 'linux',
    config: spec.config ?? {},
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [...spec.layers.map((l, i) => ({ created_by: l.createdBy ?? `layer ${i}` })), ...(spec.emptyHistory ?? []).map((h) => ({ created_by: h, empty_layer: true }))],
  };
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...blob(JSON.stringify(config)) },
    layers,
  });
  const m = blob(manifest);
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m }] }));
  return dir;
}
