// The bookkeeping every mailbox shares: capacity, overflow policy, enqueue stamps, wait
// histogram and counters. Subclasses supply only the order; this class guarantees that every
// pushed message is exactly once delivered, dropped, rejected, drained or still queued.

import { LatencyHistogram } from './histogram.js';
import type {
  DropReason,
  Mailbox,
  MailboxKind,
  MailboxOptions,
  MailboxStats,
  OverflowPolicy,
  PushResult,
  Queued,
} from './types.js';

/** Shared results, so the common paths allocate nothing. */
const ACCEPTED: PushResult<never> = Object.freeze({ ok: true, accepted: true });
const REJECTED: PushResult<never> = Object.freeze({ ok: false, accepted: false, reason: 'full' });

const defaultNow = (): number => performance.now();

export const DEFAULT_CAPACITY = 1000;

export abstract class BoundedMailbox<T extends Queued> implements Mailbox<T> {
  abstract readonly kind: MailboxKind;
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  protected readonly now: () => number;
  private readonly onDrop: ((item: T, reason: DropReason) => void) | undefined;
  // Coarse per-mailbox histogram (±20%, 10 µs–10 min, ~45 buckets): cheap for 100k actors;
  // the scheduler keeps the precise per-class figures.
  private readonly wait = new LatencyHistogram({ relativeError: 0.2, minMs: 0.01, maxMs: 600_000 });
  private pushed = 0;
  private delivered = 0;
  private dropped = 0;
  private rejected = 0;
  private drained = 0;
  private highWater = 0;

  constructor(options: MailboxOptions<T> = {}) {
    const capacity = options.capacity ?? DEFAULT_CAPACITY;
    if (!(capacity >= 1) || (capacity !== Infinity && !Number.isInteger(capacity))) {
      throw new RangeError(`mailbox capacity must be a positive integer or Infinity, got ${capacity}`);
    }
    const overflow = options.overflow ?? 'reject';
    if (overflow !== 'reject' && overflow !== 'drop-oldest' && overflow !== 'drop-newest') {
      throw new RangeError(`mailbox overflow must be reject | drop-oldest | drop-newest, got ${String(overflow)}`);
    }
    this.capacity = capacity;
    this.overflow = overflow;
    this.onDrop = options.onDrop;
    this.now = options.now ?? defaultNow;
  }

  abstract get size(): number;
  abstract peek(): T | undefined;
  /** Store an item; only called when size < capacity. */
  protected abstract enqueue(item: T): void;
  /** Remove the next item in delivery order. */
  protected abstract dequeue(): T | undefined;
  /** Remove the item that has waited longest; only called when non-empty. */
  protected abstract evictOldest(): T;
  /** Remove everything, in delivery order. */
  protected abstract removeAll(): T[];

  /**
   * Queue `item`, stamping `enqueuedAt`. When full: `reject` refuses it, `drop-oldest`
   * evicts the longest-waiting message, `drop-newest` discards `item`. `onDrop` is called
   * after the mailbox is consistent again; if it throws, the error propagates to the caller.
   */
  push(item: T): PushResult<T> {
    this.pushed++;
    if (this.size < this.capacity) {
      this.accept(item);
      return ACCEPTED;
    }
    switch (this.overflow) {
      case 'reject':
        this.rejected++;
        return REJECTED;
      case 'drop-newest':
        this.dropped++;
        this.onDrop?.(item, 'overflow:drop-newest');
        return { ok: true, accepted: false, dropped: item };
      case 'drop-oldest': {
        const evicted = this.evictOldest();
        this.dropped++;
        this.accept(item);
        this.onDrop?.(evicted, 'overflow:drop-oldest');
        return { ok: true, accepted: true, dropped: evicted };
      }
    }
  }

  /** Remove and return the next message, recording how long it waited. */
  shift(): T | undefined {
    const item = this.dequeue();
    if (item !== undefined) {
      this.delivered++;
      this.wait.record(this.now() - (item.enqueuedAt ?? 0));
    }
    return item;
  }

  drain(): T[] {
    const items = this.removeAll();
    this.drained += items.length;
    return items;
  }

  stats(): MailboxStats {
    return {
      kind: this.kind,
      size: this.size,
      capacity: this.capacity,
      highWater: this.highWater,
      pushed: this.pushed,
      delivered: this.delivered,
      dropped: this.dropped,
      rejected: this.rejected,
      drained: this.drained,
      waitMs: this.wait.snapshot(),
    };
  }

  private accept(item: T): void {
    item.enqueuedAt = this.now();
    this.enqueue(item);
    const size = this.size;
    if (size > this.highWater) this.highWater = size;
  }
}
