// Fixed-priority HRT schedulability: Liu–Layland's sufficient utilisation bound for
// implicit-deadline sets, and exact response-time analysis with release jitter under
// (D − J)-monotonic priorities (rate-monotonic when D = T and J = 0) as the fallback.

import {
  EPS, leq, liuLaylandBound, ms, normaliseTasks, ratio,
  type HrtTask, type HrtVerdict, type NormalTask, type ResponseTime,
} from './task.js';

/** Safety cap on fixed-point iterations; each step adds at least one wcet, so it is never reached in practice. */
const MAX_ITERATIONS = 1_000_000;

/**
 * The tasks from highest to lowest priority: ascending D − J (deadline-monotonic, which is
 * rate-monotonic for implicit deadlines; D − J monotonic is optimal with release jitter),
 * ties by shorter period, then input order. The simulator uses the same order.
 */
export function priorityOrder<T extends HrtTask>(tasks: readonly T[]): T[] {
  const normal = normaliseTasks(tasks);
  return tasks
    .map((task, index) => ({ task, key: normal[index], index }))
    .sort((a, b) =>
      a.key.deadlineMs - a.key.jitterMs - (b.key.deadlineMs - b.key.jitterMs) ||
      a.key.periodMs - b.key.periodMs ||
      a.index - b.index)
    .map((x) => x.task);
}

function responseTime(task: NormalTask, priority: number, higher: readonly NormalTask[]): ResponseTime {
  const deadline = Math.min(task.deadlineMs, task.periodMs);
  const interference = (w: number): number =>
    higher.reduce((sum, h) => sum + Math.ceil((w + h.jitterMs) / h.periodMs - EPS) * h.wcetMs, 0);
  let w = task.wcetMs + higher.reduce((sum, h) => sum + h.wcetMs, 0);
  for (let iterations = 1; iterations <= MAX_ITERATIONS; iterations++) {
    if (!leq(w + task.jitterMs, deadline)) {
      return { id: task.id, priority, responseMs: w + task.jitterMs, deadlineMs: deadline, schedulable: false, iterations };
    }
    const next = task.wcetMs + interference(w);
    if (Math.abs(next - w) <= EPS * Math.max(1, w)) {
      return { id: task.id, priority, responseMs: w + task.jitterMs, deadlineMs: deadline, schedulable: true, iterations };
    }
    w = next;
  }
  return { id: task.id, priority, responseMs: Infinity, deadlineMs: deadline, schedulable: false, iterations: MAX_ITERATIONS };
}

/**
 * Worst-case response times in priority order (see `priorityOrder`), by the recurrence
 * w = C_i + Σ_{j∈hp(i)} ⌈(w + J_j)/T_j⌉·C_j, R_i = J_i + w, iterated from C_i + Σ C_j until a
 * fixed point or until R_i passes min(D_i, T_i). Exact for D ≤ T with synchronous release.
 */
export function responseTimes(tasks: readonly HrtTask[]): ResponseTime[] {
  const ordered = normaliseTasks(priorityOrder(tasks));
  return ordered.map((task, i) => responseTime(task, i, ordered.slice(0, i)));
}

/**
 * Rate-/deadline-monotonic test. Implicit-deadline sets without jitter whose utilisation is
 * within Liu–Layland's bound pass at once (sufficient); everything else goes to the exact
 * response-time analysis. Deadlines beyond the period are analysed as the period (sufficient).
 */
export function rmTest(tasks: readonly HrtTask[]): HrtVerdict {
  const normal = normaliseTasks(tasks);
  const n = normal.length;
  const u = normal.reduce((sum, t) => sum + t.wcetMs / t.periodMs, 0);
  const dens = normal.reduce((sum, t) => {
    const window = Math.min(t.deadlineMs - t.jitterMs, t.periodMs);
    return sum + (window > 0 ? t.wcetMs / window : Infinity);
  }, 0);
  const bound = liuLaylandBound(n);
  const base = { policy: 'rm' as const, tasks: n, utilisation: u, density: dens, bound };
  const implicit = normal.every((t) => t.deadlineMs === t.periodMs && t.jitterMs === 0);
  if (implicit && leq(u, bound)) {
    return {
      ...base, schedulable: true, test: 'liu-layland', exact: n <= 1,
      reason: `RM: utilisation ${ratio(u)} ≤ Liu–Layland bound ${bound.toFixed(4)} for ${n} task${n === 1 ? '' : 's'}`,
    };
  }
  const rts = responseTimes(normal);
  const exact = normal.every((t) => t.deadlineMs <= t.periodMs);
  const why = implicit
    ? `utilisation ${ratio(u)} > Liu–Layland bound ${bound.toFixed(4)}`
    : `utilisation ${ratio(u)}; Liu–Layland does not apply with constrained deadlines or jitter`;
  const failing = rts.find((r) => !r.schedulable);
  if (failing) {
    return {
      ...base, schedulable: false, test: 'response-time', exact, responseTimes: rts, failingTask: failing.id,
      reason: `RM: response time of "${failing.id}" ≥ ${ms(failing.responseMs)} > deadline ${ms(failing.deadlineMs)} (${why})`,
    };
  }
  const worst = rts.reduce((a, b) => (b.responseMs / b.deadlineMs > a.responseMs / a.deadlineMs ? b : a));
  return {
    ...base, schedulable: true, test: 'response-time', exact, responseTimes: rts,
    reason: `RM: every response time meets its deadline, worst "${worst.id}" ${ms(worst.responseMs)} of ${ms(worst.deadlineMs)} (${why})`,
  };
}
