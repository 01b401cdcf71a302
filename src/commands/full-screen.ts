/** Running an ink app full screen, for the explorer and the diff view. */
import { openSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import type { ReactElement } from 'react';
import { StrataError } from '../util/errors.js';

const ALT_SCREEN_ON = '\x1b[?1049h';
const ALT_SCREEN_OFF = '\x1b[?1049l';

/** React for a full-screen ink app; call it before anything else imports React or ink. */
export function importReact(): Promise<typeof import('react')> {
  // React's development build records every render with its props (the whole model): far too slow.
  process.env.NODE_ENV ??= 'production';
  // ink draws only the last frame when the environment says CI (CI=true): on a terminal the app is
  // interactive whatever the environment says. ink reads this once, when it is first imported.
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  return import('react');
}

export type Keyboard = ReadStream | typeof process.stdin;

/**
 * Where a full-screen app reads its keys: stdin, or the terminal itself when the image comes from
 * stdin (`keysFromTty`). Called before the image is read, so that a run without a terminal fails at
 * once with one line, not after loading with ink's own error. `needs`: what needs the terminal;
 * `instead`: what to run without one.
 */
export function keyboard(keysFromTty: boolean, needs: string, instead: string): Keyboard {
  if (!keysFromTty) {
    if (process.stdin.isTTY) return process.stdin;
    throw new StrataError(`${needs} needs a terminal to read keys from: stdin is not one (${instead})`);
  }
  try {
    return new ReadStream(openSync('/dev/tty', 'r'));
  } catch {
    throw new StrataError(`${needs} needs a terminal to read keys from: the image comes from stdin and there is no /dev/tty (${instead})`);
  }
}

/** Run an ink app on the alternate screen until it exits, its keys from `stdin` (keyboard()). */
export async function fullScreen(element: ReactElement, stdin: Keyboard): Promise<void> {
  const { render } = await import('ink');
  process.stdout.write(ALT_SCREEN_ON);
  try {
    const app = render(element, { stdin, exitOnCtrlC: false, patchConsole: false });
    await app.waitUntilExit();
  } finally {
    process.stdout.write(ALT_SCREEN_OFF);
    if (stdin !== process.stdin) stdin.destroy();
  }
}
