// A single-producer/single-consumer ring of fixed-size slots in a SharedArrayBuffer: the lock-free
// path between the main thread and a worker (the HRT lane). Exactly one thread pushes (RingProducer)
// and exactly one pops (RingConsumer); each end claims its role in the header when it attaches, so a
// second producer or consumer is refused, and an end that was taken over fails on its next call.
//
// Ordering: the producer writes a slot's bytes, then publishes them with Atomics.store of the write
// index; the consumer reads the write index with Atomics.load before it reads the slot, and frees the
// slot with Atomics.store of the read index. Sequentially consistent atomics order the plain slot
// accesses on both sides. Waiting is Atomics.wait / waitAsync on the index words; the other end only
// pays for Atomics.notify when a waiter has raised its flag.

import { RingCodes, RingError, ringFull } from './ring-errors.js';
import { HEADER_BYTES, W, allocateRing, readGeometry, type SpscRingOptions } from './ring-layout.js';

export type { SpscRingOptions } from './ring-layout.js';

export interface SpscRingStats {
  name: string;
  slots: number;
  slotBytes: number;
  /** Messages in the ring now. */
  size: number;
  /** Messages ever published (64-bit total; may read torn for an instant when the index wraps). */
  pushed: number;
  /** Messages ever released by the consumer. */
  popped: number;
  /** Pushes refused because the ring was full. */
  fullRefusals: number;
  /** Most messages the producer ever saw in the ring at once. */
  highWater: number;
  /** Times the producer woke a waiting consumer (Atomics.notify). */
  wakeups: number;
  /** Times the consumer woke a producer waiting for space. */
  spaceWakeups: number;
  producerAttached: boolean;
  consumerAttached: boolean;
}

export interface AttachOptions {
  /**
   * Replace an end whose thread died without `close()`. The replaced end fails on its next call;
   * a producer must not be taken over while the old one may still be pushing (that is two producers).
   */
  takeOver?: boolean;
}

export type WaitResult = 'ok' | 'timed-out';

type Role = 'producer' | 'consumer';
type WaitAsync = (ta: Int32Array, index: number, value: number, timeout?: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

const u64 = (high: number, low: number): number => high * 2 ** 32 + (low >>> 0);

/** What both ends share: the geometry, the role claim, the per-slot views and the counters. */
export abstract class SpscRing {
  /** A fresh, empty ring; hand the buffer to both threads (workerData or postMessage) and attach an end on each. */
  static allocate(options: SpscRingOptions): SharedArrayBuffer {
    return allocateRing(options);
  }

  /** Counters of a ring read from any thread, without attaching an end. */
  static stats(buffer: SharedArrayBuffer): SpscRingStats {
    const g = readGeometry(buffer);
    return readStats(new Int32Array(buffer, 0, HEADER_BYTES / 4), g.name, g.slots, g.slotBytes);
  }

  readonly name: string;
  readonly slots: number;
  readonly slotBytes: number;
  readonly buffer: SharedArrayBuffer;
  protected readonly h: Int32Array;
  protected readonly words: Int32Array;
  protected readonly mask: number;
  private readonly stride: number;
  private readonly roleWord: number;
  private readonly token: number;
  private readonly payloads: (Uint8Array | undefined)[];
  private readonly views: (DataView | undefined)[];
  private closed = false;
  private asyncWaiters = 0;
  /** Inside a pushWith/popInto callback: the slot is not published/released yet. */
  protected busy = false;

  protected constructor(buffer: SharedArrayBuffer, role: Role, options: AttachOptions = {}) {
    const g = readGeometry(buffer);
    this.buffer = buffer;
    this.name = g.name;
    this.slots = g.slots;
    this.slotBytes = g.slotBytes;
    this.stride = g.stride;
    this.mask = g.slots - 1;
    this.h = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.words = new Int32Array(buffer);
    this.payloads = new Array<Uint8Array | undefined>(g.slots).fill(undefined);
    this.views = new Array<DataView | undefined>(g.slots).fill(undefined);
    this.roleWord = role === 'producer' ? W.producer : W.consumer;
    let token = Atomics.add(this.h, W.instanceSeq, 1) + 1;
    if (token === 0) token = Atomics.add(this.h, W.instanceSeq, 1) + 1;
    this.token = token;
    const prev = Atomics.compareExchange(this.h, this.roleWord, 0, token);
    if (prev !== 0) {
      if (options.takeOver !== true) {
        throw new RingError(
          RingCodes.roleTaken,
          `ring "${this.name}" already has a ${role}: an SPSC ring has exactly one producer and one consumer (pass takeOver: true only to replace one whose thread died)`,
          { field: role, details: { ring: this.name } },
        );
      }
      Atomics.store(this.h, this.roleWord, token);
    }
  }

  get capacity(): number {
    return this.slots;
  }

  /** Messages in the ring now (exact for this end's own index, a snapshot of the other's). */
  get size(): number {
    return (Atomics.load(this.h, W.write) - Atomics.load(this.h, W.read)) >>> 0;
  }

  stats(): SpscRingStats {
    return readStats(this.h, this.name, this.slots, this.slotBytes);
  }

  /** Gives up this end's role (another thread may then attach); further calls on this end throw. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.compareExchange(this.h, this.roleWord, this.token, 0);
  }

  /** Cheap misuse checks on every call: used after close, re-entered from its own callback, or taken over. */
  protected enter(what: string): void {
    if (this.busy) throw new RingError(RingCodes.misuse, `ring "${this.name}": ${what} was called from inside this end's own pushWith/popInto callback`, { field: what });
    if (this.closed) throw new RingError(RingCodes.misuse, `ring "${this.name}": ${what} was called after close()`, { field: what });
    if (Atomics.load(this.h, this.roleWord) !== this.token) {
      throw new RingError(RingCodes.roleTaken, `ring "${this.name}": this end was taken over by another thread (takeOver: true); it must not be used any more`, {
        field: this.roleWord === W.producer ? 'producer' : 'consumer',
      });
    }
  }

  /** Word index of a slot's length word; its sequence word follows, its payload starts 8 bytes on. */
  protected slotWord(slot: number): number {
    return (HEADER_BYTES + slot * this.stride) >> 2;
  }

  protected payload(slot: number): Uint8Array {
    return (this.payloads[slot] ??= new Uint8Array(this.buffer, HEADER_BYTES + slot * this.stride + 8, this.slotBytes));
  }

  protected view(slot: number): DataView {
    return (this.views[slot] ??= new DataView(this.buffer, HEADER_BYTES + slot * this.stride + 8, this.slotBytes));
  }

  /**
   * Block this thread until `h[index]` is no longer `value`, or `timeoutMs` passes. `flag` tells the
   * other end to notify. Returns whether `ready()` holds afterwards.
   */
  protected block(flag: number, index: number, value: () => number, ready: () => boolean, timeoutMs: number): WaitResult {
    Atomics.store(this.h, flag, 1);
    try {
      // Seq-cst: either the other end sees the flag after its store, or this load sees its store.
      if (!ready()) {
        const v = value();
        const t = performance.now();
        const r = Atomics.wait(this.h, index, v, timeoutMs);
        if (!ready()) {
          const mem = Atomics.load(this.h, index);
          const oracle = Atomics.wait(this.h, index, v, 0);
          console.error(`DBG ${this.name} idx ${index} v ${v} wait=${r} after ${(performance.now() - t).toFixed(2)}ms mem=${mem} oracle=${oracle} other=${Atomics.load(this.h, index === W.write ? W.read : W.write)}`);
        }
      }
    } finally {
      Atomics.store(this.h, flag, 0);
    }
    return ready() ? 'ok' : 'timed-out';
  }

  /** The same as `block`, without blocking the thread's event loop (Atomics.waitAsync). */
  protected blockAsync(flag: number, index: number, value: () => number, ready: () => boolean, timeoutMs: number): Promise<WaitResult> {
    if (waitAsync === undefined) {
      return Promise.reject(new RingError(RingCodes.misuse, `ring "${this.name}": Atomics.waitAsync is not available in this runtime`, { field: 'waitAsync' }));
    }
    this.asyncWaiters++;
    Atomics.store(this.h, flag, 1);
    const done = (): WaitResult => {
      if (--this.asyncWaiters === 0) Atomics.store(this.h, flag, 0);
      return ready() ? 'ok' : 'timed-out';
    };
    if (ready()) return Promise.resolve(done());
    const r = waitAsync.call(Atomics, this.h, index, value(), timeoutMs);
    return r.async ? (r.value as Promise<string>).then(done) : Promise.resolve(done());
  }
}

function readStats(h: Int32Array, name: string, slots: number, slotBytes: number): SpscRingStats {
  const write = Atomics.load(h, W.write);
  const read = Atomics.load(h, W.read);
  return {
    name,
    slots,
    slotBytes,
    size: (write - read) >>> 0,
    pushed: u64(Atomics.load(h, W.writeHigh), write),
    popped: u64(Atomics.load(h, W.readHigh), read),
    fullRefusals: u64(Atomics.load(h, W.fullHigh), Atomics.load(h, W.fullLow)),
    highWater: Atomics.load(h, W.highWater),
    wakeups: Atomics.load(h, W.wakeups) >>> 0,
    spaceWakeups: Atomics.load(h, W.spaceWakeups) >>> 0,
    producerAttached: Atomics.load(h, W.producer) !== 0,
    consumerAttached: Atomics.load(h, W.consumer) !== 0,
  };
}

/** Writes a slot's payload: fills `payload` from index 0 and returns how many bytes it wrote. */
export type SlotWriter = (payload: Uint8Array, data: DataView) => number;
/** Reads a message: `payload[0, length)` (and `data` over the same bytes) are valid only during the call. */
export type SlotReader = (payload: Uint8Array, length: number, data: DataView) => void;

/** The pushing end. One per ring, used from one thread. */
export class RingProducer extends SpscRing {
  private write: number;
  private readSeen: number;
  private highWater: number;
  private readonly isReady = (): boolean => this.hasSpace();
  private readonly readIndex = (): number => this.readSeen;

  constructor(buffer: SharedArrayBuffer, options?: AttachOptions) {
    super(buffer, 'producer', options);
    this.write = Atomics.load(this.h, W.write);
    this.readSeen = Atomics.load(this.h, W.read);
    this.highWater = Atomics.load(this.h, W.highWater);
  }

  /** Copies `bytes` into the next slot; false (and counted) when the ring is full. */
  tryPush(bytes: Uint8Array): boolean {
    this.enter('tryPush');
    if (bytes.length > this.slotBytes) throw this.tooLarge(bytes.length);
    if (!this.hasSpace()) return this.refuse();
    const slot = this.write & this.mask;
    this.payload(slot).set(bytes);
    this.publish(slot, bytes.length);
    return true;
  }

  /** Like tryPush, but a full ring throws MailboxFull (code MAILBOX_FULL). */
  push(bytes: Uint8Array): void {
    if (!this.tryPush(bytes)) throw ringFull(this);
  }

  /**
   * Zero-copy push: `write` fills the free slot in place and returns the length it wrote (at most
   * slotBytes). Nothing is published if it throws. False (and counted) when the ring is full,
   * without calling `write`.
   */
  pushWith(write: SlotWriter): boolean {
    this.enter('pushWith');
    if (!this.hasSpace()) return this.refuse();
    const slot = this.write & this.mask;
    let length: number;
    this.busy = true;
    try {
      length = write(this.payload(slot), this.view(slot));
    } finally {
      this.busy = false;
    }
    if (!(Number.isInteger(length) && length >= 0)) {
      throw new RingError(RingCodes.invalidOptions, `ring "${this.name}": a pushWith writer must return the byte length it wrote, got ${String(length)}`, { field: 'pushWith' });
    }
    if (length > this.slotBytes) throw this.tooLarge(length);
    this.publish(slot, length);
    return true;
  }

  /** Block until a slot is free (or `timeoutMs`); not on a browser's main thread. */
  waitForSpace(timeoutMs: number): WaitResult {
    this.enter('waitForSpace');
    return this.block(W.producerWaiting, W.read, this.readIndex, this.isReady, timeoutMs);
  }

  /** waitForSpace without blocking the event loop. */
  waitForSpaceAsync(timeoutMs: number): Promise<WaitResult> {
    this.enter('waitForSpaceAsync');
    return this.blockAsync(W.producerWaiting, W.read, this.readIndex, this.isReady, timeoutMs);
  }

  private hasSpace(): boolean {
    if (((this.write - this.readSeen) >>> 0) < this.slots) return true;
    this.readSeen = Atomics.load(this.h, W.read);
    return ((this.write - this.readSeen) >>> 0) < this.slots;
  }

  private publish(slot: number, length: number): void {
    const at = this.slotWord(slot);
    this.words[at] = length;
    this.words[at + 1] = this.write;
    const next = (this.write + 1) | 0;
    Atomics.store(this.h, W.write, next); // publishes the slot
    this.write = next;
    if (next === 0) Atomics.add(this.h, W.writeHigh, 1);
    if (((next - this.readSeen) >>> 0) > this.highWater) {
      this.readSeen = Atomics.load(this.h, W.read);
      const used = (next - this.readSeen) >>> 0;
      if (used > this.highWater) Atomics.store(this.h, W.highWater, (this.highWater = used));
    }
    if (Atomics.load(this.h, W.consumerWaiting) !== 0) {
      Atomics.add(this.h, W.wakeups, 1);
      Atomics.notify(this.h, W.write, 1);
    }
  }

  private refuse(): false {
    if (Atomics.add(this.h, W.fullLow, 1) === -1) Atomics.add(this.h, W.fullHigh, 1);
    return false;
  }

  private tooLarge(length: number): RingError {
    return new RingError(RingCodes.payloadTooLarge, `ring "${this.name}": a payload of ${length} bytes is larger than its slotBytes (${this.slotBytes})`, {
      field: 'slotBytes',
      details: { ring: this.name, length, slotBytes: this.slotBytes },
    });
  }
}

/** The popping end. One per ring, used from one thread. */
export class RingConsumer extends SpscRing {
  private read: number;
  private writeSeen: number;
  private readonly isReady = (): boolean => this.hasData();
  private readonly readIndex = (): number => this.read;

  constructor(buffer: SharedArrayBuffer, options?: AttachOptions) {
    super(buffer, 'consumer', options);
    this.read = Atomics.load(this.h, W.read);
    this.writeSeen = Atomics.load(this.h, W.write);
  }

  /** The oldest message, copied out (the slot is freed at once); undefined when empty. */
  tryPop(): Uint8Array | undefined {
    this.enter('tryPop');
    if (!this.hasData()) return undefined;
    const slot = this.read & this.mask;
    const out = this.payload(slot).slice(0, this.checkedLength(slot));
    this.release();
    return out;
  }

  /**
   * Zero-copy pop: `read` sees the oldest message in place; the slot is freed when it returns
   * (or throws: the message is consumed either way). False when empty, without calling `read`.
   */
  popInto(read: SlotReader): boolean {
    this.enter('popInto');
    if (!this.hasData()) return false;
    const slot = this.read & this.mask;
    const length = this.checkedLength(slot);
    this.busy = true;
    try {
      read(this.payload(slot), length, this.view(slot));
    } finally {
      this.busy = false;
      this.release();
    }
    return true;
  }

  /** Pops up to `max` messages into `read`; returns how many. */
  drain(read: SlotReader, max = Infinity): number {
    let n = 0;
    while (n < max && this.popInto(read)) n++;
    return n;
  }

  /**
   * Block until a message is in the ring (or `timeoutMs`); 'ok' means one is there. Atomics.wait:
   * fine in Node (workers and main thread), refused on a browser's main thread.
   */
  wait(timeoutMs: number): WaitResult {
    this.enter('wait');
    return this.block(W.consumerWaiting, W.write, this.readIndex, this.isReady, timeoutMs);
  }

  /** wait without blocking the event loop (Atomics.waitAsync); a pending wait does not keep Node alive. */
  waitAsync(timeoutMs: number): Promise<WaitResult> {
    this.enter('waitAsync');
    return this.blockAsync(W.consumerWaiting, W.write, this.readIndex, this.isReady, timeoutMs);
  }

  private hasData(): boolean {
    if (this.read !== this.writeSeen) return true;
    this.writeSeen = Atomics.load(this.h, W.write);
    return this.read !== this.writeSeen;
  }

  /** The slot's length, after checking it was written at this index: a cheap guard against a second producer or stray writes. */
  private checkedLength(slot: number): number {
    const at = this.slotWord(slot);
    const length = this.words[at]!;
    const seq = this.words[at + 1]!;
    if (seq !== this.read || length < 0 || length > this.slotBytes) {
      throw new RingError(RingCodes.corrupt, `ring "${this.name}": slot ${slot} holds index ${seq} and length ${length}, expected index ${this.read} and at most ${this.slotBytes} bytes (two producers, or memory written outside the ring)`, {
        field: 'slot',
        details: { ring: this.name, slot, seq, length, expected: this.read },
      });
    }
    return length;
  }

  private release(): void {
    const next = (this.read + 1) | 0;
    Atomics.store(this.h, W.read, next); // frees the slot
    this.read = next;
    if (next === 0) Atomics.add(this.h, W.readHigh, 1);
    if (Atomics.load(this.h, W.producerWaiting) !== 0) {
      Atomics.add(this.h, W.spaceWakeups, 1);
      Atomics.notify(this.h, W.read, 1);
    }
  }
}
