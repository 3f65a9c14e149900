// Stopping one child within its shutdown budget. The host forces a stop once the
// budget is spent; this only guarantees a supervisor never waits forever on a
// handle whose stop hangs past budget + grace ('infinity' waits, as in OTP).

import type { Clock, TimerHandle } from '../base/clock.js';
import type { ChildHandle } from './types.js';

export type ShutdownBudget = number | 'infinity';

export interface StopOutcome {
  outcome: 'stopped' | 'failed' | 'timeout';
  error?: unknown;
}

/** The child's own budget, cut to what is left before `deadline` (Infinity: no deadline). */
export function shutdownBudget(own: ShutdownBudget, deadline: number, now: number): ShutdownBudget {
  if (deadline === Infinity) return own;
  const left = Math.max(0, deadline - now);
  return own === 'infinity' ? left : Math.min(own, left);
}

/** Call `handle.stop(budget)` and wait for it, or give up `graceMs` after the budget. Never rejects. */
export async function stopWithin(
  handle: ChildHandle,
  budget: ShutdownBudget,
  clock: Clock,
  graceMs: number,
): Promise<StopOutcome> {
  const settled = (async () => handle.stop(budget))().then(
    (): StopOutcome => ({ outcome: 'stopped' }),
    (error: unknown): StopOutcome => ({ outcome: 'failed', error }),
  );
  if (budget === 'infinity') return settled;
  let timer: TimerHandle | undefined;
  const backstop = new Promise<StopOutcome>((resolve) => {
    timer = clock.setTimeout(() => resolve({ outcome: 'timeout' }), budget + graceMs);
  });
  const result = await Promise.race([settled, backstop]);
  clock.clearTimeout(timer);
  return result;
}
