/** Open synthetic images through strata's public API: openImage + readImage. */
import { openImage } from '../../src/sources/resolve.js';
import { readImage, type ImageModel } from '../../src/model/read-image.js';
import { listView, layerChanges, type FileEntry } from '../../src/model/views.js';
import { tempDir, writeOciLayout, type ImageSpec, type LayerSpec } from './image-builder.js';
import type { Entry } from './tar-writer.js';

/** An image of the given layers (entry lists or full layer specs), read from an OCI layout. */
export async function modelOf(layers: (Entry[] | LayerSpec)[], more: Partial<ImageSpec> = {}): Promise<ImageModel> {
  const { dir, cleanup } = tempDir();
  try {
    writeOciLayout(dir, { images: [{ ...more, layers: layers.map((l) => (Array.isArray(l) ? { entries: l } : l)) }] });
    return await readImage(await openImage(dir));
  } finally {
    cleanup();
  }
}

/** The view after layer k as path -> entry. */
export function viewAt(model: ImageModel, k?: number): Map<string, FileEntry> {
  return new Map([...listView(model, k)].map((e) => [e.path, e]));
}

/** Paths visible after layer k, in walk order. */
export function pathsAt(model: ImageModel, k?: number): string[] {
  return [...listView(model, k)].map((e) => e.path);
}

/** Layer L's own changes as path -> change name. */
export function changesOf(model: ImageModel, L: number): Record<string, string> {
  return Object.fromEntries([...layerChanges(model, L)].map((e) => [e.path, e.change]));
}
