// The DT mailbox: strict arrival order over a lazily grown ring buffer.
// Delivery order is push order; drop-oldest evicts the head. O(1) push and shift.

import { BoundedMailbox } from './bounded.js';
import { RingBuffer } from './ring.js';
import type { MailboxOptions, Queued } from './types.js';

export type FifoMailboxOptions<T> = MailboxOptions<T>;

export class FifoMailbox<T extends Queued> extends BoundedMailbox<T> {
  readonly kind = 'fifo' as const;
  private readonly ring: RingBuffer<T>;

  constructor(options: FifoMailboxOptions<T> = {}) {
    super(options);
    this.ring = new RingBuffer<T>({ maxCapacity: this.capacity });
  }

  get size(): number {
    return this.ring.size;
  }

  peek(): T | undefined {
    return this.ring.peek();
  }

  /** Queued messages in delivery order, without removing them. */
  toArray(): T[] {
    return this.ring.toArray();
  }

  protected enqueue(item: T): void {
    this.ring.push(item);
  }

  protected dequeue(): T | undefined {
    return this.ring.shift();
  }

  protected evictOldest(): T {
    return this.ring.shift()!;
  }

  protected removeAll(): T[] {
    const items = this.ring.toArray();
    this.ring.clear();
    return items;
  }
}
