/**
 * The source tree follows the pipeline: each folder of src/ imports only the folders below it in
 * the table, and only the CLI (src/cli.ts, src/commands/) writes to the terminal or ends the process.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const src = join(import.meta.dirname, '..', '..', 'src');

/** What each folder may import (besides itself and npm packages). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  util: [],
  config: ['util'],
  // a layer may carry the records a streaming source scanned before the layer order was known: types only
  image: ['util', 'scan:type'],
  scan: ['util', 'image'],
  model: ['util', 'image', 'scan'],
  analyze: ['util', 'config', 'image', 'scan', 'model'],
  cache: ['util', 'image', 'scan', 'model', 'analyze'],
  sources: ['util', 'image', 'scan', 'cache'],
  render: ['util', 'image', 'model', 'analyze'],
  // writers of images (optimize): the planned layers streamed out of the original blobs, to files or a registry
  write: ['util', 'image', 'scan', 'model', 'analyze', 'sources'],
  tui: ['util', 'image', 'scan', 'model', 'analyze', 'render'],
  // the fleet audit's machinery: BullMQ queue and workers, records and results shared in Redis
  fleet: ['util', 'image', 'scan', 'model', 'analyze', 'cache'],
  commands: ['util', 'config', 'image', 'scan', 'model', 'analyze', 'cache', 'sources', 'render', 'tui', 'write', 'fleet'],
  '.': ['util', 'commands'],
};
const CLI = new Set(['.', 'commands']);

const folderOf = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '.');

/** Every rule broken by `files` (path under src/ -> source text). */
export function violations(files: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of files) {
    const from = folderOf(file);
    const allowed = MAY_IMPORT[from];
    if (!allowed) {
      out.push(`${file}: src/${from} is not a known stage folder`);
      continue;
    }
    for (const m of text.matchAll(/(?:^|\n)\s*(import type|import|export)\b[^'"]*?from\s*'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g)) {
      const spec = m[2] ?? m[3];
      const typeOnly = m[1] === 'import type';
      const to = folderOf(normalize(join(dirname(file), spec)));
      if (to === from || allowed.includes(to) || (typeOnly && allowed.includes(`${to}:type`))) continue;
      out.push(`${file}: src/${from} imports src/${to} (${spec})`);
    }
    if (!CLI.has(from) && /process\.(exit|stdout)\b|console\.(log|error)\b/.test(text)) out.push(`${file}: only the CLI writes to stdout or exits`);
  }
  return out;
}

function sources(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (/\.tsx?$/.test(e.name)) out.set(relative(src, p), readFileSync(p, 'utf8'));
  }
  return out;
}

test('every import of src/ runs with the pipeline: source -> records -> union -> analyses -> renderers', (t) => {
  const files = sources(src);
  t.true(files.size > 80);
  t.deepEqual(violations(files), []);
});

test('the check names an analysis importing a source or a renderer, and a module writing to stdout', (t) => {
  const bad = new Map([
    ['analyze/waste.ts', "import { openImage } from '../sources/resolve.js';\nimport type { X } from '../render/text.js';\n"],
    ['model/union.ts', "const { table } = await import('../render/text.js');\n"],
    ['image/image.ts', "import { scanLayer } from '../scan/scan-layer.js';\nimport type { LayerScan } from '../scan/scan-layer.js';\n"],
    ['scan/tar-parser.ts', 'process.stdout.write("x");\n'],
    ['commands/ls.ts', "import { renderEntry } from '../render/ls.js';\nprocess.stdout.write('ok');\n"],
  ]);
  t.deepEqual(violations(bad), [
    'analyze/waste.ts: src/analyze imports src/sources (../sources/resolve.js)',
    'analyze/waste.ts: src/analyze imports src/render (../render/text.js)',
    'model/union.ts: src/model imports src/render (../render/text.js)',
    'image/image.ts: src/image imports src/scan (../scan/scan-layer.js)',
    'scan/tar-parser.ts: only the CLI writes to stdout or exits',
  ]);
});
