/**
 * What the CLI starts before it loads its commands. A command that reads layers scans them in
 * worker threads, and a worker takes ~0.15 s to start: begun first, it starts while the CLI's own
 * modules load (~0.25 s) instead of after them (docs/performance.md#one-big-layer).
 */
import { prestartWorkers } from '../scan/scan-pool.js';

/** Commands that read no image layers (or not in this process). */
const NO_SCAN = new Set(['audit', 'worker']);

/** Start the scan workers when the command line names a command that reads images (or an image: the explorer). */
export function startEarly(argv: readonly string[]): void {
  const first = argv[0];
  if (first === undefined || first.startsWith('-') || NO_SCAN.has(first)) return;
  if (argv.some((a) => a === '--help' || a === '-h' || a === '--version')) return;
  prestartWorkers();
}
