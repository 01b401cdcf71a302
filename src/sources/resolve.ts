/**
 * Image references -> Image. A path is recognised by content; prefixes force a kind:
 *   docker-archive:PATH[:repo:tag]   oci:DIR[:tag]   oci-archive:PATH[:tag]   - (an archive on stdin;
 *   docker-archive:-:TAG or oci-archive:-:TAG to pick one of several)
 * Anything else that is not on disk and parses as an image reference goes to remote.ts.
 */
import { existsSync, statSync, openSync, readSync, closeSync, createReadStream } from 'node:fs';
import { StrataError } from '../util/errors.js';
import { DirTree, TarTree, type FileTree } from './file-tree.js';
import type { Image, SourceKind } from '../image/image.js';
import type { Platform } from '../image/platform.js';
import { sniffCompression } from '../scan/compression.js';
import { readDockerArchive } from './docker-archive.js';
import { readOciLayout } from './oci-layout.js';
import { openRemote, remoteTarget, type RemoteOptions } from './remote.js';
import type { ContentScanSettings } from '../scan/secret-scan.js';
import { masked } from '../scan/secret-mask.js';

export interface OpenOptions {
  platform?: Platform;
  /** Where `-` reads from (tests substitute a stream). */
  stdin?: AsyncIterable<Buffer>;
  /** Registries and engines: credentials, cache, notes and progress. */
  remote?: RemoteOptions;
  /** Archives read as a stream are scanned as they pass: what small files are read for. */
  secrets?: ContentScanSettings;
}

const prefixes = ['docker-archive', 'oci-archive', 'oci'] as const;
type Prefix = (typeof prefixes)[number];

interface ParsedRef {
  kind?: Prefix;
  path: string;
  tag?: string;
}

/** Split `PATH[:tag]`: the longest prefix that exists on disk is the path, the rest the tag. */
function splitPathTag(s: string): { path: string; tag?: string } {
  if (existsSync(s)) return { path: s };
  for (let i = s.indexOf(':'); i >= 0; i = s.indexOf(':', i + 1)) {
    if (existsSync(s.slice(0, i))) return { path: s.slice(0, i), tag: s.slice(i + 1) };
  }
  return { path: s };
}

export function parseRef(ref: string): ParsedRef {
  for (const p of prefixes) {
    if (ref.startsWith(`${p}:`)) return { kind: p, ...splitPathTag(ref.slice(p.length + 1)) };
  }
  return splitPathTag(ref);
}

/** Archives read as a stream (stdin, gzip'd saves) need tar-stream: loaded only for them. */
async function readStreamTree(...args: Parameters<typeof import('./stream-archive.js').readStreamTree>) {
  return (await import('./stream-archive.js')).readStreamTree(...args);
}

/**
 * Open any image strata reads. Its config leaves here with every secret value masked (the raw one
 * kept beside it for writers of images only): the one place masking happens (docs/security.md).
 */
export async function openImage(ref: string, opts: OpenOptions = {}): Promise<Image> {
  return sealed(await openSource(ref, opts));
}

/** The image with its config masked (and so the image a stand-in reopens as). */
function sealed(image: Image): Image {
  const reopen = image.reopen;
  return {
    ...image,
    config: masked(image.config),
    rawConfig: image.config,
    annotations: image.annotations && masked(image.annotations),
    reopen: reopen && (async () => sealed(await reopen())),
  };
}

async function openSource(ref: string, opts: OpenOptions): Promise<Image> {
  const sel = { platform: opts.platform };
  // `-`, or `docker-archive:-:TAG` / `oci-archive:-:TAG` to pick one image of an archive on stdin
  const stdin = /^(?:(docker-archive|oci-archive):)?-(?::(.+))?$/.exec(ref);
  if (stdin) {
    const tree = await readStreamTree(opts.stdin ?? (process.stdin as AsyncIterable<Buffer>), 'stdin', undefined, opts.secrets);
    return fromTree(tree, ref, stdin[2], sel, stdin[1] === 'oci-archive' ? 'oci-archive' : 'docker-archive-stdin');
  }
  const { kind, path, tag } = parseRef(ref);
  const remote = kind ? undefined : remoteTarget(ref);
  if (remote && (remote.via !== 'auto' || !existsSync(path))) return openRemote(remote, ref, opts.platform, { ...opts.remote, secrets: opts.secrets });
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StrataError(code === 'ENOENT' ? `${path}: no such file or directory` : `${path}: cannot read (${code})`);
  }
  if (st.isDirectory()) {
    if (kind && kind !== 'oci') throw new StrataError(`${path}: is a directory, ${kind}: expects a file`);
    const tree = new DirTree(path);
    await tree.prefetch(['index.json', 'oci-layout']);
    if (!tree.has('index.json')) throw new StrataError(`${path}: not an OCI image layout (no index.json)`);
    return attachDirBlobs(tree, () => readOciLayout(tree, ref, 'oci', { ...sel, tag }));
  }
  if (kind === 'oci') throw new StrataError(`${path}: oci: expects a directory (use oci-archive: for a tar)`);
  if (!st.isFile()) {
    // a pipe (`strata inspect <(docker save app)`) or a device: no random access, read it once
    const tree = await readStreamTree(createReadStream(path), path, undefined, opts.secrets);
    return fromTree(tree, ref, tag, sel, kind);
  }
  const head = readHead(path);
  if (sniffCompression(head) !== 'none') {
    // `docker save app | gzip > app.tar.gz`: no random access, read it like a stream (and again
    // up to a large layer whose content is wanted).
    const tree = await readStreamTree(createReadStream(path), path, () => createReadStream(path), opts.secrets);
    return fromTree(tree, ref, tag, sel, kind);
  }
  if (head.length < 512 || head.toString('latin1', 257, 262) !== 'ustar') {
    throw new StrataError(`${path}: not an image (expected a tar archive or an OCI layout directory)`);
  }
  const tree = await TarTree.index(path);
  return fromTree(tree, ref, tag, sel, kind ?? undefined);
}

function readHead(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(512);
    const n = readSync(fd, b, 0, 512, 0);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

async function fromTree(tree: FileTree, ref: string, tag: string | undefined, sel: { platform?: Platform }, kind: SourceKind | Prefix | undefined): Promise<Image> {
  const hasManifest = tree.has('manifest.json');
  const hasIndex = tree.has('index.json');
  const detect = kind === undefined || kind === 'docker-archive-stdin'; // no prefix: decided by content
  if (kind === 'oci-archive' || (!hasManifest && hasIndex && detect)) {
    if (!hasIndex) {
      throw new StrataError(`${tree.name}: not an OCI archive (no index.json)${hasManifest ? ': a docker save (manifest.json); use docker-archive: or no prefix' : ''}`);
    }
    return readOciLayout(tree, ref, 'oci-archive', { ...sel, tag });
  }
  if (!hasManifest) {
    if (hasIndex) throw new StrataError(`${tree.name}: not a docker save (no manifest.json): an OCI archive (index.json); use oci-archive: or no prefix`);
    throw new StrataError(`${tree.name}: not an image archive (no manifest.json or index.json)`);
  }
  const source: SourceKind = kind === 'docker-archive-stdin' ? kind : 'docker-archive';
  return readDockerArchive(tree, ref, source, { ...sel, tag });
}

/** A DirTree answers only for files it has looked at: stat every blob the layout names, once. */
async function attachDirBlobs(tree: DirTree, read: () => Promise<Image>): Promise<Image> {
  const files: string[] = [];
  for (const alg of ['sha256', 'sha512']) {
    for (const f of await tree.list(`blobs/${alg}`)) files.push(`blobs/${alg}/${f}`);
  }
  await tree.prefetch(files);
  return read();
}
