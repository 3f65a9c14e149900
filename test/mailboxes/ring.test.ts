import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RingBuffer } from '../../src/mailboxes/ring.js';

/** White-box view of the storage, to check slots are cleared for the GC. */
const slots = (ring: RingBuffer<unknown>): unknown[] => ((ring as any).buf as unknown[] | null) ?? [];

describe('RingBuffer', () => {
  afterEach(() => vi.restoreAllMocks());

  it('allocates no storage until the first push', () => {
    const ring = new RingBuffer<number>();
    expect(ring.allocated).toBe(0);
    expect(ring.shift()).toBeUndefined();
    expect(ring.peek()).toBeUndefined();
    expect(ring.allocated).toBe(0);
    ring.push(1);
    expect(ring.allocated).toBe(4);
  });

  it('grows by doubling, keeping order across the wrap point', () => {
    const ring = new RingBuffer<number>({ initialCapacity: 4 });
    ring.push(0);
    ring.push(1);
    ring.shift();
    ring.shift(); // head now at slot 2, so the next pushes wrap
    for (let i = 2; i < 7; i++) ring.push(i);
    expect(ring.allocated).toBe(8);
    expect(ring.toArray()).toEqual([2, 3, 4, 5, 6]);
    for (let i = 7; i < 11; i++) ring.push(i);
    expect(ring.allocated).toBe(16);
    expect([...ring]).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('rounds the initial capacity up to a power of two', () => {
    const ring = new RingBuffer<number>({ initialCapacity: 5 });
    ring.push(1);
    expect(ring.allocated).toBe(8);
  });

  it('refuses pushes beyond maxCapacity and stores nothing', () => {
    const ring = new RingBuffer<number>({ maxCapacity: 5 });
    for (let i = 0; i < 5; i++) expect(ring.push(i)).toBe(true);
    expect(ring.push(5)).toBe(false);
    expect(ring.size).toBe(5);
    expect(ring.allocated).toBe(8);
    expect(ring.toArray()).toEqual([0, 1, 2, 3, 4]);
  });

  it('clears popped and removed slots so queued messages can be collected', () => {
    const ring = new RingBuffer<object>();
    const a = { a: 1 };
    const b = { b: 1 };
    const c = { c: 1 };
    ring.push(a);
    ring.push(b);
    ring.push(c);
    expect(ring.shift()).toBe(a);
    expect(slots(ring)).not.toContain(a);
    expect(ring.removeAt(1)).toBe(c);
    expect(slots(ring)).not.toContain(c);
    expect(slots(ring)).toContain(b);
  });

  it('clear forgets every item and releases the storage', () => {
    const ring = new RingBuffer<number>();
    for (let i = 0; i < 10; i++) ring.push(i);
    ring.clear();
    expect(ring.size).toBe(0);
    expect(ring.allocated).toBe(0);
    expect(ring.toArray()).toEqual([]);
    ring.push(42);
    expect(ring.toArray()).toEqual([42]);
  });

  it('never calls Array.prototype.shift', () => {
    const spy = vi.spyOn(Array.prototype, 'shift');
    const ring = new RingBuffer<number>();
    for (let i = 0; i < 100; i++) ring.push(i);
    for (let i = 0; i < 100; i++) ring.shift();
    expect(spy).not.toHaveBeenCalled();
  });

  it('at and removeAt return undefined out of range', () => {
    const ring = new RingBuffer<number>();
    ring.push(1);
    for (const i of [-1, 1, 0.5, NaN]) {
      expect(ring.at(i)).toBeUndefined();
      expect(ring.removeAt(i)).toBeUndefined();
    }
    expect(ring.size).toBe(1);
  });

  it('rejects invalid options', () => {
    expect(() => new RingBuffer({ maxCapacity: 0 })).toThrow(RangeError);
    expect(() => new RingBuffer({ maxCapacity: 2.5 })).toThrow(RangeError);
    expect(() => new RingBuffer({ initialCapacity: 0 })).toThrow(RangeError);
  });

  type Op =
    | { op: 'push'; value: number }
    | { op: 'shift' }
    | { op: 'removeAt'; index: number }
    | { op: 'clear' };

  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.integer().map((value) => ({ op: 'push' as const, value })) },
    { weight: 3, arbitrary: fc.constant({ op: 'shift' as const }) },
    { weight: 2, arbitrary: fc.nat(40).map((index) => ({ op: 'removeAt' as const, index })) },
    { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
  );

  it('behaves like an array model under any sequence of push/shift/removeAt/clear', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 300 }),
        fc.integer({ min: 1, max: 8 }),
        fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
        (ops, initialCapacity, maxCapacity) => {
          const ring = new RingBuffer<number>({ initialCapacity, maxCapacity });
          const model: number[] = [];
          for (const o of ops) {
            switch (o.op) {
              case 'push': {
                const fits = model.length < (maxCapacity ?? Infinity);
                expect(ring.push(o.value)).toBe(fits);
                if (fits) model.push(o.value);
                break;
              }
              case 'shift':
                expect(ring.shift()).toBe(model.length === 0 ? undefined : model.splice(0, 1)[0]);
                break;
              case 'removeAt':
                expect(ring.removeAt(o.index)).toBe(o.index < model.length ? model.splice(o.index, 1)[0] : undefined);
                break;
              case 'clear':
                ring.clear();
                model.length = 0;
                break;
            }
            expect(ring.size).toBe(model.length);
            expect(ring.peek()).toBe(model[0]);
            expect([...ring]).toEqual(model);
            for (let i = 0; i < model.length; i++) expect(ring.at(i)).toBe(model[i]);
            // Storage is always a power of two (0 when released).
            const n = ring.allocated;
            expect(n & (n - 1)).toBe(0);
            // Every slot outside the live window is empty.
            expect(slots(ring).filter((s) => s !== undefined).length).toBe(model.length);
          }
        },
      ),
    );
  });
});
