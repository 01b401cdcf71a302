/**
 * What the file lists of one view's packages may cost in all, one budget shared by every reader
 * (docs/security.md). A path costs PATH_COST (its string, its slot in a list, what ownership does
 * with it) plus its length, so neither millions of short paths nor a long directory joined to many
 * one-byte names (each path's length counts, however the string is built) can grow the heap past
 * the budget. At most two views' packages are alive at once (a layer's before and after) and a list
 * parsed in one view is kept for the next view only, so memory stays within about twice the budget
 * however many layers an image has. Over the budget the packages are still listed, the paths from
 * there on are not read, and one warning names the layer and file where it ran out.
 */
import { humanBytes } from '../../util/units.js';

/** What a path costs beside its characters: about the V8 heap one path in a list and in ownership takes. */
export const PATH_COST = 64;
/**
 * The cost one view's paths may add up to: about 2 million paths of a real distribution (60-80
 * characters each); the largest real images list 100,000 to 400,000.
 */
export const MAX_VIEW_PATH_COST = 256 * 1024 * 1024;

interface Listed {
  /** The path of the copy (one copy, one path: the scan's), checked so a reuse is never another file's. */
  file: string;
  files: string[];
  cost: number;
}

export class PathBudget {
  private left: number;
  private ranOut: string | undefined;
  /** The lists parsed or reused in this view, by the bytes of their copy. */
  private readonly lists = new Map<Uint8Array, Listed>();

  /** `previous`: the budget of the view read before, whose lists this one may reuse (and no older one's). */
  constructor(
    private previous?: PathBudget,
    private readonly limit = MAX_VIEW_PATH_COST,
  ) {
    this.left = limit;
    if (previous) previous.previous = undefined;
  }

  /** Charges one path read from `file` (root-relative) of layer `layer`; false from the first path that does not fit on. */
  take(path: string, file: string, layer: number): boolean {
    if (this.ranOut !== undefined) return false;
    this.left -= PATH_COST + path.length;
    if (this.left >= 0) return true;
    this.ranOut = `layer ${layer} /${file}`;
    return false;
  }

  /**
   * The paths of a list file: `parse` (which must ask `take` for each path it keeps) runs once for
   * a copy that consecutive views see, and a complete result is reused; every view is charged.
   */
  list(bytes: Uint8Array, file: string, layer: number, parse: (take: (path: string) => boolean) => string[]): string[] {
    // spent: nothing more is read, and no list is parsed again for nothing
    if (this.ranOut !== undefined) return [];
    const found = this.lists.get(bytes) ?? this.previous?.lists.get(bytes);
    const known = found?.file === file ? found : undefined;
    if (known && known.cost <= this.left) {
      this.left -= known.cost;
      this.lists.set(bytes, known);
      return known.files;
    }
    if (known) {
      const out: string[] = [];
      for (const f of known.files) {
        if (!this.take(f, file, layer)) break;
        out.push(f);
      }
      return out;
    }
    const before = this.left;
    let complete = true;
    const files = parse((p) => this.take(p, file, layer) || (complete = false));
    if (complete) this.lists.set(bytes, { file, files, cost: before - this.left });
    return files;
  }

  /** The warning naming where the budget ran out, if it did. */
  warning(): string | undefined {
    return this.ranOut && `${this.ranOut}: expected the file lists of one view's packages to cost at most ${humanBytes(this.limit)} (${PATH_COST} bytes a path and its length): the paths from here on not read, their files owned by no package`;
  }
}
