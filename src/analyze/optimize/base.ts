/**
 * How many leading layers came from the base image, so that `optimize` keeps them byte for byte.
 *
 * An image config does not say where its base ends. The history does, in practice: a base image
 * ends with its own CMD or ENTRYPOINT (every official image does), and a Dockerfile's own CMD comes
 * after its last layer. So the base is the layers made before the last CMD/ENTRYPOINT entry that
 * still has layers after it. Without one, the first layer (the root filesystem an image starts from)
 * is the base. `--base-layers N` and `--base IMAGE` say it exactly, and so may the manifest's base
 * annotation, once the image it names is pulled (`--base-from-registry`).
 */
import type { HistoryEntry } from '../../image/image.js';
import { instructionText } from '../../image/history.js';

export function historyBaseLayers(history: HistoryEntry[] | undefined, layers: number): number {
  if (layers < 2) return 0;
  let made = 0;
  let base = 1;
  for (const h of history ?? []) {
    if (!h.empty_layer) {
      made++;
      continue;
    }
    const text = instructionText(h.created_by, h.comment);
    // a Dockerfile's own final CMD has no layers after it: it marks nothing
    if (/^(CMD|ENTRYPOINT)\b/.test(text) && made > 0 && made < layers) base = made;
  }
  return base;
}

/** Leading layers of `image` that are `base`'s layers, or undefined when `image` does not start with all of them. */
export function sharedBase(image: string[], base: string[]): number | undefined {
  if (base.length > image.length) return undefined;
  return base.every((d, i) => image[i] === d) ? base.length : undefined;
}

const BASE_NAME = 'org.opencontainers.image.base.name';
const BASE_DIGEST = 'org.opencontainers.image.base.digest';

/** The base image the manifest's annotations name (`name@digest` when both are given), or undefined. */
export function annotatedBase(annotations: Record<string, string> | undefined): string | undefined {
  const name = annotations?.[BASE_NAME];
  if (typeof name !== 'string' || !name) return undefined;
  const digest = annotations?.[BASE_DIGEST];
  return typeof digest === 'string' && digest ? `${name.replace(/@.*$/, '')}@${digest}` : name;
}
