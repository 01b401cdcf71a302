/**
 * Where an optimized image goes, named as skopeo names it: `docker-archive:PATH[:repo:tag]` (the
 * default for a bare `.tar` path), `oci:DIR[:tag]`, `oci-archive:PATH[:tag]`, `docker://REF`.
 * Every file goes out through the safe writer (util/safe-write.ts): a failure never leaves a
 * half-written OUT, and nothing planted beside or inside OUT is written through.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { StrataError } from '../util/errors.js';
import { AtomicFile, cannotWrite, checkWritable } from '../util/safe-write.js';
import type { BuiltImage } from './build-image.js';
import { examineLayout, LAYOUT_FILE, OCI_INDEX_MEDIA_TYPE, writeOciDir, type IndexDescriptor, type LayoutBlob } from './oci-dir.js';

export type Target =
  | { kind: 'docker-archive' | 'oci-archive' | 'oci'; path: string; tag?: string }
  | { kind: 'registry'; ref: string };

export function parseTarget(text: string): Target {
  const m = /^(docker-archive|oci-archive|oci):(.+)$/.exec(text);
  if (m) {
    const kind = m[1] as 'docker-archive' | 'oci-archive' | 'oci';
    const cut = m[2].indexOf(':');
    const path = cut < 0 ? m[2] : m[2].slice(0, cut);
    const tag = cut < 0 ? undefined : m[2].slice(cut + 1);
    if (!path) throw new StrataError(`-o ${text}: no path after ${kind}:`);
    if (tag === '') throw new StrataError(`-o ${text}: empty tag after the path`);
    return { kind, path, tag };
  }
  if (text.startsWith('docker://')) {
    if (text.length === 'docker://'.length) throw new StrataError(`-o ${text}: no reference after docker://`);
    return { kind: 'registry', ref: text.slice('docker://'.length) };
  }
  if (/\.tar$/.test(text)) return { kind: 'docker-archive', path: text };
  throw new StrataError(`-o ${text}: name the output as docker-archive:PATH, oci:DIR[:tag], oci-archive:PATH[:tag] or docker://REF (a bare path must end in .tar)`);
}

/**
 * Fails early, before the image is read, when OUT cannot be written or is the input: its directory
 * refuses a new file, it is a directory (or, for oci:, an existing directory that is not a valid
 * layout). The write itself checks again, just before the first byte.
 */
export async function checkTarget(t: Target, inputPath: string | undefined): Promise<void> {
  if (t.kind === 'registry') return;
  const out = resolve(t.path);
  // a layout is written into, through a link to it; a file is replaced (see replaces)
  const written = t.kind === 'oci' ? await realpath(out).catch(() => undefined) : await replaces(out);
  if (inputPath && (resolve(inputPath) === out || (written !== undefined && written === (await realpath(inputPath).catch(() => undefined))))) {
    throw new StrataError(`-o ${t.path}: is the input image; write the optimized image elsewhere`);
  }
  if (t.kind === 'oci') await examineLayout(out, t.path);
  else await checkWritable(out, t.path);
}

/**
 * The file a write of OUT replaces (written beside it, renamed over it): OUT's name in the real
 * directory it is in, so `link/app.tar` is seen to be `real/app.tar` (OUT itself a link is replaced,
 * not followed). Undefined when that directory is not there.
 */
async function replaces(out: string): Promise<string | undefined> {
  const dir = await realpath(dirname(out)).catch(() => undefined);
  return dir === undefined ? undefined : join(dir, basename(out));
}

/**
 * A scratch directory for the new blobs (removed by the caller), on OUT's filesystem so that they
 * move into an oci: layout by rename: beside OUT, or beside where a symlinked DIR points.
 */
export async function scratchFor(t: Target, tmpRoot: string): Promise<{ dir: string; output: string }> {
  const out = t.kind === 'registry' ? undefined : resolve(t.path);
  const parent = !out ? tmpRoot : dirname(t.kind === 'oci' ? await realpath(out).catch(() => out) : out);
  // what a failure to write the scratch files (a full disk) names: the output, or for a push the temporary directory
  const output = t.kind === 'registry' ? parent : t.path;
  try {
    return { dir: await mkdtemp(join(parent, `.strata-optimize-`)), output };
  } catch (e) {
    throw cannotWrite(output, e);
  }
}

const hex = (digest: string) => digest.slice('sha256:'.length);

/** Each blob of `img` once: layers, config, manifest. */
function blobsOf(img: BuiltImage): LayoutBlob[] {
  const blobs = new Map<string, LayoutBlob>();
  for (const l of img.layers) blobs.set(l.digest, { digest: l.digest, size: l.size, file: l.file });
  blobs.set(img.configDigest, { digest: img.configDigest, size: img.config.length, data: img.config });
  blobs.set(img.manifestDigest, { digest: img.manifestDigest, size: img.manifest.length, data: img.manifest });
  return [...blobs.values()];
}

/** The image's entry in index.json (Docker 25+'s `docker save` names the tag as containerd does). */
function indexEntry(img: BuiltImage, tag: string | undefined, docker: boolean): IndexDescriptor {
  const annotations: Record<string, string> = {};
  if (tag) annotations['org.opencontainers.image.ref.name'] = docker ? tag.slice(tag.lastIndexOf(':') + 1) : tag;
  if (tag && docker) annotations['io.containerd.image.name'] = tag;
  return { mediaType: img.manifestMediaType, digest: img.manifestDigest, size: img.manifest.length, ...(tag ? { annotations } : {}) };
}

/** The files of an archive holding `img`: an OCI layout (Docker 25+'s `docker save` adds manifest.json to the same). */
function archiveFiles(img: BuiltImage, tag: string | undefined, docker: boolean): { name: string; data?: Buffer; file?: string; size: number }[] {
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX_MEDIA_TYPE, manifests: [indexEntry(img, tag, docker)] }));
  const files: { name: string; data?: Buffer; file?: string; size: number }[] = [
    { name: 'oci-layout', data: LAYOUT_FILE, size: LAYOUT_FILE.length },
    { name: 'index.json', data: index, size: index.length },
    ...blobsOf(img).map((b) => ({ ...b, name: `blobs/sha256/${hex(b.digest)}` })),
  ];
  if (docker) {
    const manifest = [{ Config: `blobs/sha256/${hex(img.configDigest)}`, RepoTags: tag ? [tag] : null, Layers: img.layers.map((l) => `blobs/sha256/${hex(l.digest)}`) }];
    const data = Buffer.from(JSON.stringify(manifest));
    files.push({ name: 'manifest.json', data, size: data.length });
  }
  return files;
}

/** Write `img` to a docker-archive, oci-archive or oci directory target. */
export async function writeLocal(img: BuiltImage, t: Extract<Target, { path: string }>): Promise<void> {
  const out = resolve(t.path);
  if (t.kind === 'oci') return writeOciDir(out, t.path, blobsOf(img), indexEntry(img, t.tag, false), t.tag);
  const tag = t.kind === 'docker-archive' ? dockerTag(t.tag) : t.tag;
  const file = await AtomicFile.open(out, { output: t.path });
  const p = pack();
  const feeding = (async () => {
    for (const f of archiveFiles(img, tag, t.kind === 'docker-archive')) {
      const entry = p.entry({ name: f.name, size: f.size, mode: 0o644, mtime: new Date(0) });
      if (f.data) entry.end(f.data);
      await (f.file ? pipeline(createReadStream(f.file), entry) : new Promise<void>((ok, fail) => entry.on('finish', ok).on('error', fail)));
    }
    p.finalize();
  })();
  try {
    // together: a failed write (a full disk) ends the run at once, while an entry may still wait for room
    await Promise.all([pipeline(p, file.stream()), feeding]);
  } catch (e) {
    p.destroy();
    await file.discard();
    throw cannotWrite(t.path, e);
  }
  await file.commit();
}

/** `repo:tag` for RepoTags: a bare name gets `:latest`, as docker tags it. */
function dockerTag(tag: string | undefined): string | undefined {
  if (!tag) return undefined;
  return /:[^/]+$/.test(tag) ? tag : `${tag}:latest`;
}
