import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { EdfMailbox } from '../../src/mailboxes/edf.js';
import type { OverflowPolicy } from '../../src/mailboxes/types.js';

interface Msg {
  id: number;
  deadline?: number;
  enqueuedAt?: number;
}

const ids = (xs: readonly (Msg | undefined)[]) => xs.map((m) => m?.id);
const effective = (m: Msg) => (m.deadline === undefined || Number.isNaN(m.deadline) ? Infinity : m.deadline);
/** The model's choice: earliest deadline, then earliest arrival (ids are given in arrival order). */
const earliest = (model: Msg[]) =>
  model.reduce<Msg | undefined>((best, m) => {
    if (best === undefined) return m;
    const d = effective(m) - effective(best);
    return d < 0 || (Number.isNaN(d) ? m.id < best.id : d === 0 && m.id < best.id) ? m : best;
  }, undefined);

describe('EdfMailbox', () => {
  it('delivers the earliest deadline first, ties in arrival order, missing deadlines last', () => {
    const mb = new EdfMailbox<Msg>({ now: () => 0 });
    mb.push({ id: 0, deadline: 50 });
    mb.push({ id: 1 });
    mb.push({ id: 2, deadline: 10 });
    mb.push({ id: 3, deadline: 50 });
    mb.push({ id: 4, deadline: NaN });
    mb.push({ id: 5, deadline: -Infinity });
    mb.push({ id: 6, deadline: 10 });
    expect(ids(mb.toArray())).toEqual([5, 2, 6, 0, 3, 1, 4]);
    expect(ids(mb.drain())).toEqual([5, 2, 6, 0, 3, 1, 4]);
  });

  it('always yields the earliest deadline, ties by arrival, under any interleaving of push and shift', () => {
    const deadlineArb = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0, max: 20 }) },
      { weight: 1, arbitrary: fc.constantFrom(undefined, Infinity, -Infinity, NaN) },
    );
    fc.assert(
      fc.property(fc.array(fc.option(deadlineArb, { nil: null }), { maxLength: 300 }), (ops) => {
        const mb = new EdfMailbox<Msg>({ now: () => 0, capacity: Infinity });
        let model: Msg[] = [];
        let id = 0;
        for (const op of ops) {
          if (op === null) {
            const expected = earliest(model);
            expect(mb.peek()).toBe(expected);
            expect(mb.shift()).toBe(expected);
            model = model.filter((m) => m !== expected);
          } else {
            const m: Msg = op === undefined ? { id: id++ } : { id: id++, deadline: op };
            mb.push(m);
            model.push(m);
          }
          expect(mb.size).toBe(model.length);
        }
      }),
    );
  });

  it('reads the deadline once at push: changing it later does not reorder the queue', () => {
    const mb = new EdfMailbox<Msg>({ now: () => 0 });
    const a = { id: 0, deadline: 10 };
    mb.push(a);
    mb.push({ id: 1, deadline: 20 });
    a.deadline = 30;
    expect(ids([mb.shift(), mb.shift()])).toEqual([0, 1]);
  });

  it('drop-oldest evicts the earliest-arrived message, not the latest deadline', () => {
    const onDrop = vi.fn();
    const mb = new EdfMailbox<Msg>({ capacity: 3, overflow: 'drop-oldest', onDrop, now: () => 0 });
    const first = { id: 0, deadline: 5 };
    mb.push(first);
    mb.push({ id: 1, deadline: 100 });
    mb.push({ id: 2, deadline: 1 });
    expect(mb.push({ id: 3, deadline: 50 })).toEqual({ ok: true, accepted: true, dropped: first });
    expect(onDrop).toHaveBeenCalledExactlyOnceWith(first, 'overflow:drop-oldest');
    expect(ids(mb.toArray())).toEqual([2, 3, 1]);
  });

  it('drop-oldest keeps both orders right under any interleaving (earliest deadline out, earliest arrival evicted)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.option(fc.integer({ min: 0, max: 10 }), { nil: null }), { maxLength: 300 }),
        (capacity, ops) => {
          const dropped: Msg[] = [];
          const mb = new EdfMailbox<Msg>({ capacity, overflow: 'drop-oldest', onDrop: (m) => dropped.push(m), now: () => 0 });
          let model: Msg[] = []; // in arrival order
          let id = 0;
          for (const op of ops) {
            if (op === null) {
              const expected = earliest(model);
              expect(mb.shift()).toBe(expected);
              model = model.filter((m) => m !== expected);
            } else {
              const m = { id: id++, deadline: op };
              const r = mb.push(m);
              if (model.length === capacity) {
                const oldest = model.shift()!;
                expect(r).toEqual({ ok: true, accepted: true, dropped: oldest });
                expect(dropped.at(-1)).toBe(oldest);
              }
              model.push(m);
            }
            expect(mb.toArray()).toEqual([...model].sort((a, b) => a.deadline! - b.deadline! || a.id - b.id));
          }
        },
      ),
    );
  });

  it.each<OverflowPolicy>(['reject', 'drop-newest'])('%s leaves the queue unchanged when full', (overflow) => {
    const onDrop = vi.fn();
    const mb = new EdfMailbox<Msg>({ capacity: 2, overflow, onDrop, now: () => 0 });
    mb.push({ id: 0, deadline: 9 });
    mb.push({ id: 1, deadline: 8 });
    const urgent = { id: 2, deadline: 1 };
    const r = mb.push(urgent);
    if (overflow === 'reject') {
      expect(r).toEqual({ ok: false, accepted: false, reason: 'full' });
      expect(onDrop).not.toHaveBeenCalled();
    } else {
      expect(r).toEqual({ ok: true, accepted: false, dropped: urgent });
      expect(onDrop).toHaveBeenCalledExactlyOnceWith(urgent, 'overflow:drop-newest');
    }
    expect(ids(mb.toArray())).toEqual([1, 0]);
  });

  it('records wait times from the injected clock', () => {
    let t = 1000;
    const mb = new EdfMailbox<Msg>({ now: () => t });
    mb.push({ id: 0, deadline: 2000 });
    t = 1004;
    mb.push({ id: 1, deadline: 1500 });
    t = 1010;
    mb.shift(); // id 1 waited 6
    mb.shift(); // id 0 waited 10
    expect(mb.stats()).toMatchObject({ kind: 'edf', delivered: 2, waitMs: { count: 2, mean: 8, max: 10 } });
  });

  it('only tracks arrival order when the policy needs it', () => {
    expect((new EdfMailbox({ overflow: 'reject' }) as any).byArrival).toBeUndefined();
    expect((new EdfMailbox({ overflow: 'drop-oldest' }) as any).byArrival).toBeDefined();
  });
});
