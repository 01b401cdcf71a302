import { Ints } from '../util/growable.js';

/**
 * Paths interned as ids 0, 1, 2…: the union looks up every tar entry's path here. A Map<string,
 * number> of 320k paths costs about 0.5 µs per new path (its own hashing, entries, rehashes); this
 * table keeps a 32-bit FNV-1a hash per id and open-addressing slots in one Int32Array, and compares
 * strings only when hashes are equal.
 */
export class PathTable {
  readonly paths: string[] = [];
  private readonly hashes = new Ints();
  private slots = new Int32Array(1024).fill(-1);

  /** `from`: an independent copy of that table. */
  constructor(from?: PathTable) {
    if (!from) return;
    this.paths = from.paths.slice();
    this.hashes = from.hashes.copy();
    this.slots = from.slots.slice();
  }

  /** The id of `path`, or -1. */
  find(path: string, h = hashPath(path)): number {
    const mask = this.slots.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const id = this.slots[i];
      if (id < 0) return -1;
      if (this.hashes.a[id] === h && this.paths[id] === path) return id;
    }
  }

  /** Add a path known to be absent (find gave -1); returns its id. */
  insert(path: string, h = hashPath(path)): number {
    if (2 * (this.paths.length + 1) > this.slots.length) this.grow();
    const id = this.paths.length;
    this.paths.push(path);
    this.hashes.push(h);
    this.place(id, h);
    return id;
  }

  private place(id: number, h: number): void {
    const mask = this.slots.length - 1;
    let i = h & mask;
    while (this.slots[i] >= 0) i = (i + 1) & mask;
    this.slots[i] = id;
  }

  private grow(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    for (let id = 0; id < this.paths.length; id++) this.place(id, this.hashes.a[id]);
  }
}

/** FNV-1a over UTF-16 code units, mixed at the end so that the low bits (the slot) spread. */
export function hashPath(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) | 0;
}
