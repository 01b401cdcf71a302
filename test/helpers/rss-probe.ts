/**
 * Loaded into a strata child with `--import` when a test measures memory: at exit, writes the
 * process's peak resident set (all threads, KiB) to the file named by STRATA_RSS_FILE. It reads
 * VmHWM, the peak of this process's own memory: getrusage's maxrss would also count the parent's
 * resident set at the fork (Linux carries it across exec), so a test process holding a large input
 * would be charged to strata.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const out = process.env.STRATA_RSS_FILE;
if (out) {
  process.on('exit', () => {
    try {
      const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
      if (hwm) writeFileSync(out, hwm[1]);
    } catch {
      // the test reports a missing figure
    }
  });
}
