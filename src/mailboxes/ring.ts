// A growable power-of-two ring buffer: the FIFO core of every mailbox.
// O(1) push/shift (never Array.shift), storage allocated on first push and doubled on demand
// up to an optional maximum; popped slots are cleared so the GC can reclaim messages.

export interface RingBufferOptions {
  /** Slots allocated on the first push, rounded up to a power of two (default 4). */
  initialCapacity?: number;
  /** Most items held at once; `push` returns false beyond it (default unbounded). */
  maxCapacity?: number;
}

const nextPow2 = (n: number): number => {
  let p = 1;
  while (p < n) p *= 2;
  return p;
};

export class RingBuffer<T> implements Iterable<T> {
  private buf: (T | undefined)[] | null = null;
  private head = 0;
  private len = 0;
  private mask = 0;
  private readonly initial: number;
  /** Most items held at once (Infinity when unbounded). */
  readonly maxCapacity: number;

  constructor(options: RingBufferOptions = {}) {
    const max = options.maxCapacity ?? Infinity;
    if (!(max >= 1) || (max !== Infinity && !Number.isInteger(max))) {
      throw new RangeError(`RingBuffer maxCapacity must be a positive integer or Infinity, got ${max}`);
    }
    const init = options.initialCapacity ?? 4;
    if (!(init >= 1) || !Number.isInteger(init)) {
      throw new RangeError(`RingBuffer initialCapacity must be a positive integer, got ${init}`);
    }
    this.maxCapacity = max;
    this.initial = nextPow2(Math.min(init, max));
  }

  get size(): number {
    return this.len;
  }

  /** Slots currently allocated (0 until the first push). */
  get allocated(): number {
    return this.buf === null ? 0 : this.buf.length;
  }

  /** Append at the tail; false (and nothing stored) when `maxCapacity` items are held. */
  push(item: T): boolean {
    if (this.len >= this.maxCapacity) return false;
    let buf = this.buf;
    if (buf === null) {
      buf = this.buf = new Array<T | undefined>(this.initial);
      this.mask = this.initial - 1;
    } else if (this.len === buf.length) {
      buf = this.grow(buf);
    }
    buf[(this.head + this.len) & this.mask] = item;
    this.len++;
    return true;
  }

  /** Remove and return the head, or undefined when empty. */
  shift(): T | undefined {
    if (this.len === 0) return undefined;
    const buf = this.buf!;
    const item = buf[this.head];
    buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.len--;
    return item;
  }

  peek(): T | undefined {
    return this.len === 0 ? undefined : this.buf![this.head];
  }

  /** The item `i` places from the head (0 = head), or undefined when out of range. */
  at(i: number): T | undefined {
    if (!(i >= 0 && i < this.len) || !Number.isInteger(i)) return undefined;
    return this.buf![(this.head + i) & this.mask];
  }

  /** Remove the item `i` places from the head, moving the shorter side; O(min(i, size - i)). */
  removeAt(i: number): T | undefined {
    if (!(i >= 0 && i < this.len) || !Number.isInteger(i)) return undefined;
    const buf = this.buf!;
    const mask = this.mask;
    const head = this.head;
    const item = buf[(head + i) & mask];
    if (i < this.len >>> 1) {
      for (let j = i; j > 0; j--) buf[(head + j) & mask] = buf[(head + j - 1) & mask];
      buf[head] = undefined;
      this.head = (head + 1) & mask;
    } else {
      const last = this.len - 1;
      for (let j = i; j < last; j++) buf[(head + j) & mask] = buf[(head + j + 1) & mask];
      buf[(head + last) & mask] = undefined;
    }
    this.len--;
    return item;
  }

  /** Forget every item and release the storage (the next push allocates afresh). */
  clear(): void {
    this.buf = null;
    this.head = 0;
    this.len = 0;
    this.mask = 0;
  }

  /** Items from head to tail, as a new array. */
  toArray(): T[] {
    const out = new Array<T>(this.len);
    for (let i = 0; i < this.len; i++) out[i] = this.buf![(this.head + i) & this.mask] as T;
    return out;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.len; i++) yield this.buf![(this.head + i) & this.mask] as T;
  }

  private grow(old: (T | undefined)[]): (T | undefined)[] {
    const n = old.length * 2;
    const buf = new Array<T | undefined>(n);
    for (let i = 0; i < this.len; i++) buf[i] = old[(this.head + i) & this.mask];
    this.buf = buf;
    this.head = 0;
    this.mask = n - 1;
    return buf;
  }
}
