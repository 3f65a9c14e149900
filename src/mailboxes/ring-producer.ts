// The pushing end of an SPSC ring (spsc-ring.ts): copies or writes a message into the next free
// slot, publishes it with Atomics.store of the write index, and wakes the consumer when it sleeps.

import { RingCodes, RingError, ringFull } from './ring-errors.js';
import { W } from './ring-layout.js';
import { SpscRing, type AttachOptions, type SlotWriter, type WaitResult } from './spsc-ring.js';

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

  /** Sleep until the consumer frees a slot (or `timeoutMs`); 'ok' and 'timed-out' as in RingConsumer.wait. Not on a browser's main thread. */
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
    // Wake a sleeping consumer once per sleep, not once per message: whoever clears the flag notifies.
    if (Atomics.load(this.h, W.consumerWaiting) !== 0 && Atomics.exchange(this.h, W.consumerWaiting, 0) !== 0) {
      Atomics.add(this.h, W.wakeups, 1);
      Atomics.notify(this.h, W.write);
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
