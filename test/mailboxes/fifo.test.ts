import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { FifoMailbox } from '../../src/mailboxes/fifo.js';
import type { DropReason } from '../../src/mailboxes/types.js';

interface Msg {
  id: number;
  enqueuedAt?: number;
}

const msgs = (n: number, from = 0): Msg[] => Array.from({ length: n }, (_, i) => ({ id: from + i }));
const ids = (xs: readonly (Msg | undefined)[]) => xs.map((m) => m?.id);

describe('FifoMailbox', () => {
  it('delivers messages in push order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 200 }), (xs) => {
        const mb = new FifoMailbox<Msg>({ capacity: 1000, now: () => 0 });
        for (const id of xs) mb.push({ id });
        const out: number[] = [];
        for (let m = mb.shift(); m; m = mb.shift()) out.push(m.id);
        expect(out).toEqual(xs);
      }),
    );
  });

  it('keeps push order under any interleaving of push and shift', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 300 }), (ops) => {
        const mb = new FifoMailbox<Msg>({ now: () => 0 });
        const model: Msg[] = [];
        let id = 0;
        for (const isPush of ops) {
          if (isPush) {
            const m = { id: id++ };
            mb.push(m);
            model.push(m);
          } else {
            expect(mb.shift()).toBe(model.splice(0, 1)[0]);
          }
          expect(mb.peek()).toBe(model[0]);
          expect(mb.toArray()).toEqual(model);
        }
      }),
    );
  });

  it('holds 1000 messages by default and rejects the next one', () => {
    const mb = new FifoMailbox<Msg>({ now: () => 0 });
    expect(mb.capacity).toBe(1000);
    for (const m of msgs(1000)) expect(mb.push(m)).toEqual({ ok: true, accepted: true });
    expect(mb.push({ id: 1000 })).toEqual({ ok: false, accepted: false, reason: 'full' });
    expect(mb.size).toBe(1000);
  });

  it('reject: a push to a full mailbox fails, is counted, and leaves the queue and onDrop alone', () => {
    const onDrop = vi.fn();
    const mb = new FifoMailbox<Msg>({ capacity: 2, overflow: 'reject', onDrop, now: () => 0 });
    const [a, b, c] = msgs(3);
    mb.push(a!);
    mb.push(b!);
    const r = mb.push(c!);
    expect(r).toEqual({ ok: false, accepted: false, reason: 'full' });
    expect(onDrop).not.toHaveBeenCalled();
    expect(ids(mb.toArray())).toEqual([0, 1]);
    expect(c!.enqueuedAt).toBeUndefined();
    expect(mb.stats()).toMatchObject({ pushed: 3, rejected: 1, dropped: 0, size: 2 });
  });

  it('drop-oldest: the head is evicted, reported to onDrop and returned; the new message is queued', () => {
    const seen: [number, DropReason, number][] = [];
    const mb: FifoMailbox<Msg> = new FifoMailbox<Msg>({
      capacity: 2,
      overflow: 'drop-oldest',
      // onDrop runs once the mailbox is consistent again.
      onDrop: (m, reason) => seen.push([m.id, reason, mb.size]),
      now: () => 0,
    });
    const [a, b, c] = msgs(3);
    mb.push(a!);
    mb.push(b!);
    const r = mb.push(c!);
    expect(r).toEqual({ ok: true, accepted: true, dropped: a });
    expect(seen).toEqual([[0, 'overflow:drop-oldest', 2]]);
    expect(ids(mb.toArray())).toEqual([1, 2]);
    expect(mb.stats()).toMatchObject({ pushed: 3, dropped: 1, rejected: 0, size: 2 });
  });

  it('drop-newest: the incoming message is reported to onDrop and returned as not accepted; the queue is unchanged', () => {
    const onDrop = vi.fn();
    const mb = new FifoMailbox<Msg>({ capacity: 2, overflow: 'drop-newest', onDrop, now: () => 0 });
    const [a, b, c] = msgs(3);
    mb.push(a!);
    mb.push(b!);
    const r = mb.push(c!);
    expect(r).toEqual({ ok: true, accepted: false, dropped: c });
    expect(onDrop).toHaveBeenCalledExactlyOnceWith(c, 'overflow:drop-newest');
    expect(ids(mb.toArray())).toEqual([0, 1]);
    expect(mb.stats()).toMatchObject({ pushed: 3, dropped: 1, rejected: 0, size: 2 });
  });

  it('stamps enqueuedAt from the injected clock and records wait times on shift', () => {
    let t = 100;
    const mb = new FifoMailbox<Msg>({ now: () => t });
    const [a, b, c, d] = msgs(4);
    mb.push(a!); // at 100
    t = 101;
    mb.push(b!); // at 101
    t = 104;
    mb.push(c!); // at 104
    mb.push(d!); // at 104
    expect([a, b, c, d].map((m) => m!.enqueuedAt)).toEqual([100, 101, 104, 104]);
    t = 110;
    mb.shift(); // waited 10
    mb.shift(); // waited 9
    t = 124;
    mb.shift(); // waited 20
    const { waitMs } = mb.stats();
    expect(waitMs.count).toBe(3);
    expect(waitMs.mean).toBe(13);
    expect(waitMs.max).toBe(20);
    expect(Math.abs(waitMs.p50 - 10) / 10).toBeLessThanOrEqual(0.2) // mailboxes keep a coarse ±20% histogram;
    expect(waitMs.p99).toBe(20); // rank ceil(0.99·3) = 3 is the top rank: the exact max
  });

  it('drained messages are not counted as delivered nor given a wait time', () => {
    let t = 0;
    const mb = new FifoMailbox<Msg>({ now: () => t });
    for (const m of msgs(3)) mb.push(m);
    t = 50;
    expect(mb.shift()?.id).toBe(0);
    expect(ids(mb.drain())).toEqual([1, 2]);
    expect(mb.size).toBe(0);
    expect(mb.drain()).toEqual([]);
    expect(mb.stats()).toMatchObject({ pushed: 3, delivered: 1, drained: 2, size: 0, waitMs: { count: 1, max: 50 } });
  });

  it('tracks the high-water mark', () => {
    const mb = new FifoMailbox<Msg>({ now: () => 0 });
    for (const m of msgs(5)) mb.push(m);
    for (let i = 0; i < 4; i++) mb.shift();
    mb.push({ id: 9 });
    expect(mb.stats()).toMatchObject({ kind: 'fifo', highWater: 5, size: 2, capacity: 1000 });
  });

  it('allocates no queue storage until the first push, and grows only as needed', () => {
    const mb = new FifoMailbox<Msg>({ capacity: 100_000, now: () => 0 });
    const ring = (mb as any).ring;
    expect(ring.allocated).toBe(0);
    mb.push({ id: 1 });
    expect(ring.allocated).toBe(4);
    for (const m of msgs(10)) mb.push(m);
    expect(ring.allocated).toBe(16);
  });

  it('uses performance.now when no clock is injected', () => {
    const mb = new FifoMailbox<Msg>();
    const m = { id: 1 } as Msg;
    const before = performance.now();
    mb.push(m);
    expect(m.enqueuedAt).toBeGreaterThanOrEqual(before);
    expect(m.enqueuedAt).toBeLessThanOrEqual(performance.now());
  });

  it('rejects an invalid capacity or overflow policy', () => {
    expect(() => new FifoMailbox({ capacity: 0 })).toThrow(/capacity/);
    expect(() => new FifoMailbox({ capacity: 1.5 })).toThrow(RangeError);
    expect(() => new FifoMailbox({ overflow: 'drop-all' as any })).toThrow(/overflow/);
    expect(() => new FifoMailbox({ capacity: Infinity })).not.toThrow();
  });
});
