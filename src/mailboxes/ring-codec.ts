// Messages over an SPSC ring: a codec turns a message into a slot's bytes and back, and
// RingSender / RingReceiver bind a codec to a ring end. The hot path allocates nothing of its
// own: the sender's slot writer and the receiver's slot reader are made once, and the msgpack
// codec encodes into msgpackr's reused buffer and decodes from one private scratch buffer.
// For numeric messages FixedLayoutCodec (ring-layout-codec.ts) allocates nothing at all.

import { Packr, RESET_BUFFER_MODE, REUSE_BUFFER_MODE, Unpackr } from 'msgpackr';
import { RingCodes, RingError, ringFull } from './ring-errors.js';
import type { RingConsumer } from './ring-consumer.js';
import type { RingProducer } from './ring-producer.js';
import type { SlotReader, SlotWriter } from './spsc-ring.js';

export interface RingCodec<T> {
  /** Largest encoding, when bounded: a sender refuses a ring whose slots are smaller. */
  readonly maxBytes?: number;
  /**
   * Writes `msg` at the start of `payload` (a slot: payload.length is the ring's slotBytes) and
   * returns its length; throws RingError PAYLOAD_TOO_LARGE when it does not fit.
   */
  encodeInto(msg: T, payload: Uint8Array, data: DataView): number;
  /** Reads the message in `payload[0, length)`; the bytes are gone after the call returns. */
  decode(payload: Uint8Array, length: number, data: DataView): T;
}

export interface MsgpackRingCodecOptions {
  /**
   * Key lists of the declared message shapes, e.g. [['type', 'deadline', 'payload']]: a message
   * with exactly these keys in this order is written as a 1-byte record id instead of its key
   * names. Both ends must declare the same lists in the same order. Other shapes still work;
   * each message then carries its own key list.
   */
  structures?: readonly (readonly string[])[];
}

type PackTarget = Uint8Array & { start: number; end: number };

/** msgpack (msgpackr) over ring slots: any structured-clone-like value, declared shapes compact. */
export class MsgpackRingCodec<T = unknown> implements RingCodec<T> {
  private readonly packr: Packr;
  private readonly unpackr: Unpackr;
  private scratch = new Uint8Array(256);

  constructor(options: MsgpackRingCodecOptions = {}) {
    const declared = options.structures ?? [];
    if (!Array.isArray(declared) || declared.some((keys) => !Array.isArray(keys) || keys.some((k) => typeof k !== 'string'))) {
      throw new RingError(RingCodes.invalidOptions, 'MsgpackRingCodec: structures must be an array of key-name arrays', { field: 'structures' });
    }
    // msgpackr mutates the lists it is given; each side gets its own copy. maxSharedStructures =
    // the declared count keeps any other shape out of the shared table (the other end would not know it).
    const opts = () => ({ useRecords: true, structures: declared.map((keys) => [...keys]), maxSharedStructures: declared.length });
    this.packr = new Packr(opts());
    this.unpackr = new Unpackr(opts());
  }

  encodeInto(msg: T, payload: Uint8Array): number {
    // REUSE + RESET: msgpackr returns its own buffer (no subarray) and writes over it next time.
    const out = this.packr.pack(msg, REUSE_BUFFER_MODE | RESET_BUFFER_MODE) as unknown as PackTarget;
    const length = out.end - out.start;
    if (length > payload.length) {
      throw new RingError(RingCodes.payloadTooLarge, `MsgpackRingCodec: the message encodes to ${length} bytes, more than the ring's slotBytes (${payload.length})`, {
        field: 'slotBytes',
        details: { length, slotBytes: payload.length },
      });
    }
    copyBytes(out, out.start, payload, 0, length);
    return length;
  }

  decode(payload: Uint8Array, length: number): T {
    // msgpackr's native string decoder refuses shared memory: decode from a private copy.
    if (length > this.scratch.length) this.scratch = new Uint8Array(Math.max(length, this.scratch.length * 2));
    copyBytes(payload, 0, this.scratch, 0, length);
    return this.unpackr.unpack(this.scratch, length) as T;
  }
}

/** Byte copy without making a subarray for small messages (the common case). */
function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, length: number): void {
  if (length <= 64) {
    for (let i = 0; i < length; i++) dst[to + i] = src[from + i]!;
  } else {
    dst.set(src.subarray(from, from + length), to);
  }
}

/** The producer end of a ring, for messages of type T. */
export class RingSender<T> {
  private pending: T | undefined;
  private readonly writer: SlotWriter = (payload, data) => this.codec.encodeInto(this.pending as T, payload, data);

  constructor(
    readonly ring: RingProducer,
    readonly codec: RingCodec<T>,
  ) {
    if (codec.maxBytes !== undefined && codec.maxBytes > ring.slotBytes) {
      throw new RingError(RingCodes.invalidOptions, `RingSender: the codec's messages take up to ${codec.maxBytes} bytes, more than ring "${ring.name}"'s slotBytes (${ring.slotBytes})`, {
        field: 'slotBytes',
        details: { ring: ring.name, maxBytes: codec.maxBytes, slotBytes: ring.slotBytes },
      });
    }
  }

  /** Encodes `msg` straight into the next slot; false (and counted) when the ring is full. */
  trySend(msg: T): boolean {
    this.pending = msg;
    try {
      return this.ring.pushWith(this.writer);
    } finally {
      this.pending = undefined;
    }
  }

  /** trySend, but a full ring throws MailboxFull (code MAILBOX_FULL). */
  send(msg: T): void {
    if (!this.trySend(msg)) throw ringFull(this.ring);
  }
}

/** The consumer end of a ring, for messages of type T. */
export class RingReceiver<T> {
  private last: T | undefined;
  private readonly reader: SlotReader = (payload, length, data) => {
    this.last = this.codec.decode(payload, length, data);
  };

  constructor(
    readonly ring: RingConsumer,
    readonly codec: RingCodec<T>,
  ) {}

  /** The oldest message, or undefined when the ring is empty (use `poll` if undefined is a message). */
  tryReceive(): T | undefined {
    return this.ring.popInto(this.reader) ? this.take() : undefined;
  }

  /** Calls `handle` with the oldest message, after its slot is freed; false when empty. */
  poll(handle: (msg: T) => void): boolean {
    if (!this.ring.popInto(this.reader)) return false;
    handle(this.take());
    return true;
  }

  /** Handles up to `max` messages; returns how many. */
  drain(handle: (msg: T) => void, max = Infinity): number {
    let n = 0;
    while (n < max && this.poll(handle)) n++;
    return n;
  }

  private take(): T {
    const msg = this.last as T;
    this.last = undefined;
    return msg;
  }
}
