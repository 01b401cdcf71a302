/** `strata dockerfile --verify` as text: the verdict, the sizes before and after, every remaining difference. */
import type { ImageSize, VerifyResult } from '../analyze/dockerfile/verify.js';
import type { FileDiff, FileState } from '../analyze/diff/files.js';
import { changeMark, metadataChanges, signedBytes } from './diff.js';
import { table } from './text.js';
import { humanBytes, plural } from '../util/units.js';
import { terminalCopy } from '../util/terminal-text.js';

/** Paths are padded to at most this many columns: a longer one overflows its own line only. */
const PATH_COLUMN = 60;

const GREEN = '\x1b[32m', RED = '\x1b[31m', RESET = '\x1b[0m';

export function renderVerify(result: VerifyResult, opts: { color?: boolean } = {}): string {
  // paths and link targets come from the images: every string escaped once, before anything is measured
  const r = terminalCopy(result);
  const paint = (s: string, c: string) => (opts.color ? `${c}${s}${RESET}` : s);
  const lines = [
    r.equal
      ? paint(`verified: the rebuilt image's view equals the original's minus the ${plural(r.ignored, 'left-out path')}`, GREEN)
      : paint(`differs: ${plural(r.differences.length, 'path')}`, RED) + ` (besides the ${plural(r.ignored, 'left-out path')})`,
    '',
    ...table(
      [
        ['', 'ORIGINAL', 'REBUILT', 'DELTA'],
        ['files in the view', humanBytes(r.before.fileBytes), humanBytes(r.after.fileBytes), signedBytes(r.after.fileBytes - r.before.fileBytes)],
        ['layers, uncompressed', humanBytes(r.before.tarBytes), humanBytes(r.after.tarBytes), signedBytes(r.after.tarBytes - r.before.tarBytes)],
        ['layer blobs as stored', humanBytes(r.before.blobBytes), humanBytes(r.after.blobBytes), signedBytes(r.after.blobBytes - r.before.blobBytes)],
        ['layers', String(r.before.layers), String(r.after.layers), layerDelta(r.before, r.after)],
      ],
      ['l', 'r', 'r', 'r'],
    ).map((l) => `  ${l}`),
  ];
  if (r.differences.length) {
    lines.push('', 'Differences (original -> rebuilt)');
    const rows = r.differences.map((d) => [changeMark[d.change], d.path, differenceText(d)]);
    for (const row of table(rows, ['l', 'l', 'l'], [undefined, PATH_COLUMN])) lines.push(`  ${row}`);
    lines.push('  (A only in the rebuild, D missing from it, M content, m metadata only, T type, L link target)');
  }
  return `${lines.join('\n')}\n`;
}

function layerDelta(a: ImageSize, b: ImageSize): string {
  const d = b.layers - a.layers;
  return d > 0 ? `+${d}` : String(d);
}

/** What differs, field by field, with both values: `mode 0644 -> 0755, uid 0 -> 1000`. */
export function differenceText(d: FileDiff): string {
  const { a, b } = d;
  if (!a || !b) return `${d.change === 'added' ? 'only in the rebuild' : 'missing from the rebuild'}: ${stateText((a ?? b)!)}`;
  const out: string[] = [];
  if (d.change === 'type') out.push(`type ${stateText(a)} -> ${stateText(b)}`);
  if (d.change === 'retarget') out.push(`link target ${a.linkTarget} -> ${b.linkTarget}`);
  if (d.change === 'modified') {
    out.push(a.contentHash === undefined ? `device numbers differ (${a.type})` : `content ${humanBytes(a.size)} ${short(a.contentHash)} -> ${humanBytes(b.size)} ${short(b.contentHash)}`);
  }
  out.push(...metadataChanges(d));
  return out.join(', ');
}

/** `file 12 B`, `symlink -> /app/index.js`, `dir 0755 0:0`. */
function stateText(s: FileState): string {
  const what = s.linkTarget !== undefined ? `${s.type} -> ${s.linkTarget}` : s.contentHash !== undefined ? `${s.type} ${humanBytes(s.size)}` : s.type;
  return `${what} ${s.mode} ${s.uid}:${s.gid}`;
}

/** Enough of an XXH3-128 hex to tell two contents apart on a line; --json carries all of it. */
const short = (hash: string | undefined) => (hash === undefined ? '' : hash.slice(0, 12));
