/** Runs the strata CLI in this process and reports wall time and peak RSS (worker threads included). */
import { main } from '../src/cli.js';

const t0 = performance.now();
const code = await main(process.argv.slice(2));
const ms = performance.now() - t0;
process.stderr.write(`${JSON.stringify({ ms, maxRssMB: process.resourceUsage().maxRSS / 1024, code })}\n`);
process.exitCode = code;
