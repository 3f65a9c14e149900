// The mailboxes layer: bounded queues named by the order they guarantee, the mapping
// from latency class to mailbox kind (HRT → EDF, SRT → priority, DT → FIFO), and the
// shared-memory SPSC rings (and their codecs) that carry messages between threads.

import { EdfMailbox } from './edf.js';
import { FifoMailbox } from './fifo.js';
import { PriorityMailbox, type PriorityMailboxOptions } from './priority.js';
import type { LatencyClass, Mailbox, MailboxKind, Queued } from './types.js';

export * from './types.js';
export { RingBuffer, type RingBufferOptions } from './ring.js';
export { BinaryHeap, type Comparator } from './heap.js';
export { LatencyHistogram, type LatencyHistogramOptions, type LatencySnapshot } from './histogram.js';
export { BoundedMailbox, DEFAULT_CAPACITY } from './bounded.js';
export { FifoMailbox, type FifoMailboxOptions } from './fifo.js';
export { EdfMailbox, type EdfMailboxOptions } from './edf.js';
export { RingProducer } from './ring-producer.js';
export { RingConsumer } from './ring-consumer.js';
export {
  SpscRing,
  type SpscRingOptions,
  type SpscRingStats,
  type AttachOptions,
  type WaitResult,
  type SlotReader,
  type SlotWriter,
} from './spsc-ring.js';
export { RingError, RingCodes } from './ring-errors.js';
export { MsgpackRingCodec, RingSender, RingReceiver, type RingCodec, type MsgpackRingCodecOptions } from './ring-codec.js';
export { FixedLayoutCodec, type FieldKind, type LayoutSchema, type LayoutMessage, type FixedLayoutCodecOptions } from './fixed-layout-codec.js';
export {
  PriorityMailbox,
  PriorityLevels,
  MAX_PRIORITY_LEVELS,
  afterServe,
  burstLevel,
  clampPriority,
  type PriorityLevelsOptions,
  type PriorityMailboxOptions,
} from './priority.js';

/** Options for any kind; `levels`, `burst` and `defaultPriority` only matter for 'priority'. */
export type CreateMailboxOptions<T> = PriorityMailboxOptions<T>;

export function createMailbox<T extends Queued>(kind: 'fifo', options?: CreateMailboxOptions<T>): FifoMailbox<T>;
export function createMailbox<T extends Queued>(kind: 'priority', options?: CreateMailboxOptions<T>): PriorityMailbox<T>;
export function createMailbox<T extends Queued>(kind: 'edf', options?: CreateMailboxOptions<T>): EdfMailbox<T>;
export function createMailbox<T extends Queued>(kind: MailboxKind, options?: CreateMailboxOptions<T>): Mailbox<T>;
export function createMailbox<T extends Queued>(kind: MailboxKind, options: CreateMailboxOptions<T> = {}): Mailbox<T> {
  switch (kind) {
    case 'fifo':
      return new FifoMailbox<T>(options);
    case 'priority':
      return new PriorityMailbox<T>(options);
    case 'edf':
      return new EdfMailbox<T>(options);
    default:
      throw new RangeError(`mailbox kind must be fifo | priority | edf, got ${String(kind)}`);
  }
}

export function mailboxKindFor(cls: LatencyClass): MailboxKind {
  switch (cls) {
    case 'HRT':
      return 'edf';
    case 'SRT':
      return 'priority';
    case 'DT':
      return 'fifo';
    default:
      throw new RangeError(`latency class must be HRT | SRT | DT, got ${String(cls)}`);
  }
}
