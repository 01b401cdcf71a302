/**
 * `optimize -o oci:DIR`: a new layout, or one more image in an existing one. DIR is the user's (a
 * symlink there is followed once, as typed); below it strata trusts nothing: an existing layout is
 * checked whole (oci-layout, index.json, the blobs directories, every blob path this image will
 * take) before the first byte is written, no symlink below DIR is followed, every file goes in by
 * the safe writer, index.json last, and a failure removes what this run made and nothing else.
 * What is left: a race with someone who swaps a checked directory of DIR for a symlink while strata
 * writes (Node has no openat()); checking just before writing keeps that window short.
 */
import { lstat, mkdir, open, readdir, realpath, rename, rmdir, unlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { StrataError } from '../util/errors.js';
import { parseJson, MAX_JSON_BYTES } from '../util/json-doc.js';
import { Digest } from '../util/digest.js';
import { humanBytes } from '../util/units.js';
import { cannotWrite, checkWritable, lstatOrNone, writeFileAtomic } from '../util/safe-write.js';

export const OCI_INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
const LAYOUT_VERSION = '1.0.0';
export const LAYOUT_FILE = Buffer.from(JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION }));

/** Unknown fields are kept: they are written back as they were. */
const DescriptorSchema = z.looseObject({
  mediaType: z.string(),
  digest: Digest,
  size: z.number().int().nonnegative(),
  annotations: z.record(z.string(), z.string()).optional(),
});
const IndexSchema = z.looseObject({ schemaVersion: z.literal(2), mediaType: z.string().optional(), manifests: z.array(DescriptorSchema) });
const LayoutSchema = z.looseObject({ imageLayoutVersion: z.literal(LAYOUT_VERSION) });

export type OciIndex = z.output<typeof IndexSchema>;
export type IndexDescriptor = z.output<typeof DescriptorSchema>;

/** A blob this image puts in the layout: its bytes, or a finished file in the scratch directory (moved in). */
export interface LayoutBlob {
  digest: string;
  size: number;
  data?: Buffer;
  file?: string;
}

/** What is at DIR: nothing yet, or a layout (an empty directory counts as one with no images). */
interface Found {
  root: string;
  index: OciIndex | undefined;
  exists: boolean;
}

const emptyIndex = (): OciIndex => ({ schemaVersion: 2, mediaType: OCI_INDEX_MEDIA_TYPE, manifests: [] });

/** A small JSON file of the layout, refused unless it is a regular file (not a link, pipe or device). */
async function readLayoutFile(path: string, label: string): Promise<Buffer> {
  // O_NONBLOCK: a FIFO planted in place of the file cannot block the open; fstat then refuses it
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ELOOP') throw new StrataError(`${label}: is a symlink; strata follows no link inside an output layout`);
    if (e.code === 'ENOENT') throw new StrataError(`${label}: missing; not an OCI layout`);
    throw e;
  });
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new StrataError(`${label}: is not a regular file`);
    if (st.size > MAX_JSON_BYTES) throw new StrataError(`${label}: is ${humanBytes(st.size)}, more than the ${humanBytes(MAX_JSON_BYTES)} a JSON document may be`);
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** A directory of the layout: absent, or a real directory (a symlink there is refused). */
async function checkDirectory(path: string, label: string): Promise<boolean> {
  const st = await lstatOrNone(path);
  if (!st) return false;
  if (st.isSymbolicLink()) throw new StrataError(`${label}: is a symlink; strata follows no link inside an output layout`);
  if (!st.isDirectory()) throw new StrataError(`${label}: is not a directory`);
  return true;
}

/**
 * Check DIR completely, writing nothing: absent (its parent must take a new directory), an empty
 * directory, or a layout with a valid oci-layout and index.json and real blobs directories. `label`
 * is DIR as the user named it.
 */
export async function examineLayout(dir: string, label: string): Promise<Found> {
  const st = await lstatOrNone(dir);
  if (!st) {
    await checkWritable(dir, label);
    return { root: dir, index: undefined, exists: false };
  }
  // the user's own symlink: followed once, as typed
  const root = st.isSymbolicLink() ? await realpath(dir).catch(() => {
    throw new StrataError(`-o oci:${label}: is a symlink to nothing`);
  }) : dir;
  if (!(await lstat(root)).isDirectory()) throw new StrataError(`-o oci:${label}: exists and is not a directory`);
  const names = await readdir(root);
  if (names.length === 0) {
    await checkWritable(join(root, 'index.json'), label);
    return { root, index: emptyIndex(), exists: true };
  }
  if (!names.includes('index.json')) throw new StrataError(`-o oci:${label}: exists and is not an OCI layout (no index.json); name a new or empty directory`);
  parseJson(await readLayoutFile(join(root, 'oci-layout'), `oci:${label}/oci-layout`), LayoutSchema, `oci:${label}/oci-layout`);
  const index = parseJson(await readLayoutFile(join(root, 'index.json'), `oci:${label}/index.json`), IndexSchema, `oci:${label}/index.json`);
  if (await checkDirectory(join(root, 'blobs'), `oci:${label}/blobs`)) await checkDirectory(join(root, 'blobs', 'sha256'), `oci:${label}/blobs/sha256`);
  await checkWritable(join(root, 'index.json'), label);
  return { root, index, exists: true };
}

const blobPath = (root: string, digest: string) => join(root, 'blobs', 'sha256', digest.slice('sha256:'.length));

/** Blobs the layout lacks; one already there must be a regular file of the right size (content-addressed). */
async function missingBlobs(root: string, blobs: LayoutBlob[], label: string): Promise<LayoutBlob[]> {
  const missing: LayoutBlob[] = [];
  for (const b of blobs) {
    const name = `oci:${label}/blobs/sha256/${b.digest.slice('sha256:'.length, 'sha256:'.length + 12)}…`;
    const st = await lstatOrNone(blobPath(root, b.digest));
    if (!st) missing.push(b);
    else if (st.isSymbolicLink()) throw new StrataError(`${name}: is a symlink; strata follows no link inside an output layout`);
    else if (!st.isFile()) throw new StrataError(`${name}: is not a regular file`);
    else if (st.size !== b.size) throw new StrataError(`${name}: holds ${st.size} bytes, the blob has ${b.size} (a damaged layout; strata replaces no file it did not write)`);
  }
  return missing;
}

/**
 * Add the image (`blobs`, then `descriptor` in index.json, replacing the manifest of the same tag)
 * to the layout at DIR, made if absent.
 */
export async function writeOciDir(dir: string, label: string, blobs: LayoutBlob[], descriptor: IndexDescriptor, tag: string | undefined): Promise<void> {
  const found = await examineLayout(dir, label);
  const { root } = found;
  const missing = found.exists ? await missingBlobs(root, blobs, label) : blobs;
  // what this run made, in order: all that a failure removes (rmdir removes only an empty directory)
  const made: { path: string; dir: boolean }[] = [];
  const writeNew = async (path: string, data: Buffer) => {
    await writeFileAtomic(path, data, { output: label });
    made.push({ path, dir: false });
  };
  try {
    if (!found.exists) {
      await mkdir(root);
      made.push({ path: root, dir: true });
    }
    for (const d of [join(root, 'blobs'), join(root, 'blobs', 'sha256')]) {
      if (await checkDirectory(d, `oci:${label}/${d.slice(root.length + 1)}`)) continue;
      await mkdir(d);
      made.push({ path: d, dir: true });
    }
    if (!(await lstatOrNone(join(root, 'oci-layout')))) await writeNew(join(root, 'oci-layout'), LAYOUT_FILE);
    for (const b of missing) {
      const dest = blobPath(root, b.digest);
      if (b.data) await writeNew(dest, b.data);
      else {
        // a scratch file is ours alone (a fresh mkdtemp directory); rename replaces a link planted at dest, never follows it
        await rename(b.file!, dest);
        made.push({ path: dest, dir: false });
      }
    }
    const index = found.index ?? emptyIndex();
    const others = index.manifests.filter((m) => !tag || m.annotations?.['org.opencontainers.image.ref.name'] !== tag);
    await writeFileAtomic(join(root, 'index.json'), JSON.stringify({ ...index, manifests: [...others, descriptor] }), { output: label });
  } catch (e) {
    for (const m of made.reverse()) await (m.dir ? rmdir(m.path) : unlink(m.path)).catch(() => undefined);
    throw cannotWrite(label, e);
  }
}
