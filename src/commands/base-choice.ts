/**
 * Which leading layers are the base image, for `optimize` (kept byte for byte) and `dockerfile`
 * (its FROM): `--base-layers N`, an image that names the base (`--base`, `--from`: the image must
 * start with its layers), the manifest's base annotation (pulled only with --base-from-registry), or
 * the history (analyze/optimize/base.ts).
 */
import { openImage } from '../sources/resolve.js';
import { parsePlatform } from '../image/platform.js';
import { StrataError } from '../util/errors.js';
import { annotatedBase, historyBaseLayers, sharedBase } from '../analyze/optimize/base.js';
import type { Image } from '../image/image.js';
import { timeoutMs, warn, type ImageArgs } from './common.js';

export interface BaseArgs extends ImageArgs {
  baseLayers?: number;
  baseFromRegistry?: boolean;
}

export interface BaseChoice {
  base: number;
  from: '--base-layers' | 'named' | 'annotation' | 'history';
  /** The base image's reference, when an option or the annotation named one. */
  ref?: string;
}

/** `named`: the image the user named as the base (`--base`, `--from`), and the option's name for messages. */
export async function chooseBase(args: BaseArgs, image: Image, named?: { option: string; ref: string }): Promise<BaseChoice> {
  const n = image.layers.length;
  const diffIds = image.config.rootfs.diff_ids;
  if (args.baseLayers !== undefined) {
    if (args.baseLayers > n) throw new StrataError(`--base-layers ${args.baseLayers}: the image has ${n} layers`);
    return { base: args.baseLayers, from: '--base-layers', ...(named ? { ref: named.ref } : {}) };
  }
  const platform = args.platform ? parsePlatform(args.platform) : undefined;
  if (named) {
    const b = await openImage(named.ref, { platform, remote: { timeoutMs: timeoutMs(args) } });
    const shared = sharedBase(diffIds, b.config.rootfs.diff_ids);
    if (shared === undefined) throw new StrataError(`${named.option} ${named.ref}: ${args.image} does not start with its ${b.config.rootfs.diff_ids.length} layers`);
    return { base: shared, from: 'named', ref: named.ref };
  }
  const ref = annotatedBase(image.annotations);
  // the annotation is the input's word, and an input never makes strata go on the network by itself (issue 29)
  if (ref !== undefined && !args.baseFromRegistry) warn(`the base annotation names ${ref}, not fetched (--base-from-registry pulls it); the base is read from the history`);
  else if (ref !== undefined) {
    // from its registry only, never a file or an engine; one try: an unreachable base only costs the note
    const remote = { attempts: 1, insecure: args.insecure, timeoutMs: timeoutMs(args), noCache: true };
    const why = await openImage(`docker://${ref}`, { platform, remote }).then(
      (b) => sharedBase(diffIds, b.config.rootfs.diff_ids) ?? `the image does not start with its ${b.config.rootfs.diff_ids.length} layers`,
      (e: Error) => e.message,
    );
    if (typeof why === 'number') return { base: why, from: 'annotation', ref };
    warn(`the base annotation names ${ref}, not usable (${why}); the base is read from the history`);
  }
  return { base: historyBaseLayers(image.config.history, n), from: 'history' };
}
