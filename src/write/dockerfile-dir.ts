/**
 * Writes `strata dockerfile`'s output: DIR/Dockerfile and DIR/context/files/NNNN/…. Everything is
 * written into a new directory made beside DIR (mkdtemp: nothing planted there can be written
 * through), which becomes DIR by one rename when complete; DIR must not exist or be an empty
 * directory (never a symlink: it is not followed). Inside, every file is created exclusively
 * (O_EXCL|O_NOFOLLOW) under names strata chose or path components of the image, in directories
 * strata just made, and the image's symlinks are made last: no image name can lead a write
 * anywhere else. File contents are streamed from the layers one chunk at a time.
 */
import { closeSync, constants, fchmodSync, openSync, writeSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { StrataError } from '../util/errors.js';
import { cannotWrite } from '../util/safe-write.js';
import { streamRows } from '../scan/extract.js';
import type { Image } from '../image/image.js';
import { writeLayer } from './layer-writer.js';
import type { CopyStep, DockerfilePlan } from '../analyze/dockerfile/types.js';

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Fails when DIR is there and is not an empty directory; true when it is an empty one (to be replaced). */
export async function checkOutputDir(dir: string): Promise<boolean> {
  const st = await lstat(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw cannotWrite(dir, e);
  });
  if (!st) return false;
  if (st.isSymbolicLink()) throw new StrataError(`-o ${dir}: is a symlink; strata writes a new directory and follows no link`);
  if (!st.isDirectory()) throw new StrataError(`-o ${dir}: exists and is not a directory`);
  if ((await readdir(dir)).length) throw new StrataError(`-o ${dir}: exists and is not empty; strata writes a new directory`);
  return true;
}

/** The caller has checked DIR (checkOutputDir) before the work; it is checked again just before the rename. */
export async function writeDockerfileDir(dir: string, dockerfile: string, plan: Pick<DockerfilePlan, 'copies' | 'linked'>, image: Image): Promise<void> {
  const out = resolve(dir);
  const stage = await mkdtemp(join(dirname(out), `.${basename(out)}.strata-`)).catch((e) => {
    throw cannotWrite(dir, e);
  });
  try {
    await mkdir(join(stage, 'context'));
    await writeFile(join(stage, 'Dockerfile'), dockerfile, { flag: 'wx', mode: 0o644 });
    await writeContext(join(stage, 'context'), plan.copies, image, dir);
    if (plan.linked) await writeLayer(image, plan.linked.layer, { path: join(stage, 'context', plan.linked.source), output: dir }, 'none');
    // the stage was made 0700; the result is an ordinary directory
    await chmod(stage, 0o755);
    if (await checkOutputDir(dir)) await rmdir(out);
    await rename(stage, out);
  } catch (e) {
    await rm(stage, { recursive: true, force: true });
    throw e instanceof StrataError ? e : cannotWrite(dir, e);
  }
}

async function writeContext(context: string, copies: CopyStep[], image: Image, output: string): Promise<void> {
  await mkdir(join(context, 'files'));
  // by layer, in row order: each layer is streamed once
  const wanted = new Map<number, Map<number, { path: string; mode: number; size: number }>>();
  const modes: [string, number][] = [];
  const links: [string, string][] = [];
  for (const c of copies) {
    const at = join(context, c.source);
    await mkdir(at);
    // every directory is made here, now, by strata: no name of the image leads a write elsewhere
    for (const d of c.dirs) {
      checkName(d.name);
      await mkdir(join(at, d.name), { mode: 0o700 });
      modes.push([join(at, d.name), d.mode]);
    }
    for (const f of c.items) {
      checkName(f.name);
      if (f.link !== undefined) links.push([f.link, join(at, f.name)]);
      else {
        let rows = wanted.get(f.source!.layer);
        if (!rows) wanted.set(f.source!.layer, (rows = new Map()));
        rows.set(f.source!.row, { path: join(at, f.name), mode: f.mode, size: f.size });
      }
    }
  }
  for (const [layer, rows] of [...wanted].sort((a, b) => a[0] - b[0])) {
    let fd = -1;
    let written = 0;
    let done = 0;
    let file: { path: string; mode: number; size: number } | undefined;
    await streamRows(image, layer, rows.keys(), {
      start(row) {
        file = rows.get(row)!;
        fd = openSync(file.path, CREATE, 0o600);
        written = 0;
      },
      data(chunk) {
        written += chunk.length;
        for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
      },
      end() {
        fchmodSync(fd, file!.mode);
        closeSync(fd);
        fd = -1;
        done++;
        if (written !== file!.size) throw new StrataError(`layer ${layer}: ${basename(file!.path)} gave ${written} bytes, its record says ${file!.size}`);
      },
    }).finally(() => {
      if (fd >= 0) closeSync(fd);
    });
    if (done !== rows.size) throw new StrataError(`${output}: ${rows.size - done} files were not found in layer ${layer} when it was read again`);
  }
  // symlinks after every file: nothing is written below the context's directories once a link is there
  for (const [target, path] of links) await symlink(target, path);
  // the directories' own modes last, deepest first: a 0500 directory is filled before it is closed
  for (const [path, mode] of modes.reverse()) await chmod(path, mode);
}

/** A path relative to a COPY's tree, as the plan made it from the image's path: plain components only. */
function checkName(name: string): void {
  if (name.split('/').some((c) => c === '' || c === '.' || c === '..')) throw new StrataError(`${JSON.stringify(name)}: not a relative path`);
}
