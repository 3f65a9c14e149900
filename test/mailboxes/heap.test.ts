import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BinaryHeap } from '../../src/mailboxes/heap.js';

interface Node {
  key: number;
  id: number;
  slot: number;
}

const byKeyThenId = (a: Node, b: Node): number => a.key - b.key || a.id - b.id;

describe('BinaryHeap', () => {
  it('pops numbers in ascending order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), (xs) => {
        const heap = new BinaryHeap<number>((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        for (const x of xs) heap.push(x);
        expect(heap.size).toBe(xs.length);
        const out: number[] = [];
        for (let x = heap.pop(); x !== undefined; x = heap.pop()) out.push(x);
        expect(out).toEqual([...xs].sort((a, b) => a - b));
        expect(heap.pop()).toBeUndefined();
        expect(heap.peek()).toBeUndefined();
      }),
    );
  });

  it('toSortedArray lists items in order without changing the heap', () => {
    const heap = new BinaryHeap<number>((a, b) => a - b);
    for (const x of [5, 1, 4, 2, 3]) heap.push(x);
    expect(heap.toSortedArray()).toEqual([1, 2, 3, 4, 5]);
    expect(heap.size).toBe(5);
    expect(heap.pop()).toBe(1);
  });

  it('remove deletes one item by identity and keeps the heap ordered', () => {
    const heap = new BinaryHeap<Node>(byKeyThenId);
    const nodes = [3, 1, 2, 1, 5].map((key, id) => ({ key, id, slot: -1 }));
    for (const n of nodes) heap.push(n);
    expect(heap.remove(nodes[1]!)).toBe(true);
    expect(heap.remove(nodes[1]!)).toBe(false);
    expect(heap.remove({ key: 3, id: 0, slot: -1 })).toBe(false); // equal but not the same object
    expect(heap.toSortedArray().map((n) => n.id)).toEqual([3, 2, 0, 4]);
  });

  it('removeWhere returns the matching items and keeps the rest ordered', () => {
    const heap = new BinaryHeap<number>((a, b) => a - b);
    for (let i = 10; i > 0; i--) heap.push(i);
    expect(heap.removeWhere((x) => x % 3 === 0).sort((a, b) => a - b)).toEqual([3, 6, 9]);
    expect(heap.removeWhere(() => false)).toEqual([]);
    const out: number[] = [];
    for (let x = heap.pop(); x !== undefined; x = heap.pop()) out.push(x);
    expect(out).toEqual([1, 2, 4, 5, 7, 8, 10]);
  });

  type Op = { op: 'push'; key: number } | { op: 'pop' } | { op: 'removeAt'; pick: number } | { op: 'removeWhere'; mod: number } | { op: 'clear' };

  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: -20, max: 20 }).map((key) => ({ op: 'push' as const, key })) },
    { weight: 3, arbitrary: fc.constant({ op: 'pop' as const }) },
    { weight: 2, arbitrary: fc.nat(100).map((pick) => ({ op: 'removeAt' as const, pick })) },
    { weight: 1, arbitrary: fc.integer({ min: 2, max: 5 }).map((mod) => ({ op: 'removeWhere' as const, mod })) },
    { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
  );

  it('matches a sorted-array model, and onMove always reports each item\'s true slot', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
        const heap = new BinaryHeap<Node>(byKeyThenId, (n, i) => {
          n.slot = i;
        });
        let model: Node[] = [];
        const gone: Node[] = [];
        let id = 0;
        for (const o of ops) {
          switch (o.op) {
            case 'push': {
              const n = { key: o.key, id: id++, slot: -1 };
              heap.push(n);
              model.push(n);
              break;
            }
            case 'pop': {
              model.sort(byKeyThenId);
              const expected = model.shift();
              expect(heap.pop()).toBe(expected);
              if (expected) gone.push(expected);
              break;
            }
            case 'removeAt': {
              if (model.length === 0) break;
              const target = model[o.pick % model.length]!;
              expect(heap.removeAt(target.slot)).toBe(target);
              model = model.filter((n) => n !== target);
              gone.push(target);
              break;
            }
            case 'removeWhere': {
              const pred = (n: Node) => ((n.key % o.mod) + o.mod) % o.mod === 0;
              const removed = heap.removeWhere(pred);
              expect(new Set(removed)).toEqual(new Set(model.filter(pred)));
              model = model.filter((n) => !pred(n));
              gone.push(...removed);
              break;
            }
            case 'clear':
              heap.clear();
              gone.push(...model);
              model = [];
              break;
          }
          expect(heap.size).toBe(model.length);
          expect(heap.toSortedArray()).toEqual([...model].sort(byKeyThenId));
          expect(heap.peek()).toBe([...model].sort(byKeyThenId)[0]);
          [...heap].forEach((n, i) => expect(n.slot).toBe(i));
          for (const n of gone) expect(n.slot).toBe(-1);
        }
      }),
    );
  });
});
