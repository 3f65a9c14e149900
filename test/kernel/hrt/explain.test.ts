// The burn-in's rule for a deadline miss the machine explains: an idle probe
// thread's stall overlapping the miss's window, at least as long as the miss
// was late. Checked against a brute-force reading of the rule.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explainMisses, missRecord, shifted, type MissRecord, type Stall } from '../../../bench/hrt-explain.js';

const miss = (releaseAt: number, end: number, latenessMs: number): MissRecord => ({ index: 0, releaseAt, end, latenessMs, kind: 'late' });
const stall = (from: number, overMs: number): Stall => ({ from, to: from + overMs, overMs });

describe('explainMisses', () => {
  it('explains a miss by a long enough stall inside its window, and not by a short or a distant one', () => {
    const m = miss(100, 112, 2);
    expect(explainMisses([m], [stall(105, 2.5)]).explained).toEqual([m]);
    expect(explainMisses([m], [stall(105, 1.5)]).unexplained).toEqual([m]); // too short
    expect(explainMisses([m], [stall(120, 30)]).unexplained).toEqual([m]); // after the window
    expect(explainMisses([m], [stall(60, 30)]).unexplained).toEqual([m]); // ended before the release
    expect(explainMisses([m], [stall(95, 6)]).explained).toEqual([m]); // began before the release, overlaps it
    expect(explainMisses([m], [stall(105, 1.5)], 0.5).explained).toEqual([m]); // within the tolerance
    expect(explainMisses([m], []).unexplained).toEqual([m]);
  });

  it('turns lane events into miss records: late completions and jobs abandoned past their deadline, not overrun skips', () => {
    const release = { index: 7, releaseAt: 1000, deadline: 1010 };
    expect(missRecord({ type: '@agentos.hrt.miss', release, finishedAt: 1013, latenessMs: 3 })).toEqual({ index: 7, releaseAt: 1000, end: 1013, latenessMs: 3, kind: 'late' });
    expect(missRecord({ type: '@agentos.hrt.skipped', release, cause: 'deadline-passed', latenessMs: 4 })).toEqual({ index: 7, releaseAt: 1000, end: 1014, latenessMs: 4, kind: 'abandoned' });
    expect(missRecord({ type: '@agentos.hrt.skipped', release, cause: 'wcet-overrun', latenessMs: 0 })).toBeUndefined();
    expect(missRecord({ type: '@agentos.hrt.overrun', release })).toBeUndefined();
    expect(shifted(miss(1000, 1013, 3), 0.75)).toMatchObject({ releaseAt: 999.25, end: 1012.25 });
  });

  it('property: a miss is explained iff some stall overlaps its window and is at least as long as it was late', () => {
    const arbMiss = fc.record({ releaseAt: fc.integer({ min: 0, max: 1000 }), span: fc.integer({ min: 10, max: 60 }), late: fc.integer({ min: 1, max: 50 }) })
      .map(({ releaseAt, span, late }) => miss(releaseAt, releaseAt + span, late));
    const arbStall = fc.record({ from: fc.integer({ min: -100, max: 1100 }), over: fc.integer({ min: 0, max: 80 }) }).map(({ from, over }) => stall(from, over));
    fc.assert(
      fc.property(fc.array(arbMiss, { maxLength: 20 }), fc.array(arbStall, { maxLength: 40 }), (misses, stalls) => {
        const { explained, unexplained } = explainMisses(misses, stalls);
        const brute = (m: MissRecord) => stalls.some((s) => s.from <= m.end && s.to >= m.releaseAt && s.overMs >= m.latenessMs);
        expect(explained.length + unexplained.length).toBe(misses.length);
        for (const m of explained) expect(brute(m)).toBe(true);
        for (const m of unexplained) expect(brute(m)).toBe(false);
      }),
    );
  });
});
