/** The explorer's panes: each renders exactly `height` lines of at most `width` columns. */
import { Box, Text } from 'ink';
import type { ImageModel } from '../model/read-image.js';
import type { ChangeCounts, Sizes } from '../model/views.js';
import { Kind, kindName } from '../scan/records.js';
import { modeString, truncate, wrapWords } from '../render/text.js';
import { terminalText } from '../util/terminal-text.js';
import type { TreeView, Status } from './tree-view.js';
import { treeGuides, windowRows, type PreorderTree } from './preorder-tree.js';
import type { WasteSummary } from './waste.js';
import { showKey, actions, type Action, type Keymap } from './keymap.js';
import { humanBytes } from '../util/units.js';
import { instructionText } from '../image/history.js';

export function Title({ text, focused, width }: { text: string; focused?: boolean; width: number }) {
  return (
    <Text bold inverse={focused} wrap="truncate">
      {fit(text, width)}
    </Text>
  );
}

/**
 * A line as ink draws it: escaped (names, history and messages carry the image's control
 * characters), then cut to `width` columns, measured on the escaped text. Every line of the
 * explorer and the diff view goes through here or fit.
 */
export function clip(s: string, width: number): string {
  return truncate(terminalText(s), width);
}

/** Pad or cut a line to exactly `width` columns (for highlighted bars; other lines are only cut: fewer cells to draw). */
export function fit(s: string, width: number): string {
  return clip(s, width).padEnd(width);
}

export function Lines({ lines, width, height }: { lines: string[]; width: number; height: number }) {
  return (
    <Box flexDirection="column" width={width} height={height}>
      {lines.slice(0, height).map((l, i) => (
        <Text key={i} wrap="truncate">
          {clip(l, width)}
        </Text>
      ))}
    </Box>
  );
}

export function layerInstruction(model: ImageModel, L: number): string {
  const h = model.layers[L].history;
  // escaped here too: the layout measures it and the details pane wraps it
  return terminalText(instructionText(h?.created_by, h?.comment)) || '(no history entry)';
}

export function LayersPane(props: { model: ImageModel; selected: number; range: [number, number] | null; mark: number | null; focused: boolean; width: number; height: number }) {
  const { model, selected, range, width, height } = props;
  const rows = height - 1;
  const n = model.layers.length;
  const top = Math.max(0, Math.min(selected - Math.floor(rows / 2), n - rows));
  const numW = String(n - 1).length;
  const lines = [];
  for (let L = top; L < Math.min(n, top + rows); L++) {
    const inRange = range !== null && L >= range[0] && L <= range[1];
    const mark = L === props.mark ? '*' : inRange ? '│' : ' ';
    const text = `${mark}${String(L).padStart(numW)} ${humanBytes(model.layers[L].size).padStart(8)}  ${layerInstruction(model, L)}`;
    lines.push(
      <Text key={L} wrap="truncate" inverse={L === selected && props.focused} bold={L === selected} color={inRange && L !== selected ? 'magenta' : undefined}>
        {L === selected ? fit(text, width) : clip(text, width)}
      </Text>,
    );
  }
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Title text={`Layers (${n})${range ? `  aggregated ${range[0]}..${range[1]}` : ''}`} focused={props.focused} width={width} />
      {lines}
    </Box>
  );
}

export function LayerDetails({ model, layer, counts, width, height }: { model: ImageModel; layer: number; counts: ChangeCounts; width: number; height: number }) {
  const l = model.layers[layer];
  const lines = [
    `Digest ${l.digest}`,
    `Size ${humanBytes(l.size)}  compressed ${l.compressedSize === null ? '—' : humanBytes(l.compressedSize)}  entries ${l.records.count}`,
    `+${counts.added} added  ~${counts.modified} modified  ${counts.metadata} meta  -${counts.removed} removed`,
    ...wrap(`Command: ${layerInstruction(model, layer)}`, width),
  ];
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Title text={`Layer ${layer}`} width={width} />
      <Lines lines={lines} width={width} height={height - 1} />
    </Box>
  );
}

export function ImageDetails({ sizes, waste, width, height }: { sizes: Sizes; waste: WasteSummary; width: number; height: number }) {
  const lines = [
    `Final ${humanBytes(sizes.final)}  all layers ${humanBytes(sizes.uncompressed)}  compressed ${humanBytes(sizes.compressed)}`,
    `Efficiency ${(waste.efficiency * 100).toFixed(1)}%  wasted ${humanBytes(waste.wastedBytes)}  ${waste.findings.length} finding${waste.findings.length === 1 ? '' : 's'}`,
    ...(waste.risks ? wrapWords(terminalText(`Risks: ${waste.risks}`), width) : []),
    ...waste.findings.slice(0, Math.max(0, height - 3)).map((f) => `${humanBytes(f.bytes).padStart(8)} L${f.layer} ${f.category.padEnd(11)} ${f.path}`),
  ];
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Title text="Image (w: next waste finding)" width={width} />
      <Lines lines={lines} width={width} height={height - 1} />
    </Box>
  );
}

function wrap(s: string, width: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += width) out.push(s.slice(i, i + width));
  return out;
}

const colour: Record<Status, string | undefined> = { added: 'green', modified: 'yellow', metadata: 'cyan', removed: 'red', unchanged: undefined };
const glyph: Record<Status, string> = { added: 'A', modified: 'M', metadata: 'm', removed: 'D', unchanged: ' ' };

export function treeRowText(v: TreeView, node: number, attributes: boolean): string {
  const u = v.u;
  const ver = v.versionOf(node);
  const kind = u.kindOf(ver);
  const status = v.status(node);
  const guides = treeGuides(v, node);
  const dir = kind === Kind.dir;
  const marker = dir ? (v.expanded(node) ? '▾' : '▸') : '─';
  const name = u.nodePath[node].slice(u.nodePath[node].lastIndexOf('/') + 1);
  const link = u.linkOf(ver);
  const target = link === undefined ? '' : kind === Kind.hardlink ? ` => /${link}` : ` -> ${link}`;
  const cols = attributes
    ? `${modeString(kindName[kind], u.modeOf(ver).toString(8))} ${`${u.uidOf(ver)}:${u.gidOf(ver)}`.padStart(9)} ${humanBytes(v.size(node)).padStart(8)} `
    : '';
  return `${glyph[status]} ${cols}${guides}${marker} ${name}${dir ? '/' : ''}${target}`;
}

/** `footer`: the cursor's file and its package (file-owner.ts). */
export function TreePane(props: { view: TreeView; title: string; cursor: number; offset: number; attributes: boolean; focused: boolean; width: number; height: number; footer: string }) {
  const { view, attributes } = props;
  return (
    <TreeRowsPane
      view={view}
      title={props.title}
      cursor={props.cursor}
      offset={props.offset}
      focused={props.focused}
      width={props.width}
      height={props.height}
      header={attributes ? `  ${'Mode'.padEnd(10)} ${'UID:GID'.padStart(9)} ${'Size'.padStart(8)} Name` : null}
      footer={props.footer}
      rowText={(n) => treeRowText(view, n, attributes)}
      rowColour={(n) => colour[view.status(n)]}
      empty="  (nothing to show: change the filter or the hide toggles)"
    />
  );
}

/** A titled, virtualised tree: only the rows on screen are read; the cursor row is highlighted. `footer`: a last line below the rows. */
export function TreeRowsPane(props: {
  view: PreorderTree;
  title: string;
  header: string | null;
  footer?: string;
  cursor: number;
  offset: number;
  focused: boolean;
  width: number;
  height: number;
  rowText: (node: number) => string;
  rowColour: (node: number) => string | undefined;
  empty: string;
}) {
  const { view, width, height } = props;
  const rowsH = height - 1 - (props.header === null ? 0 : 1) - (props.footer === undefined ? 0 : 1);
  const { rows, cursorIndex } = windowRows(view, props.cursor, props.offset, rowsH);
  const lines = rows.map((n, i) => {
    const sel = i === cursorIndex;
    const text = props.rowText(n);
    return (
      <Text key={n} wrap="truncate" color={props.rowColour(n)} inverse={sel && props.focused} bold={sel && !props.focused}>
        {sel ? fit(text, width) : clip(text, width)}
      </Text>
    );
  });
  if (!rows.length) lines.push(<Text key="empty">{clip(props.empty, width)}</Text>);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Title text={props.title} focused={props.focused} width={width} />
      {props.header === null ? null : <Text wrap="truncate">{clip(props.header, width)}</Text>}
      <Box flexDirection="column" height={rowsH}>
        {lines}
      </Box>
      {props.footer === undefined ? null : <Text wrap="truncate">{clip(props.footer, width)}</Text>}
    </Box>
  );
}

/** `bindings`: the actions a screen takes, with their descriptions there (by default all, as in keymap.ts). */
export function HelpScreen({ keymap, width, height, bindings }: { keymap: Keymap; width: number; height: number; bindings?: readonly (readonly [Action, string])[] }) {
  const shown = bindings ?? (Object.keys(actions) as Action[]).map((a) => [a, actions[a]] as const);
  const items = shown.map(([a, what]) => [keymap.keys[a].map(showKey).join(' '), what] as const);
  const keyW = Math.max(...items.map(([k]) => k.length));
  const rows = Math.max(1, height - 2);
  const cols = Math.ceil(items.length / rows);
  const colW = Math.floor(width / cols);
  const lines: string[] = [];
  for (let r = 0; r < Math.min(rows, items.length); r++) {
    let line = '';
    for (let c = 0; c < cols; c++) {
      const it = items[c * rows + r];
      if (it) line += fit(`${it[0].padEnd(keyW)}  ${it[1]}`, colW - 1) + ' ';
    }
    lines.push(line);
  }
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Title text="Keys (? or Esc closes; .strata.yml `keys:` rebinds)" focused width={width} />
      <Lines lines={lines} width={width} height={height - 1} />
    </Box>
  );
}
