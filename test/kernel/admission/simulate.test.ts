import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { demandBound, edfTest, priorityOrder, rmTest, simulate, type HrtTask } from '../../../src/kernel/admission/index.js';

/** Simulations stop here even when the hyperperiod is longer. */
const CAP_MS = 20_000;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const hyperperiod = (tasks: readonly HrtTask[]): number =>
  tasks.reduce((h, t) => Math.min((h * t.periodMs) / gcd(h, t.periodMs), Number.MAX_SAFE_INTEGER), 1);
const maxDeadline = (tasks: readonly HrtTask[]): number => Math.max(...tasks.map((t) => t.deadlineMs ?? t.periodMs));
const horizonOf = (tasks: readonly HrtTask[]): number => Math.min(hyperperiod(tasks) + maxDeadline(tasks), CAP_MS);

/** Random integer task sets: periods 2–50 ms, wcet ≥ 1, utilisation spread around 1. */
function taskSets(deadlines: 'implicit' | 'constrained', jitter = false): fc.Arbitrary<HrtTask[]> {
  const unit = fc.integer({ min: 0, max: 1000 }).map((x) => x / 1000);
  return fc.array(fc.record({ periodMs: fc.integer({ min: 2, max: 50 }), c: unit, d: unit, j: unit }), { minLength: 1, maxLength: 5 })
    .chain((raw) => fc.integer({ min: 30, max: 130 }).map((percent) => percent / 100).map((targetU) => raw.map((r, i): HrtTask => {
      const share = (targetU / raw.length) * (0.5 + r.c);
      const wcetMs = Math.max(1, Math.min(r.periodMs, Math.round(share * r.periodMs)));
      const deadlineMs = deadlines === 'implicit' ? r.periodMs : Math.min(r.periodMs, wcetMs + Math.floor(r.d * (r.periodMs - wcetMs + 1))); // constrained: C ≤ D ≤ T (d may be exactly 1)
      const jitterMs = jitter ? Math.floor(r.j * Math.max(0, deadlineMs - wcetMs) * 0.5) : 0;
      return { id: `t${i}`, periodMs: r.periodMs, wcetMs, deadlineMs, jitterMs };
    })));
}

/** The first t with dbf(t) > t (where EDF must have missed by), searched up to `limit`. */
function firstOverload(tasks: readonly HrtTask[], limit: number): number | undefined {
  for (let t = 1; t <= limit; t++) if (demandBound(tasks, t) > t) return t;
  return undefined;
}

describe('simulate', () => {
  it('runs a hand-checked EDF schedule without misses at U = 1', () => {
    // a (2,4), b (3,6): U = 1, hyperperiod 12. a0 0–2, b0 2–5, a1 5–7 (R 3), b1 7–8, a2 8–10, b1 10–12 (R 6).
    const r = simulate([{ id: 'a', periodMs: 4, wcetMs: 2 }, { id: 'b', periodMs: 6, wcetMs: 3 }], { policy: 'edf', horizonMs: 12 });
    expect(r).toMatchObject({ misses: [], jobs: 5, busyMs: 12, maxResponseMs: { a: 3, b: 6 } });
  });

  it('shows the same set missing under fixed priority (RM fails where EDF does not)', () => {
    const tasks = [{ id: 'a', periodMs: 4, wcetMs: 2 }, { id: 'b', periodMs: 6, wcetMs: 3 }];
    const r = simulate(priorityOrder(tasks), { policy: 'fp', horizonMs: 12 });
    expect(r.misses[0]).toMatchObject({ id: 'b', job: 0, deadlineMs: 6, finishMs: 7 });
    expect(rmTest(tasks)).toMatchObject({ schedulable: false, failingTask: 'b' });
  });

  it('reproduces the response times 3, 6, 20 of (3,7), (3,12), (5,20)', () => {
    const tasks = [{ id: 'a', periodMs: 7, wcetMs: 3 }, { id: 'b', periodMs: 12, wcetMs: 3 }, { id: 'c', periodMs: 20, wcetMs: 5 }];
    const r = simulate(tasks, { policy: 'fp', horizonMs: 20 });
    expect(r.misses).toEqual([]);
    expect(r.maxResponseMs).toMatchObject({ a: 3, b: 6, c: 20 });
  });

  it('delays releases by the given jitter but keeps deadlines on the nominal arrival', () => {
    const r = simulate([{ id: 'a', periodMs: 10, wcetMs: 4, deadlineMs: 5, jitterMs: 2 }], {
      policy: 'edf', horizonMs: 20, releaseDelay: (_, job) => (job === 1 ? 2 : 0),
    });
    expect(r.misses[0]).toMatchObject({ id: 'a', job: 1, releaseMs: 12, deadlineMs: 15, finishMs: 16 });
  });
});

describe('schedulability tests against simulation', () => {
  it('EDF, implicit deadlines: every admitted set runs its hyperperiod without a miss; every refused set misses', () => {
    const seen = { admitted: 0, refused: 0 };
    fc.assert(fc.property(taskSets('implicit'), (tasks) => {
      const v = edfTest(tasks);
      if (v.schedulable) {
        seen.admitted++;
        expect(simulate(tasks, { policy: 'edf', horizonMs: horizonOf(tasks) }).misses).toEqual([]);
      } else {
        const t = firstOverload(tasks, CAP_MS);
        fc.pre(t !== undefined);
        seen.refused++;
        expect(simulate(tasks, { policy: 'edf', horizonMs: t }).misses.length).toBeGreaterThan(0);
      }
    }), { numRuns: 300 });
    expect(seen.admitted).toBeGreaterThan(30);
    expect(seen.refused).toBeGreaterThan(30);
  });

  it('EDF, constrained deadlines: admitted sets never miss; processor-demand refusals miss by the reported deadline', () => {
    const seen = { admitted: 0, refused: 0 };
    fc.assert(fc.property(taskSets('constrained'), (tasks) => {
      const v = edfTest(tasks);
      if (v.schedulable) {
        seen.admitted++;
        expect(simulate(tasks, { policy: 'edf', horizonMs: horizonOf(tasks) }).misses).toEqual([]);
        return;
      }
      const by = v.demand?.atMs ?? firstOverload(tasks, CAP_MS);
      fc.pre(by !== undefined);
      seen.refused++;
      const misses = simulate(tasks, { policy: 'edf', horizonMs: by }).misses;
      expect(misses.length).toBeGreaterThan(0);
      expect(misses[0].deadlineMs).toBeLessThanOrEqual(by);
    }), { numRuns: 300 });
    expect(seen.admitted).toBeGreaterThan(30);
    expect(seen.refused).toBeGreaterThan(30);
  });

  it('RM/DM: admitted sets never miss; refused sets miss with the first job of the task the analysis names', () => {
    const seen = { admitted: 0, refused: 0 };
    fc.assert(fc.property(fc.constantFrom<'implicit' | 'constrained'>('implicit', 'constrained').chain((d) => taskSets(d)), (tasks) => {
      const v = rmTest(tasks);
      const ordered = priorityOrder(tasks);
      if (v.schedulable) {
        seen.admitted++;
        expect(simulate(ordered, { policy: 'fp', horizonMs: horizonOf(tasks) }).misses).toEqual([]);
      } else {
        seen.refused++;
        const misses = simulate(ordered, { policy: 'fp', horizonMs: maxDeadline(tasks) }).misses;
        expect(misses.find((m) => m.id === v.failingTask && m.job === 0)).toBeDefined();
      }
    }), { numRuns: 300 });
    expect(seen.admitted).toBeGreaterThan(30);
    expect(seen.refused).toBeGreaterThan(30);
  });

  it('with release jitter: sets admitted by either policy never miss, whatever the per-job delays in [0, J]', () => {
    const delays = fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 64, maxLength: 64 });
    let admitted = 0;
    fc.assert(fc.property(taskSets('constrained', true), delays, fc.constantFrom<'edf' | 'rm'>('edf', 'rm'), (tasks, noise, policy) => {
      const v = policy === 'edf' ? edfTest(tasks) : rmTest(tasks);
      fc.pre(v.schedulable);
      admitted++;
      const ordered = policy === 'rm' ? priorityOrder(tasks) : tasks;
      const releaseDelay = (task: number, job: number): number => {
        const j = ordered[task].jitterMs ?? 0;
        return noise[(task * 31 + job) % noise.length] % (j + 1);
      };
      const r = simulate(ordered, { policy: policy === 'edf' ? 'edf' : 'fp', horizonMs: horizonOf(tasks), releaseDelay });
      expect(r.misses).toEqual([]);
    }), { numRuns: 300 });
    expect(admitted).toBeGreaterThan(50);
  });
});
