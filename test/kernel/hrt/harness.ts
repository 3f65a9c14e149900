// A dispatcher on a VirtualClock whose jobs "execute" by advancing the clock, recording every
// output and event, for the HRT dispatcher tests.

import { VirtualClock } from '../../../src/base/clock.js';
import { HrtDispatcher, type HrtEvent, type HrtJobTask, type HrtRelease, type OverrunPolicy } from '../../../src/kernel/hrt/index.js';

export interface Emitted {
  taskId: string;
  output: unknown;
  index: number;
  releaseAt: number;
  at: number;
}

export interface Harness {
  clock: VirtualClock;
  d: HrtDispatcher<unknown>;
  out: Emitted[];
  events: HrtEvent[];
  /** Task ids in the order their jobs started, with start times. */
  starts: { id: string; index: number; at: number }[];
  /** A task whose job k takes exec(k) ms of (virtual) time and returns `${id}#k`. */
  task(id: string, periodMs: number, wcetMs: number, opts?: Partial<HrtJobTask<unknown>> & { exec?: (k: number) => number }): HrtJobTask<unknown>;
}

export function harness(start = 0): Harness {
  const clock = new VirtualClock(start);
  const out: Emitted[] = [];
  const events: HrtEvent[] = [];
  const starts: Harness['starts'] = [];
  const d = new HrtDispatcher<unknown>({
    clock,
    sleepUntil: (t) => clock.advanceTo(t),
    emit: (taskId, output, r: HrtRelease) => out.push({ taskId, output, index: r.index, releaseAt: r.releaseAt, at: clock.now() }),
    onEvent: (e) => events.push(e),
  });
  const task: Harness['task'] = (id, periodMs, wcetMs, opts = {}) => {
    const { exec = () => wcetMs, ...rest } = opts;
    return {
      id, periodMs, wcetMs, overrun: 'skip' as OverrunPolicy,
      job: (r) => {
        starts.push({ id, index: r.index, at: clock.now() });
        clock.advance(exec(r.index));
        return `${id}#${r.index}`;
      },
      ...rest,
    };
  };
  return { clock, d, out, events, starts, task };
}

/** releases = completions + skipped + degraded + failed + dropped + pending, for every task. */
export function accounted(s: { releases: number; completions: number; skipped: number; degraded: number; failed: number; dropped: number; pending: number }): boolean {
  return s.releases === s.completions + s.skipped + s.degraded + s.failed + s.dropped + s.pending;
}
