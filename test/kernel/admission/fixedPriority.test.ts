import { describe, expect, it } from 'vitest';
import { ContractError } from '../../../src/base/errors.js';
import { liuLaylandBound, priorityOrder, responseTimes, rmTest, utilisation } from '../../../src/kernel/admission/index.js';

describe('liuLaylandBound', () => {
  it('matches the textbook values n(2^{1/n} − 1)', () => {
    expect(liuLaylandBound(1)).toBe(1);
    expect(liuLaylandBound(2)).toBeCloseTo(0.8284, 4);
    expect(liuLaylandBound(3)).toBeCloseTo(0.7798, 4);
    expect(liuLaylandBound(10)).toBeCloseTo(0.7177, 4);
  });

  it('tends to ln 2 as n grows, and is ln 2 at infinity', () => {
    expect(liuLaylandBound(Infinity)).toBe(Math.LN2);
    expect(liuLaylandBound(1_000_000)).toBeCloseTo(Math.LN2, 6);
    for (let n = 1; n < 50; n++) expect(liuLaylandBound(n + 1)).toBeLessThan(liuLaylandBound(n));
  });

  it('treats the empty set as bound 1 and refuses nonsense n', () => {
    expect(liuLaylandBound(0)).toBe(1);
    expect(() => liuLaylandBound(-1)).toThrow(ContractError);
    expect(() => liuLaylandBound(2.5)).toThrow(ContractError);
  });
});

describe('responseTimes', () => {
  it('gives R = 3, 6, 20 for (C,T) = (3,7), (3,12), (5,20)', () => {
    // By hand, lowest task: w = 5+3+3 = 11 → 5+2·3+1·3 = 14 → 5+2·3+2·3 = 17 → 5+3·3+2·3 = 20 → 20.
    const rts = responseTimes([
      { id: 'c', periodMs: 20, wcetMs: 5 },
      { id: 'a', periodMs: 7, wcetMs: 3 },
      { id: 'b', periodMs: 12, wcetMs: 3 },
    ]);
    expect(rts.map((r) => [r.id, r.responseMs, r.schedulable])).toEqual([['a', 3, true], ['b', 6, true], ['c', 20, true]]);
  });

  it('finds the Burns & Wellings set at U = 1 schedulable with R = 5, 15, 80', () => {
    const tasks = [
      { id: 'a', periodMs: 80, wcetMs: 40 },
      { id: 'b', periodMs: 40, wcetMs: 10 },
      { id: 'c', periodMs: 20, wcetMs: 5 },
    ];
    expect(utilisation(tasks)).toBe(1);
    expect(responseTimes(tasks).map((r) => r.responseMs)).toEqual([5, 15, 80]);
    const v = rmTest(tasks);
    expect(v).toMatchObject({ schedulable: true, test: 'response-time', exact: true });
  });

  it('shows the lowest task of (12,50), (10,40), (10,30) misses: R ≥ 52 > 50', () => {
    // c: 10; b: 10+10 = 20; a: 32 → 12+2·10+1·10 = 42 → 12+2·10+2·10 = 52 > 50.
    const v = rmTest([
      { id: 'a', periodMs: 50, wcetMs: 12 },
      { id: 'b', periodMs: 40, wcetMs: 10 },
      { id: 'c', periodMs: 30, wcetMs: 10 },
    ]);
    expect(v).toMatchObject({ schedulable: false, test: 'response-time', failingTask: 'a' });
    expect(v.responseTimes?.find((r) => r.id === 'a')?.responseMs).toBe(52);
    expect(v.reason).toContain('"a" ≥ 52 ms > deadline 50 ms');
  });

  it('adds release jitter: R_i = J_i + w_i, w_i = C_i + Σ ⌈(w_i + J_j)/T_j⌉ C_j', () => {
    // hi: R = 3 + 2 = 5. lo: w = 8+2 = 10 → 8 + ⌈13/10⌉·2 = 12 → 8 + ⌈15/10⌉·2 = 12; R = 5 + 12 = 17.
    const rts = responseTimes([
      { id: 'hi', periodMs: 10, wcetMs: 2, jitterMs: 3 },
      { id: 'lo', periodMs: 20, wcetMs: 8, jitterMs: 5 },
    ]);
    expect(rts.map((r) => r.responseMs)).toEqual([5, 17]);
    // Without jitter the low task's response would be 10.
    expect(responseTimes([{ id: 'hi', periodMs: 10, wcetMs: 2 }, { id: 'lo', periodMs: 20, wcetMs: 8 }])[1].responseMs).toBe(10);
  });
});

describe('rmTest', () => {
  it('admits within the Liu–Layland bound without running the response-time analysis', () => {
    const v = rmTest([{ id: 'a', periodMs: 4, wcetMs: 1 }, { id: 'b', periodMs: 5, wcetMs: 1 }]);
    expect(v).toMatchObject({ schedulable: true, test: 'liu-layland', exact: false });
    expect(v.bound).toBeCloseTo(0.8284, 4);
    expect(v.responseTimes).toBeUndefined();
  });

  it('uses deadline-monotonic order for constrained deadlines', () => {
    const tasks = [
      { id: 'long-period-short-deadline', periodMs: 20, wcetMs: 2, deadlineMs: 3 },
      { id: 'short-period', periodMs: 5, wcetMs: 2 },
    ];
    expect(priorityOrder(tasks).map((t) => t.id)).toEqual(['long-period-short-deadline', 'short-period']);
    // Rate-monotonic order would let the short-period task run first and miss the 3 ms deadline.
    expect(rmTest(tasks)).toMatchObject({ schedulable: true, test: 'response-time' });
  });

  it('passes the empty set', () => {
    expect(rmTest([])).toMatchObject({ schedulable: true, tasks: 0, utilisation: 0 });
  });

  it('rejects malformed tasks with a ContractError naming the field', () => {
    expect(() => rmTest([{ id: 'x', periodMs: 0, wcetMs: 1 }])).toThrow(/tasks\[0\]\.periodMs/);
    expect(() => rmTest([{ id: 'x', periodMs: 5, wcetMs: 1, jitterMs: -1 }])).toThrow(ContractError);
    expect(() => rmTest([{ id: 'x', periodMs: 5, wcetMs: 1 }, { id: 'x', periodMs: 6, wcetMs: 1 }])).toThrow(/not unique/);
    expect(() => rmTest([{ id: '', periodMs: 5, wcetMs: 1 }])).toThrow(/id/);
  });
});
