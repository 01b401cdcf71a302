/** Running an ink app full screen, for the explorer and the diff view. */
import { openSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import type { ReactElement } from 'react';

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

/**
 * Run an ink app on the alternate screen until it exits. `keysFromTty`: an image comes from stdin,
 * so keys come from the terminal itself.
 */
export async function fullScreen(element: ReactElement, keysFromTty: boolean): Promise<void> {
  const { render } = await import('ink');
  const stdin = keysFromTty ? new ReadStream(openSync('/dev/tty', 'r')) : process.stdin;
  process.stdout.write(ALT_SCREEN_ON);
  try {
    const app = render(element, { stdin, exitOnCtrlC: false, patchConsole: false });
    await app.waitUntilExit();
  } finally {
    process.stdout.write(ALT_SCREEN_OFF);
    if (stdin !== process.stdin) stdin.destroy();
  }
}
