/**
 * Visible files with identical content at several paths: the duplicate findings' groups, and
 * whether a group looks like one file hardlinked in the build container and split by layering.
 */
import { HASH_BYTES, sameHash } from '../../scan/records.js';
import type { Union } from '../../model/union.js';

/** Same mode, owner and mtime (inodes are file rows). mtimes compare as their strings do: NaN equals NaN. */
export function sameMeta(u: Union, a: number, b: number): boolean {
  const ra = u.layers[u.layerOf(a)], i = u.rowOf(a);
  const rb = u.layers[u.layerOf(b)], j = u.rowOf(b);
  const ta = ra.mtime[i], tb = rb.mtime[j];
  return ra.mode[i] === rb.mode[j] && ra.uid[i] === rb.uid[j] && ra.gid[i] === rb.gid[j] && (ta === tb || (ta !== ta && tb !== tb));
}

/**
 * Inodes grouped by identical content (size and hash), groups in the order they first appeared:
 * an open-addressing table sized once for all the inodes, each slot a (hash, group) pair so that a
 * probe reads one place, and the groups as linked lists of inode ids. No string, object or array
 * per file.
 */
export class ContentGroups {
  /** Per slot: the group's hash, then group id + 1 (0: free). */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private count = 0;
  /** Per group: its first and last inode. */
  private readonly head: Int32Array;
  private readonly tail: Int32Array;
  /** Per inode: the next inode of its group, or -1. */
  private readonly next: Int32Array;

  constructor(
    private readonly u: Union,
    inodes: Int32Array,
  ) {
    let size = 1024;
    while (size < 2 * inodes.length) size *= 2;
    this.slots = new Int32Array(2 * size);
    this.mask = size - 1;
    this.head = new Int32Array(inodes.length);
    this.tail = new Int32Array(inodes.length);
    this.next = new Int32Array(u.versionCount).fill(-1);
    for (const ino of inodes) this.add(ino);
  }

  private add(ino: number): void {
    const slots = this.slots;
    const h = this.hash(ino);
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const g = slots[2 * i + 1] - 1;
      if (g < 0) {
        slots[2 * i] = h;
        slots[2 * i + 1] = this.count + 1;
        this.head[this.count] = this.tail[this.count] = ino;
        this.count++;
        return;
      }
      if (slots[2 * i] === h && this.same(this.head[g], ino)) {
        this.next[this.tail[g]] = ino;
        this.tail[g] = ino;
        return;
      }
    }
  }

  /** Groups of two or more inodes. */
  *groups(): Generator<number[]> {
    for (let g = 0; g < this.count; g++) {
      const first = this.head[g];
      if (this.next[first] < 0) continue;
      const out: number[] = [];
      for (let v = first; v >= 0; v = this.next[v]) out.push(v);
      yield out;
    }
  }

  private hash(ino: number): number {
    const u = this.u;
    const h = u.layers[u.layerOf(ino)].hash;
    const o = u.rowOf(ino) * HASH_BYTES;
    return (h[o] | (h[o + 1] << 8) | (h[o + 2] << 16) | (h[o + 3] << 24)) ^ Math.imul(u.sizeOf(ino) | 0, 0x9e3779b1);
  }

  private same(a: number, b: number): boolean {
    const u = this.u;
    return u.sizeOf(a) === u.sizeOf(b) && sameHash(u.layers[u.layerOf(a)], u.rowOf(a), u.layers[u.layerOf(b)], u.rowOf(b));
  }
}
