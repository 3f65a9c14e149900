import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import { edfTest } from '../../../src/kernel/admission/edf.js';
import { laneTest } from '../../../src/kernel/admission/partition.js';
import { HrtDispatcher, type HrtEvent, type HrtJobTask, type OverrunPolicy } from '../../../src/kernel/hrt/index.js';
import { accounted } from './harness.js';

const PERIODS = [2, 3, 4, 6, 8, 12]; // hyperperiod ≤ 24
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const lcm = (xs: number[]): number => xs.reduce((h, x) => (h * x) / gcd(h, x), 1);

interface Spec {
  id: string;
  periodMs: number;
  wcetMs: number;
  deadlineMs: number;
  offsetMs: number;
  overrun: OverrunPolicy;
}

/** Times are multiples of 1/64 ms, so every sum on the virtual clock is exact. */
const specArb = (minWcetFrac: number, periods = PERIODS) => fc.record({
  periodMs: fc.constantFrom(...periods),
  wcet: fc.integer({ min: Math.max(1, Math.round(minWcetFrac * 16)), max: 16 }),
  dl: fc.integer({ min: 0, max: 4 }),
  offset: fc.integer({ min: 0, max: 11 }),
  overrun: fc.constantFrom<OverrunPolicy>('skip', 'degrade', 'stop'),
});

function run(specs: Spec[], horizon: number, execFactors: number[]) {
  const clock = new VirtualClock();
  const events: HrtEvent[] = [];
  const d = new HrtDispatcher<string>({ clock, sleepUntil: (t) => clock.advanceTo(t), emit: () => {}, onEvent: (e) => events.push(e) });
  let jobs = 0;
  for (const s of specs) {
    const task: HrtJobTask<string> = {
      ...s,
      job: () => {
        clock.advance(s.wcetMs * execFactors[jobs++ % execFactors.length]);
        return 'out';
      },
      safeDefault: () => 'safe',
    };
    d.add(task);
  }
  d.runUntil(horizon);
  return { d, events, now: clock.now() };
}

describe('HrtDispatcher on random task sets', () => {
  /** A set with U near `target`, split by random weights; wcets are multiples of T/64, deadlines in [wcet, T]. */
  const loadedSet = fc.record({
    target: fc.integer({ min: 10, max: 64 }).map((x) => x / 64),
    // Periods within a factor 3 of each other: a job of a long-period task blocks less, so more loaded sets pass.
    tasks: fc.array(fc.record({ weight: fc.integer({ min: 1, max: 8 }), spec: specArb(0, [4, 6, 8, 12]) }), { minLength: 1, maxLength: 5 }),
    implicit: fc.boolean(),
  }).map(({ target, tasks, implicit }): Spec[] => {
    const total = tasks.reduce((sum, t) => sum + t.weight, 0);
    return tasks.map(({ weight, spec: r }, i) => {
      const wcetMs = (Math.max(1, Math.floor((64 * target * weight) / total)) / 64) * r.periodMs;
      const deadlineMs = implicit ? r.periodMs : r.periodMs - (r.dl / 4) * (r.periodMs - wcetMs);
      return { id: `t${i}`, periodMs: r.periodMs, wcetMs, deadlineMs, offsetMs: r.offset, overrun: r.overrun };
    });
  });

  it('misses no deadline over two hyperperiods when the lane test admits the set and every job runs ≤ its WCET', () => {
    let heavy = 0;
    let constrained = 0;
    fc.assert(fc.property(
      loadedSet,
      fc.array(fc.constantFrom(0, 0.25, 0.5, 0.75, 1, 1), { minLength: 1, maxLength: 16 }),
      (specs, execFactors) => {
        if (!laneTest(specs).schedulable) return;
        const u = specs.reduce((s, t) => s + t.wcetMs / t.periodMs, 0);
        if (u > 0.75 && specs.length > 1) heavy++;
        if (specs.some((t) => t.deadlineMs < t.periodMs)) constrained++;
        const horizon = Math.max(...specs.map((s) => s.offsetMs)) + 2 * lcm(specs.map((s) => s.periodMs));
        const { d, events, now } = run(specs, horizon, execFactors);
        expect(events).toEqual([]);
        const released = (spec: Spec, t: number) => Math.floor((t - spec.offsetMs) / spec.periodMs) + 1;
        for (const s of d.stats()) {
          const spec = specs.find((x) => x.id === s.id)!;
          expect(s).toMatchObject({ misses: 0, skipped: 0, degraded: 0, failed: 0, dropped: 0, wcetOverruns: 0, state: 'active' });
          // Every job released by the horizon ran; the last job may end past it, and stats count releases up to now.
          expect(s.completions).toBe(released(spec, horizon));
          expect(s.releases).toBe(released(spec, now));
          expect(accounted(s)).toBe(true);
          expect(s.responseMs.max).toBeLessThanOrEqual(spec.deadlineMs);
        }
      },
    ), { numRuns: 2000 });
    expect(heavy).toBeGreaterThan(60); // ≈ 120 expected: loaded multi-task sets are exercised
    expect(constrained).toBeGreaterThan(100);
  });

  it('counts and reports every miss when U > 1, and accounts for every release', () => {
    let overloaded = 0;
    fc.assert(fc.property(fc.array(specArb(0.25), { minLength: 2, maxLength: 4 }), (raw) => {
      const specs: Spec[] = raw.map((r, i) => ({
        id: `t${i}`, periodMs: r.periodMs, wcetMs: (r.wcet / 16) * r.periodMs, deadlineMs: r.periodMs, offsetMs: 0, overrun: r.overrun,
      }));
      const u = specs.reduce((s, t) => s + t.wcetMs / t.periodMs, 0);
      if (!(u > 1 + 1e-9)) return;
      overloaded++;
      const hyper = lcm(specs.map((s) => s.periodMs));
      const { d, events, now } = run(specs, hyper, [1]);
      const stats = d.stats();
      let misses = 0;
      for (const s of stats) {
        expect(accounted(s)).toBe(true);
        expect(s.failed + s.wcetOverruns).toBe(0);
        if (s.state === 'active') {
          // Every job released by H was handled; releases after H (up to now) are pending.
          expect(s.releases).toBe(Math.floor(now / s.periodMs) + 1);
          expect(s.releases - s.pending).toBe(hyper / s.periodMs + 1);
        }
        misses += s.misses;
      }
      // Demand U·H > H of jobs due by H: something must miss, and each miss is reported once.
      expect(misses).toBeGreaterThan(0);
      const reported = events.filter((e) => e.type === 'miss' || ('cause' in e && e.cause === 'deadline-passed')).length;
      expect(reported).toBe(misses);
    }), { numRuns: 300 });
    expect(overloaded).toBeGreaterThan(100);
  });

  it('can miss at U = 1 on a non-preemptive lane although preemptive EDF admits the set; the lane test refuses it', () => {
    const specs: Spec[] = [
      { id: 'a', periodMs: 2, wcetMs: 1, deadlineMs: 2, offsetMs: 0, overrun: 'skip' },
      { id: 'b', periodMs: 10, wcetMs: 5, deadlineMs: 10, offsetMs: 0, overrun: 'skip' },
    ];
    expect(edfTest(specs).schedulable).toBe(true);
    const lane = laneTest(specs);
    expect(lane.schedulable).toBe(false);
    expect(lane.blocking).toEqual({ atMs: 2, demandMs: 1, blockingMs: 5, blocker: 'b' });
    const { d } = run(specs, 10, [1]);
    // a#0 0–1, b#0 1–6: a#1 (released 2, due 4) cannot start before 6.
    expect(d.stats('a')!.misses).toBeGreaterThan(0);
  });
});
