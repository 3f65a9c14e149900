import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import { AgentOsError } from '../../../src/base/errors.js';
import { HRT_ASYNC_JOB, HRT_JOB_FAILED, HrtDispatcher, HrtJobError, type HrtEvent } from '../../../src/kernel/hrt/index.js';
import { accounted, harness } from './harness.js';

describe('HrtDispatcher: EDF order and release times', () => {
  it('runs two tasks released together by earliest absolute deadline', () => {
    const h = harness();
    h.d.add(h.task('slow', 10, 2));
    h.d.add(h.task('fast', 5, 1));
    h.d.runUntil(19);
    expect(h.starts).toEqual([
      { id: 'fast', index: 0, at: 0 }, // deadline 5 before 10
      { id: 'slow', index: 0, at: 1 },
      { id: 'fast', index: 1, at: 5 },
      { id: 'fast', index: 2, at: 10 }, // deadline 15 before slow#1's 20
      { id: 'slow', index: 1, at: 11 },
      { id: 'fast', index: 3, at: 15 },
    ]);
    expect(h.clock.now()).toBe(19);
    expect(h.out.map((o) => o.output)).toEqual(['fast#0', 'slow#0', 'fast#1', 'fast#2', 'slow#1', 'fast#3']);
  });

  it('orders three tasks by absolute deadline; an exact tie goes to the lower id (and earlier release)', () => {
    const h = harness();
    h.d.add(h.task('z', 20, 6, { deadlineMs: 7 }));
    h.d.add(h.task('y', 5, 1, { offsetMs: 5 }));
    h.d.add(h.task('x', 10, 1));
    h.d.runUntil(29.5);
    // At 6 and at 27, x (released 0/20) and y (released 5/25) are both ready with deadline 10/30.
    expect(h.starts.map((s) => `${s.id}${s.index}@${s.at}`)).toEqual([
      'z0@0', 'x0@6', 'y0@7', 'y1@10', 'x1@11', 'y2@15', 'y3@20', 'z1@21', 'x2@27', 'y4@28',
    ]);
    expect(h.d.stats().map((s) => [s.id, s.misses])).toEqual([['x', 0], ['y', 0], ['z', 0]]);
  });

  it('breaks a deadline tie at a common release towards the lower id', () => {
    const h = harness();
    h.d.add(h.task('z', 10, 1));
    h.d.add(h.task('y', 10, 1));
    h.d.add(h.task('x', 5, 1, { offsetMs: 5 }));
    h.d.runUntil(9);
    expect(h.starts.map((s) => `${s.id}@${s.at}`)).toEqual(['y@0', 'z@1', 'x@5']);
  });

  it('releases at epoch + offset + k·period exactly, with no drift over many periods', () => {
    const h = harness(1000);
    h.d.add(h.task('t', 0.1, 0.01, { offsetMs: 0.3, exec: () => 0 }));
    h.d.runUntil(1099.95);
    const releases = h.out.map((o) => o.releaseAt);
    expect(releases).toHaveLength(997); // 1000.3, 1000.4, …, 1099.9
    releases.forEach((r, i) => expect(r).toBe(1000.3 + i * 0.1));
    // Accumulating the period would have drifted by now.
    let acc = 1000.3;
    for (let i = 1; i < 997; i++) acc += 0.1;
    expect(acc).not.toBe(releases[996]);
    expect(h.out.every((o) => o.at === o.releaseAt)).toBe(true);
    const s = h.d.stats('t')!;
    expect(s).toMatchObject({ releases: 997, completions: 997, misses: 0, pending: 0 });
    expect(s.jitterMs.max).toBe(0);
  });

  it('joins a task added later at the next point of the epoch grid', () => {
    const h = harness();
    h.d.add(h.task('a', 10, 1));
    h.d.runUntil(23);
    h.d.add(h.task('b', 10, 1, { offsetMs: 2 }));
    h.d.runUntil(45);
    const b = h.starts.filter((s) => s.id === 'b').map((s) => [s.index, s.at]);
    expect(b).toEqual([[3, 32], [4, 42]]); // 22 had passed when b was added
    expect(h.d.stats('b')!.releases).toBe(2);
  });

  it('step handles one job and returns when there is more work: now, the next release, or Infinity', () => {
    const h = harness();
    expect(h.d.step()).toBe(Infinity);
    h.d.add(h.task('a', 10, 1));
    h.d.add(h.task('b', 10, 1));
    expect(h.d.step()).toBe(0); // a ran; b is still ready
    expect(h.clock.now()).toBe(1);
    expect(h.d.step()).toBe(10); // b ran; next release at 10
    expect(h.d.step()).toBe(10); // nothing ready at 2
    expect(h.starts.map((s) => s.id)).toEqual(['a', 'b']);
  });
});

describe('HrtDispatcher: measurements', () => {
  it('accounts release jitter (start − release) and response time (finish − release) per task', () => {
    const h = harness();
    h.d.add(h.task('hi', 5, 1));
    h.d.add(h.task('lo', 20, 3));
    h.d.runUntil(20 - 0.5);
    const lo = h.d.stats('lo')!;
    // lo#0 waits for hi#0: starts at 1, finishes at 4.
    expect(lo.jitterMs).toMatchObject({ count: 1, max: 1 });
    expect(lo.responseMs).toMatchObject({ count: 1, max: 4 });
    expect(lo.observedWcetMs).toBe(3);
    const hi = h.d.stats('hi')!;
    // hi#1 released at 5 runs at 5; hi#0..#3 all start on time.
    expect(hi.jitterMs).toMatchObject({ count: 4, max: 0, p50: 0, p99: 0, p999: 0 });
    expect(hi.responseMs).toMatchObject({ count: 4, max: 1 });
    expect(hi.responseMs.p50).toBeCloseTo(1, 1);
  });

  it('reports jitter percentiles within the histogram error', () => {
    const clock = new VirtualClock();
    let sleeps = 0;
    const d = new HrtDispatcher({
      clock, emit: () => {},
      // The host oversleeps: 0.1 ms late on most releases, 2 ms on every hundredth.
      sleepUntil: (t) => clock.advanceTo(t + (++sleeps % 100 === 0 ? 2 : 0.1)),
    });
    d.add({ id: 'u', periodMs: 10, wcetMs: 1, overrun: 'skip', job: () => clock.advance(0.5) });
    d.runUntil(9_995); // the oversleep of the last sleep stays short of the release at 10 000
    const s = d.stats('u')!;
    expect(s.releases).toBe(1000);
    // Sorted jitters: one 0, 990 × 0.1, 9 × 2.
    expect(s.jitterMs.p50).toBeCloseTo(0.1, 2);
    expect(s.jitterMs.p99).toBeCloseTo(0.1, 2);
    expect(s.jitterMs.p999).toBeCloseTo(2, 1);
    expect(s.jitterMs.max).toBe(2);
    expect(s.misses).toBe(0);
  });

  it('counts a late completion as a miss with its lateness, still emits the output, and reports it', () => {
    const h = harness();
    h.d.add(h.task('t', 10, 6, { deadlineMs: 5, exec: (k) => (k === 1 ? 6.5 : 4) }));
    h.d.runUntil(25);
    const s = h.d.stats('t')!;
    expect(s).toMatchObject({ releases: 3, completions: 2, skipped: 1, misses: 1, wcetOverruns: 1, observedWcetMs: 6.5 });
    expect(s.latenessMs).toMatchObject({ count: 1, max: 1.5 });
    expect(h.out.map((o) => [o.output, o.at])).toEqual([['t#0', 4], ['t#1', 16.5]]);
    expect(h.events).toEqual([
      { type: 'miss', taskId: 't', release: { index: 1, releaseAt: 10, deadline: 15 }, finishedAt: 16.5, latenessMs: 1.5, execMs: 6.5 },
      { type: 'overrun', taskId: 't', release: { index: 1, releaseAt: 10, deadline: 15 }, execMs: 6.5, wcetMs: 6, action: 'skip' },
      { type: 'skipped', taskId: 't', release: { index: 2, releaseAt: 20, deadline: 25 }, cause: 'wcet-overrun', latenessMs: 0 },
    ]);
    expect(accounted(s)).toBe(true);
  });
});

describe('HrtDispatcher: overrun policies', () => {
  const stalled = (policy: 'skip' | 'degrade' | 'stop') => {
    const h = harness();
    h.d.add(h.task('g', 10, 1, { deadlineMs: 5, overrun: policy, safeDefault: (r) => `veto#${r.index}` }));
    h.clock.advanceTo(23); // the host stalled: jobs released at 0, 10, 20 are pending, the first two past deadline
    h.d.runUntil(35);
    return h;
  };

  it('skip drops a job whose deadline passed before it could start, counting a miss', () => {
    const h = stalled('skip');
    expect(h.out.map((o) => o.output)).toEqual(['g#2', 'g#3']);
    const s = h.d.stats('g')!;
    expect(s).toMatchObject({ releases: 4, completions: 2, skipped: 2, misses: 2, pending: 0, state: 'active' });
    expect(s.latenessMs.max).toBe(18);
    expect(s.jitterMs.max).toBe(3); // g#2 released 20, started 23
    expect(h.events.map((e) => e.type === 'skipped' && [e.release.index, e.cause, e.latenessMs])).toEqual([[0, 'deadline-passed', 18], [1, 'deadline-passed', 8]]);
    expect(accounted(s)).toBe(true);
  });

  it('degrade emits the safe default in place of each late job', () => {
    const h = stalled('degrade');
    expect(h.out.map((o) => [o.output, o.at])).toEqual([['veto#0', 23], ['veto#1', 23], ['g#2', 24], ['g#3', 31]]);
    expect(h.d.stats('g')).toMatchObject({ releases: 4, completions: 2, degraded: 2, misses: 2 });
    expect(h.events.map((e) => e.type)).toEqual(['degraded', 'degraded']);
  });

  it('stop stops the task at the first late job, dropping what is pending, and releases nothing more', () => {
    const h = stalled('stop');
    expect(h.out).toEqual([]);
    const s = h.d.stats('g')!;
    expect(s).toMatchObject({ state: 'stopped', stopCause: 'deadline-passed', releases: 3, dropped: 3, misses: 1, pending: 0 });
    expect(h.events).toEqual([{ type: 'stopped', taskId: 'g', release: { index: 0, releaseAt: 0, deadline: 5 }, cause: 'deadline-passed', dropped: 3 }]);
    expect(h.d.step()).toBe(Infinity);
    expect(accounted(s)).toBe(true);
  });

  it('skip and degrade apply to the job after a WCET overrun; the one after that runs', () => {
    for (const policy of ['skip', 'degrade'] as const) {
      const h = harness();
      h.d.add(h.task('g', 10, 1, { overrun: policy, exec: (k) => (k === 0 ? 1.5 : 1), safeDefault: () => 'safe' }));
      h.d.runUntil(35);
      expect(h.out.map((o) => o.output)).toEqual(policy === 'skip' ? ['g#0', 'g#2', 'g#3'] : ['g#0', 'safe', 'g#2', 'g#3']);
      expect(h.d.stats('g')).toMatchObject({ wcetOverruns: 1, misses: 0, observedWcetMs: 1.5, [policy === 'skip' ? 'skipped' : 'degraded']: 1 });
      expect(h.events.map((e) => e.type)).toEqual(['overrun', policy === 'skip' ? 'skipped' : 'degraded']);
    }
  });

  it('stop stops the task right after a WCET overrun (its output still goes out)', () => {
    const h = harness();
    h.d.add(h.task('g', 10, 1, { overrun: 'stop', exec: (k) => (k === 1 ? 3 : 1) }));
    h.d.add(h.task('other', 10, 1));
    h.d.runUntil(45);
    expect(h.out.filter((o) => o.taskId === 'g').map((o) => o.output)).toEqual(['g#0', 'g#1']);
    expect(h.d.stats('g')).toMatchObject({ state: 'stopped', stopCause: 'wcet-overrun', releases: 2, completions: 2, dropped: 0 });
    expect(h.d.stats('other')).toMatchObject({ releases: 5, completions: 5 });
    expect(h.events.map((e) => e.type)).toEqual(['overrun', 'stopped']);
  });
});

describe('HrtDispatcher: job errors', () => {
  it('refuses a job that returns a Promise with HRT_ASYNC_JOB, per policy, without an unhandled rejection', () => {
    for (const policy of ['skip', 'degrade', 'stop'] as const) {
      const h = harness();
      h.d.add({
        id: 'a', periodMs: 10, wcetMs: 1, overrun: policy, safeDefault: () => 'safe',
        job: (r) => (r.index === 1 ? Promise.reject(new Error('async')) : 'ok'),
      });
      h.d.runUntil(25);
      const failed = h.events.find((e): e is Extract<HrtEvent, { type: 'failed' }> => e.type === 'failed')!;
      expect(failed.error).toBeInstanceOf(HrtJobError);
      expect(failed.error).toBeInstanceOf(AgentOsError);
      expect(failed.error.code).toBe(HRT_ASYNC_JOB);
      expect(failed.error.message).toContain('"a" (release 1) returned a Promise');
      expect(failed.error.details).toEqual({ taskId: 'a', index: 1 });
      const s = h.d.stats('a')!;
      expect(s.failed).toBe(1);
      expect(accounted(s)).toBe(true);
      const outputs = h.out.map((o) => o.output);
      if (policy === 'skip') expect(outputs).toEqual(['ok', 'ok']);
      if (policy === 'degrade') expect(outputs).toEqual(['ok', 'safe', 'ok']);
      if (policy === 'stop') {
        expect(outputs).toEqual(['ok']);
        expect(s).toMatchObject({ state: 'stopped', stopCause: 'job-failed', releases: 2 });
      }
    }
  });

  it('counts and reports a job that throws; the task continues, or stops under stop', () => {
    for (const policy of ['skip', 'stop'] as const) {
      const h = harness();
      const boom = new Error('sensor gone');
      h.d.add({ id: 't', periodMs: 10, wcetMs: 1, overrun: policy, job: (r) => { if (r.index === 0) throw boom; return r.index; } });
      h.d.runUntil(20);
      const failed = h.events[0] as Extract<HrtEvent, { type: 'failed' }>;
      expect(failed).toMatchObject({ type: 'failed', taskId: 't', release: { index: 0 }, action: policy });
      expect(failed.error.code).toBe(HRT_JOB_FAILED);
      expect(failed.error.cause).toBe(boom);
      expect(failed.error.message).toBe('HRT job of "t" (release 0) threw: sensor gone');
      if (policy === 'skip') expect(h.d.stats('t')).toMatchObject({ failed: 1, completions: 2, state: 'active' });
      else expect(h.d.stats('t')).toMatchObject({ failed: 1, completions: 0, state: 'stopped', stopCause: 'job-failed' });
    }
  });
});

describe('HrtDispatcher: tasks', () => {
  it('remove drops pending jobs, returns the final figures, and runs nothing more of the task', () => {
    const h = harness();
    h.d.add(h.task('a', 10, 1));
    h.d.add(h.task('b', 10, 1));
    h.d.runUntil(15);
    h.clock.advanceTo(31);
    const final = h.d.remove('a')!; // jobs released at 20 and 30 were never run
    expect(final).toMatchObject({ state: 'removed', releases: 4, completions: 2, dropped: 2, pending: 0 });
    h.d.runUntil(40);
    expect(h.starts.filter((s) => s.id === 'a')).toHaveLength(2);
    expect(h.d.stats('a')).toBeUndefined();
    expect(h.d.remove('a')).toBeUndefined();
    expect(h.d.stats().map((s) => s.id)).toEqual(['b']);

    const h2 = harness();
    h2.d.add(h2.task('a', 10, 1));
    h2.d.runUntil(5);
    h2.clock.advanceTo(21); // releases at 10 and 20 pending once observed
    h2.d.step();
    const s = h2.d.remove('a')!;
    expect(s).toMatchObject({ releases: 3, completions: 1, skipped: 1, dropped: 1, pending: 0 });
    expect(accounted(s)).toBe(true);
  });

  it('rejects malformed tasks with INVALID_HRT_TASK naming the field', () => {
    const d = new HrtDispatcher({ clock: new VirtualClock(), sleepUntil: () => {}, emit: () => {} });
    const ok = { id: 'a', periodMs: 10, wcetMs: 1, overrun: 'skip' as const, job: () => 0 };
    d.add(ok);
    const bad: [object, string][] = [
      [{ ...ok, id: 'a' }, 'task.id'],
      [{ ...ok, id: 'b', deadlineMs: 11 }, 'task.deadlineMs'],
      [{ ...ok, id: 'b', periodMs: 0 }, 'task.periodMs'],
      [{ ...ok, id: 'b', offsetMs: -1 }, 'task.offsetMs'],
      [{ ...ok, id: 'b', overrun: 'retry' }, 'task.overrun'],
      [{ ...ok, id: 'b', overrun: 'degrade' }, 'task.safeDefault'],
      [{ ...ok, id: 'b', job: 'x' }, 'task.job'],
    ];
    for (const [task, field] of bad) {
      let thrown: unknown;
      try {
        d.add(task as never);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, field).toBeInstanceOf(AgentOsError);
      expect(thrown).toMatchObject({ code: 'INVALID_HRT_TASK', field });
    }
    expect(d.size).toBe(1);
  });
});
