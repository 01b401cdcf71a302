/**
 * The explorer's state and what each action does to it, apart from React: the component renders a
 * state and dispatches actions; the tree itself is read through a TreeView made for the state.
 */
import type { ImageModel } from '../model/read-image.js';
import { Kind } from '../scan/records.js';
import { DirSizes } from './dir-sizes.js';
import { compileFilter, editFilter } from './filter.js';
import type { Action, Keymap } from './keymap.js';
import { matchingNodes, NameOrder, TreeView, type Status } from './tree-view.js';
import type { Finding } from './waste.js';
import { moveInTree } from './preorder-tree.js';

export type Pane = 'layers' | 'tree';

export interface UiState {
  focus: Pane;
  layer: number;
  /** Range start set with `mark`; the aggregated view runs from it (or layer 0) to the selected layer. */
  mark: number | null;
  aggregate: boolean;
  /** Tree cursor (a node) and the screen row it sits on. */
  cursor: number;
  offset: number;
  hide: ReadonlySet<Status>;
  sort: 'name' | 'size';
  attributes: boolean;
  collapsedByDefault: boolean;
  toggled: ReadonlySet<number>;
  filter: string;
  /** Text being typed after `/`, or null. */
  editing: string | null;
  help: boolean;
  /** Index, among the waste findings, of the one `w` last jumped to. */
  finding: number;
  message: string;
  quit: boolean;
}

/** A key press (named as in keymap.ts) or an action; `page` is the focused pane's height in rows. */
export type Event = { type: 'key'; name: string; page: number } | { type: 'action'; action: Action; page: number };

export function initialState(model: ImageModel): UiState {
  return {
    focus: 'layers',
    layer: 0,
    mark: null,
    aggregate: false,
    cursor: -1,
    offset: 0,
    hide: new Set(),
    sort: 'name',
    attributes: true,
    collapsedByDefault: false,
    toggled: new Set(),
    filter: '',
    editing: null,
    help: false,
    finding: -1,
    message: model.layers.length ? '' : 'the image has no layers',
    quit: false,
  };
}

/** Per-model caches shared by every state: directory sizes, the last filter's matches, the last view. */
export class Explorer {
  readonly sizes: DirSizes;
  private readonly byName: NameOrder;
  private lastFilter: { pattern: string; matches: Int32Array | null } = { pattern: '', matches: null };
  private lastView: { content: string; view: TreeView } | null = null;
  /** What `w` visits: the risks first, then bytes stored and hidden by a later layer (not bloat of the final view). */
  private readonly waste: Finding[];

  constructor(
    readonly model: ImageModel,
    readonly findings: Finding[],
    readonly keymap: Keymap,
    riskStops: Finding[] = [],
  ) {
    this.sizes = new DirSizes(model.union);
    this.byName = new NameOrder(model.union);
    this.waste = [...riskStops, ...findings.filter((f) => f.kind === 'waste')];
  }

  /**
   * Idle-time work for layer k: the sizes of its top-level directories (which computes what the
   * layer touched), so a first visit to the layer does not pay for them on a key press.
   */
  warm(k: number): void {
    const u = this.model.union;
    for (const c of u.children(0)) {
      const v = u.versionAt(c, k);
      if (v >= 0 && u.kindOf(v) === Kind.dir) this.sizes.dirSize(c, k);
    }
  }

  /** The layers whose changes the tree shows: [from, to]; the tree is the union after `to`. */
  range(s: UiState): [number, number] {
    if (!s.aggregate) return [s.layer, s.layer];
    const start = s.mark ?? 0;
    return [Math.min(start, s.layer), Math.max(start, s.layer)];
  }

  /** Throws a StrataError when the pattern is not a valid regex. */
  matches(pattern: string): Int32Array | null {
    if (pattern !== this.lastFilter.pattern) {
      const matches = pattern ? matchingNodes(this.model.union, compileFilter(pattern)) : null;
      this.lastFilter = { pattern, matches };
    }
    return this.lastFilter.matches;
  }

  view(s: UiState): TreeView {
    const [from, to] = this.range(s);
    const content = [from, to, s.sort, [...s.hide].sort().join(','), s.filter].join('|');
    const last = this.lastView;
    if (last?.content === content && last.view.spec.toggled === s.toggled && last.view.spec.collapsedByDefault === s.collapsedByDefault) return last.view;
    const view = new TreeView(
      this.model.union,
      { layer: to, from, sort: s.sort, hide: s.hide, matches: this.matches(s.filter), collapsedByDefault: s.collapsedByDefault, toggled: s.toggled },
      this.sizes,
      this.byName,
      last?.content === content ? last.view : undefined,
    );
    this.lastView = { content, view };
    return view;
  }

  reduce(s: UiState, e: Event): UiState {
    if (e.type === 'key') {
      if (s.editing !== null) return this.edit(s, e.name);
      if (s.help && e.name === 'escape') return { ...s, help: false };
      const action = this.keymap.byKey.get(e.name);
      return action ? this.reduce(s, { type: 'action', action, page: e.page }) : s;
    }
    const a = e.action;
    if (a === 'quit') return { ...s, quit: true };
    if (s.help) return a === 'help' ? { ...s, help: false } : s;
    const n = this.model.layers.length;
    if (n === 0) return a === 'help' ? { ...s, help: true } : s;
    switch (a) {
      case 'help':
        return { ...s, help: true };
      case 'nextPane':
        return { ...s, focus: s.focus === 'layers' ? 'tree' : 'layers', message: '' };
      case 'prevLayer':
        return { ...s, layer: Math.max(0, s.layer - 1), message: '' };
      case 'nextLayer':
        return { ...s, layer: Math.min(n - 1, s.layer + 1), message: '' };
      case 'aggregate':
        return { ...s, aggregate: !s.aggregate, message: '' };
      case 'mark':
        return s.mark === s.layer ? { ...s, mark: null, message: 'range start cleared' } : { ...s, mark: s.layer, aggregate: true, message: `range starts at layer ${s.layer}` };
      case 'hideAdded':
        return toggleHide(s, ['added']);
      case 'hideModified':
        return toggleHide(s, ['modified', 'metadata']);
      case 'hideRemoved':
        return toggleHide(s, ['removed']);
      case 'hideUnchanged':
        return toggleHide(s, ['unchanged']);
      case 'sort':
        return { ...s, sort: s.sort === 'name' ? 'size' : 'name' };
      case 'attributes':
        return { ...s, attributes: !s.attributes };
      case 'collapseAll':
        return { ...s, collapsedByDefault: !s.collapsedByDefault, toggled: new Set() };
      case 'filter':
        return { ...s, editing: s.filter, message: '' };
      case 'nextFinding':
      case 'prevFinding':
        return this.jumpToFinding(s, a === 'nextFinding' ? 1 : -1, e.page);
    }
    return s.focus === 'layers' ? this.moveLayer(s, a, e.page) : this.moveTree(s, a, e.page);
  }

  private moveLayer(s: UiState, a: Action, page: number): UiState {
    const last = this.model.layers.length - 1;
    const to = (l: number) => ({ ...s, layer: Math.max(0, Math.min(last, l)), message: '' });
    switch (a) {
      case 'up':
        return to(s.layer - 1);
      case 'down':
        return to(s.layer + 1);
      case 'top':
        return to(0);
      case 'bottom':
        return to(last);
      case 'pageUp':
        return to(s.layer - page);
      case 'pageDown':
        return to(s.layer + page);
      case 'right':
        return { ...s, focus: 'tree' };
      default:
        return s;
    }
  }

  private moveTree(s: UiState, a: Action, page: number): UiState {
    const moved = moveInTree(this.view(s), s, a, page);
    // at the top level, left goes back to the layers pane
    return moved === 'out' ? { ...s, focus: 'layers' } : (moved ?? s);
  }

  private jumpToFinding(s: UiState, dir: 1 | -1, page: number): UiState {
    const f = this.waste;
    if (!f.length) return { ...s, message: 'no risks nor wasted-bytes findings' };
    const i = (((s.finding + dir) % f.length) + f.length) % f.length;
    const found = f[i];
    const u = this.model.union;
    const node = u.nodeOf(found.path.replace(/^\/+/, ''));
    let next: UiState = { ...s, finding: i, layer: found.layer, aggregate: false, focus: 'tree', message: findingLine(found, i, f.length) };
    if (node === undefined) return next;
    if (!this.view(next).shown(node)) next = { ...next, filter: '', hide: new Set() };
    // open every directory above the finding
    const toggled = new Set(next.toggled);
    for (let p = u.parentOf(node); p > 0; p = u.parentOf(p)) {
      if (next.collapsedByDefault) toggled.add(p);
      else toggled.delete(p);
    }
    return { ...next, toggled, cursor: node, offset: Math.floor(page / 2) };
  }

  private edit(s: UiState, name: string): UiState {
    const next = editFilter(s, name, (pattern) => this.matches(pattern));
    // an applied filter moves to the tree, where its result is
    return name === 'enter' && next.editing === null ? { ...next, focus: 'tree' } : next;
  }

}

function findingLine(f: Finding, i: number, n: number): string {
  return `${f.kind === 'risk' ? 'risk' : 'waste'} ${i + 1}/${n}: ${f.path} (${f.category}, layer ${f.layer}): ${f.remedy}`;
}

/** Hide the statuses, or show them again when all are hidden already. */
export function toggleHide<T, S extends { hide: ReadonlySet<T> }>(s: S, statuses: T[]): S {
  const hide = new Set(s.hide);
  const on = !statuses.every((x) => hide.has(x));
  for (const x of statuses) {
    if (on) hide.add(x);
    else hide.delete(x);
  }
  return { ...s, hide };
}
