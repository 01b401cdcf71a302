/**
 * The explorer screen: layers, layer details, image details and the file tree (its last line: the
 * cursor's file and its package), laid out for the terminal size (side by side from 120 columns,
 * stacked below), plus the status line.
 */
import { useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import type { ImageModel } from '../model/read-image.js';
import { analyzePackages, type ImagePackages } from '../analyze/packages/packages.js';
import { changeCounts, imageSizes } from '../model/views.js';
import { keyNames, showKey, type Action, type Keymap } from './keymap.js';
import { Explorer, initialState, type UiState } from './state.js';
import { wasteSummary, type Finding } from './waste.js';
import { clip, fit, HelpScreen, ImageDetails, LayerDetails, LayersPane, layerInstruction, TreePane } from './panes.js';
import { fileOwnerLine } from './file-owner.js';

export interface ExplorerProps {
  model: ImageModel;
  keymap: Keymap;
  /** From a waste analysis; without them the explorer lists files overwritten or deleted later. */
  findings?: Finding[];
  wastedBytes?: number;
  efficiency?: number;
  /** One line on the image's risks (secrets, risky files, root user), shown with the image details. */
  risks?: string | null;
  /** Where `w` stops before the waste findings (waste.ts). */
  riskStops?: Finding[];
  /** Fixed size (tests); by default the terminal's, following resizes. */
  width?: number;
  height?: number;
}

export function useTerminalSize(width?: number, height?: number): { width: number; height: number } {
  const { stdout } = useStdout();
  const read = () => ({ width: stdout.columns || 80, height: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  // One line short of the terminal: ink redraws a full-height frame by clearing the screen.
  return { width: width ?? size.width, height: height ?? size.height - 1 };
}

const MIN_WIDTH = 40;
const MIN_HEIGHT = 13;

/** The status line's reminder of the main keys, as bound. */
function hints(keymap: Keymap): string {
  const items: [Action, string][] = [['nextPane', 'pane'], ['aggregate', 'aggregate'], ['mark', 'mark'], ['filter', 'filter'], ['nextFinding', 'waste'], ['help', 'keys'], ['quit', 'quit']];
  return items
    .filter(([a]) => keymap.keys[a].length)
    .map(([a, label]) => `${showKey(keymap.keys[a][0])} ${label}`)
    .join(' · ');
}

interface Layout {
  wide: boolean;
  left: number;
  layersH: number;
  detailsH: number;
  imageH: number;
  treeH: number;
}

/** `commandLength`: the selected layer's instruction, which the wide layout shows whole when it can. */
function layout(width: number, height: number, layers: number, commandLength: number): Layout {
  const body = height - 1; // status line
  if (width >= 120) {
    const left = Math.floor(width * 0.4);
    const layersH = Math.min(layers + 1, Math.max(4, Math.floor(body / 2) - 3));
    const commandLines = Math.ceil((commandLength + 'Command: '.length) / (left - 1));
    const detailsH = Math.max(6, Math.min(4 + commandLines, body - layersH - 6));
    return { wide: true, left, layersH, detailsH, imageH: body - layersH - detailsH, treeH: body };
  }
  const layersH = Math.min(layers, body >= 20 ? 5 : 3) + 1;
  const detailsH = body >= 20 ? 5 : 4;
  return { wide: false, left: Math.floor(width / 2), layersH, detailsH, imageH: detailsH, treeH: body - layersH - detailsH };
}

export function ExplorerApp(props: ExplorerProps) {
  const { model, keymap } = props;
  const { width, height } = useTerminalSize(props.width, props.height);
  const waste = useMemo(() => {
    if (!props.findings) return wasteSummary(model);
    const wastedBytes = props.wastedBytes ?? props.findings.reduce((s, f) => s + f.bytes, 0);
    const stored = model.layers.reduce((s, l) => s + l.size, 0);
    return { findings: props.findings, wastedBytes, efficiency: props.efficiency ?? (stored ? 1 - wastedBytes / stored : 1), risks: props.risks ?? null, riskStops: props.riskStops ?? [] };
  }, [model, props.findings, props.wastedBytes, props.efficiency, props.risks, props.riskStops]);
  const explorer = useMemo(() => new Explorer(model, waste.findings, keymap, waste.riskStops), [model, waste, keymap]);
  const sizes = useMemo(() => imageSizes(model), [model]);
  const [state, dispatch] = useReducer((s: UiState, e: Parameters<Explorer['reduce']>[1]) => explorer.reduce(s, e), model, initialState);
  const { exit } = useApp();
  const lay = layout(width, height, model.layers.length, model.layers.length ? layerInstruction(model, state.layer).length : 0);
  const pageRef = useRef(1);
  const treeRows = lay.treeH - 2 - (state.attributes ? 1 : 0); // title, file line
  pageRef.current = Math.max(1, state.focus === 'tree' ? treeRows : lay.layersH - 1);

  useEffect(() => {
    if (state.quit) exit();
  }, [state.quit, exit]);

  // The packages once per model, after the first screen (a pass over the view per database change;
  // free when the inspect report was just made, as it read them). In an updater, so that a failure
  // is a rendering error the failure screen shows.
  const [packages, setPackages] = useState<{ model: ImageModel; packages: ImagePackages } | null>(null);
  useEffect(() => {
    const timer = setTimeout(() => setPackages(() => ({ model, packages: analyzePackages(model) })), 0);
    return () => clearTimeout(timer);
  }, [model]);

  // After the first screen, one layer per timer tick: keys pressed meanwhile wait at most one layer.
  useEffect(() => {
    let k = 0;
    let timer: NodeJS.Timeout;
    const step = () => {
      if (k >= model.layers.length) return;
      explorer.warm(k++);
      timer = setTimeout(step, 0);
    };
    timer = setTimeout(step, 0);
    return () => clearTimeout(timer);
  }, [explorer, model]);

  useInput((input, key) => {
    for (const name of keyNames(input, key)) onKey(name);
  });

  // Keys arriving in one input event are reduced one by one against the latest state.
  const onKey = (name: string) => {
    const page = pageRef.current;
    if (name === 'ctrl+c') return dispatch({ type: 'action', action: 'quit', page });
    dispatch({ type: 'key', name, page });
  };

  const counts = useMemo(() => (model.layers.length ? changeCounts(model.union, state.layer) : null), [model, state.layer]);

  if (state.help) {
    return (
      <Box flexDirection="column" width={width}>
        <HelpScreen keymap={keymap} width={width} height={height - 1} />
        <Text>{clip(state.message, width)}</Text>
      </Box>
    );
  }
  if (!model.layers.length || !counts) return <Text>the image has no layers (q quits)</Text>;
  if (width < MIN_WIDTH || height < MIN_HEIGHT) return <Text wrap="truncate">{`terminal too small: ${width}x${height + 1}, needs ${MIN_WIDTH}x${MIN_HEIGHT + 1}`}</Text>;

  const view = explorer.view(state);
  const [from, to] = explorer.range(state);
  const cursor = view.resolve(state.cursor);
  const flags = [
    state.sort === 'size' ? 'sort: size' : '',
    state.hide.size ? `hide: ${[...state.hide].filter((h) => h !== 'metadata').join(' ')}` : '',
    state.filter ? `filter: ${state.filter}` : '',
  ].filter(Boolean);
  const title = `${from === to ? `Layer ${to} changes` : `Layers ${from}..${to} aggregated`}${flags.length ? `  [${flags.join('] [')}]` : ''}`;
  const right = lay.wide ? width - lay.left : width;
  const owners = packages?.model === model ? packages.packages : null;
  const footer = fileOwnerLine(model, view, owners, cursor);
  const tree = <TreePane view={view} title={title} cursor={cursor} offset={state.offset} attributes={state.attributes} focused={state.focus === 'tree'} width={right} height={lay.treeH} footer={footer} />;
  const layers = (
    <LayersPane model={model} selected={state.layer} range={from === to ? null : [from, to]} mark={state.mark} focused={state.focus === 'layers'} width={lay.wide ? lay.left - 1 : width} height={lay.layersH} />
  );
  // panes side by side keep a blank column between them
  const details = <LayerDetails model={model} layer={state.layer} counts={counts} width={lay.left - 1} height={lay.detailsH} />;
  const image = <ImageDetails sizes={sizes} waste={waste} width={lay.wide ? lay.left - 1 : width - lay.left} height={lay.imageH} />;
  const status =
    state.editing !== null ? `Filter (glob or regex): ${state.editing}█  ${state.message || 'Enter apply · Esc cancel'}` : state.message || hints(keymap);

  return (
    <Box flexDirection="column" width={width} height={height}>
      {lay.wide ? (
        <Box flexDirection="row">
          <Box flexDirection="column" width={lay.left}>
            {layers}
            {details}
            {image}
          </Box>
          {tree}
        </Box>
      ) : (
        <Box flexDirection="column">
          {layers}
          <Box flexDirection="row">
            <Box width={lay.left}>{details}</Box>
            {image}
          </Box>
          {tree}
        </Box>
      )}
      <Text wrap="truncate" inverse={state.editing !== null}>
        {state.editing !== null ? fit(status, width) : clip(status, width)}
      </Text>
    </Box>
  );
}
