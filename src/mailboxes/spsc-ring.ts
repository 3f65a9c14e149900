// A single-producer/single-consumer ring of fixed-size slots in a SharedArrayBuffer: the lock-free
// path between the main thread and a worker (the HRT lane). Exactly one thread pushes (RingProducer)
// and exactly one pops (RingConsumer); each end claims its role in the header when it attaches, so a
// second producer or consumer is refused, and an end that was taken over fails on its next call.
//
// Ordering: the producer writes a slot's bytes, then publishes them with Atomics.store of the write
// index; the consumer reads the write index with Atomics.load before it reads the slot, and frees the
// slot with Atomics.store of the read index. Sequentially consistent atomics order the plain slot
// accesses on both sides. Waiting is Atomics.wait / waitAsync on the index words; the other end only
// pays for Atomics.notify when a waiter has raised its flag, and clears the flag as it notifies, so a
// sleep costs one notify however many messages pass before the sleeper runs again.

import { RingCodes, RingError } from './ring-errors.js';
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
  /** Times the producer woke a sleeping consumer (Atomics.notify; at most one per sleep). */
  wakeups: number;
  /** Times the consumer woke a producer sleeping for space. */
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

/**
 * What both ends share: the geometry, the role claim, the per-slot views and the counters.
 * The ends are RingProducer (ring-producer.ts) and RingConsumer (ring-consumer.ts).
 */
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
   * other end to notify. 'timed-out' only when the whole timeout passed with `ready()` still false;
   * any wake-up is 'ok', even a stale one (a notify for a message this end already took), so callers
   * re-check rather than treat 'ok' as a promise.
   */
  protected block(flag: number, index: number, value: () => number, ready: () => boolean, timeoutMs: number): WaitResult {
    Atomics.store(this.h, flag, 1);
    let woke: string = 'ok';
    try {
      // Seq-cst: either the other end sees the flag after its store, or this load sees its store.
      if (!ready()) woke = Atomics.wait(this.h, index, value(), timeoutMs);
    } finally {
      Atomics.store(this.h, flag, 0);
    }
    return woke !== 'timed-out' || ready() ? 'ok' : 'timed-out';
  }

  /** The same as `block`, without blocking the thread's event loop (Atomics.waitAsync). */
  protected blockAsync(flag: number, index: number, value: () => number, ready: () => boolean, timeoutMs: number): Promise<WaitResult> {
    if (waitAsync === undefined) {
      return Promise.reject(new RingError(RingCodes.misuse, `ring "${this.name}": Atomics.waitAsync is not available in this runtime`, { field: 'waitAsync' }));
    }
    this.asyncWaiters++;
    Atomics.store(this.h, flag, 1);
    const done = (woke: string): WaitResult => {
      if (--this.asyncWaiters === 0) Atomics.store(this.h, flag, 0);
      return woke !== 'timed-out' || ready() ? 'ok' : 'timed-out';
    };
    if (ready()) return Promise.resolve(done('ok'));
    const r = waitAsync.call(Atomics, this.h, index, value(), timeoutMs);
    return r.async ? (r.value as Promise<string>).then(done) : Promise.resolve(done(r.value as string));
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
