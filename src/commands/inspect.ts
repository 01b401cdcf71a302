import type { CommandModule } from 'yargs';
import { imageOptions, loadModel, type ImageArgs } from './common.js';
import { inspectReport, type InspectReport } from '../layers/report.js';
import { humanBytes, instruction, table, truncate } from '../format.js';

interface Args extends ImageArgs {
  json?: boolean;
}

export const inspectCommand: CommandModule<object, Args> = {
  command: 'inspect <image>',
  describe: 'summarise an image: config, sizes and a table of its layers',
  builder: (y) => imageOptions(y).option('json', { type: 'boolean', describe: 'print the report as JSON (docs/json.md)' }) as never,
  handler: async (args) => {
    const report = inspectReport(await loadModel(args));
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderInspect(report, process.stdout.columns || 100));
  },
};

export function renderInspect(r: InspectReport, width: number): string {
  const i = r.image;
  const c = i.config;
  const none = '—';
  const kv: [string, string][] = [
    ['Image', i.ref],
    ['Source', i.source],
    ['Tags', i.tags.join(', ') || none],
    ['Platform', i.platform],
    ['Manifest', i.manifestDigest ?? none],
    ['Config', i.configDigest],
    ['Created', i.created ?? none],
    ['Entrypoint', c.entrypoint ? JSON.stringify(c.entrypoint) : none],
    ['Cmd', c.cmd ? JSON.stringify(c.cmd) : none],
    ['User', c.user ?? none],
    ['Workdir', c.workdir ?? none],
    ...c.env.map((e, n): [string, string] => [n === 0 ? 'Env' : '', e]),
    ...(c.exposedPorts.length ? [['Ports', c.exposedPorts.join(', ')] as [string, string]] : []),
    ...(c.volumes.length ? [['Volumes', c.volumes.join(', ')] as [string, string]] : []),
    ...Object.entries(c.labels).map(([k, v], n): [string, string] => [n === 0 ? 'Labels' : '', `${k}=${v}`]),
  ];
  const s = r.summary;
  const lines = kv.map(([k, v]) => `${k.padEnd(11)} ${v}`);
  lines.push('', 'Sizes');
  lines.push(`  compressed    ${s.compressedSize === null ? 'n/a (layers stored uncompressed)' : humanBytes(s.compressedSize)}`);
  lines.push(`  uncompressed  ${humanBytes(s.uncompressedSize)} (files in all layers, overwritten and deleted copies included)`);
  lines.push(`  final view    ${humanBytes(s.finalSize)} (${s.finalEntries} entries; files visible in the image, hardlinks once)`);
  lines.push('', `Layers (${s.layerCount})`);
  const rows = [['#', 'SIZE', 'COMPRESSED', 'ADDED', 'MODIFIED', 'REMOVED', 'INSTRUCTION']];
  for (const l of r.layers) {
    const ch = l.changes;
    rows.push([
      String(l.index),
      humanBytes(l.size),
      l.compressedSize === null ? '—' : humanBytes(l.compressedSize),
      String(ch.added),
      ch.metadata ? `${ch.modified}+${ch.metadata}m` : String(ch.modified),
      String(ch.removed),
      instruction(l.createdBy ?? undefined, l.comment ?? undefined),
    ]);
  }
  const t = table(rows, ['r', 'r', 'r', 'r', 'r', 'r', 'l']);
  const prefix = t[0].indexOf('INSTRUCTION');
  lines.push(...t.map((line) => `  ${truncate(line, Math.max(width - 2, prefix + 12))}`));
  lines.push('  (MODIFIED: content changes, plus "Nm" entries whose mode/owner/xattrs alone changed)');
  return `${lines.join('\n')}\n`;
}
