// Driving a scenario on virtual time: let the node handle every queued message
// (and the promise callbacks they cause), then move the clock to the next timer,
// until the scenario's condition holds. Nothing here reads the wall clock, so a
// run is a function of its seed.

import { VirtualClock } from '../../base/clock.js';
import type { AgentOsNode } from '../node.js';
import { ExperimentCodes, ExperimentError } from './errors.js';

/** A VirtualClock that can tell when its next timer is due, so a run can jump straight to it. */
export class ExperimentClock extends VirtualClock {
  private readonly dues = new Map<unknown, number>();

  override setTimeout(fn: () => void, ms: number): unknown {
    const handle = super.setTimeout(() => {
      this.dues.delete(handle);
      fn();
    }, ms);
    this.dues.set(handle, this.now() + Math.max(0, ms));
    return handle;
  }

  override clearTimeout(handle: unknown): void {
    this.dues.delete(handle);
    super.clearTimeout(handle);
  }

  /** When the earliest pending timer is due (undefined when none is set). */
  nextTimerAt(): number | undefined {
    let next: number | undefined;
    for (const due of this.dues.values()) if (next === undefined || due < next) next = due;
    return next;
  }
}

/** Let the node work until nothing is runnable: scheduler slices and the promise callbacks between them. */
export async function settle(node: AgentOsNode): Promise<void> {
  // Two quiet turns in a row: a slice can schedule promise work that schedules another slice.
  for (let quiet = 0; quiet < 2; ) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    quiet = node.kernel.scheduler.hasWork() ? 0 : quiet + 1;
  }
}

export interface RunUntilOptions {
  /** Fail if the condition still does not hold this many virtual ms from now (default one hour). */
  horizonMs?: number;
  /** Step size when the clock cannot say when its next timer is due (a plain VirtualClock). Default 1 ms. */
  stepMs?: number;
}

/**
 * Alternate between settling the node and advancing the clock to its next timer
 * until `done()` holds. Throws EXPERIMENT_STALLED when no timer is left or the
 * horizon is passed while `done()` is still false.
 */
export async function runUntil(node: AgentOsNode, clock: VirtualClock, done: () => boolean, options: RunUntilOptions = {}): Promise<void> {
  const horizon = clock.now() + (options.horizonMs ?? 3_600_000);
  for (;;) {
    await settle(node);
    if (done()) return;
    const next = clock instanceof ExperimentClock ? clock.nextTimerAt() : clock.pending() > 0 ? clock.now() + (options.stepMs ?? 1) : undefined;
    if (next === undefined) throw new ExperimentError(ExperimentCodes.stalled, `the run is waiting at t=${clock.now()} ms with no timer left to fire`);
    if (next > horizon) throw new ExperimentError(ExperimentCodes.stalled, `the run did not finish within its horizon (t=${clock.now()} ms, next timer at ${next} ms, horizon ${horizon} ms)`, { field: 'horizonMs' });
    clock.advanceTo(next);
  }
}
