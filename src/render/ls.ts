/** The text of `strata ls`: one line per entry, like `ls -l` with the layer that set it. */
import type { ChangeEntry, FileEntry } from '../model/views.js';
import { modeString } from './text.js';
import { terminalText } from '../util/terminal-text.js';

const marks: Record<string, string> = { added: 'A', modified: 'M', metadata: 'm', removed: 'D', unchanged: '=' };

/** For `ls --help`: what the letters and columns of a line mean. */
export const lsLegend =
  `Each line: mode, uid:gid, size in bytes, L<N> the layer that last set the entry, path (-> symlink target, => hardlink target). ` +
  `With --changes it starts with the change: ${Object.entries(marks).map(([change, mark]) => `${mark} ${change === 'metadata' ? 'metadata only (mode, owner, xattrs)' : change === 'unchanged' ? 'unchanged (stored again as it was)' : change}`).join(', ')}.`;

export function renderEntry(e: FileEntry | ChangeEntry): string {
  const change = 'change' in e ? `${marks[e.change]} ` : '';
  // the two strings from the image, escaped here rather than through a copy of each of a million entries
  const link = e.linkTarget === undefined ? '' : `${e.type === 'hardlink' ? ' => ' : ' -> '}${terminalText(e.linkTarget)}`;
  return `${change}${modeString(e.type, e.mode)} ${`${e.uid}:${e.gid}`.padStart(9)} ${String(e.size).padStart(10)}  L${e.layer}  ${terminalText(e.path)}${link}`;
}
