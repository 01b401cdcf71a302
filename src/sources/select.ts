import { StrataError } from '../util/errors.js';

/** docker.io/library/alpine:latest, library/alpine, alpine -> alpine:latest (how docker prints tags). */
export function normalizeTag(ref: string): string {
  let r = ref;
  const at = r.indexOf('@');
  if (at >= 0) r = r.slice(0, at);
  const slash = r.lastIndexOf('/');
  if (!r.slice(slash + 1).includes(':')) r += ':latest';
  for (const prefix of ['docker.io/library/', 'index.docker.io/library/', 'docker.io/', 'index.docker.io/', 'library/']) {
    if (r.startsWith(prefix)) return r.slice(prefix.length);
  }
  return r;
}

/**
 * Pick one of several images in an archive by tag. `tagsOf(i)` lists the names image i answers to;
 * a bare tag (`dockerfile`) matches `repo:dockerfile` too.
 */
export function selectByTag<T>(items: T[], tagsOf: (t: T) => string[], wanted: string | undefined, where: string): T {
  if (items.length === 0) throw new StrataError(`${where}: holds no image`);
  const all = items.flatMap(tagsOf);
  if (wanted === undefined) {
    if (items.length === 1) return items[0];
    throw new StrataError(`${where}: holds ${items.length} images, choose one by tag: ${all.join(', ') || '(untagged)'}`);
  }
  const w = normalizeTag(wanted);
  const hits = items.filter((it) => tagsOf(it).some((t) => t === wanted || normalizeTag(t) === w || t.split(':').pop() === wanted || t === wanted.split(':').pop()));
  if (hits.length === 1) return hits[0];
  if (hits.length > 1) throw new StrataError(`${where}: tag "${wanted}" matches ${hits.length} images: ${all.join(', ')}`);
  throw new StrataError(`${where}: no image tagged "${wanted}"; tags present: ${all.join(', ') || '(none)'}`);
}
