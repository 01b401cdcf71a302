/** Shared by the real-image tests: where the fixtures are, loading them once, views with content hashes. */
import { execFile } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openImage } from '../../src/sources/resolve.js';
import { readImage, type ImageModel } from '../../src/model/read-image.js';
import { parsePlatform } from '../../src/image/platform.js';
import { hashHex, kindName } from '../../src/scan/records.js';
import { entryOf, type FileEntry } from '../../src/model/views.js';

const root = new URL('../../../', import.meta.url);

/** A fixture in testdata/ by name; an absolute path (an image a test generated) as it is. */
export const fixture = (name: string): string => (isAbsolute(name) ? name : fileURLToPath(new URL(`testdata/${name}`, root)));
export const strataBin = fileURLToPath(new URL('bin/strata.js', root));

/** Every real image in testdata/ (testdata/README.md); the multi-platform one last. */
export const FIXTURE_FILES = [
  'tiny-dockerfile.docker.tar',
  'tiny-dockerfile.docker25.tar',
  'tiny-commit.docker.tar',
  'tiny-overlay.oci.tar',
  'tiny-overlay.skopeo-docker.tar',
  'tiny-overlay-zstd.oci-layout.tar',
  'tiny-commit-overlay.oci.tar',
  'tiny-multiarch.oci-layout.tar',
] as const;

const models = new Map<string, Promise<ImageModel>>();

/** The fixture read once per test process, whatever number of tests look at it. */
export function loadFixture(name: string, platform?: string): Promise<ImageModel> {
  const key = `${name}|${platform ?? ''}`;
  let p = models.get(key);
  if (!p) {
    p = openImage(fixture(name), { platform: platform ? parsePlatform(platform) : undefined }).then((img) => readImage(img));
    models.set(key, p);
  }
  return p;
}

export interface HashedEntry extends FileEntry {
  /** XXH3-128 of the content, for regular files and hardlinks (their inode's). */
  hash?: string;
  /** The union's content owner: entries sharing it are one inode on disk. */
  inode?: number;
  /** Hardlinks: what the linked inode is on disk (`file`, `symlink`, `fifo`…). */
  inodeType?: string;
}

/** The union view after layer k with each file's content hash: equal views must have equal bytes. */
export function hashedView(model: ImageModel, k = model.layers.length - 1): HashedEntry[] {
  const u = model.union;
  const out: HashedEntry[] = [];
  for (const { version } of u.walk(k)) {
    const e: HashedEntry = entryOf(u, version);
    if (e.type === 'hardlink') e.inodeType = kindName[u.inodeKindOf(version)];
    const ino = u.inodeOf(version);
    if (ino >= 0) {
      e.hash = hashHex(u.layers[u.layerOf(ino)], u.rowOf(ino));
      e.inode = ino;
    }
    out.push(e);
  }
  return out;
}

const run = promisify(execFile);

/** Run the CLI as a user would; returns stdout. */
export async function strata(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [strataBin, ...args], { maxBuffer: 64 << 20 });
  return stdout;
}
