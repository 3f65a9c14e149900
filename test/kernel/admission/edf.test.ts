import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { demandBound, density, edfTest, type HrtTask } from '../../../src/kernel/admission/index.js';

describe('edfTest', () => {
  it('admits implicit deadlines up to U = 1 and refuses beyond, exactly', () => {
    expect(edfTest([{ id: 'a', periodMs: 10, wcetMs: 6 }, { id: 'b', periodMs: 10, wcetMs: 4 }]))
      .toMatchObject({ schedulable: true, test: 'utilisation', exact: true, utilisation: 1 });
    const v = edfTest([{ id: 'a', periodMs: 25, wcetMs: 18 }, { id: 'b', periodMs: 10, wcetMs: 4 }]);
    expect(v).toMatchObject({ schedulable: false, test: 'utilisation', exact: true });
    expect(v.reason).toBe('EDF: utilisation 1.12 > 1.00');
  });

  it('does not flip on float sums (0.1 + 0.2 + 0.7 = 1)', () => {
    const v = edfTest([
      { id: 'a', periodMs: 10, wcetMs: 1 },
      { id: 'b', periodMs: 10, wcetMs: 2 },
      { id: 'c', periodMs: 10, wcetMs: 7 },
    ].map((t) => ({ ...t, periodMs: t.periodMs / 10, wcetMs: t.wcetMs / 10 })));
    expect(v.schedulable).toBe(true);
  });

  it('admits constrained deadlines by density when Σ C/min(D,T) ≤ 1 (sufficient)', () => {
    const v = edfTest([{ id: 'a', periodMs: 10, wcetMs: 2, deadlineMs: 5 }, { id: 'b', periodMs: 10, wcetMs: 3, deadlineMs: 6 }]);
    expect(v).toMatchObject({ schedulable: true, test: 'density', exact: false, density: 0.9 });
  });

  it('falls back to processor demand when density fails but every dbf(t) ≤ t', () => {
    // density 2/4 + 3/5 = 1.1; deadlines 4, 5, 12, 15, …: dbf(4) = 2, dbf(5) = 5, dbf(12) = 7, …
    const v = edfTest([{ id: 'a', periodMs: 8, wcetMs: 2, deadlineMs: 4 }, { id: 'b', periodMs: 10, wcetMs: 3, deadlineMs: 5 }]);
    expect(v.density).toBeCloseTo(1.1);
    expect(v).toMatchObject({ schedulable: true, test: 'processor-demand', exact: true });
  });

  it('refuses with the deadline where demand exceeds the interval', () => {
    // dbf(3) = 2 + 2 = 4 > 3 although U = 0.83.
    const v = edfTest([{ id: 'a', periodMs: 4, wcetMs: 2, deadlineMs: 3 }, { id: 'b', periodMs: 6, wcetMs: 2, deadlineMs: 3 }]);
    expect(v).toMatchObject({ schedulable: false, test: 'processor-demand', exact: true, demand: { atMs: 3, demandMs: 4 } });
    expect(v.reason).toContain('4 ms in the first 3 ms');
  });

  it('analyses release jitter as a shorter deadline D − J (sufficient)', () => {
    const calm: HrtTask[] = [{ id: 'a', periodMs: 10, wcetMs: 4, deadlineMs: 5 }, { id: 'b', periodMs: 10, wcetMs: 4, deadlineMs: 9 }];
    expect(edfTest(calm).schedulable).toBe(true);
    const jittery = [calm[0], { ...calm[1], jitterMs: 2 }];
    // b's window shrinks to 7: dbf(7) = 4 + 4 = 8 > 7.
    expect(demandBound(jittery, 7)).toBe(8);
    expect(edfTest(jittery)).toMatchObject({ schedulable: false, exact: false, demand: { atMs: 7, demandMs: 8 } });
    expect(edfTest([{ id: 'x', periodMs: 10, wcetMs: 1, deadlineMs: 4, jitterMs: 4 }])).toMatchObject({ schedulable: false, failingTask: 'x' });
  });

  it('computes dbf(t) = Σ max(0, ⌊(t + J − D)/T⌋ + 1)·C', () => {
    const tasks = [{ id: 'a', periodMs: 5, wcetMs: 1, deadlineMs: 3 }, { id: 'b', periodMs: 7, wcetMs: 2 }];
    expect([0, 2, 3, 7, 8, 13, 14].map((t) => demandBound(tasks, t))).toEqual([0, 0, 1, 3, 4, 5, 7]);
    expect(density(tasks)).toBeCloseTo(1 / 3 + 2 / 7);
  });

  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const taskSet = fc.array(
    fc.record({ periodMs: fc.integer({ min: 2, max: 12 }), wcet: fc.integer({ min: 0, max: 99 }).map((x) => x / 100), dl: fc.integer({ min: 0, max: 99 }).map((x) => x / 100) }),
    { minLength: 1, maxLength: 5 },
  ).map((raw) => raw.map((r, i): HrtTask => {
    const wcetMs = 1 + Math.floor(r.wcet * (r.periodMs / 2));
    return { id: `t${i}`, periodMs: r.periodMs, wcetMs, deadlineMs: wcetMs + Math.floor(r.dl * (r.periodMs - wcetMs + 1)) };
  }));

  it('agrees with a brute-force dbf check over every deadline up to H + max D (QPA is exact)', () => {
    let demandDecided = 0;
    fc.assert(fc.property(taskSet, (tasks) => {
      const hyper = tasks.reduce((h, t) => (h * t.periodMs) / gcd(h, t.periodMs), 1);
      const horizon = hyper + Math.max(...tasks.map((t) => t.deadlineMs ?? t.periodMs));
      const u = tasks.reduce((s, t) => s + t.wcetMs / t.periodMs, 0);
      let feasible = u <= 1 + 1e-12;
      for (let t = 1; feasible && t <= horizon; t++) feasible = demandBound(tasks, t) <= t;
      const v = edfTest(tasks);
      if (v.test === 'processor-demand') demandDecided++;
      expect(v.schedulable).toBe(feasible);
    }), { numRuns: 400 });
    expect(demandDecided).toBeGreaterThan(10);
  });
});
