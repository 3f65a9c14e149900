// The controller's pure core: the agenda keeps one item per source (later
// changes join it), and the strategies pick an index in range — priority the
// highest (earliest among equals), fifo the earliest, random a seeded choice.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/base/rng.js';
import { Agenda, MAX_CHANGES, controllerStrategies, topicsOf, type AgendaItem } from '../../../src/services/blackboard/agenda.js';

const items = fc.array(fc.record({ source: fc.string({ minLength: 1, maxLength: 4 }), priority: fc.integer({ min: -3, max: 3 }) }), { minLength: 1, maxLength: 12 }).map((xs) => {
  const a = new Agenda();
  xs.forEach((x, i) => a.trigger(x.source, x.priority, { topic: `t${i}`, version: 1, by: 'w' }));
  return a.list();
});

describe('agenda', () => {
  it('holds a source once; further changes join its item (the last MAX_CHANGES, topics distinct in order)', () => {
    const a = new Agenda();
    a.trigger('s', 1, { topic: 'x', version: 1, by: 'w' });
    a.trigger('t', 1, { topic: 'x', version: 1, by: 'w' });
    for (let v = 2; v < 50; v++) a.trigger('s', 1, { topic: v % 2 ? 'y' : 'x', version: v, by: 'w' });
    expect(a.size).toBe(2);
    const s = a.take(0);
    expect(s.changes).toHaveLength(MAX_CHANGES);
    expect(topicsOf(s)).toEqual(['x', 'y']);
    expect(a.list().map((i) => i.source)).toEqual(['t']);
  });

  it('every strategy picks an index in range; priority picks a highest priority, the earliest of them', () => {
    fc.assert(
      fc.property(items, fc.integer(), (list: readonly AgendaItem[], seed) => {
        for (const s of Object.values(controllerStrategies)) {
          const i = s(list, seededRng(seed));
          expect(Number.isInteger(i) && i >= 0 && i < list.length).toBe(true);
        }
        const p = controllerStrategies.priority(list, seededRng(seed));
        const max = Math.max(...list.map((x) => x.priority));
        expect(list[p]!.priority).toBe(max);
        expect(list.findIndex((x) => x.priority === max)).toBe(p);
        expect(controllerStrategies.fifo(list, seededRng(seed))).toBe(0);
      }),
    );
  });

  it('random is a function of the seed', () => {
    const list = Array.from({ length: 10 }, (_, i) => ({ source: `s${i}`, priority: 0, changes: [], since: i }));
    const picks = (seed: number) => {
      const rng = seededRng(seed);
      return Array.from({ length: 20 }, () => controllerStrategies.random(list, rng));
    };
    expect(picks(7)).toEqual(picks(7));
    expect(picks(7)).not.toEqual(picks(8));
  });
});
