// A fixed-capacity ring: pushing onto a full ring overwrites the oldest item
// and counts it as dropped. O(1) push with no allocation once built, so it can
// sit on the inspection hot path; reads (`drain`, `newest`) happen off it.

export class Ring<T> {
  private readonly items: (T | undefined)[];
  private readonly times: Float64Array;
  private head = 0; // index of the oldest item
  private count = 0;
  /** Items overwritten before anyone read them, since the last `takeDropped`. */
  private dropped = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`Ring capacity must be a positive integer, got ${String(capacity)}`);
    this.items = new Array<T | undefined>(capacity);
    this.times = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Add `item` (stamped with `at`); a full ring forgets its oldest item. */
  push(item: T, at = 0): void {
    const cap = this.capacity;
    if (this.count === cap) {
      this.items[this.head] = item;
      this.times[this.head] = at;
      this.head = this.head + 1 === cap ? 0 : this.head + 1;
      this.dropped++;
      return;
    }
    let i = this.head + this.count;
    if (i >= cap) i -= cap;
    this.items[i] = item;
    this.times[i] = at;
    this.count++;
  }

  /** Hand every item to `fn`, oldest first, and empty the ring. */
  drain(fn: (item: T, at: number) => void): void {
    const cap = this.capacity;
    while (this.count > 0) {
      const i = this.head;
      const item = this.items[i] as T;
      const at = this.times[i]!;
      this.items[i] = undefined;
      this.head = i + 1 === cap ? 0 : i + 1;
      this.count--;
      fn(item, at);
    }
  }

  /** Up to `limit` items, newest first, that `keep` accepts (the ring is left as it is). */
  newest(limit: number, keep: (item: T) => boolean = () => true): T[] {
    const out: T[] = [];
    const cap = this.capacity;
    for (let k = this.count - 1; k >= 0 && out.length < limit; k--) {
      let i = this.head + k;
      if (i >= cap) i -= cap;
      const item = this.items[i] as T;
      if (keep(item)) out.push(item);
    }
    return out;
  }

  /** Every item, oldest first (a copy). */
  toArray(): T[] {
    return this.newest(this.count).reverse();
  }

  /** How many items were overwritten since the last call, and reset that count. */
  takeDropped(): number {
    const n = this.dropped;
    this.dropped = 0;
    return n;
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }
}
