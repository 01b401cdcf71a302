/** Loading (with progress), then the explorer; a failure is shown as a message until a key is pressed. */
import { Component, useEffect, useState, type ReactNode } from 'react';
import { Box, Text, useApp, useInput, useStdin } from 'ink';
import type { ImageModel } from '../model/read-image.js';
import { StrataError } from '../util/errors.js';
import { terminalText } from '../util/terminal-text.js';
import type { Keymap } from './keymap.js';
import { ExplorerApp, type ExplorerProps } from './app.js';

export type Loader = (onProgress: (done: number, total: number) => void) => Promise<ImageModel>;

type Phase = { name: 'loading'; done: number; total: number } | { name: 'ready'; model: ImageModel; analysis?: ReturnType<Analysis> } | { name: 'failed'; error: Error };

/** What a waste/bloat analysis gives the image-details pane (the explorer's own simple list otherwise). */
export type Analysis = (model: ImageModel) => Pick<ExplorerProps, 'findings' | 'wastedBytes' | 'efficiency' | 'risks' | 'riskStops'>;

export function Root({ load, keymap, analyze, width, height }: { load: Loader; keymap: Keymap; analyze?: Analysis; width?: number; height?: number }) {
  const [phase, setPhase] = useState<Phase>({ name: 'loading', done: 0, total: 0 });
  useRawModeForLife();
  useEffect(() => {
    let live = true;
    load((done, total) => live && setPhase({ name: 'loading', done, total })).then(
      (model) => live && setPhase({ name: 'ready', model, analysis: analyze?.(model) }),
      (error: Error) => live && setPhase({ name: 'failed', error }),
    );
    return () => {
      live = false;
    };
  }, [load, analyze]);
  if (phase.name === 'failed') return <Failure error={phase.error} />;
  if (phase.name === 'loading') return <Loading done={phase.done} total={phase.total} />;
  return (
    <Guard>
      <ExplorerApp model={phase.model} keymap={keymap} width={width} height={height} {...phase.analysis} />
    </Guard>
  );
}

/**
 * The terminal stays raw from the first screen until exit. Each screen's useInput alone would switch it
 * back to cooked between the loading screen and the explorer, and a Ctrl+C typed in that moment becomes
 * SIGINT: strata killed with the alternate screen still on, instead of quitting.
 */
function useRawModeForLife() {
  const { setRawMode } = useStdin();
  useEffect(() => {
    setRawMode(true);
    return () => setRawMode(false);
  }, [setRawMode]);
}

function Loading({ done, total }: { done: number; total: number }) {
  const { exit } = useApp();
  useInput((input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) exit();
  });
  const bar = total ? `${'█'.repeat(Math.round((done / total) * 20)).padEnd(20, '░')} ${done}/${total} layers` : 'opening the image…';
  return <Text>reading layers {bar}</Text>;
}

/** Shows the error; any key leaves, and the command exits 2 with the same message. */
function Failure({ error }: { error: Error }) {
  const { exit } = useApp();
  useInput(() => exit(error instanceof StrataError ? error : new StrataError(`internal error: ${error.message}`)));
  return (
    <Box flexDirection="column">
      <Text color="red">strata: {terminalText(error.message)}</Text>
      <Text dimColor>press any key to quit</Text>
    </Box>
  );
}

/** A rendering bug becomes the failure screen instead of a torn terminal. */
class Guard extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  render() {
    return this.state.error ? <Failure error={this.state.error} /> : this.props.children;
  }
}
