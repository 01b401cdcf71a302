/**
 * What the explorer's tree and the diff tree share: a virtualised tree read through children lists,
 * stepped in preorder (next/prev row) so the screen only touches the rows it draws, and the cursor
 * moves over it (arrows, pages, collapse). A tree supplies its children in display order, the
 * parent of a node, and which nodes are shown and expanded; node 0 is the root, never a row.
 */
import type { Action } from './keymap.js';

export abstract class PreorderTree {
  /** Shown children of a node in display order. */
  abstract children(node: number): Int32Array;
  abstract parentOf(node: number): number;
  abstract isDir(node: number): boolean;
  abstract expanded(node: number): boolean;
  abstract shown(node: number): boolean;
  /** Position of `node` in its parent's children list. */
  protected abstract indexIn(parent: number, node: number): number;

  first(): number {
    const top = this.children(0);
    return top.length ? top[0] : -1;
  }

  last(): number {
    const top = this.children(0);
    return top.length ? this.lastDescendant(top[top.length - 1]) : -1;
  }

  next(node: number): number {
    if (this.expanded(node)) {
      const c = this.children(node);
      if (c.length) return c[0];
    }
    for (let n = node; n > 0; ) {
      const p = this.parentOf(n);
      const list = this.children(p);
      const i = this.indexIn(p, n) + 1;
      if (i < list.length) return list[i];
      n = p;
    }
    return -1;
  }

  prev(node: number): number {
    const p = this.parentOf(node);
    const i = this.indexIn(p, node);
    if (i > 0) return this.lastDescendant(this.children(p)[i - 1]);
    return p === 0 ? -1 : p;
  }

  isLastChild(node: number): boolean {
    const p = this.parentOf(node);
    return this.indexIn(p, node) === this.children(p).length - 1;
  }

  /**
   * The row to show for a node that may not be a row of this view: itself, else its nearest shown
   * ancestor below a collapsed one, else the first row (-1 when the view is empty).
   */
  resolve(node: number): number {
    const chain: number[] = [];
    for (let n = node; n > 0; n = this.parentOf(n)) chain.push(n);
    let at = -1;
    for (let i = chain.length - 1; i >= 0; i--) {
      if (!this.shown(chain[i])) break;
      at = chain[i];
      if (i > 0 && !this.expanded(at)) break;
    }
    return at >= 0 ? at : this.first();
  }

  private lastDescendant(node: number): number {
    let n = node;
    while (this.expanded(n)) {
      const c = this.children(n);
      if (!c.length) break;
      n = c[c.length - 1];
    }
    return n;
  }
}

/** The drawing of a row's place in the tree: `│ ` / blanks for its ancestors, then `├─` or `└─`. */
export function treeGuides(v: PreorderTree, node: number): string {
  let guides = '';
  for (let a = v.parentOf(node); a > 0; a = v.parentOf(a)) guides = (v.isLastChild(a) ? '  ' : '│ ') + guides;
  return guides + (v.isLastChild(node) ? '└─' : '├─');
}

/** Rows on screen: walk back from the cursor to its screen row, then forward one screenful. */
export function windowRows(v: PreorderTree, cursor: number, offset: number, height: number): { rows: number[]; cursorIndex: number } {
  let top = cursor;
  let back = 0;
  while (back < offset) {
    const p = v.prev(top);
    if (p < 0) break;
    top = p;
    back++;
  }
  const rows: number[] = [];
  for (let n = top; n >= 0 && rows.length < height; n = v.next(n)) rows.push(n);
  return { rows, cursorIndex: cursor < 0 ? -1 : back };
}

/** The part of a screen's state the tree cursor moves: the cursor node, its screen row, the expansion toggles. */
export interface TreeCursor {
  cursor: number;
  offset: number;
  toggled: ReadonlySet<number>;
}

/**
 * A cursor move in the tree for `a`. Returns null for actions that are not moves, and 'out' for
 * left on a top-level row that is not expanded (the explorer then goes back to the layers pane).
 */
export function moveInTree<S extends TreeCursor>(v: PreorderTree, s: S, a: Action, page: number): S | 'out' | null {
  const cur = v.resolve(s.cursor);
  if (cur < 0) return null;
  const step = (dir: 1 | -1, times: number): S => {
    let n = cur;
    let moved = 0;
    for (; moved < times; moved++) {
      const m = dir > 0 ? v.next(n) : v.prev(n);
      if (m < 0) break;
      n = m;
    }
    return { ...s, cursor: n, offset: Math.max(0, Math.min(page - 1, s.offset + dir * moved)) };
  };
  switch (a) {
    case 'up':
      return step(-1, 1);
    case 'down':
      return step(1, 1);
    case 'pageUp':
      return step(-1, page);
    case 'pageDown':
      return step(1, page);
    case 'top':
      return { ...s, cursor: v.first(), offset: 0 };
    case 'bottom':
      return { ...s, cursor: v.last(), offset: page - 1 };
    case 'left':
      if (v.expanded(cur)) return toggleDir(s, cur);
      return v.parentOf(cur) > 0 ? toParent(s, v, cur, page) : 'out';
    case 'right':
      if (v.isDir(cur) && !v.expanded(cur)) return toggleDir(s, cur);
      return v.expanded(cur) ? step(1, 1) : s;
    case 'collapse':
      return v.isDir(cur) ? toggleDir({ ...s, cursor: cur }, cur) : s;
    default:
      return null;
  }
}

function toggleDir<S extends TreeCursor>(s: S, node: number): S {
  const toggled = new Set(s.toggled);
  if (toggled.has(node)) toggled.delete(node);
  else toggled.add(node);
  return { ...s, toggled };
}

/** Move to the parent row; it stays on screen at its row when it is within a page above. */
function toParent<S extends TreeCursor>(s: S, v: PreorderTree, node: number, page: number): S {
  const parent = v.parentOf(node);
  let n = node;
  for (let rows = 1; rows <= page; rows++) {
    n = v.prev(n);
    if (n === parent) return { ...s, cursor: parent, offset: Math.max(0, s.offset - rows) };
  }
  return { ...s, cursor: parent, offset: 0 };
}
