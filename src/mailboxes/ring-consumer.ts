// The popping end of an SPSC ring (spsc-ring.ts): reads the oldest message in place or as a copy,
// frees its slot with Atomics.store of the read index, and wakes the producer when it sleeps.

import { RingCodes, RingError } from './ring-errors.js';
import { W } from './ring-layout.js';
import { SpscRing, type AttachOptions, type SlotReader, type WaitResult } from './spsc-ring.js';

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
   * Sleep until the producer publishes (or `timeoutMs`). 'ok': woken or a message is there, but a
   * wake-up can be stale, so pop and wait again when the ring is empty; 'timed-out': the whole
   * timeout passed with nothing to pop. Atomics.wait: fine in Node (workers and main thread),
   * refused on a browser's main thread.
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
    if (Atomics.load(this.h, W.producerWaiting) !== 0 && Atomics.exchange(this.h, W.producerWaiting, 0) !== 0) {
      Atomics.add(this.h, W.spaceWakeups, 1);
      Atomics.notify(this.h, W.read);
    }
  }
}
