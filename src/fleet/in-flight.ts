/**
 * A scan memo that keeps a layer's scan only while it is being read: two images of a fleet read at
 * the same time share the scan of their common base, and once it is done the layer store has it.
 * A plain memo would hold every layer's records of the whole fleet.
 */
export class InFlight<T> extends Map<string, Promise<T>> {
  override set(key: string, p: Promise<T>): this {
    super.set(key, p);
    const forget = () => {
      if (super.get(key) === p) this.delete(key);
    };
    p.then(forget, forget);
    return this;
  }
}
