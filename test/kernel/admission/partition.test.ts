import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentOsError } from '../../../src/base/errors.js';
import { edfTest } from '../../../src/kernel/admission/edf.js';
import { nonPreemptiveEdfTest } from '../../../src/kernel/admission/nonPreemptive.js';
import { laneTest, partition, placeOnLane } from '../../../src/kernel/admission/partition.js';
import type { HrtTask } from '../../../src/kernel/admission/task.js';

/** A task with utilisation u on a 10 ms period (equal periods: no deadline falls before another's, so no blocking). */
const u = (id: string, util: number): HrtTask => ({ id, periodMs: 10, wcetMs: util * 10 });

const errorOf = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
};

describe('placeOnLane', () => {
  it('places a task on the first lane where it fits', () => {
    const lanes = [[u('a', 0.9)], [u('b', 0.5)], []];
    const p = placeOnLane(lanes, u('n', 0.3));
    expect(p).toMatchObject({ placed: true, lane: 1 });
    if (!p.placed) throw new Error('unreachable');
    expect(p.utilisation).toBeCloseTo(0.8);
    expect(p.checks.map((c) => [c.lane, c.schedulable])).toEqual([[0, false], [1, true]]);
    expect(placeOnLane(lanes, u('m', 0.1))).toMatchObject({ placed: true, lane: 0 });
  });

  it('refuses with every lane\'s utilisation with the task', () => {
    const p = placeOnLane([[u('a', 0.95)], [u('b', 0.3), u('c', 0.2)]], u('n', 0.6));
    expect(p.placed).toBe(false);
    if (p.placed) throw new Error('unreachable');
    expect(p.message).toBe('HRT task "n" (utilisation 0.60) fits no lane: lane 0: 0.95 + 0.60 = 1.55 > 1.00; lane 1: 0.50 + 0.60 = 1.10 > 1.00');
    expect(p.checks.map((c) => [c.before, c.added, c.after].map((x) => Number(x.toFixed(2))))).toEqual([[0.95, 0.6, 1.55], [0.5, 0.6, 1.1]]);
  });

  it('refuses a lane under U = 1 where a running job would block a more urgent one, naming the blocker', () => {
    const lane = [{ id: 'slow', periodMs: 10, wcetMs: 5 }];
    const p = placeOnLane([lane], { id: 'fast', periodMs: 2, wcetMs: 1 });
    if (p.placed) throw new Error('expected a refusal');
    expect(p.message).toBe('HRT task "fast" (utilisation 0.50) fits no lane: lane 0: 0.50 + 0.50 = 1.00 ≤ 1.00 but non-preemptive EDF: demand 1 ms + blocking 5 ms by "slow" in the first 2 ms exceeds 2 ms');
    // A preemptive lane would take it (the preemptive EDF test alone).
    expect(placeOnLane([lane], { id: 'fast', periodMs: 2, wcetMs: 1 }, { preemptive: true })).toMatchObject({ placed: true, lane: 0 });
  });

  it('names the processor-demand failure of constrained deadlines', () => {
    const p = placeOnLane([[{ id: 'a', periodMs: 4, wcetMs: 2, deadlineMs: 3 }]], { id: 'b', periodMs: 6, wcetMs: 2, deadlineMs: 3 }, { preemptive: true });
    if (p.placed) throw new Error('expected a refusal');
    expect(p.checks[0].line).toBe('lane 0: 0.50 + 0.33 = 0.83 ≤ 1.00 but EDF: processor demand 4 ms in the first 3 ms exceeds 3 ms');
  });

  it('throws on malformed input: no lanes, bad timing, an id already placed', () => {
    expect(errorOf(() => placeOnLane([], u('a', 0.1)))).toMatchObject({ code: 'INVALID_OPTIONS', field: 'lanes' });
    expect(errorOf(() => placeOnLane([[]], { id: 'a', periodMs: -1, wcetMs: 1 }))).toMatchObject({ code: 'INVALID_HRT_TASK', field: 'task.periodMs' });
    const dup = errorOf(() => placeOnLane([[], [u('a', 0.1)]], u('a', 0.1)));
    expect(dup).toBeInstanceOf(AgentOsError);
    expect(dup).toMatchObject({ code: 'INVALID_HRT_TASK', field: 'task.id', message: 'task.id "a" is already placed on lane 1' });
  });
});

describe('partition', () => {
  it('places by first-fit decreasing utilisation', () => {
    const tasks = [u('e', 0.2), u('c', 0.3), u('a', 0.5), u('d', 0.3), u('b', 0.4)];
    const r = partition(tasks, 2);
    expect(r.ok).toBe(true);
    // Order 0.5 a, 0.4 b, 0.3 c, 0.3 d, 0.2 e: a,b → lane 0 (0.9); c, d → lane 1; e fits lane 1 only (0.8).
    expect(r.lanes.map((l) => l.map((t) => t.id))).toEqual([['a', 'b'], ['c', 'd', 'e']]);
    expect(r.utilisation.map((x) => Number(x.toFixed(2)))).toEqual([0.9, 0.8]);
    expect(r.lanes[1][0]).toBe(tasks[1]); // the caller's objects, not copies
  });

  it('reports each task that fits no lane and places the rest', () => {
    const r = partition([u('a', 0.7), u('b', 0.7), u('c', 0.7)], 2);
    expect(r.ok).toBe(false);
    if (r.ok) throw new Error('unreachable');
    expect(r.lanes.map((l) => l.map((t) => t.id))).toEqual([['a'], ['b']]);
    expect(r.unplaced.map((x) => x.task.id)).toEqual(['c']);
    expect(r.message).toBe('HRT task "c" (utilisation 0.70) fits no lane: lane 0: 0.70 + 0.70 = 1.40 > 1.00; lane 1: 0.70 + 0.70 = 1.40 > 1.00');
  });

  it('throws INVALID_OPTIONS for a lane count that is not a whole number ≥ 1', () => {
    for (const lanes of [0, 1.5, -1, NaN]) expect(errorOf(() => partition([u('a', 0.1)], lanes))).toMatchObject({ code: 'INVALID_OPTIONS', field: 'lanes' });
  });

  const taskSet = fc.array(
    fc.record({
      periodMs: fc.constantFrom(2, 3, 4, 5, 8, 10, 20),
      wcet: fc.integer({ min: 1, max: 64 }),
      dl: fc.integer({ min: 0, max: 4 }),
    }),
    { minLength: 1, maxLength: 10 },
  ).map((raw) => raw.map((r, i): HrtTask => {
    const wcetMs = (r.wcet / 64) * r.periodMs;
    return { id: `t${i}`, periodMs: r.periodMs, wcetMs, deadlineMs: r.periodMs - (r.dl / 4) * (r.periodMs - wcetMs) };
  }));

  it('every lane of a partition passes the lane test and preemptive EDF; every task is placed once or refused on every lane', () => {
    let accepted = 0;
    fc.assert(fc.property(taskSet, fc.integer({ min: 1, max: 4 }), fc.boolean(), (tasks, lanes, preemptive) => {
      const r = partition(tasks, lanes, { preemptive });
      expect(r.lanes).toHaveLength(lanes);
      for (const lane of r.lanes) {
        if (lane.length === 0) continue;
        expect(laneTest(lane, { preemptive }).schedulable).toBe(true);
        expect(edfTest(lane).schedulable).toBe(true);
      }
      const placed = r.lanes.flat().map((t) => t.id);
      const refused = r.ok ? [] : r.unplaced.map((x) => x.task.id);
      expect([...placed, ...refused].sort()).toEqual(tasks.map((t) => t.id).sort());
      if (!r.ok) {
        for (const x of r.unplaced) {
          expect(x.checks).toHaveLength(lanes);
          expect(x.checks.every((c) => !c.schedulable)).toBe(true);
        }
      } else {
        accepted++;
      }
    }), { numRuns: 500 });
    expect(accepted).toBeGreaterThan(100);
  });

  it('with one lane, accepts exactly the sets the lane test admits (schedulability is monotone in the set)', () => {
    fc.assert(fc.property(taskSet, (tasks) => {
      expect(partition(tasks, 1).ok).toBe(laneTest(tasks).schedulable);
      expect(partition(tasks, 1, { preemptive: true }).ok).toBe(edfTest(tasks).schedulable);
    }), { numRuns: 500 });
  });
});

describe('nonPreemptiveEdfTest', () => {
  it('passes through the preemptive verdict when that fails', () => {
    const v = nonPreemptiveEdfTest([u('a', 0.6), u('b', 0.6)]);
    expect(v).toMatchObject({ schedulable: false, nonPreemptive: true, reason: 'EDF: utilisation 1.20 > 1.00' });
    expect(v.blocking).toBeUndefined();
  });

  it('checks demand plus the longest blocking job at each deadline before the longest deadline', () => {
    // Deadlines before 10: 3, 6, 9 (a). At 3: dbf 1 + blocking 2 (b) = 3 ≤ 3 passes exactly.
    const ok = nonPreemptiveEdfTest([{ id: 'a', periodMs: 3, wcetMs: 1 }, { id: 'b', periodMs: 10, wcetMs: 2 }]);
    expect(ok.schedulable).toBe(true);
    expect(ok.reason).toContain('non-preemptive blocking fits at every deadline before 10 ms');
    const tight = nonPreemptiveEdfTest([{ id: 'a', periodMs: 3, wcetMs: 1 }, { id: 'b', periodMs: 10, wcetMs: 2.5 }]);
    expect(tight).toMatchObject({ schedulable: false, blocking: { atMs: 3, demandMs: 1, blockingMs: 2.5, blocker: 'b' } });
  });
});
