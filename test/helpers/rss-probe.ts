/**
 * Loaded into a strata child with `--import` when a test measures memory: at exit, writes the
 * process's peak resident set (all threads, KiB) to the file named by STRATA_RSS_FILE.
 */
import { writeFileSync } from 'node:fs';

const out = process.env.STRATA_RSS_FILE;
if (out) {
  process.on('exit', () => {
    try {
      writeFileSync(out, String(process.resourceUsage().maxRSS));
    } catch {
      // the test reports a missing figure
    }
  });
}
