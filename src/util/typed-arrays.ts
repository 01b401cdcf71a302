/** A typed array `len` long holding `a`'s values at its start (the rest zero): one growth step of a column. */
export function grown<T extends Uint8Array | Int32Array | Uint32Array | Float64Array>(a: T, len: number): T {
  const b = new (a.constructor as new (n: number) => T)(len);
  b.set(a);
  return b;
}
