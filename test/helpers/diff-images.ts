/**
 * Synthetic OCI layouts for the diff tests: layers from entry lists (a small ustar writer with PAX
 * xattrs, so every field the diff compares can be set), gzip or plain, with correct digests.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

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

const typeFlag = { file: '0', hardlink: '1', symlink: '2', char: '3', dir: '5' } as const;

function header(name: string, flag: string, size: number, e: Entry): Buffer {
  const b = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => b.write(s, off, Math.min(Buffer.byteLength(s), len), 'utf8');
  const oct = (n: number, off: number, len: number) => put(`${n.toString(8).padStart(len - 1, '0')}\0`, off, len);
  put(name, 0, 100);
  oct(e.mode ?? (flag === '5' ? 0o755 : 0o644), 100, 8);
  oct(e.uid ?? 0, 108, 8);
  oct(e.gid ?? 0, 116, 8);
  oct(size, 124, 12);
  oct(e.mtime ?? 1700000000, 136, 12);
  put(flag, 156, 1);
  put(e.link ?? '', 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  oct(e.dev?.[0] ?? 0, 329, 8);
  oct(e.dev?.[1] ?? 0, 337, 8);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return b;
}

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (`${len}${body}`.length !== len) len++;
  return `${len}${body}`;
}

export function tarOf(entries: Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? (e.content !== undefined ? 'file' : 'dir');
    const data = type === 'file' ? Buffer.from(e.content ?? '') : Buffer.alloc(0);
    if (e.xattrs) {
      const pax = Buffer.from(Object.entries(e.xattrs).map(([k, v]) => paxRecord(`SCHILY.xattr.${k}`, v)).join(''));
      parts.push(header('PaxHeader', 'x', pax.length, { path: '' }), pax, pad(pax.length));
    }
    parts.push(header(type === 'dir' ? `${e.path}/` : e.path, typeFlag[type], data.length, e), data, pad(data.length));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
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
