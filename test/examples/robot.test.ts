// The speech-guided robot (examples/robot.ts) end to end: utterances become actions through
// the local model, every action passes the HRT guard on its lane before the actuator runs it,
// an HRT agent that would overload the lane is refused at admission, and the guard's lane
// figures are reported and add up. Timing figures are reported, not asserted (a loaded 2-core
// VM can deschedule the lane past a deadline); the accounting of every release is asserted.
// The guard's rules are also checked on their own, as a property over any command sequence.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { main, SPEECH, type RobotSummary } from '../../examples/robot.js';
import { robotGuard, type Action, type Decision } from '../../examples/support/robot-guard.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('agentos-robot-');
afterAll(() => tmp.cleanup());

describe('speech-guided robot example', () => {
  let summary: RobotSummary;
  beforeAll(async () => {
    summary = await main(`${tmp.dir}/robot`);
  }, 30_000);

  it('the planner turned each utterance into an action through the local model, in the order heard', () => {
    expect(summary.plans.map((p) => p.text)).toEqual(SPEECH.map((u) => u.text));
    expect(summary.plans.map((p) => p.action ?? null)).toEqual([
      { op: 'pick', aisle: 3 },
      { op: 'move', aisle: 12, speed: 2.5 },
      { op: 'move', aisle: 12, speed: 1 },
      { op: 'pick', aisle: 7 },
      { op: 'stop' },
      { op: 'move', aisle: 5, speed: 0.5 },
      { op: 'resume' },
      { op: 'move', aisle: 5, speed: 0.5 },
      null,
    ]);
    expect(summary.plans.map((p) => p.seq ?? null)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, null]);
    expect(summary.plans[8]!.note).toContain('Sorry, I can move, pick, stop or resume.');
  });

  it('the guard allowed the safe actions and vetoed the unsafe ones, each once and in order', () => {
    expect(summary.decisions.map((d) => d.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(summary.decisions.map((d) => [d.type, d.type === 'veto' ? d.reason : ''])).toEqual([
      ['allow', ''],
      ['veto', 'speed 2.5 m/s is over the limit of 1.5 m/s'],
      ['allow', ''],
      ['veto', 'aisle 7 is a no-go zone'],
      ['allow', ''],
      ['veto', 'emergency stop engaged (say "resume" first)'],
      ['allow', ''],
      ['allow', ''],
    ]);
    expect(summary.guardState).toBe('armed');
  });

  it('the actuator ran exactly the allowed actions, in order, and none of the vetoed ones', () => {
    const allowed = summary.decisions.filter((d) => d.type === 'allow').map((d) => ({ seq: d.seq, action: d.action }));
    expect(summary.ran).toEqual(allowed);
    expect(summary.ran.map((r) => r.seq)).toEqual([0, 2, 4, 6, 7]);
  });

  it('refused the extra HRT agent at admission, naming the lane utilisation', () => {
    expect(summary.refused.code).toBe('ADMISSION_REFUSED');
    expect(summary.refused.message).toContain('"vision"');
    expect(summary.refused.message).toMatch(/fits no lane: lane 0: 0\.10 \+ 0\.95 = 1\.05 > 1\.00/);
  });

  it('reports the guard lane figures, and every release is accounted for exactly once', () => {
    const l = summary.lane;
    expect(l).toMatchObject({ periodMs: 10, deadlineMs: 10, wcetMs: 1 });
    expect(l.releases).toBeGreaterThan(0);
    expect(l.completions).toBeGreaterThan(0);
    expect(l.completions + l.skipped + l.degraded + l.failed + l.dropped + l.pending).toBe(l.releases);
    // Jitter is measured for every job that ran, response time for every completion.
    expect(l.jitterMs.count).toBe(l.completions + l.failed);
    expect(l.responseMs.count).toBe(l.completions);
    for (const h of [l.jitterMs, l.responseMs]) {
      for (const q of [h.p50, h.p99, h.p999, h.max]) expect(Number.isFinite(q) && q >= 0).toBe(true);
      expect(h.p50).toBeLessThanOrEqual(h.p99);
      expect(h.p99).toBeLessThanOrEqual(h.max * 1.02); // quantiles come from 1 %-error buckets
    }
    expect(l.observedWcetMs).toBeGreaterThan(0);
    expect(l.misses).toBeLessThanOrEqual(l.releases);
    expect(l.wcetOverruns).toBeLessThanOrEqual(l.completions + l.failed);
    // overrun 'skip': nothing is degraded, and no job failed.
    expect(l.degraded).toBe(0);
    expect(l.failed).toBe(0);
    for (const e of summary.laneEvents) expect(['miss', 'overrun', 'skipped']).toContain(e.type);
  });
});

describe('robot guard rules', () => {
  const LIMITS = { maxSpeed: 1.5, forbiddenAisles: [7] };
  const action: fc.Arbitrary<Action> = fc.oneof(
    fc.record({ op: fc.constant('move' as const), aisle: fc.integer({ min: 1, max: 12 }), speed: fc.constantFrom(0.5, 1, 1.5, 2.5) }),
    fc.record({ op: fc.constant('pick' as const), aisle: fc.integer({ min: 1, max: 12 }) }),
    fc.constant({ op: 'stop' as const }),
    fc.constant({ op: 'resume' as const }),
  );

  it('decides every command once, in order; never allows a move over the limit, a no-go aisle, or motion between stop and resume', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 40 }), (actions) => {
        const guard = createActor(robotGuard.machine, { input: LIMITS });
        const decisions: Decision[] = [];
        guard.on('*', (e) => decisions.push(e as Decision));
        guard.start();
        actions.forEach((a, seq) => guard.send({ type: 'command', seq, action: a }));
        expect(decisions.map((d) => d.seq)).toEqual(actions.map((_, i) => i));
        let stopped = false;
        for (const d of decisions) {
          const a = d.action;
          if (a.op === 'stop') {
            expect(d.type).toBe('allow');
            stopped = true;
          } else if (a.op === 'resume') {
            expect(d.type).toBe('allow');
            stopped = false;
          } else {
            const unsafe = stopped || LIMITS.forbiddenAisles.includes(a.aisle) || (a.op === 'move' && a.speed > LIMITS.maxSpeed);
            expect(d.type).toBe(unsafe ? 'veto' : 'allow');
          }
        }
        guard.stop();
      }),
    );
  });
});
