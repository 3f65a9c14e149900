// The HRT mailbox: earliest deadline first, ties (and missing deadlines, read as +Infinity)
// in arrival order, so the order is total and deterministic. O(log n) push and shift;
// under drop-oldest a second heap by arrival keeps eviction O(log n) too.

import { BoundedMailbox } from './bounded.js';
import { BinaryHeap } from './heap.js';
import type { MailboxOptions, Queued } from './types.js';

export type EdfMailboxOptions<T> = MailboxOptions<T>;

interface Entry<T> {
  readonly item: T;
  /** Deadline read once at push, so a later change to the item cannot corrupt the heap. */
  readonly deadline: number;
  readonly seq: number;
  /** Slot in the deadline heap, then in the arrival heap (tracked only under drop-oldest). */
  byDeadline: number;
  byArrival: number;
}

const earlierDeadline = <T>(a: Entry<T>, b: Entry<T>): number =>
  a.deadline < b.deadline ? -1 : a.deadline > b.deadline ? 1 : a.seq - b.seq;

const earlierArrival = <T>(a: Entry<T>, b: Entry<T>): number => a.seq - b.seq;

const deadlineOf = (item: Queued): number => {
  const d = item.deadline;
  return typeof d === 'number' && d === d ? d : Infinity;
};

export class EdfMailbox<T extends Queued> extends BoundedMailbox<T> {
  readonly kind = 'edf' as const;
  private readonly byDeadline: BinaryHeap<Entry<T>>;
  /** Present only under drop-oldest: finds the earliest-arrived message. */
  private readonly byArrival: BinaryHeap<Entry<T>> | undefined;
  private seq = 0;

  constructor(options: EdfMailboxOptions<T> = {}) {
    super(options);
    if (this.overflow === 'drop-oldest') {
      this.byDeadline = new BinaryHeap<Entry<T>>(earlierDeadline, (e, i) => {
        e.byDeadline = i;
      });
      this.byArrival = new BinaryHeap<Entry<T>>(earlierArrival, (e, i) => {
        e.byArrival = i;
      });
    } else {
      this.byDeadline = new BinaryHeap<Entry<T>>(earlierDeadline);
      this.byArrival = undefined;
    }
  }

  get size(): number {
    return this.byDeadline.size;
  }

  peek(): T | undefined {
    return this.byDeadline.peek()?.item;
  }

  /** Queued messages in delivery order, without removing them; O(n log n). */
  toArray(): T[] {
    return this.byDeadline.toSortedArray().map((e) => e.item);
  }

  protected enqueue(item: T): void {
    const entry: Entry<T> = { item, deadline: deadlineOf(item), seq: this.seq++, byDeadline: -1, byArrival: -1 };
    this.byDeadline.push(entry);
    this.byArrival?.push(entry);
  }

  protected dequeue(): T | undefined {
    const entry = this.byDeadline.pop();
    if (entry === undefined) return undefined;
    this.byArrival?.removeAt(entry.byArrival);
    return entry.item;
  }

  protected evictOldest(): T {
    // Only called under drop-oldest, where byArrival exists.
    const entry = this.byArrival!.pop()!;
    this.byDeadline.removeAt(entry.byDeadline);
    return entry.item;
  }

  protected removeAll(): T[] {
    const items = this.toArray();
    this.byDeadline.clear();
    this.byArrival?.clear();
    return items;
  }
}
