// EDF schedulability: utilisation (exact when every D − J ≥ T), density (sufficient), and the
// exact processor-demand criterion by Zhang & Burns' QPA up to min(La, busy period).
// Release jitter is handled by analysing D − J as the deadline (Spuri's jitter-aware dbf), which is sufficient.

import {
  EPS, leq, ms, normaliseTasks, ratio,
  type HrtTask, type HrtVerdict, type NormalTask,
} from './task.js';

/** Cap on busy-period and QPA steps; beyond it the test refuses conservatively and says so. */
const MAX_STEPS = 5_000_000;

interface Demand {
  periodMs: number;
  wcetMs: number;
  /** Effective relative deadline D − J. */
  windowMs: number;
}

function demands(tasks: readonly NormalTask[]): Demand[] {
  return tasks.map((t) => ({ periodMs: t.periodMs, wcetMs: t.wcetMs, windowMs: t.deadlineMs - t.jitterMs }));
}

function dbf(ds: readonly Demand[], t: number): number {
  let sum = 0;
  for (const d of ds) {
    if (t + EPS >= d.windowMs) sum += (Math.floor((t - d.windowMs) / d.periodMs + EPS) + 1) * d.wcetMs;
  }
  return sum;
}

/**
 * Demand bound function with jitter: the most execution that jobs both released and due in
 * any interval of length t can need, Σ max(0, ⌊(t + J − D)/T⌋ + 1)·C.
 */
export function demandBound(tasks: readonly HrtTask[], t: number): number {
  return dbf(demands(normaliseTasks(tasks)), t);
}

/** The latest absolute deadline k·T + (D − J) that is ≤ t (or < t when `strict`). */
function lastDeadline(ds: readonly Demand[], t: number, strict: boolean): number | undefined {
  let best: number | undefined;
  for (const d of ds) {
    if (t + EPS < d.windowMs) continue;
    let candidate = Math.floor((t - d.windowMs) / d.periodMs + EPS) * d.periodMs + d.windowMs;
    if (strict && candidate >= t - EPS) candidate -= d.periodMs;
    if (candidate + EPS >= d.windowMs && (best === undefined || candidate > best)) best = candidate;
  }
  return best;
}

/** Length of the synchronous busy period, L = Σ ⌈L/T⌉·C; undefined if it does not settle within the cap. */
function busyPeriod(ds: readonly Demand[]): number | undefined {
  let w = ds.reduce((sum, d) => sum + d.wcetMs, 0);
  for (let i = 0; i < MAX_STEPS; i++) {
    const next = ds.reduce((sum, d) => sum + Math.ceil(w / d.periodMs - EPS) * d.wcetMs, 0);
    if (Math.abs(next - w) <= EPS * Math.max(1, w)) return w;
    w = next;
  }
  return undefined;
}

type DemandOutcome = { ok: true; horizonMs: number } | { ok: false; atMs: number; demandMs: number } | { ok: 'unknown' };

/** Quick convergence Processor-demand Analysis (Zhang & Burns 2009) over deadlines ≤ L. */
function qpa(ds: readonly Demand[], u: number): DemandOutcome {
  const busy = busyPeriod(ds);
  let la: number | undefined;
  if (u < 1 - EPS) {
    const maxWindow = Math.max(...ds.map((d) => d.windowMs));
    const slack = ds.reduce((sum, d) => sum + (d.periodMs - d.windowMs) * (d.wcetMs / d.periodMs), 0) / (1 - u);
    la = Math.max(maxWindow, slack);
  }
  const bounds = [busy, la].filter((x): x is number => x !== undefined);
  if (bounds.length === 0) return { ok: 'unknown' };
  const horizon = Math.min(...bounds);
  const dMin = Math.min(...ds.map((d) => d.windowMs));
  let t = lastDeadline(ds, horizon, false);
  for (let step = 0; t !== undefined && step < MAX_STEPS; step++) {
    const h = dbf(ds, t);
    if (!leq(h, t)) {
      // dbf is a step function: report the deadline at which this demand falls due.
      const at = lastDeadline(ds, t, false) ?? t;
      return { ok: false, atMs: at, demandMs: h };
    }
    if (leq(h, dMin)) return { ok: true, horizonMs: horizon };
    t = h < t - EPS ? h : lastDeadline(ds, t, true);
  }
  return t === undefined ? { ok: true, horizonMs: horizon } : { ok: 'unknown' };
}

/**
 * EDF test, cheapest first: U > 1 refuses (exact); U ≤ 1 admits when every D − J ≥ T
 * (exact without jitter); density ≤ 1 admits (sufficient); otherwise the processor-demand
 * criterion decides (exact without jitter, sufficient with it).
 */
export function edfTest(tasks: readonly HrtTask[]): HrtVerdict {
  const normal = normaliseTasks(tasks);
  const ds = demands(normal);
  const u = ds.reduce((sum, d) => sum + d.wcetMs / d.periodMs, 0);
  const dens = ds.reduce((sum, d) => sum + (d.windowMs > 0 ? d.wcetMs / Math.min(d.windowMs, d.periodMs) : Infinity), 0);
  const noJitter = normal.every((t) => t.jitterMs === 0);
  const base = { policy: 'edf' as const, tasks: normal.length, utilisation: u, density: dens, bound: 1 };
  const starved = normal.find((t) => !(t.deadlineMs - t.jitterMs > 0));
  if (starved) {
    return {
      ...base, schedulable: false, test: 'processor-demand', exact: true, failingTask: starved.id,
      demand: { atMs: 0, demandMs: starved.wcetMs },
      reason: `EDF: "${starved.id}" release jitter ${ms(starved.jitterMs)} leaves no time before its deadline ${ms(starved.deadlineMs)}`,
    };
  }
  if (!leq(u, 1)) {
    return { ...base, schedulable: false, test: 'utilisation', exact: true, reason: `EDF: utilisation ${ratio(u)} > 1.00` };
  }
  if (ds.every((d) => d.windowMs + EPS >= d.periodMs)) {
    return {
      ...base, schedulable: true, test: 'utilisation', exact: noJitter,
      reason: `EDF: utilisation ${ratio(u)} ≤ 1.00 (deadlines ≥ periods)`,
    };
  }
  if (leq(dens, 1)) {
    return { ...base, schedulable: true, test: 'density', exact: false, reason: `EDF: density ${ratio(dens)} ≤ 1.00` };
  }
  const outcome = qpa(ds, u);
  if (outcome.ok === 'unknown') {
    return {
      ...base, schedulable: false, test: 'processor-demand', exact: false,
      reason: `EDF: density ${ratio(dens)} > 1.00 and the processor-demand check did not finish within ${MAX_STEPS} steps; refused to stay safe`,
    };
  }
  if (outcome.ok) {
    return {
      ...base, schedulable: true, test: 'processor-demand', exact: noJitter,
      reason: `EDF: processor demand ≤ interval length at every deadline up to ${ms(outcome.horizonMs)} (density ${ratio(dens)} > 1.00)`,
    };
  }
  return {
    ...base, schedulable: false, test: 'processor-demand', exact: noJitter, demand: { atMs: outcome.atMs, demandMs: outcome.demandMs },
    reason: `EDF: processor demand ${ms(outcome.demandMs)} in the first ${ms(outcome.atMs)} exceeds ${ms(outcome.atMs)}`,
  };
}
