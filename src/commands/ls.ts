import type { CommandModule } from 'yargs';
import { StrataError } from '../util/errors.js';
import { imageOptions, loadModel, wholeNumber, writeLines, type ImageArgs } from './common.js';
import { layerChanges, listView, type FileEntry, type ChangeEntry } from '../model/views.js';
import { lsLegend, renderEntry } from '../render/ls.js';

interface Args extends ImageArgs {
  layer?: number;
  changes?: boolean;
  json?: boolean;
}

export const lsCommand: CommandModule<object, Args> = {
  command: 'ls <image>',
  describe: 'list the union view after a layer, or what one layer changed',
  builder: (y) =>
    imageOptions(y)
      .option('layer', { type: 'string', coerce: wholeNumber('layer', true), describe: 'layer index (default: the last); negative counts from the end' })
      .option('changes', { type: 'boolean', describe: "only the layer's own changes, each with a change status" })
      .option('json', { type: 'boolean', describe: 'one JSON object per line' })
      .epilogue(lsLegend) as never,
  handler: async (args) => {
    const model = await loadModel(args);
    const n = model.layers.length;
    if (n === 0 && args.layer === undefined) return; // no layers: an empty filesystem
    let L = args.layer ?? n - 1;
    if (L < 0) L += n;
    if (!Number.isInteger(L) || L < 0 || L >= n) throw new StrataError(`--layer ${args.layer}: ${n === 0 ? 'the image has no layers' : `the image has layers 0..${n - 1}`}`);
    const entries: Iterable<FileEntry | ChangeEntry> = args.changes ? layerChanges(model, L) : listView(model, L);
    await writeLines(map(entries, args.json ? (e) => JSON.stringify(e) : renderEntry));
  },
};

function* map<T, U>(it: Iterable<T>, f: (t: T) => U): Generator<U> {
  for (const x of it) yield f(x);
}
