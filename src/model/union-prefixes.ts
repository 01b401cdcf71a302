/**
 * The images of one command that begin with the same layers (`strata diff app:1 app:2` on one
 * base, `strata inspect base app`) build the union of those layers once. Each image registers its
 * chain of diffIDs as it starts its union; a later one asks the earlier image that shares the most
 * leading layers for a copy of its union after them, and goes on from there. A union depends only
 * on the layers' content, which the diffIDs name (the layer cache relies on the same).
 */
import { Union } from './union.js';

/** A union of an image's first `layers` layers, its own to extend. */
export interface UnionStart {
  union: Union;
  layers: number;
}

export class UnionPrefixes {
  private readonly builders: Builder[] = [];

  /** Registers an image about to build its union from layers `chain` (diffIDs, bottom first). */
  begin(chain: string[]): Builder {
    let from: Builder | undefined;
    let best = 0;
    for (const b of this.builders) {
      const k = commonPrefix(b.chain, chain);
      if (k > best && b.canReach(k)) [from, best] = [b, k];
    }
    const builder = new Builder(chain, from?.copyAt(best) ?? Promise.resolve(null));
    this.builders.push(builder);
    return builder;
  }
}

/** One image's union as it grows: copies of it at the layer counts later images ask for. */
export class Builder {
  /** Layers in the union so far. */
  private added = 0;
  /** The union while it is built; once done, only as long as its image's model holds it. */
  private union: Union | null = null;
  private done: WeakRef<Union> | null = null;
  private ended = false;
  private failed = false;
  private readonly asked = new Map<number, ((u: Union | null) => void)[]>();

  constructor(
    readonly chain: string[],
    /** Where to start: a copy of an earlier image's union, or null to build from the first layer. */
    readonly start: Promise<UnionStart | null>,
  ) {}

  /** Whether it can give a copy after `layers` layers: not once it has added more, nor after it failed. */
  canReach(layers: number): boolean {
    if (this.failed) return false;
    return this.ended ? this.added === layers && this.done?.deref() !== undefined : this.added <= layers;
  }

  copyAt(layers: number): Promise<UnionStart | null> {
    const now = this.union ?? this.done?.deref();
    if (now && this.added === layers) return Promise.resolve({ union: new Union(now), layers });
    return new Promise<Union | null>((resolve) => {
      const waiting = this.asked.get(layers);
      if (waiting) waiting.push(resolve);
      else this.asked.set(layers, [resolve]);
    }).then((union) => union && { union, layers });
  }

  /** The union now holds `layers` layers: copies for those who asked at that count. */
  reached(layers: number, union: Union): void {
    this.added = layers;
    this.union = union;
    for (const [k, waiting] of this.asked) {
      if (k > layers) continue;
      this.asked.delete(k);
      // asked at a count this image started beyond (its own start was a copy): none to give
      for (const resolve of waiting) resolve(k === layers ? new Union(union) : null);
    }
  }

  /** Done, or failed: whoever still waits builds its own. */
  end(ok: boolean): void {
    this.ended = true;
    this.failed = !ok;
    // a finished union is not kept alive for images that may never ask: the command holds its model while it needs it
    this.done = ok && this.union ? new WeakRef(this.union) : null;
    this.union = null;
    for (const waiting of this.asked.values()) for (const resolve of waiting) resolve(null);
    this.asked.clear();
  }
}

function commonPrefix(a: string[], b: string[]): number {
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k++;
  return k;
}
