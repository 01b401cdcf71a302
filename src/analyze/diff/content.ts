/**
 * Content diffs of chosen files between the two views of a diff: unified diffs (the `diff` package)
 * for text, size and hash for binary files. Each file is read by streaming the one layer that holds
 * its version (readRows); each layer is read at most once per side, and only wanted files are kept.
 */
import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import { StrataError } from '../../util/errors.js';
import { readRows } from '../../scan/extract.js';
import { hashHex, Kind, kindName } from '../../scan/records.js';
import type { DiffSide } from './side.js';
import { maskSecrets } from '../../scan/secret-mask.js';

export interface ContentSide {
  type: string;
  size: number;
  /** XXH3-128 of the content (from the layer records), hex; regular files only. */
  contentHash?: string;
  /** Full sha256 of the content, when it was read. */
  sha256?: string;
}

export interface ContentDiff {
  path: string;
  /**
   * not-a-file: a side exists and is not a regular file; identical: same size and hash, not read;
   * too-large: a side is over the limit and was not read; binary: a side holds a NUL byte or invalid
   * UTF-8; text: `patch` holds a unified diff.
   */
  kind: 'not-a-file' | 'identical' | 'too-large' | 'binary' | 'text';
  identical: boolean;
  a: ContentSide | null;
  b: ContentSide | null;
  patch?: string;
}

interface Wanted {
  path: string;
  /** Per side: the layer and stored path of the version holding the content, if a regular file. */
  /** Where each side's content is stored: its layer and record row. */
  src: ({ layer: number; row: number } | null)[];
  info: (ContentSide | null)[];
}

/** Absolute image paths -> their content diffs, reading files no larger than `limit` bytes. */
export async function contentDiffs(a: DiffSide, b: DiffSide, paths: readonly string[], limit: number): Promise<ContentDiff[]> {
  const sides = [a, b];
  const wanted: Wanted[] = paths.map((path) => {
    const w: Wanted = { path, src: [], info: [] };
    for (const side of sides) {
      const u = side.model.union;
      const node = u.nodeOf(path.replace(/^\/+/, '').replace(/\/+$/, ''));
      const v = node === undefined ? -1 : u.versionAt(node, side.layer);
      if (v < 0) {
        w.src.push(null);
        w.info.push(null);
        continue;
      }
      const ino = u.inodeOf(v);
      const kind = u.kindOf(v);
      const type = kind === Kind.hardlink ? 'file' : kindName[kind];
      if (ino < 0) {
        w.src.push(null);
        w.info.push({ type, size: 0 });
        continue;
      }
      w.src.push({ layer: u.layerOf(ino), row: u.rowOf(ino) });
      w.info.push({ type, size: u.sizeOf(v), contentHash: hashHex(u.layers[u.layerOf(ino)], u.rowOf(ino)) });
    }
    if (!w.info[0] && !w.info[1]) throw new StrataError(`${path}: in neither image`);
    return w;
  });

  // Read what is needed: regular files under the limit whose two sides may differ.
  const reads = sides.map(() => new Map<number, Set<number>>());
  const needs = (w: Wanted) => {
    const [x, y] = w.info;
    if (!w.src.some(Boolean) || w.info.some((i) => i && i.type !== 'file')) return false;
    if (w.info.some((i) => i && i.size > limit)) return false;
    return !(x && y && x.size === y.size && x.contentHash === y.contentHash);
  };
  for (const w of wanted.filter(needs)) {
    w.src.forEach((s, i) => {
      if (!s) return;
      const set = reads[i].get(s.layer) ?? new Set<number>();
      reads[i].set(s.layer, set.add(s.row));
    });
  }
  const got = await Promise.all(
    sides.map(async (side, i) => {
      const byLayer = new Map<number, Map<number, Buffer>>();
      for (const [layer, set] of reads[i]) byLayer.set(layer, await readRows(side.model.image, layer, set));
      return byLayer;
    }),
  );

  return wanted.map((w) => {
    const [x, y] = w.info;
    const identical = !!x && !!y && x.type === y.type && x.size === y.size && x.contentHash === y.contentHash;
    const base = { path: w.path, identical, a: x, b: y };
    if (w.info.some((i) => i && i.type !== 'file')) return { ...base, kind: 'not-a-file' };
    if (identical) return { ...base, kind: 'identical' };
    if (w.info.some((i) => i && i.size > limit)) return { ...base, kind: 'too-large' };
    const bufs = w.src.map((s, i) => (s ? got[i].get(s.layer)?.get(s.row) ?? null : null));
    bufs.forEach((buf, i) => {
      if (buf && w.info[i]) w.info[i]!.sha256 = createHash('sha256').update(buf).digest('hex');
    });
    const texts = bufs.map((buf) => (buf ? asText(buf) : ''));
    if (texts.some((t) => t === null)) return { ...base, kind: 'binary' };
    // strata shows no secret value it recognises, in a file's content either
    texts.forEach((text, i) => (texts[i] = maskSecrets(text!, w.path)));
    const patch = createTwoFilesPatch(x ? `a${w.path}` : '/dev/null', y ? `b${w.path}` : '/dev/null', texts[0]!, texts[1]!);
    return { ...base, kind: 'text', patch: patch.replace(/^={67}\n/, '') };
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The content as text, or null when it looks binary (git's rule: a NUL byte; also invalid UTF-8). */
function asText(buf: Buffer): string | null {
  if (buf.includes(0)) return null;
  try {
    return utf8.decode(buf);
  } catch {
    return null;
  }
}
