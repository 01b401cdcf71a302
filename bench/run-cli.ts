/**
 * Runs the strata CLI in this process and reports its wall time and peak RSS (worker threads
 * included). The clock starts before the CLI's modules load: their loading is part of every run.
 */
const t0 = performance.now();
const { main } = await import('../src/cli.js');
const code = await main(process.argv.slice(2));
const ms = performance.now() - t0;
process.stderr.write(`${JSON.stringify({ ms, maxRssMB: process.resourceUsage().maxRSS / 1024, code })}\n`);
process.exitCode = code;
