/**
 * Append-only typed arrays that double when full: columns of many small numbers without an object each.
 * Two classes rather than one generic: each push stays monomorphic on its own array kind (the union hot path).
 */
export class Ints {
  a: Int32Array;
  n = 0;
  constructor(cap = 1024) {
    this.a = new Int32Array(cap);
  }
  push(v: number): number {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n] = v;
    return this.n++;
  }
  copy(): Ints {
    const c = new Ints(0);
    c.a = this.a.slice();
    c.n = this.n;
    return c;
  }
}

export class Bytes {
  a: Uint8Array;
  n = 0;
  constructor(cap = 1024) {
    this.a = new Uint8Array(cap);
  }
  push(v: number): number {
    if (this.n === this.a.length) {
      const b = new Uint8Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n] = v;
    return this.n++;
  }
  copy(): Bytes {
    const c = new Bytes(0);
    c.a = this.a.slice();
    c.n = this.n;
    return c;
  }
}
