// Restart bookkeeping as pure functions, after OTP's supervisor.erl: whether an
// exit calls for a restart, the sliding-window intensity check (add_restart),
// and which siblings a strategy stops and starts again.

import type { ExitReason, RestartType, Strategy } from './types.js';

/** `normal` and `shutdown` are clean ends; anything else is a crash. */
export function isAbnormal(reason: ExitReason): boolean {
  return reason.kind === 'error';
}

/** OTP: permanent always restarts, transient only after an abnormal exit, temporary never. */
export function shouldRestart(restartType: RestartType, reason: ExitReason): boolean {
  switch (restartType) {
    case 'permanent':
      return true;
    case 'transient':
      return isAbnormal(reason);
    case 'temporary':
      return false;
  }
}

export interface RestartRecord {
  /** Restart times still inside the window, oldest first, including `now`. */
  history: number[];
  /** More than `intensity` restarts within `periodMs`: the supervisor must give up. */
  exceeded: boolean;
}

/**
 * Record one restart at `now` (OTP's add_restart): keep the restarts at or after
 * `now - periodMs` (the window is inclusive at both ends), add `now`, and report
 * whether more than `intensity` remain. `history` is oldest first and not mutated.
 */
export function recordRestart(
  history: readonly number[],
  now: number,
  intensity: number,
  periodMs: number,
): RestartRecord {
  const threshold = now - periodMs;
  const kept = history.filter((t) => t >= threshold);
  kept.push(now);
  return { history: kept, exceeded: kept.length > intensity };
}

export interface RestartPlan {
  /** Running siblings to stop, in stop order (reverse start order). Never includes the failed child. */
  stop: string[];
  /** Children to start again, in start order. Always begins with the failed child's group. */
  start: string[];
}

/**
 * Which children a restart of `failedId` touches. `childOrder` is the start order.
 * - one_for_one, simple_one_for_one: only the failed child;
 * - one_for_all: every other child stopped (reverse order), all started again;
 * - rest_for_one: the children started after the failed one stopped (reverse
 *   order), then the failed one and those after it started again.
 */
export function planRestart(strategy: Strategy, childOrder: readonly string[], failedId: string): RestartPlan {
  const at = childOrder.indexOf(failedId);
  if (at < 0) throw new RangeError(`planRestart: "${failedId}" is not among the children`);
  switch (strategy) {
    case 'one_for_one':
    case 'simple_one_for_one':
      return { stop: [], start: [failedId] };
    case 'one_for_all':
      return { stop: childOrder.filter((id) => id !== failedId).reverse(), start: [...childOrder] };
    case 'rest_for_one':
      return { stop: childOrder.slice(at + 1).reverse(), start: childOrder.slice(at) };
  }
}
