/**
 * `out.push(...items)` without the spread. A spread passes every item as an argument on the stack,
 * and an image decides how many there are: a directory of 200,000 entries, a package database of
 * as many packages, overflowed it (`Maximum call stack size exceeded`).
 */
export function pushAll<T>(out: T[], items: Iterable<T>): T[] {
  for (const x of items) out.push(x);
  return out;
}
