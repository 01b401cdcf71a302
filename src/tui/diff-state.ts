/**
 * The diff view's state and what each action does to it, apart from React (as state.ts for the
 * explorer): the same keys move the cursor, filter, sort and toggle what is hidden.
 */
import { compileFilter, editFilter } from './filter.js';
import type { Action, Keymap } from './keymap.js';
import { moveInTree } from './preorder-tree.js';
import { DiffTreeView, type DiffStatus, type DiffTree } from './diff-tree.js';
import { toggleHide, type Event } from './state.js';

export interface DiffUiState {
  cursor: number;
  offset: number;
  /** Unchanged entries are hidden at first: the tree holds the changes and their directories. */
  hide: ReadonlySet<DiffStatus>;
  sort: 'name' | 'delta';
  collapsedByDefault: boolean;
  toggled: ReadonlySet<number>;
  filter: string;
  editing: string | null;
  help: boolean;
  /** The narrow layout shows the whole summary instead of the tree. */
  summary: boolean;
  message: string;
  quit: boolean;
}

/** The actions the diff view takes, as its help screen describes them. */
export const diffBindings: readonly (readonly [Action, string])[] = [
  ['quit', 'quit'],
  ['help', 'show/hide this help'],
  ['nextPane', 'whole summary / tree (below 120 columns)'],
  ['up', 'move up'],
  ['down', 'move down'],
  ['left', 'collapse / go to parent'],
  ['right', 'expand'],
  ['top', 'first row'],
  ['bottom', 'last row'],
  ['pageUp', 'page up'],
  ['pageDown', 'page down'],
  ['collapse', 'collapse/expand dir'],
  ['collapseAll', 'collapse/expand all'],
  ['filter', 'filter: glob or regex'],
  ['hideUnchanged', 'show/hide unchanged'],
  ['hideAdded', 'hide/show added'],
  ['hideModified', 'hide/show modified (content, metadata, type, link)'],
  ['hideRemoved', 'hide/show removed'],
  ['sort', 'sort by name/|delta|'],
];

export function initialDiffState(tree: DiffTree): DiffUiState {
  let changed = false;
  for (let n = 1; n < tree.count && !changed; n++) changed = tree.status(n) !== 'unchanged';
  return {
    cursor: -1,
    offset: 0,
    hide: new Set(['unchanged']),
    sort: 'name',
    collapsedByDefault: false,
    toggled: new Set(),
    filter: '',
    editing: null,
    help: false,
    summary: false,
    message: changed ? '' : 'no file differences',
    quit: false,
  };
}

/** Caches shared by every state of one diff: the last filter's matches and the last view. */
export class DiffExplorer {
  private lastFilter: { pattern: string; matches: Uint8Array | null } = { pattern: '', matches: null };
  private lastView: { content: string; view: DiffTreeView } | null = null;

  constructor(
    readonly tree: DiffTree,
    readonly keymap: Keymap,
  ) {}

  /** Throws a StrataError when the pattern is not a valid regex. */
  matches(pattern: string): Uint8Array | null {
    if (pattern !== this.lastFilter.pattern) {
      let matches: Uint8Array | null = null;
      if (pattern) {
        const test = compileFilter(pattern);
        matches = new Uint8Array(this.tree.count);
        for (let n = 1; n < this.tree.count; n++) matches[n] = test(`/${this.tree.paths[n]}`) ? 1 : 0;
      }
      this.lastFilter = { pattern, matches };
    }
    return this.lastFilter.matches;
  }

  view(s: DiffUiState): DiffTreeView {
    const content = [s.sort, [...s.hide].sort().join(','), s.filter].join('|');
    const last = this.lastView;
    if (last?.content === content && last.view.spec.toggled === s.toggled && last.view.spec.collapsedByDefault === s.collapsedByDefault) return last.view;
    const spec = { hide: s.hide, matches: this.matches(s.filter), sort: s.sort, collapsedByDefault: s.collapsedByDefault, toggled: s.toggled };
    const view = new DiffTreeView(this.tree, spec, last?.content === content ? last.view : undefined);
    this.lastView = { content, view };
    return view;
  }

  reduce(s: DiffUiState, e: Event): DiffUiState {
    if (e.type === 'key') {
      if (s.editing !== null) return editFilter(s, e.name, (pattern) => this.matches(pattern));
      if (s.help && e.name === 'escape') return { ...s, help: false };
      const action = this.keymap.byKey.get(e.name);
      return action ? this.reduce(s, { type: 'action', action, page: e.page }) : s;
    }
    const a = e.action;
    if (a === 'quit') return { ...s, quit: true };
    if (s.help) return a === 'help' ? { ...s, help: false } : s;
    switch (a) {
      case 'help':
        return { ...s, help: true };
      case 'nextPane':
        return { ...s, summary: !s.summary };
      case 'hideUnchanged':
        return toggleHide(s, ['unchanged']);
      case 'hideAdded':
        return toggleHide(s, ['added']);
      case 'hideModified':
        return toggleHide(s, ['modified', 'metadata', 'type', 'retarget']);
      case 'hideRemoved':
        return toggleHide(s, ['removed']);
      case 'sort':
        return { ...s, sort: s.sort === 'name' ? 'delta' : 'name' };
      case 'collapseAll':
        return { ...s, collapsedByDefault: !s.collapsedByDefault, toggled: new Set() };
      case 'filter':
        return { ...s, editing: s.filter, message: '' };
    }
    const moved = moveInTree(this.view(s), s, a, e.page);
    // left on a top-level row has nowhere to go: there is no other pane to focus
    return moved === 'out' || moved === null ? s : moved;
  }
}
