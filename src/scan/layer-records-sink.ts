import type { IHasher } from 'hash-wasm';
import { StrataError } from '../util/errors.js';
import { checkPathLength, normalizeEntryPath, parentOf, baseName, joinPath } from '../util/paths.js';
import { excerpt } from '../util/json-doc.js';
import { Flag, HASH_BYTES, Kind, type KindCode, type LayerRecords, RecordsBuilder } from './records.js';
import type { TarHeader, TarSink, TarType } from './tar-parser.js';
import type { SecretScanner } from './secret-scan.js';
import { MAX_KEPT_PER_LAYER, packageFileCap } from './package-files.js';

const kindOf: Record<TarType, KindCode> = {
  file: Kind.file,
  dir: Kind.dir,
  symlink: Kind.symlink,
  hardlink: Kind.hardlink,
  char: Kind.char,
  block: Kind.block,
  fifo: Kind.fifo,
};

/**
 * Turns parsed tar entries into LayerRecords: normalised paths, whiteouts decoded, content hashed.
 * Content hashes only detect change and duplication (digests are verified with sha256 elsewhere), so
 * they use XXH3-128: five times faster than sha256 here (docs/performance.md).
 */
export class LayerRecordsSink implements TarSink {
  private readonly b = new RecordsBuilder();
  private fileBytes = 0;
  private hashing = false;
  private hashRow = -1;
  private result: LayerRecords | null = null;
  private readonly emptyHash: Uint8Array;
  /**
   * The file being read for secrets (-1: none): its row and size, and its chunks so far when it
   * spans several (copied: sources reuse chunk buffers). Fields, not an object per file: a million
   * tiny files made that allocation a visible share of the scan.
   */
  private readRow = -1;
  private readSize = 0;
  private readGot = 0;
  private readParts: Buffer[] = [];
  /** The package database file being kept (-1: none), its bytes so far, and what the layer kept in all. */
  private keepRow = -1;
  private keepBytes: Uint8Array | null = null;
  private keepGot = 0;
  private keptTotal = 0;

  constructor(private readonly hasher: IHasher, private readonly secrets?: SecretScanner) {
    hasher.init();
    this.emptyHash = hasher.digest('binary');
  }

  entry(h: TarHeader): void {
    this.closeHash();
    let path: string;
    try {
      path = normalizeEntryPath(h.name);
    } catch (e) {
      throw new StrataError(`tar entry at byte ${h.offset}: ${(e as Error).message}`);
    }
    if (path === '') return; // the root itself: nothing to show
    let kind = kindOf[h.type];
    let flags = h.sparse ? Flag.sparse : 0;
    if (path.includes('.wh.')) {
      const base = baseName(path);
      // AUFS keeps its bookkeeping at a branch's root, and Docker reads it there only (the entry name's
      // prefix); below the root `.wh..wh.x` is a whiteout of `.wh.x`, as Docker and umoci apply it
      if (path.startsWith('.wh..wh.') && path !== '.wh..wh..opq') {
        flags |= Flag.aufs;
      } else if (base === '.wh..wh..opq') {
        path = parentOf(path);
        kind = Kind.opaque;
      } else if (base.startsWith('.wh.')) {
        const target = base.slice(4);
        if (target === '' || target === '.' || target === '..') {
          throw new StrataError(`tar entry at byte ${h.offset}: invalid whiteout name ${excerpt(h.name)}`);
        }
        path = joinPath(parentOf(path), target);
        kind = Kind.whiteout;
      }
    }
    const isData = kind === Kind.file;
    // apparent sizes, as the union and the waste analysis count files: a sparse file stores less
    if (isData) this.fileBytes += h.size;
    const i = this.b.add(path, kind, isData ? h.size : 0, h.mode, h.uid, h.gid, h.mtime);
    const r = this.b.records;
    if (flags) r.flags[i] = flags;
    if (h.type === 'char' && h.devmajor === 0 && h.devminor === 0) r.flags[i] |= Flag.overlayWhiteout;
    if (h.type === 'char' || h.type === 'block') r.dev[i] = [h.devmajor, h.devminor];
    if (h.xattrs) {
      const x: Record<string, string> = {};
      for (const [k, v] of h.xattrs) x[k] = v.toString('base64');
      r.xattrs[i] = x;
    }
    if (h.type === 'hardlink') {
      try {
        r.link[i] = normalizeEntryPath(h.linkname);
      } catch (e) {
        throw new StrataError(`tar entry at byte ${h.offset}: hardlink target ${(e as Error).message}`);
      }
    } else if (h.type === 'symlink') {
      try {
        checkPathLength(h.linkname);
      } catch (e) {
        throw new StrataError(`tar entry at byte ${h.offset}: symlink target ${(e as Error).message}`);
      }
      r.link[i] = h.linkname;
    }
    if (isData) {
      if (h.size > 0 || h.sparse) {
        this.hasher.init();
        this.hashing = true;
        this.hashRow = i;
        if (this.secrets?.wants(h.size) && !h.sparse) {
          this.readRow = i;
          this.readSize = h.size;
          this.readGot = 0;
        }
        this.keepPackageFile(path, i, h.size, h.sparse);
      } else {
        r.hash.set(this.emptyHash, i * HASH_BYTES);
      }
    }
  }

  data(chunk: Buffer): void {
    if (this.hashing) this.hasher.update(chunk);
    if (this.keepRow >= 0) this.keepChunk(chunk);
    if (this.readRow < 0) return;
    if (this.readGot === 0 && chunk.length === this.readSize) {
      // the whole file in one chunk (the common case): matched in place, no copy
      this.readSecrets(this.readRow, chunk);
      this.readRow = -1;
      return;
    }
    this.readParts.push(Buffer.from(chunk));
    this.readGot += chunk.length;
  }

  end(): void {
    this.closeHash();
  }

  finish(tarSize: number): LayerRecords {
    this.closeHash();
    this.result ??= this.b.finish(this.fileBytes, tarSize);
    return this.result;
  }

  private readSecrets(row: number, content: Buffer): void {
    const hits = this.secrets!.scan(this.b.records.path[row], content);
    if (hits.length) this.b.records.secrets[row] = hits;
  }

  /** Starts keeping the bytes of a package database file, or flags it when over its cap. */
  private keepPackageFile(path: string, row: number, size: number, sparse: boolean): void {
    const cap = packageFileCap(path);
    if (cap === 0) return;
    if (sparse || size > cap || this.keptTotal + size > MAX_KEPT_PER_LAYER) {
      this.b.records.flags[row] |= Flag.packageFileOversized;
      return;
    }
    this.keepRow = row;
    this.keepBytes = new Uint8Array(size); // within its cap: the declared size is bounded
    this.keepGot = 0;
    this.keptTotal += size;
  }

  private keepChunk(chunk: Buffer): void {
    const room = this.keepBytes!.length - this.keepGot;
    this.keepBytes!.set(chunk.length <= room ? chunk : chunk.subarray(0, room), this.keepGot);
    this.keepGot += Math.min(chunk.length, room);
  }

  private closeHash(): void {
    if (this.keepRow >= 0) {
      // the parser ends an entry only when its declared size has passed: the copy is whole
      if (this.keepGot === this.keepBytes!.length) this.b.records.packageFiles[this.keepRow] = this.keepBytes!;
      this.keepRow = -1;
      this.keepBytes = null;
    }
    if (this.readRow >= 0) {
      this.readSecrets(this.readRow, Buffer.concat(this.readParts, this.readGot));
      this.readRow = -1;
      this.readParts = [];
    }
    if (!this.hashing) return;
    this.b.records.hash.set(this.hasher.digest('binary'), this.hashRow * HASH_BYTES);
    this.hashing = false;
    this.hashRow = -1;
  }
}
