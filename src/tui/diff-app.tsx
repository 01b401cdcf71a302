/**
 * `strata diff A B --tui`: the tree of both views' paths with their A→B status, sizes and deltas,
 * next to the report's summary (sizes, counts, config, bloat); the explorer's keys move around it.
 * Laid out side by side from 120 columns, stacked below.
 */
import { useEffect, useMemo, useReducer, useRef } from 'react';
import { Box, Text, useApp, useInput } from 'ink';
import { type DiffReport } from '../analyze/diff/diff.js';
import { type SideSummary } from '../analyze/diff/side.js';
import { Kind } from '../scan/records.js';
import { changeMark, signedBytes } from '../render/diff.js';
import { useTerminalSize } from './app.js';
import { DiffExplorer, diffBindings, initialDiffState, type DiffUiState } from './diff-state.js';
import type { DiffStatus, DiffTree, DiffTreeView } from './diff-tree.js';
import { keyNames, showKey, type Action, type Keymap } from './keymap.js';
import { clip, fit, HelpScreen, Lines, Title, TreeRowsPane } from './panes.js';
import { treeGuides } from './preorder-tree.js';
import type { Event } from './state.js';
import { humanBytes } from '../util/units.js';
import { terminalText } from '../util/terminal-text.js';
import { wrapWords } from '../render/text.js';

export interface DiffAppProps {
  report: DiffReport;
  tree: DiffTree;
  keymap: Keymap;
  /** Fixed size (tests); by default the terminal's, following resizes. */
  width?: number;
  height?: number;
}

const MIN_WIDTH = 40;
const MIN_HEIGHT = 13;

export const diffColour: Record<DiffStatus, string | undefined> = {
  added: 'green',
  removed: 'red',
  modified: 'yellow',
  metadata: 'cyan',
  type: 'magenta',
  retarget: 'magenta',
  unchanged: undefined,
};

const glyph: Record<DiffStatus, string> = { ...changeMark, unchanged: ' ' };

const side = (n: number | null) => (n === null ? '—' : humanBytes(n));

export function diffRowText(v: DiffTreeView, node: number): string {
  const t = v.tree;
  const kind = t.kind(node);
  const dir = t.isDir(node);
  const marker = dir ? (v.expanded(node) ? '▾' : '▸') : '─';
  const link = (l: string | undefined) => (l === undefined ? '' : kind === Kind.hardlink ? `/${l}` : l);
  const target =
    t.status(node) === 'retarget' ? ` -> ${link(t.linkA[node])} ⇒ ${link(t.linkB[node])}` : (t.linkB[node] ?? t.linkA[node]) === undefined ? '' : ` ${kind === Kind.hardlink ? '=>' : '->'} ${link(t.linkB[node] ?? t.linkA[node])}`;
  const delta = t.delta[node] ? signedBytes(t.delta[node]) : '';
  return `${glyph[t.status(node)]} ${side(t.size(node, 'a')).padStart(8)} ${side(t.size(node, 'b')).padStart(8)} ${delta.padStart(9)} ${treeGuides(v, node)}${marker} ${t.name(node)}${dir ? '/' : ''}${target}`;
}

const DIFF_HEADER = `  ${'Size A'.padStart(8)} ${'Size B'.padStart(8)} ${'Delta'.padStart(9)} Name`;

function sideLine(name: string, s: SideSummary): string {
  return `${name} ${s.ref}@${s.layer} (${s.platform})  ${humanBytes(s.size)}`;
}

/** The report's summary, most telling first: the narrow layout shows as many lines as fit. */
export function summaryLines(r: DiffReport): string[] {
  const s = r.summary;
  const f = s.files;
  const counts = (['added', 'removed', 'modified', 'metadata', 'type', 'retarget'] as const).filter((k) => f[k]).map((k) => `${changeMark[k]} ${f[k]} ${k}`);
  const compressed = s.compressedSizeDelta === null ? 'n/a' : signedBytes(s.compressedSizeDelta);
  const lines = [
    sideLine('A', s.a),
    sideLine('B', s.b),
    `Size ${signedBytes(s.sizeDelta)}  compressed ${compressed}  wasted ${signedBytes(r.bloat.wastedBytes.delta)}`,
    `Files ${f.total} changed${counts.length ? `: ${counts.join(', ')}` : ''}`,
    `Config ${r.config.length ? `${r.config.length} changed` : 'unchanged'}`,
    ...r.config.map((c) => `  ${c.key === undefined ? c.field : `${c.field} ${c.key}`}: ${c.a ?? '(unset)'} → ${c.b ?? '(unset)'}`),
  ];
  const cats = r.bloat.categories.filter((c) => c.delta !== 0);
  if (cats.length) lines.push('Bloat and waste by category', ...cats.map((c) => `  ${signedBytes(c.delta).padStart(9)} ${c.category} (${c.kind})`));
  return lines;
}

/** Lines wider than `width` broken at spaces, their continuations indented (escaped first: widths are of what is shown). */
function wrapLines(lines: string[], width: number): string[] {
  return lines.flatMap((line) => {
    const text = terminalText(line);
    if (text.length <= width) return [text];
    const lead = /^ */.exec(text)![0];
    const rest = `${lead}    `;
    return wrapWords(text.slice(lead.length), Math.max(width - rest.length, 10)).map((l, i) => `${i === 0 ? lead : rest}${l}`);
  });
}

function hints(keymap: Keymap): string {
  const items: [Action, string][] = [['nextPane', 'summary'], ['filter', 'filter'], ['hideUnchanged', 'unchanged'], ['sort', 'sort'], ['collapse', 'collapse'], ['help', 'keys'], ['quit', 'quit']];
  return items
    .filter(([a]) => keymap.keys[a].length)
    .map(([a, label]) => `${showKey(keymap.keys[a][0])} ${label}`)
    .join(' · ');
}

function title(s: DiffUiState): string {
  const hidden = [...s.hide].filter((h) => h !== 'unchanged' && h !== 'metadata' && h !== 'type' && h !== 'retarget');
  const flags = [s.sort === 'delta' ? 'sort: |delta|' : '', hidden.length ? `hide: ${hidden.join(' ')}` : '', s.filter ? `filter: ${s.filter}` : ''].filter(Boolean);
  return `${s.hide.has('unchanged') ? 'Changes' : 'All entries'} A→B${flags.length ? `  [${flags.join('] [')}]` : ''}`;
}

export function DiffApp(props: DiffAppProps) {
  const { report, tree, keymap } = props;
  const { width, height } = useTerminalSize(props.width, props.height);
  const explorer = useMemo(() => new DiffExplorer(tree, keymap), [tree, keymap]);
  const [state, dispatch] = useReducer((s: DiffUiState, e: Event) => explorer.reduce(s, e), tree, initialDiffState);
  const { exit } = useApp();
  const body = height - 1; // status line
  const wide = width >= 120;
  const left = wide ? Math.floor(width * 0.4) : width;
  // wrapped to the pane, not cut: side names and config values are long, and the wide pane is 40 % of the screen
  const summary = useMemo(() => wrapLines(summaryLines(report), wide ? left - 1 : width), [report, wide, left, width]);
  const whole = !wide && state.summary;
  const summaryH = wide || whole ? body : Math.min(summary.length + 1, body >= 20 ? 8 : 5);
  const treeH = wide ? body : body - summaryH;
  const pageRef = useRef(1);
  pageRef.current = Math.max(1, treeH - 2);

  useEffect(() => {
    if (state.quit) exit();
  }, [state.quit, exit]);

  useInput((input, key) => {
    for (const name of keyNames(input, key)) {
      const page = pageRef.current;
      dispatch(name === 'ctrl+c' ? { type: 'action', action: 'quit', page } : { type: 'key', name, page });
    }
  });

  if (state.help) {
    return (
      <Box flexDirection="column" width={width}>
        <HelpScreen keymap={keymap} width={width} height={height - 1} bindings={diffBindings} />
        <Text>{clip(state.message, width)}</Text>
      </Box>
    );
  }
  if (width < MIN_WIDTH || height < MIN_HEIGHT) return <Text wrap="truncate">{`terminal too small: ${width}x${height + 1}, needs ${MIN_WIDTH}x${MIN_HEIGHT + 1}`}</Text>;

  const view = explorer.view(state);
  const treeW = wide ? width - left : width;
  const treePane = (
    <TreeRowsPane
      view={view}
      title={title(state)}
      header={DIFF_HEADER}
      cursor={view.resolve(state.cursor)}
      offset={state.offset}
      focused
      width={treeW}
      height={treeH}
      rowText={(n) => diffRowText(view, n)}
      rowColour={(n) => diffColour[tree.status(n)]}
      empty={state.hide.has('unchanged') && !state.filter ? '  (no differences: U shows unchanged entries)' : '  (nothing to show: change the filter or the hide toggles)'}
    />
  );
  // panes side by side keep a blank column between them
  const summaryW = wide ? left - 1 : width;
  const summaryPane = (
    <Box flexDirection="column" width={summaryW} height={summaryH}>
      <Title text={wide || whole ? 'Diff summary' : `Diff summary${summary.length >= summaryH ? ` (${showKey(keymap.keys.nextPane[0] ?? '')}: all of it)` : ''}`} width={summaryW} />
      <Lines lines={summary} width={summaryW} height={summaryH - 1} />
    </Box>
  );
  const status = state.editing !== null ? `Filter (glob or regex): ${state.editing}█  ${state.message || 'Enter apply · Esc cancel'}` : state.message || hints(keymap);
  return (
    <Box flexDirection="column" width={width} height={height}>
      {wide ? (
        <Box flexDirection="row">
          <Box width={left}>{summaryPane}</Box>
          {treePane}
        </Box>
      ) : (
        <Box flexDirection="column">
          {summaryPane}
          {whole ? null : treePane}
        </Box>
      )}
      <Text wrap="truncate" inverse={state.editing !== null}>
        {state.editing !== null ? fit(status, width) : clip(status, width)}
      </Text>
    </Box>
  );
}
