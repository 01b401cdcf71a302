/**
 * Explorer key bindings: actions, their default keys, and overrides from `.strata.yml` (`keys:`).
 * Keys are named as text: a printable character (`q`, `G`, `/`), or a named key with optional
 * `ctrl+` (`tab`, `space`, `enter`, `escape`, `up`, `down`, `left`, `right`, `pageup`, `pagedown`,
 * `home`, `end`, `ctrl+space`, `ctrl+a`).
 */
import type { Key } from 'ink';
import { StrataError } from '../util/errors.js';

export const actions = {
  quit: 'quit',
  help: 'show/hide this help',
  nextPane: 'switch pane',
  up: 'move up',
  down: 'move down',
  left: 'collapse / go to parent',
  right: 'expand',
  top: 'first row',
  bottom: 'last row',
  pageUp: 'page up',
  pageDown: 'page down',
  prevLayer: 'previous layer (any pane)',
  nextLayer: 'next layer (any pane)',
  collapse: 'collapse/expand dir',
  collapseAll: 'collapse/expand all',
  filter: 'filter: glob or regex',
  aggregate: 'aggregated changes on/off',
  mark: 'mark range start',
  hideAdded: 'hide/show added',
  hideModified: 'hide/show modified',
  hideRemoved: 'hide/show removed',
  hideUnchanged: 'hide/show unchanged',
  sort: 'sort by name/size',
  attributes: 'attribute columns on/off',
  nextFinding: 'next wasted-bytes finding',
  prevFinding: 'previous finding',
} as const;

export type Action = keyof typeof actions;

export const defaultKeys: Record<Action, string[]> = {
  quit: ['q', 'ctrl+c'],
  help: ['?'],
  nextPane: ['tab'],
  up: ['up', 'k'],
  down: ['down', 'j'],
  left: ['left', 'h'],
  right: ['right', 'l'],
  top: ['g', 'home'],
  bottom: ['G', 'end'],
  pageUp: ['pageup', 'ctrl+b'],
  pageDown: ['pagedown', 'ctrl+f'],
  prevLayer: ['['],
  nextLayer: [']'],
  collapse: ['space'],
  collapseAll: ['ctrl+space'],
  filter: ['/'],
  aggregate: ['a'],
  mark: ['m'],
  hideAdded: ['A', 'ctrl+a'],
  hideModified: ['M'],
  hideRemoved: ['R', 'ctrl+r'],
  hideUnchanged: ['U', 'ctrl+u'],
  sort: ['s'],
  attributes: ['c'],
  nextFinding: ['w'],
  prevFinding: ['W'],
};

const named = new Set(['tab', 'space', 'enter', 'escape', 'up', 'down', 'left', 'right', 'pageup', 'pagedown', 'home', 'end', 'backspace', 'delete']);

export interface Keymap {
  /** key name -> action */
  byKey: Map<string, Action>;
  /** action -> key names, for the help screen */
  keys: Record<Action, string[]>;
}

export function buildKeymap(overrides: Partial<Record<Action, string[]>> = {}): Keymap {
  // A key given to an action in the config leaves whichever action had it by default.
  const claimed = new Set(Object.values(overrides).flat());
  const keys = {} as Record<Action, string[]>;
  for (const a of Object.keys(defaultKeys) as Action[]) keys[a] = overrides[a] ?? defaultKeys[a].filter((k) => !claimed.has(k));
  const byKey = new Map<string, Action>();
  for (const a of Object.keys(keys) as Action[]) for (const k of keys[a]) byKey.set(k, a);
  return { byKey, keys };
}

/** Validate the `keys:` mapping of a config file; `where` names the file in messages. */
export function parseKeyOverrides(raw: unknown, where: string): Partial<Record<Action, string[]>> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new StrataError(`${where}: keys: expected a mapping of action: key(s)`);
  const out: Partial<Record<Action, string[]>> = {};
  for (const [action, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!(action in actions)) throw new StrataError(`${where}: keys: unknown action "${action}" (known: ${Object.keys(actions).join(', ')})`);
    const list = Array.isArray(value) ? value : [value];
    for (const k of list) {
      if (typeof k !== 'string' || !validKeyName(k)) throw new StrataError(`${where}: keys.${action}: "${String(k)}" is not a key name (e.g. q, G, ctrl+a, tab, pagedown)`);
    }
    out[action as Action] = list as string[];
  }
  return out;
}

function validKeyName(k: string): boolean {
  const base = k.startsWith('ctrl+') ? k.slice(5) : k;
  if (named.has(base)) return true;
  return k.startsWith('ctrl+') ? /^[a-z]$/.test(base) : [...base].length === 1;
}

/** The key bindings of a config file's `keys:` section over the defaults; `source` names the file. */
export function keymapOf(keys: Record<string, unknown>, source: string): Keymap {
  return buildKeymap(parseKeyOverrides(Object.keys(keys).length ? keys : undefined, source));
}

/** The name of a key press as ink reports it, in the syntax above. */
export function keyName(input: string, key: Key): string {
  const ctrl = key.ctrl ? 'ctrl+' : '';
  if (key.upArrow) return `${ctrl}up`;
  if (key.downArrow) return `${ctrl}down`;
  if (key.leftArrow) return `${ctrl}left`;
  if (key.rightArrow) return `${ctrl}right`;
  if (key.pageUp) return 'pageup';
  if (key.pageDown) return 'pagedown';
  if (key.home) return 'home';
  if (key.end) return 'end';
  if (key.tab) return 'tab';
  if (key.return) return 'enter';
  if (key.escape) return 'escape';
  if (key.backspace) return 'backspace';
  if (key.delete) return 'delete';
  if (key.ctrl && input === '`') return 'ctrl+space'; // Ctrl+Space sends NUL, which ink names "`"
  if (input === ' ') return 'space';
  return `${ctrl}${input}`;
}

/**
 * Key names for one ink input event. Ink hands a run of plain characters (typed fast, pasted, or
 * sent by tmux) over as one string: each character is a key press of its own.
 */
export function keyNames(input: string, key: Key): string[] {
  if ([...input].length <= 1 || key.ctrl || key.meta || key.escape) return [keyName(input, key)];
  return [...input].map(charKeyName);
}

function charKeyName(ch: string): string {
  if (ch === '\r' || ch === '\n') return 'enter';
  if (ch === '\t') return 'tab';
  if (ch === ' ') return 'space';
  if (ch === '\x7f' || ch === '\b') return 'backspace';
  if (ch === '\x00') return 'ctrl+space';
  if (ch < ' ') return `ctrl+${String.fromCharCode(ch.charCodeAt(0) + 96)}`;
  return ch;
}

/** Display form for the help screen: ctrl+a -> Ctrl+A. */
export function showKey(k: string): string {
  if (k.startsWith('ctrl+')) return `Ctrl+${showKey(k.slice(5)).replace(/^[a-z]$/, (c) => c.toUpperCase())}`;
  const pretty: Record<string, string> = { up: '↑', down: '↓', left: '←', right: '→', pageup: 'PgUp', pagedown: 'PgDn', space: 'Space', tab: 'Tab', enter: 'Enter', escape: 'Esc', home: 'Home', end: 'End' };
  return pretty[k] ?? k;
}
