/**
 * Where an optimized image goes, named as skopeo names it: `docker-archive:PATH[:repo:tag]` (the
 * default for a bare `.tar` path), `oci:DIR[:tag]`, `oci-archive:PATH[:tag]`, `docker://REF`.
 * Files are written under a temporary name in the destination's directory and renamed into place
 * at the end, so a failure never leaves a half-written OUT.
 */
import { createReadStream } from 'node:fs';
import { access, constants, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { StrataError } from '../util/errors.js';
import type { BuiltImage } from './build-image.js';

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

/** Fails early, before any layer is written, when OUT cannot be written or is the input. */
export async function checkTarget(t: Target, inputPath: string | undefined): Promise<void> {
  if (t.kind === 'registry') return;
  const out = resolve(t.path);
  if (inputPath && resolve(inputPath) === out) throw new StrataError(`-o ${t.path}: is the input image; write the optimized image elsewhere`);
  const dir = dirname(out);
  try {
    await access(dir, constants.W_OK);
  } catch (e) {
    throw new StrataError(`-o ${t.path}: cannot write in ${dir} (${(e as NodeJS.ErrnoException).code})`);
  }
  const st = await stat(out).catch(() => undefined);
  if (t.kind === 'oci' && st && !st.isDirectory()) throw new StrataError(`-o oci:${t.path}: exists and is not a directory`);
  if (t.kind !== 'oci' && st?.isDirectory()) throw new StrataError(`-o ${t.path}: is a directory; ${t.kind}: writes a file`);
}

/** A scratch directory beside OUT (same filesystem: the final rename is atomic), removed by the caller. */
export async function scratchFor(t: Target, tmpRoot: string): Promise<string> {
  const parent = t.kind === 'registry' ? tmpRoot : dirname(resolve(t.path));
  return mkdtemp(join(parent, `.strata-optimize-`));
}

const LAYOUT = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
const hex = (digest: string) => digest.slice('sha256:'.length);

/** The files of an OCI layout holding `img` (Docker 25+'s `docker save` adds manifest.json to the same). */
function layoutFiles(img: BuiltImage, tag: string | undefined, docker: boolean): { name: string; data?: Buffer; file?: string; size: number }[] {
  const annotations: Record<string, string> = {};
  if (tag) annotations['org.opencontainers.image.ref.name'] = docker ? tag.slice(tag.lastIndexOf(':') + 1) : tag;
  if (tag && docker) annotations['io.containerd.image.name'] = tag;
  const desc = { mediaType: img.manifestMediaType, digest: img.manifestDigest, size: img.manifest.length, ...(tag ? { annotations } : {}) };
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [desc] }));
  const files: { name: string; data?: Buffer; file?: string; size: number }[] = [
    { name: 'oci-layout', data: LAYOUT, size: LAYOUT.length },
    { name: 'index.json', data: index, size: index.length },
  ];
  const seen = new Set<string>();
  for (const b of [...img.layers, { digest: img.configDigest, data: img.config }, { digest: img.manifestDigest, data: img.manifest }]) {
    if (seen.has(b.digest)) continue;
    seen.add(b.digest);
    if ('file' in b) files.push({ name: `blobs/sha256/${hex(b.digest)}`, file: b.file, size: b.size });
    else files.push({ name: `blobs/sha256/${hex(b.digest)}`, data: b.data, size: b.data.length });
  }
  if (docker) {
    const manifest = [{ Config: `blobs/sha256/${hex(img.configDigest)}`, RepoTags: tag ? [tag] : null, Layers: img.layers.map((l) => `blobs/sha256/${hex(l.digest)}`) }];
    const data = Buffer.from(JSON.stringify(manifest));
    files.push({ name: 'manifest.json', data, size: data.length });
  }
  return files;
}

/** Write `img` to a docker-archive, oci-archive or oci directory target. */
export async function writeLocal(img: BuiltImage, t: Extract<Target, { path: string }>, scratch: string): Promise<void> {
  const out = resolve(t.path);
  if (t.kind === 'oci') return writeOciDir(img, out, t.tag, scratch);
  const tag = t.kind === 'docker-archive' ? dockerTag(t.tag) : t.tag;
  const files = layoutFiles(img, tag, t.kind === 'docker-archive');
  const tmp = join(dirname(out), `.${basename(out)}.strata-tmp`);
  const p = pack();
  const writing = pipeline(p, createWriteStream(tmp));
  try {
    for (const f of files) {
      const entry = p.entry({ name: f.name, size: f.size, mode: 0o644, mtime: new Date(0) });
      if (f.data) entry.end(f.data);
      await (f.file ? pipeline(createReadStream(f.file), entry) : new Promise<void>((ok, fail) => entry.on('finish', ok).on('error', fail)));
    }
    p.finalize();
    await writing;
    await rename(tmp, out);
  } catch (e) {
    p.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
}

/** `repo:tag` for RepoTags: a bare name gets `:latest`, as docker tags it. */
function dockerTag(tag: string | undefined): string | undefined {
  if (!tag) return undefined;
  return /:[^/]+$/.test(tag) ? tag : `${tag}:latest`;
}

/**
 * An OCI layout directory: a new one is made beside DIR and renamed to it; an existing layout gets
 * the blobs (content-addressed, so adding them is safe) and then a new index.json, renamed over the
 * old one, where a manifest of the same tag is replaced.
 */
async function writeOciDir(img: BuiltImage, out: string, tag: string | undefined, scratch: string): Promise<void> {
  const files = layoutFiles(img, tag, false);
  const exists = await stat(out).then(() => true, () => false);
  let index: { manifests: { annotations?: Record<string, string> }[] } | undefined;
  if (exists) {
    const text = await readFile(join(out, 'index.json'), 'utf8').catch(() => undefined);
    if (text === undefined) {
      if ((await readdir(out)).length > 0) throw new StrataError(`-o oci:${out}: exists and is not an OCI layout (no index.json)`);
    } else {
      try {
        index = JSON.parse(text);
      } catch {
        throw new StrataError(`-o oci:${out}: index.json is not valid JSON`);
      }
    }
  }
  const root = index ? out : join(scratch, 'layout');
  await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
  for (const f of files) {
    if (index && f.name === 'index.json') continue;
    const dest = join(root, f.name);
    if (index && (await stat(dest).then(() => true, () => false))) continue;
    if (f.file) await rename(f.file, dest);
    else await writeFile(index ? `${dest}.strata-tmp` : dest, f.data!).then(() => (index ? rename(`${dest}.strata-tmp`, dest) : undefined));
  }
  if (!index) {
    if (exists) await rm(out, { recursive: true });
    await rename(root, out);
    return;
  }
  const mine = JSON.parse(files.find((f) => f.name === 'index.json')!.data!.toString()).manifests[0];
  const others = index.manifests.filter((m) => !tag || m.annotations?.['org.opencontainers.image.ref.name'] !== tag);
  const next = { ...index, manifests: [...others, mine] };
  await writeFile(join(out, 'index.json.strata-tmp'), JSON.stringify(next));
  await rename(join(out, 'index.json.strata-tmp'), join(out, 'index.json'));
}
