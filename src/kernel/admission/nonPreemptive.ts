// EDF on an HRT lane is non-preemptive: a JS job runs to completion, so a job that has just
// started can hold up a more urgent one for up to its WCET, and U ≤ 1 alone does not rule out
// misses (T=2,C=1 beside T=10,C=5 has U = 1 and misses). George, Rivierre & Spuri (1996):
// non-idling non-preemptive EDF meets every deadline of a sporadic set if the preemptive test
// passes and, at every deadline t < max D, dbf(t) + max{C_j : D_j > t} ≤ t.

import { edfTest } from './edf.js';
import { EPS, leq, ms, normaliseTasks, type HrtTask, type HrtVerdict } from './task.js';

/** Cap on the deadlines checked for blocking; beyond it the test refuses conservatively and says so. */
export const MAX_BLOCKING_POINTS = 1_000_000;

/** The verdict for one lane: the preemptive EDF verdict plus, when it ran, the blocking check. */
export interface LaneVerdict {
  schedulable: boolean;
  /** Σ C/T. */
  utilisation: number;
  /** Whether the lane is analysed as non-preemptive (the dispatcher's behaviour). */
  nonPreemptive: boolean;
  /** The preemptive EDF verdict (edf.ts), which must pass first. */
  edf: HrtVerdict;
  /** The first deadline where demand plus blocking exceeds the interval, when there is one. */
  blocking?: { atMs: number; demandMs: number; blockingMs: number; blocker: string };
  /** One line a human can act on. */
  reason: string;
}

interface Point {
  t: number;
  wcetMs: number;
}

/**
 * Non-preemptive EDF test (sufficient; exact for sporadic tasks in discrete time).
 * Release jitter is analysed as in edf.ts (window D − J); blocking conservatively uses full D.
 */
export function nonPreemptiveEdfTest(tasks: readonly HrtTask[]): LaneVerdict {
  const edf = edfTest(tasks);
  const base = { utilisation: edf.utilisation, nonPreemptive: true, edf };
  if (!edf.schedulable) return { ...base, schedulable: false, reason: edf.reason };
  const normal = normaliseTasks(tasks);
  const maxD = Math.max(...normal.map((t) => t.deadlineMs));
  // Every absolute deadline (of the jitter window) before the longest deadline: past it nothing can block.
  const points: Point[] = [];
  for (const t of normal) {
    const window = t.deadlineMs - t.jitterMs;
    for (let k = 0, at = window; at < maxD - EPS; k++, at = window + k * t.periodMs) {
      if (points.length >= MAX_BLOCKING_POINTS) {
        return {
          ...base, schedulable: false,
          reason: `non-preemptive EDF: more than ${MAX_BLOCKING_POINTS} deadlines before ${ms(maxD)} to check for blocking; refused to stay safe`,
        };
      }
      points.push({ t: at, wcetMs: t.wcetMs });
    }
  }
  points.sort((a, b) => a.t - b.t);
  // Blockers by deadline, longest first: B(t) = max C over tasks with D > t.
  const byDeadline = [...normal].sort((a, b) => b.deadlineMs - a.deadlineMs);
  let demand = 0;
  for (let i = 0; i < points.length; i++) {
    demand += points[i].wcetMs;
    const t = points[i].t;
    if (i + 1 < points.length && points[i + 1].t <= t + EPS) continue; // take every deadline due at t
    let blocking = 0;
    let blocker = '';
    for (const task of byDeadline) {
      if (!(task.deadlineMs > t + EPS)) break;
      if (task.wcetMs > blocking) {
        blocking = task.wcetMs;
        blocker = task.id;
      }
    }
    if (!leq(demand + blocking, t)) {
      return {
        ...base, schedulable: false, blocking: { atMs: t, demandMs: demand, blockingMs: blocking, blocker },
        reason: `non-preemptive EDF: demand ${ms(demand)} + blocking ${ms(blocking)} by "${blocker}" in the first ${ms(t)} exceeds ${ms(t)}`,
      };
    }
  }
  return {
    ...base, schedulable: true,
    reason: `${edf.reason}; non-preemptive blocking fits at every deadline before ${ms(maxD)}`,
  };
}
