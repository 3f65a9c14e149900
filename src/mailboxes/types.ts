// The contract every mailbox keeps. Mailboxes are bounded queues named by the
// order they guarantee; they import nothing else of agentos.

export type LatencyClass = 'HRT' | 'SRT' | 'DT';

/**
 * What a full mailbox does with one more message:
 * - `reject`: the push fails and the sender is told (`MailboxFull`);
 * - `drop-oldest`: the message that has waited longest is evicted, the new one is kept;
 * - `drop-newest`: the incoming message is dropped, the queue is unchanged.
 * Evicted or dropped messages are reported to `onDrop` (the dead-letter log).
 */
export type OverflowPolicy = 'reject' | 'drop-oldest' | 'drop-newest';

export type DropReason = 'overflow:drop-oldest' | 'overflow:drop-newest' | 'overflow:reject';

/** Fields a mailbox reads or stamps on what it holds. */
export interface Queued {
  /** Absolute deadline in ms (EDF mailbox orders by it). */
  deadline?: number;
  /** SRT priority: higher is more urgent (PriorityMailbox levels 0..levels-1). */
  priority?: number;
  /** Stamped by the mailbox on push from its clock; used for wait-time stats. */
  enqueuedAt?: number;
}

/**
 * What `push` did. `ok` says whether the sender should be told of a failure (only `reject`
 * fails); `accepted` says whether the incoming message is now queued; `dropped` is the
 * message that went to `onDrop` instead: the evicted oldest (`drop-oldest`, accepted) or
 * the incoming message itself (`drop-newest`, not accepted).
 */
export type PushResult<T> =
  | { ok: true; accepted: true; dropped?: T }
  | { ok: true; accepted: false; dropped: T }
  | { ok: false; accepted: false; reason: 'full' };

export interface MailboxStats {
  kind: MailboxKind;
  size: number;
  capacity: number;
  /** Largest size ever held. */
  highWater: number;
  /**
   * Every `push` call. Conservation: pushed = delivered + dropped + rejected + drained + size.
   */
  pushed: number;
  /** Returned by `shift`. */
  delivered: number;
  /** Evicted (`drop-oldest`) or discarded on arrival (`drop-newest`); each went to `onDrop`. */
  dropped: number;
  /** Refused by the `reject` policy. */
  rejected: number;
  /** Removed by `drain`. */
  drained: number;
  /** Wait time from push to shift, in ms. */
  waitMs: { count: number; mean: number; p50: number; p99: number; max: number };
}

export type MailboxKind = 'fifo' | 'priority' | 'edf';

export interface Mailbox<T extends Queued> {
  readonly kind: MailboxKind;
  readonly size: number;
  readonly capacity: number;
  /** Add a message, applying the overflow policy when full. */
  push(item: T): PushResult<T>;
  /** Remove and return the next message in this mailbox's order. */
  shift(): T | undefined;
  /** The next message without removing it. */
  peek(): T | undefined;
  /** Remove and return everything (in delivery order), e.g. to dead-letter on stop. */
  drain(): T[];
  stats(): MailboxStats;
}

export interface MailboxOptions<T> {
  /** Maximum number of messages held. Storage grows lazily up to it. */
  capacity?: number;
  overflow?: OverflowPolicy;
  /** Called for every evicted or dropped message (not for `reject`). */
  onDrop?: (item: T, reason: DropReason) => void;
  /** Time source for `enqueuedAt` and wait stats. */
  now?: () => number;
}
