import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailboxFull } from '../../src/base/errors.js';
import { RingCodes, RingConsumer, RingError, RingProducer, SpscRing } from '../../src/mailboxes/index.js';
import { HEADER_BYTES, W } from '../../src/mailboxes/ring-layout.js';
import { pattern } from './fixtures/ring-pattern.js';
import { RingThread } from './fixtures/ring-thread.js';

const ring = (slots: number, slotBytes: number, name = 'test') => {
  const sab = SpscRing.allocate({ slots, slotBytes, name });
  return { sab, producer: new RingProducer(sab), consumer: new RingConsumer(sab) };
};

const header = (sab: SharedArrayBuffer): Int32Array => new Int32Array(sab, 0, HEADER_BYTES / 4);

/** The error `fn` throws (fails the test if it does not throw). */
function thrown(fn: () => unknown): RingError & MailboxFull {
  try {
    fn();
  } catch (err) {
    return err as RingError & MailboxFull;
  }
  throw new Error('expected a throw');
}

const drainAll = (c: RingConsumer): number[][] => {
  const out: number[][] = [];
  for (let m = c.tryPop(); m !== undefined; m = c.tryPop()) out.push([...m]);
  return out;
};

describe('SpscRing.allocate', () => {
  it('refuses a slot count that is not a power of two, naming slots', () => {
    for (const slots of [0, 3, 6, 1.5, -4, 2 ** 25]) {
      const err = thrown(() => SpscRing.allocate({ slots, slotBytes: 8 }));
      expect(err).toBeInstanceOf(RingError);
      expect(err.code).toBe(RingCodes.invalidOptions);
      expect(err.field).toBe('slots');
      expect(err.message).toContain('power of two');
    }
  });

  it('refuses slotBytes out of range and a name longer than 64 bytes', () => {
    for (const slotBytes of [0, -1, 2.5, 2 ** 24 + 1]) expect(thrown(() => SpscRing.allocate({ slots: 2, slotBytes })).field).toBe('slotBytes');
    expect(thrown(() => SpscRing.allocate({ slots: 2, slotBytes: 8, name: 'é'.repeat(33) })).field).toBe('name');
  });

  it('sizes the buffer as header + slots × 8-aligned (8 + slotBytes), and names the ring', () => {
    const sab = SpscRing.allocate({ slots: 4, slotBytes: 13, name: 'lane-0/in' });
    expect(sab.byteLength).toBe(HEADER_BYTES + 4 * 24);
    expect(SpscRing.stats(sab)).toMatchObject({ name: 'lane-0/in', slots: 4, slotBytes: 13, size: 0, pushed: 0, popped: 0 });
  });
});

describe('attaching to a buffer', () => {
  it('refuses anything but a SharedArrayBuffer made by allocate (RING_CORRUPT naming the field)', () => {
    expect(thrown(() => new RingProducer(new ArrayBuffer(512) as unknown as SharedArrayBuffer)).field).toBe('buffer');
    expect(thrown(() => new RingConsumer(new SharedArrayBuffer(16))).field).toBe('buffer');
    const foreign = thrown(() => new RingConsumer(new SharedArrayBuffer(1024)));
    expect(foreign.code).toBe(RingCodes.corrupt);
    expect(foreign.field).toBe('magic');
  });

  it('refuses a header that does not add up: version, stride, length, indices', () => {
    const cases: [string, (h: Int32Array) => void][] = [
      ['version', (h) => (h[W.version] = 2)],
      ['stride', (h) => (h[W.stride] = 8)],
      ['slots', (h) => (h[W.slots] = 8)],
      ['slots', (h) => (h[W.slots] = 3)],
      ['nameLength', (h) => (h[W.nameLength] = 65)],
      ['write', (h) => (h[W.write] = 5)],
    ];
    for (const [field, corrupt] of cases) {
      const sab = SpscRing.allocate({ slots: 4, slotBytes: 16 });
      corrupt(header(sab));
      const err = thrown(() => new RingConsumer(sab));
      expect(err.code, field).toBe(RingCodes.corrupt);
      expect(err.field, field).toBe(field);
    }
  });

  it('allows one producer and one consumer; a second is refused until the first closes', () => {
    const { sab, producer, consumer } = ring(2, 4);
    const second = thrown(() => new RingProducer(sab));
    expect(second.code).toBe(RingCodes.roleTaken);
    expect(second.message).toContain('already has a producer');
    expect(thrown(() => new RingConsumer(sab)).code).toBe(RingCodes.roleTaken);
    producer.push(Uint8Array.of(1));
    producer.close();
    expect(thrown(() => producer.tryPush(Uint8Array.of(2))).code).toBe(RingCodes.misuse);
    const next = new RingProducer(sab); // the role is free again, and it continues where the first stopped
    next.push(Uint8Array.of(2));
    expect(drainAll(consumer)).toEqual([[1], [2]]);
  });

  it('takeOver replaces an end; the replaced end fails on its next call', () => {
    const { sab, producer, consumer } = ring(4, 4);
    producer.push(Uint8Array.of(1));
    const replacement = new RingConsumer(sab, { takeOver: true });
    expect(thrown(() => consumer.tryPop()).code).toBe(RingCodes.roleTaken);
    expect([...replacement.tryPop()!]).toEqual([1]);
    expect(SpscRing.stats(sab)).toMatchObject({ producerAttached: true, consumerAttached: true });
    replacement.close();
    expect(SpscRing.stats(sab).consumerAttached).toBe(false);
  });
});

describe('RingProducer / RingConsumer on one thread', () => {
  it('an empty ring pops nothing and does not call the reader', () => {
    const { consumer } = ring(4, 8);
    expect(consumer.tryPop()).toBeUndefined();
    let called = false;
    expect(consumer.popInto(() => (called = true))).toBe(false);
    expect(called).toBe(false);
    expect(consumer.size).toBe(0);
    expect(consumer.wait(0)).toBe('timed-out');
  });

  it('a full ring refuses, counts the refusal, and push throws MailboxFull naming the ring', () => {
    const { producer, consumer } = ring(4, 8, 'lane-1/out');
    for (let i = 0; i < 4; i++) expect(producer.tryPush(Uint8Array.of(i))).toBe(true);
    expect(producer.size).toBe(4);
    expect(producer.tryPush(Uint8Array.of(9))).toBe(false);
    let called = false;
    expect(producer.pushWith(() => ((called = true), 1))).toBe(false);
    expect(called).toBe(false);
    const err = thrown(() => producer.push(Uint8Array.of(9)));
    expect(err).toBeInstanceOf(MailboxFull);
    expect(err.code).toBe('MAILBOX_FULL');
    expect(err.message).toContain('ring "lane-1/out" is full (4 slots)');
    expect(producer.stats()).toMatchObject({ fullRefusals: 3, pushed: 4, size: 4, highWater: 4 });
    expect([...consumer.tryPop()!]).toEqual([0]);
    expect(producer.tryPush(Uint8Array.of(4))).toBe(true); // one slot freed, one push fits
    expect(drainAll(consumer)).toEqual([[1], [2], [3], [4]]);
  });

  it('keeps FIFO order across many laps of the slots, with sizes from 0 to slotBytes', () => {
    const { producer, consumer } = ring(4, 5);
    const seen: number[][] = [];
    const sent: number[][] = [];
    for (let k = 0; k < 50; k++) {
      const m = pattern(k, k % 6);
      sent.push([...m]);
      producer.push(m);
      if (k % 3 !== 0) seen.push(...drainAll(consumer)); // leave 1-3 behind so the ring wraps with data in it
    }
    seen.push(...drainAll(consumer));
    expect(seen).toEqual(sent);
    expect(consumer.stats()).toMatchObject({ pushed: 50, popped: 50, size: 0, fullRefusals: 0 });
  });

  it('a payload over slotBytes is refused with PAYLOAD_TOO_LARGE naming slotBytes, and nothing is published', () => {
    const { producer, consumer } = ring(2, 4);
    const err = thrown(() => producer.tryPush(new Uint8Array(5)));
    expect(err.code).toBe('PAYLOAD_TOO_LARGE');
    expect(err.field).toBe('slotBytes');
    expect(err.message).toContain('slotBytes (4)');
    expect(thrown(() => producer.pushWith(() => 5)).field).toBe('slotBytes');
    expect(thrown(() => producer.pushWith(() => -1)).code).toBe(RingCodes.invalidOptions);
    expect(thrown(() => producer.pushWith(() => NaN)).code).toBe(RingCodes.invalidOptions);
    expect(() =>
      producer.pushWith(() => {
        throw new Error('encoder failed');
      }),
    ).toThrow('encoder failed');
    expect(consumer.size).toBe(0);
    producer.push(new Uint8Array(4).fill(7)); // exactly slotBytes fits
    expect(drainAll(consumer)).toEqual([[7, 7, 7, 7]]);
  });

  it('pushWith and popInto work in place: the views are the shared slot, valid for the message length', () => {
    const { sab, producer, consumer } = ring(2, 16);
    expect(
      producer.pushWith((payload, data) => {
        expect(payload.buffer).toBe(sab);
        expect(payload.length).toBe(16);
        data.setFloat64(0, Math.PI, true);
        return 8;
      }),
    ).toBe(true);
    expect(
      consumer.popInto((payload, length, data) => {
        expect(payload.buffer).toBe(sab);
        expect(length).toBe(8);
        expect(data.getFloat64(0, true)).toBe(Math.PI);
      }),
    ).toBe(true);
    expect(consumer.size).toBe(0);
  });

  it('a reader that throws still consumes its message', () => {
    const { producer, consumer } = ring(2, 4);
    producer.push(Uint8Array.of(1));
    producer.push(Uint8Array.of(2));
    expect(() =>
      consumer.popInto(() => {
        throw new Error('handler failed');
      }),
    ).toThrow('handler failed');
    expect(drainAll(consumer)).toEqual([[2]]);
  });

  it('refuses re-entry from inside its own callback (it would hand out the same slot twice)', () => {
    const { producer, consumer } = ring(4, 4);
    expect(thrown(() => producer.pushWith(() => (producer.tryPush(Uint8Array.of(1)), 1))).code).toBe(RingCodes.misuse);
    producer.push(Uint8Array.of(1));
    producer.push(Uint8Array.of(2));
    expect(thrown(() => consumer.popInto(() => consumer.tryPop())).code).toBe(RingCodes.misuse);
    expect(drainAll(consumer)).toEqual([[2]]);
  });

  it('a slot not written at its index is reported as RING_CORRUPT (e.g. a second producer)', () => {
    const { sab, producer, consumer } = ring(2, 4);
    producer.push(Uint8Array.of(1));
    new Int32Array(sab)[HEADER_BYTES / 4 + 1] = 77; // slot 0's sequence word
    const err = thrown(() => consumer.tryPop());
    expect(err.code).toBe(RingCodes.corrupt);
    expect(err.message).toContain('slot 0 holds index 77');
  });

  it('keeps order and 64-bit totals when the 32-bit indices wrap', () => {
    const sab = SpscRing.allocate({ slots: 4, slotBytes: 4 });
    const h = header(sab);
    h[W.write] = h[W.read] = -3; // 2^32 - 3 messages already went through
    const producer = new RingProducer(sab);
    const consumer = new RingConsumer(sab);
    const seen: number[][] = [];
    for (let k = 0; k < 10; k++) {
      producer.push(Uint8Array.of(k));
      if (k % 2 === 1) seen.push(...drainAll(consumer));
    }
    expect(seen).toEqual([...Array(10).keys()].map((k) => [k]));
    expect(consumer.stats()).toMatchObject({ pushed: 2 ** 32 - 3 + 10, popped: 2 ** 32 - 3 + 10, size: 0 });
  });

  it('stats: high-water is the most messages held at once, wakeups only count real waiters', () => {
    const { sab, producer, consumer } = ring(8, 4);
    for (let i = 0; i < 5; i++) producer.push(Uint8Array.of(i));
    drainAll(consumer);
    for (let i = 0; i < 3; i++) producer.push(Uint8Array.of(i));
    expect(SpscRing.stats(sab)).toMatchObject({ highWater: 5, pushed: 8, popped: 5, size: 3, wakeups: 0, spaceWakeups: 0 });
    expect(consumer.wait(0)).toBe('ok'); // data there: returns at once
  });
});

describe('SpscRing across two threads', () => {
  let thread: RingThread;
  beforeAll(() => {
    thread = new RingThread();
  });
  afterAll(async () => {
    await thread.stop();
  });

  /** Pops `count` messages on this thread, waiting (sync or async) when empty and pausing to let the producer run ahead. */
  async function consumeHere(sab: SharedArrayBuffer, count: number, o: { asyncWait: boolean; pauseEvery: number; pauseUs: number }): Promise<number[][]> {
    const consumer = new RingConsumer(sab);
    const got: number[][] = [];
    const collect = (payload: Uint8Array, length: number): void => void got.push([...payload.subarray(0, length)]);
    let idle = 0;
    const deadline = performance.now() + 10_000;
    while (got.length < count) {
      if (performance.now() > deadline) throw new Error(`consumer: past 10 s with ${got.length}/${count}`);
      if (consumer.popInto(collect)) {
        idle = 0;
        if (o.pauseEvery > 0 && got.length % o.pauseEvery === 0) {
          const end = performance.now() + o.pauseUs / 1000;
          while (performance.now() < end);
        }
        continue;
      }
      const t0 = performance.now();
      const r = o.asyncWait ? await consumer.waitAsync(500) : consumer.wait(500);
      // 'timed-out' must mean the whole timeout passed (a stale wake-up is 'ok', not an early time-out)
      if (r === 'timed-out') expect(performance.now() - t0).toBeGreaterThan(400);
      if (r === 'timed-out' && ++idle > 10) throw new Error(`consumer: no message for 5 s after ${got.length}/${count}`);
    }
    expect(consumer.tryPop()).toBeUndefined(); // no duplicate trailing behind
    consumer.close();
    return got;
  }

  const scenario = fc.record({
    slots: fc.constantFrom(1, 2, 4, 16, 64),
    slotBytes: fc.integer({ min: 1, max: 300 }),
    sizes: fc.array(fc.nat(), { maxLength: 400 }),
    blocking: fc.boolean(),
    pauseEvery: fc.constantFrom(0, 1, 7, 50),
    pauseUs: fc.integer({ min: 0, max: 200 }),
  });

  it('worker → main: no loss, no duplication, order kept, for any sizes ≤ slotBytes and ring sizes', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.boolean(), async (s, asyncWait) => {
        const sizes = s.sizes.map((n) => n % (s.slotBytes + 1));
        const sab = SpscRing.allocate({ slots: s.slots, slotBytes: s.slotBytes, name: 'w2m' });
        const produced = thread.run({ op: 'produce', sab, sizes, blocking: s.blocking, zeroCopy: true });
        const got = await consumeHere(sab, sizes.length, { asyncWait, pauseEvery: s.pauseEvery, pauseUs: s.pauseUs });
        await produced;
        expect(got).toEqual(sizes.map((size, k) => [...pattern(k, size)]));
        expect(SpscRing.stats(sab)).toMatchObject({ pushed: sizes.length, popped: sizes.length, size: 0 });
        expect(SpscRing.stats(sab).highWater).toBeLessThanOrEqual(s.slots);
      }),
      // A lost wake-up makes every run crawl through timeouts: stop (and fail) rather than shrink for minutes.
      { numRuns: 30, interruptAfterTimeLimit: 20_000, markInterruptAsFailure: true },
    );
  }, 40_000);

  it('main → worker: no loss, no duplication, order kept, when main outruns the consumer and retries on full', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const sizes = s.sizes.map((n) => n % (s.slotBytes + 1));
        const sab = SpscRing.allocate({ slots: s.slots, slotBytes: s.slotBytes, name: 'm2w' });
        const consumed = thread.run({ op: 'consume', sab, count: sizes.length, blocking: s.blocking, pauseEvery: s.pauseEvery, pauseUs: s.pauseUs });
        const producer = new RingProducer(sab);
        const deadline = performance.now() + 10_000;
        for (let k = 0; k < sizes.length; k++) {
          const m = pattern(k, sizes[k]!);
          while (!producer.tryPush(m)) {
            if (performance.now() > deadline) throw new Error(`producer: past 10 s at ${k}/${sizes.length}`);
            if ((s.blocking ? producer.waitForSpace(5_000) : await producer.waitForSpaceAsync(5_000)) === 'timed-out') throw new Error(`producer stuck at ${k}`);
          }
        }
        producer.close();
        const { messages } = await consumed;
        expect(messages!.map((m) => [...m])).toEqual(sizes.map((size, k) => [...pattern(k, size)]));
        const stats = SpscRing.stats(sab);
        expect(stats).toMatchObject({ pushed: sizes.length, popped: sizes.length, size: 0 });
      }),
      // A lost wake-up makes every run crawl through timeouts: stop (and fail) rather than shrink for minutes.
      { numRuns: 30, interruptAfterTimeLimit: 20_000, markInterruptAsFailure: true },
    );
  }, 40_000);

  it('a long run through a 2-slot ring: 20,000 messages, the producer refused and woken many times, nothing lost', async () => {
    const sizes = Array.from({ length: 20_000 }, (_, k) => k % 17);
    const sab = SpscRing.allocate({ slots: 2, slotBytes: 16 });
    const produced = thread.run({ op: 'produce', sab, sizes, blocking: true, zeroCopy: false });
    const got = await consumeHere(sab, sizes.length, { asyncWait: false, pauseEvery: 1000, pauseUs: 500 });
    await produced;
    expect(got.length).toBe(sizes.length);
    expect(got.every((m, k) => m.length === sizes[k] && (sizes[k]! < 4 || new DataView(Uint8Array.from(m).buffer).getUint32(0, true) === k))).toBe(true);
    const stats = SpscRing.stats(sab);
    expect(stats.fullRefusals).toBeGreaterThan(0);
    expect(stats.spaceWakeups).toBeGreaterThan(0);
  });

  it('both ends asleep in turn (wait / waitForSpace): no lost wake-up, and a stale wake-up never reads as a time-out', async () => {
    const n = 100_000;
    for (const slots of [8, 1024]) {
      const sab = SpscRing.allocate({ slots, slotBytes: 8, name: `sleepers-${slots}` });
      const consumed = thread.run({ op: 'consume', sab, count: n, blocking: true, pauseEvery: 0, pauseUs: 0 });
      const producer = new RingProducer(sab);
      const m = new Uint8Array(8);
      const view = new DataView(m.buffer);
      const deadline = performance.now() + 10_000;
      for (let k = 0; k < n; k++) {
        view.setUint32(0, k, true);
        while (!producer.tryPush(m)) {
          if (performance.now() > deadline) throw new Error(`producer: past 10 s at ${k}/${n}`);
          const t0 = performance.now();
          if (producer.waitForSpace(1_000) === 'timed-out') {
            expect(performance.now() - t0, `early time-out at ${k}`).toBeGreaterThan(800);
            throw new Error(`producer: no space for 1 s at ${k}`);
          }
        }
      }
      producer.close();
      const { messages } = await consumed;
      expect(messages!.length).toBe(n);
      expect(messages!.every((b, k) => new DataView(b.buffer, b.byteOffset).getUint32(0, true) === k)).toBe(true);
    }
  });

  it('wait on an empty ring wakes when the other thread pushes (Atomics.notify), well before its timeout', async () => {
    const sab = SpscRing.allocate({ slots: 2, slotBytes: 4 });
    const consumer = new RingConsumer(sab);
    const pushed = thread.run({ op: 'push-after', sab, delayMs: 200 });
    const t0 = performance.now();
    expect(consumer.wait(10_000)).toBe('ok');
    expect(performance.now() - t0).toBeLessThan(5_000); // a lost wake-up would sleep the full 10 s
    expect([...consumer.tryPop()!]).toEqual([42]);
    await pushed;
    const again = thread.run({ op: 'push-after', sab, delayMs: 200 });
    const t1 = performance.now();
    expect(await consumer.waitAsync(10_000)).toBe('ok');
    expect(performance.now() - t1).toBeLessThan(5_000);
    expect([...consumer.tryPop()!]).toEqual([42]);
    await again;
    expect(SpscRing.stats(sab).wakeups).toBe(2);
  });
});
