// The SRT mailbox: priority levels (higher = more urgent), FIFO within a level, and aging so
// every message waits a bounded number of pops, linear in the number of levels.
// `PriorityLevels` is the bare ordering (no capacity or stats), reused by the node scheduler.

import { BoundedMailbox } from './bounded.js';
import { RingBuffer } from './ring.js';
import type { MailboxOptions, Queued } from './types.js';

/** Levels are bits of a 32-bit mask of non-empty levels. */
export const MAX_PRIORITY_LEVELS = 32;

const bit = (level: number): number => 1 << level;
/** Bits of the levels strictly below `level`. */
const below = (level: number): number => (level >= 31 ? 0x7fffffff : bit(level) - 1);
const highest = (mask: number): number => 31 - Math.clz32(mask);

/**
 * The aging rule, as a pure function: the level the next pop serves. `nonEmpty` has bit l
 * set when level l holds a message; `streak` counts the pops in a row that served the highest
 * non-empty level while a lower one held a message; `headSince[l]` stamps (increasing) when
 * level l's current head became its head. Serve the highest non-empty level if no lower level
 * is non-empty or `streak < burst`; otherwise serve the non-empty level whose head has been
 * its head longest (smallest `headSince`). Returns -1 when nothing is queued.
 */
export function burstLevel(nonEmpty: number, streak: number, burst: number, headSince: ArrayLike<number>): number {
  if (nonEmpty === 0) return -1;
  const top = highest(nonEmpty);
  if ((nonEmpty & below(top)) === 0 || streak < burst) return top;
  let mask = nonEmpty;
  let oldest = top;
  let oldestSince = headSince[top]!;
  mask &= ~bit(top);
  while (mask !== 0) {
    const level = highest(mask);
    mask &= ~bit(level);
    const since = headSince[level]!;
    if (since < oldestSince) {
      oldestSince = since;
      oldest = level;
    }
  }
  return oldest;
}

/**
 * The streak after a pop, given `nonEmpty` and `streak` as they were before it: a pop that
 * served the highest level by priority while a lower level waited extends the streak; an
 * aging pop (streak spent) or a pop with no lower level waiting restarts it.
 */
export function afterServe(nonEmpty: number, streak: number, burst: number): number {
  if (nonEmpty === 0 || (nonEmpty & below(highest(nonEmpty))) === 0) return 0;
  return streak < burst ? streak + 1 : 0;
}

/** Clamp a message's priority to 0..levels-1; missing or NaN gives `fallback`. */
export function clampPriority(priority: number | undefined, levels: number, fallback: number): number {
  if (priority === undefined || priority !== priority) return fallback;
  if (priority <= 0) return 0;
  if (priority >= levels - 1) return levels - 1;
  return Math.floor(priority);
}

export interface PriorityLevelsOptions {
  /** Number of levels, 1..32 (default 10). */
  levels?: number;
  /** Pops in a row the highest level may take while a lower one waits, before an aging pop (default 8; Infinity = strict priority). */
  burst?: number;
}

/**
 * Priority levels with aging (the rule is `burstLevel`). While only one level holds messages,
 * or none below the highest, this is strict priority; otherwise the highest level gets `burst`
 * pops in a row, then one pop goes to the level whose head has been its head longest.
 *
 * Guarantee: with L = `levels` and b = `burst`, a message that becomes the head of its level
 * is served within W = (L−1)·(b+1) + 1 pops (unless `removeOldest` takes it first), however
 * fast every level is refilled. With every level flooded, heads below the top wait exactly
 * (L−1)·(b+1) pops (81 for the defaults 10 and 8); W itself is reached too (see the tests).
 *
 * Proof sketch. Let m become the head of level l with stamp s, and let A be the other levels
 * whose heads then have smaller stamps: |A| ≤ L−1. A level leaves A when its head is taken
 * (by a pop or `removeOldest`), since its next head is stamped later than s, and nothing
 * enters A (pushes onto empty levels are stamped later too), so A only shrinks. While m
 * waits, every pop is one of:
 * - a priority pop of a level p > l (a priority pop of l would serve m): since l below p
 *   holds m, it extends the streak, so at most b come in a row, at most b − s₀ before the
 *   first aging pop, where s₀ is the streak when m became head;
 * - an aging pop: it serves the oldest head, which is m or a level of A, which then leaves A;
 *   so at most |A| aging pops pass m over.
 * With g aging pops passing m over, m waits at most g + (b − s₀ + g·b) + 1 pops. If s₀ = b,
 * that is ≤ (L−1)·(b+1) + 1. If s₀ < b, the first pop is a priority pop of some p > l, which
 * is not (or no longer) in A after it, so g ≤ L−2 and the wait is ≤ (L−1)·(b+1).
 */
export class PriorityLevels<T> {
  readonly levels: number;
  readonly burst: number;
  private queues: (RingBuffer<T> | undefined)[] | null = null;
  /** Arrival sequence numbers, parallel to `queues`, to find the longest-waiting message. */
  private arrivals: (RingBuffer<number> | undefined)[] | null = null;
  /** When each level's current head became its head (a stamp from `clock`). */
  private headSince: Float64Array | null = null;
  private streak = 0;
  private nonEmpty = 0;
  private count = 0;
  private seq = 0;
  private clock = 0;

  constructor(options: PriorityLevelsOptions = {}) {
    const levels = options.levels ?? 10;
    const burst = options.burst ?? 8;
    if (!Number.isInteger(levels) || levels < 1 || levels > MAX_PRIORITY_LEVELS) {
      throw new RangeError(`priority levels must be an integer in 1..${MAX_PRIORITY_LEVELS}, got ${levels}`);
    }
    if (!(burst >= 1) || (burst !== Infinity && !Number.isInteger(burst))) {
      throw new RangeError(`priority burst must be a positive integer or Infinity, got ${burst}`);
    }
    this.levels = levels;
    this.burst = burst;
  }

  /** The documented waiting bound: pops within which the head of any level is served. */
  get maxWait(): number {
    return (this.levels - 1) * (this.burst + 1) + 1;
  }

  get size(): number {
    return this.count;
  }

  /** Messages queued at `level`. */
  sizeAt(level: number): number {
    return this.queues?.[level]?.size ?? 0;
  }

  /** Queue `item` at the tail of `level` (an integer in 0..levels-1). */
  push(item: T, level: number): void {
    if (!(level >= 0 && level < this.levels) || (level | 0) !== level) {
      throw new RangeError(`priority level must be an integer in 0..${this.levels - 1}, got ${level}`);
    }
    const queues = this.queues ?? this.allocate();
    let q = queues[level];
    if (q === undefined) {
      q = queues[level] = new RingBuffer<T>();
      this.arrivals![level] = new RingBuffer<number>();
    }
    q.push(item);
    this.arrivals![level]!.push(this.seq++);
    if (q.size === 1) {
      this.headSince![level] = this.clock++;
      this.nonEmpty |= bit(level);
    }
    this.count++;
  }

  /** The level the next `shift` serves, or -1 when empty. O(levels). */
  nextLevel(): number {
    return this.nonEmpty === 0 ? -1 : burstLevel(this.nonEmpty, this.streak, this.burst, this.headSince!);
  }

  peek(): T | undefined {
    const level = this.nextLevel();
    return level < 0 ? undefined : this.queues![level]!.peek();
  }

  shift(): T | undefined {
    const nonEmpty = this.nonEmpty;
    if (nonEmpty === 0) return undefined;
    const level = burstLevel(nonEmpty, this.streak, this.burst, this.headSince!);
    this.streak = afterServe(nonEmpty, this.streak, this.burst);
    return this.take(level);
  }

  /** Remove the message that has waited longest, whatever its level (streak unchanged). */
  removeOldest(): T | undefined {
    let mask = this.nonEmpty;
    let oldest = -1;
    let oldestSeq = Infinity;
    while (mask !== 0) {
      const level = highest(mask);
      mask &= ~bit(level);
      const s = this.arrivals![level]!.peek()!;
      if (s < oldestSeq) {
        oldestSeq = s;
        oldest = level;
      }
    }
    return oldest < 0 ? undefined : this.take(oldest);
  }

  /** Queued messages in delivery order, without removing them or touching the state. */
  toArray(): T[] {
    const out: T[] = [];
    if (this.count === 0) return out;
    const queues = this.queues!;
    const headSince = this.headSince!.slice();
    const cursor = new Array<number>(this.levels).fill(0);
    let streak = this.streak;
    let clock = this.clock;
    let mask = this.nonEmpty;
    while (mask !== 0) {
      const level = burstLevel(mask, streak, this.burst, headSince);
      streak = afterServe(mask, streak, this.burst);
      const q = queues[level]!;
      out.push(q.at(cursor[level]!++)!);
      if (cursor[level] === q.size) mask &= ~bit(level);
      else headSince[level] = clock++;
    }
    return out;
  }

  /** Remove everything, in delivery order. */
  drain(): T[] {
    const out = this.toArray();
    this.clear();
    return out;
  }

  /** Forget every message and the streak, releasing storage. */
  clear(): void {
    this.queues = null;
    this.arrivals = null;
    this.headSince = null;
    this.streak = 0;
    this.nonEmpty = 0;
    this.count = 0;
  }

  private allocate(): (RingBuffer<T> | undefined)[] {
    this.arrivals = new Array<RingBuffer<number> | undefined>(this.levels).fill(undefined);
    this.headSince = new Float64Array(this.levels);
    return (this.queues = new Array<RingBuffer<T> | undefined>(this.levels).fill(undefined));
  }

  private take(level: number): T {
    const q = this.queues![level]!;
    const item = q.shift()!;
    this.arrivals![level]!.shift();
    if (q.size === 0) this.nonEmpty &= ~bit(level);
    else this.headSince![level] = this.clock++;
    this.count--;
    return item;
  }
}

export interface PriorityMailboxOptions<T> extends MailboxOptions<T>, PriorityLevelsOptions {
  /** Level for messages without a `priority` (default 5, clamped to the top level). */
  defaultPriority?: number;
}

/**
 * Delivers by `PriorityLevels` order; a message's `priority` is clamped to 0..levels-1.
 * drop-oldest evicts the message that has waited longest across all levels.
 */
export class PriorityMailbox<T extends Queued> extends BoundedMailbox<T> {
  readonly kind = 'priority' as const;
  readonly defaultPriority: number;
  private readonly queue: PriorityLevels<T>;

  constructor(options: PriorityMailboxOptions<T> = {}) {
    super(options);
    this.queue = new PriorityLevels<T>(options);
    const top = this.queue.levels - 1;
    const d = options.defaultPriority;
    if (d !== undefined && !(Number.isInteger(d) && d >= 0 && d <= top)) {
      throw new RangeError(`defaultPriority must be an integer in 0..${top}, got ${d}`);
    }
    this.defaultPriority = d ?? Math.min(5, top);
  }

  get levels(): number {
    return this.queue.levels;
  }

  get burst(): number {
    return this.queue.burst;
  }

  get size(): number {
    return this.queue.size;
  }

  /** Messages queued at `level`. */
  sizeAt(level: number): number {
    return this.queue.sizeAt(level);
  }

  peek(): T | undefined {
    return this.queue.peek();
  }

  /** Queued messages in delivery order, without removing them. */
  toArray(): T[] {
    return this.queue.toArray();
  }

  protected enqueue(item: T): void {
    this.queue.push(item, clampPriority(item.priority, this.queue.levels, this.defaultPriority));
  }

  protected dequeue(): T | undefined {
    return this.queue.shift();
  }

  protected evictOldest(): T {
    return this.queue.removeOldest()!;
  }

  protected removeAll(): T[] {
    return this.queue.drain();
  }
}
