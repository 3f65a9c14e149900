// A binary min-heap ordered by a comparator: the core of the EDF mailbox.
// push/pop/removeAt are O(log n); an optional `onMove` hook reports every item's slot
// (and -1 when it leaves) so owners can remove arbitrary items in O(log n).

/** Negative when `a` must come out before `b`. */
export type Comparator<T> = (a: T, b: T) => number;

export class BinaryHeap<T> implements Iterable<T> {
  private readonly items: T[] = [];

  constructor(
    private readonly compare: Comparator<T>,
    private readonly onMove?: (item: T, index: number) => void,
  ) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
    this.siftUp(this.items.length - 1);
  }

  /** Remove and return the least item, or undefined when empty. */
  pop(): T | undefined {
    return this.items.length === 0 ? undefined : this.removeAt(0);
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** Remove the item in heap slot `i` (as reported by `onMove`); O(log n). */
  removeAt(i: number): T | undefined {
    const items = this.items;
    if (!(i >= 0 && i < items.length) || !Number.isInteger(i)) return undefined;
    const item = items[i]!;
    const last = items.pop()!;
    if (i < items.length) {
      items[i] = last;
      // The moved item may belong above or below slot i.
      if (i > 0 && this.compare(last, items[(i - 1) >> 1]!) < 0) this.siftUp(i);
      else this.siftDown(i);
    }
    this.onMove?.(item, -1);
    return item;
  }

  /** Remove one occurrence of `item` (by identity); O(n) search. */
  remove(item: T): boolean {
    const i = this.items.indexOf(item);
    if (i < 0) return false;
    this.removeAt(i);
    return true;
  }

  /** Remove every item matching `pred` and return them (in heap order); O(n). */
  removeWhere(pred: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: T[] = [];
    for (const item of this.items) (pred(item) ? removed : kept).push(item);
    if (removed.length === 0) return removed;
    this.items.length = 0;
    for (const item of kept) this.items.push(item);
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
    if (this.onMove !== undefined) {
      for (let i = 0; i < this.items.length; i++) this.onMove(this.items[i]!, i);
      for (const item of removed) this.onMove(item, -1);
    }
    return removed;
  }

  /** All items in comparator order, without changing the heap; O(n log n). */
  toSortedArray(): T[] {
    return this.items.slice().sort(this.compare);
  }

  clear(): void {
    if (this.onMove !== undefined) for (const item of this.items) this.onMove(item, -1);
    this.items.length = 0;
  }

  /** Items in heap (not sorted) order. */
  [Symbol.iterator](): Iterator<T> {
    return this.items[Symbol.iterator]();
  }

  private siftUp(i: number): void {
    const items = this.items;
    const item = items[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (this.compare(item, p) >= 0) break;
      items[i] = p;
      this.onMove?.(p, i);
      i = parent;
    }
    items[i] = item;
    this.onMove?.(item, i);
  }

  private siftDown(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.compare(items[r]!, items[l]!) < 0 ? r : l;
      const child = items[c]!;
      if (this.compare(child, item) >= 0) break;
      items[i] = child;
      this.onMove?.(child, i);
      i = c;
    }
    items[i] = item;
    this.onMove?.(item, i);
  }
}
