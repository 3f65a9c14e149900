// The HRT lane's periodic dispatcher: releases each task's job k at epoch + offset + k·period,
// runs released jobs one at a time by earliest absolute deadline (non-preemptive: a JS job
// runs to completion), measures every job on the injected clock and accounts for every
// release. Misses, overruns, failures and stops are counted and reported, never hidden.
// Pure logic: the host supplies the clock and `sleepUntil` (Atomics.wait in the lane).

import { ContractError } from '../../base/errors.js';
import type { LatencyHistogramOptions } from '../../mailboxes/index.js';
import { INVALID_HRT_TASK } from '../admission/task.js';
import { DEFAULT_HISTOGRAM, TaskState } from './task-state.js';
import {
  HRT_ASYNC_JOB, HRT_JOB_FAILED, HRT_SAFE_DEFAULT_FAILED, HrtJobError,
  type HrtCause, type HrtClock, type HrtEvent, type HrtJobTask, type HrtRelease, type HrtTaskStats,
} from './types.js';

/** Slack for float comparisons of times (1 ns): sums like 0.1 + 0.2 must not turn into a miss. */
const EPS_MS = 1e-6;

export interface HrtDispatcherOptions<O> {
  clock: HrtClock;
  /** Block until the clock reads ≥ t (or earlier, e.g. on a ring notification); `runUntil` loops. */
  sleepUntil(t: number): void;
  /** Every output: a job's, or a `safeDefault` under `degrade`. Called synchronously; the release object is reused. */
  emit(taskId: string, output: O, release: HrtRelease): void;
  onEvent?(event: HrtEvent): void;
  /** Time origin of every task's release grid (default: `clock.now()` at construction). */
  epochMs?: number;
  /** Bucketing of the jitter, response and lateness histograms. */
  histogram?: LatencyHistogramOptions;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

function ignore(): void {}

/**
 * Periodic EDF over the tasks added. `step()` handles at most one job and returns when the
 * dispatcher next has work (≤ clock.now(): call again now; Infinity: no active task), so the
 * host can drain its rings between jobs; `runUntil(t)` loops step and sleep up to t.
 * Ties on the deadline go to the lower id; a task's own jobs run in release order.
 */
export class HrtDispatcher<O = unknown> {
  readonly epochMs: number;
  private readonly clock: HrtClock;
  private readonly sleep: (t: number) => void;
  private readonly emit: (taskId: string, output: O, release: HrtRelease) => void;
  private readonly onEvent: ((event: HrtEvent) => void) | undefined;
  private readonly histogram: LatencyHistogramOptions;
  /** Kept sorted by id, so a strict `<` scan breaks deadline ties towards the lower id. */
  private tasks: TaskState<O>[] = [];

  constructor(options: HrtDispatcherOptions<O>) {
    this.clock = options.clock;
    this.sleep = options.sleepUntil;
    this.emit = options.emit;
    this.onEvent = options.onEvent;
    this.histogram = options.histogram ?? DEFAULT_HISTOGRAM;
    this.epochMs = options.epochMs ?? this.clock.now();
  }

  /** Number of tasks on the dispatcher (stopped ones included until removed). */
  get size(): number {
    return this.tasks.length;
  }

  /**
   * Add a task; its first release is the first point of its grid (epoch + offset + k·period)
   * that is not in the past. Throws INVALID_HRT_TASK naming the field.
   */
  add(task: HrtJobTask<O>): void {
    const state = new TaskState(task, this.epochMs, this.clock.now(), this.histogram);
    if (this.find(state.id)) {
      throw new ContractError(INVALID_HRT_TASK, `task.id "${state.id}" is already on this dispatcher`, { field: 'task.id' });
    }
    let i = 0;
    while (i < this.tasks.length && this.tasks[i].id < state.id) i++;
    this.tasks.splice(i, 0, state);
  }

  /**
   * Remove a task; its jobs released by now and not yet handled count as dropped.
   * Returns its final figures, or undefined if unknown.
   */
  remove(id: string): HrtTaskStats | undefined {
    const i = this.tasks.findIndex((t) => t.id === id);
    if (i < 0) return undefined;
    const state = this.tasks[i];
    this.tasks.splice(i, 1);
    this.observe(state, this.clock.now());
    state.halt('removed');
    return state.snapshot();
  }

  /** Figures of one task, or of all in id order; releases are counted up to now (pending shows a backlog). */
  stats(): HrtTaskStats[];
  stats(id: string): HrtTaskStats | undefined;
  stats(id?: string): HrtTaskStats[] | HrtTaskStats | undefined {
    const now = this.clock.now();
    if (id === undefined) {
      return this.tasks.map((t) => {
        this.observe(t, now);
        return t.snapshot();
      });
    }
    const state = this.find(id);
    if (state === undefined) return undefined;
    this.observe(state, now);
    return state.snapshot();
  }

  /** Handle at most one job released by now; returns the time the dispatcher next has work. */
  step(): number {
    return this.stepWithin(Infinity);
  }

  /**
   * Run every job released at or before t (late ones included), sleeping between releases;
   * returns with the clock at ≥ t. Jobs released after t wait for the next call.
   */
  runUntil(t: number): void {
    for (;;) {
      const next = this.stepWithin(t);
      if (next > t) break;
      if (next > this.clock.now()) this.sleep(next);
    }
    if (t !== Infinity && this.clock.now() < t) this.sleep(t);
  }

  /** The earliest time any active task has an unhandled job (released or not); Infinity if none. */
  nextWorkAt(): number {
    let next = Infinity;
    const tasks = this.tasks;
    for (let i = 0; i < tasks.length; i++) {
      const s = tasks[i];
      if (s.state !== 'active') continue;
      const at = s.releaseAt(s.headIndex);
      if (at < next) next = at;
    }
    return next;
  }

  /** Count the task's releases up to `limit`. */
  private observe(s: TaskState<O>, limit: number): void {
    if (s.state !== 'active') return;
    while (s.releaseAt(s.nextIndex) <= limit) s.nextIndex++;
  }

  private find(id: string): TaskState<O> | undefined {
    return this.tasks.find((t) => t.id === id);
  }

  private stepWithin(horizon: number): number {
    const now = this.clock.now();
    const limit = now < horizon ? now : horizon;
    const tasks = this.tasks;
    let best: TaskState<O> | undefined;
    let bestDeadline = Infinity;
    for (let i = 0; i < tasks.length; i++) {
      const s = tasks[i];
      if (s.state !== 'active') continue;
      this.observe(s, limit);
      if (s.headIndex < s.nextIndex) {
        const deadline = s.releaseAt(s.headIndex) + s.deadlineMs;
        if (deadline < bestDeadline) {
          bestDeadline = deadline;
          best = s;
        }
      }
    }
    if (best !== undefined) this.dispatch(best);
    return this.nextWorkAt();
  }

  /** Decide what to do with the task's oldest pending job, and do it. */
  private dispatch(s: TaskState<O>): void {
    const release = s.load(s.headIndex++);
    const start = this.clock.now();
    if (start > release.deadline + EPS_MS) {
      s.misses++;
      s.lateness.record(start - release.deadline);
      this.abandon(s, release, 'deadline-passed', start - release.deadline);
    } else if (s.overranPrev) {
      s.overranPrev = false;
      this.abandon(s, release, 'wcet-overrun', 0);
    } else {
      this.run(s, release, start);
    }
  }

  private run(s: TaskState<O>, release: HrtRelease, start: number): void {
    let output: O | undefined;
    let thrown: unknown;
    let threw = false;
    try {
      output = s.task.job(release);
    } catch (err) {
      threw = true;
      thrown = err;
    }
    const finish = this.clock.now();
    const exec = finish - start;
    s.jitter.record(start - release.releaseAt);
    if (exec > s.observedWcetMs) s.observedWcetMs = exec;
    const overran = exec > s.wcetMs + EPS_MS;
    if (overran) s.wcetOverruns++;

    if (threw || isThenable(output)) {
      s.failed++;
      let error: HrtJobError;
      if (threw) {
        const why = thrown instanceof Error ? thrown.message : String(thrown);
        error = new HrtJobError(HRT_JOB_FAILED, `HRT job of "${s.id}" (release ${release.index}) threw: ${why}`, {
          cause: thrown, field: 'job', details: { taskId: s.id, index: release.index },
        });
      } else {
        // Keep a later rejection from surfacing as an unhandled rejection.
        (output as PromiseLike<unknown>).then(undefined, ignore);
        error = new HrtJobError(HRT_ASYNC_JOB, `HRT job of "${s.id}" (release ${release.index}) returned a Promise; HRT jobs must be synchronous (no await, no I/O)`, {
          field: 'job', details: { taskId: s.id, index: release.index },
        });
      }
      this.failedJob(s, release, error, exec, overran);
      return;
    }

    s.completions++;
    s.response.record(finish - release.releaseAt);
    const late = finish > release.deadline + EPS_MS;
    if (late) {
      s.misses++;
      s.lateness.record(finish - release.deadline);
    }
    if (overran && s.policy !== 'stop') s.overranPrev = true;
    this.emit(s.id, output as O, release);
    if (late) {
      this.onEvent?.({ type: 'miss', taskId: s.id, release: s.record(), finishedAt: finish, latenessMs: finish - release.deadline, execMs: exec });
    }
    if (overran) this.overran(s, release, exec);
  }

  private failedJob(s: TaskState<O>, release: HrtRelease, error: HrtJobError, exec: number, overran: boolean): void {
    if (overran && s.policy !== 'stop') s.overranPrev = true;
    if (s.policy === 'degrade') this.emitSafeDefault(s, release);
    this.onEvent?.({ type: 'failed', taskId: s.id, release: s.record(), error, action: s.policy });
    if (overran) this.overran(s, release, exec);
    else if (s.policy === 'stop') this.stop(s, 'job-failed', 0);
  }

  private overran(s: TaskState<O>, release: HrtRelease, exec: number): void {
    this.onEvent?.({ type: 'overrun', taskId: s.id, release: s.record(), execMs: exec, wcetMs: s.wcetMs, action: s.policy });
    if (s.policy === 'stop' && s.state === 'active') this.stop(s, 'wcet-overrun', 0);
  }

  /** The job is not run: apply the task's policy. */
  private abandon(s: TaskState<O>, release: HrtRelease, cause: HrtCause, latenessMs: number): void {
    switch (s.policy) {
      case 'skip':
        s.skipped++;
        this.onEvent?.({ type: 'skipped', taskId: s.id, release: s.record(), cause, latenessMs });
        return;
      case 'degrade':
        s.degraded++;
        this.emitSafeDefault(s, release);
        this.onEvent?.({ type: 'degraded', taskId: s.id, release: s.record(), cause, latenessMs });
        return;
      case 'stop':
        s.dropped++;
        this.stop(s, cause, 1);
        return;
    }
  }

  private stop(s: TaskState<O>, cause: HrtCause, alreadyDropped: number): void {
    const record = s.record();
    const dropped = s.halt('stopped', cause) + alreadyDropped;
    this.onEvent?.({ type: 'stopped', taskId: s.id, release: record, cause, dropped });
  }

  private emitSafeDefault(s: TaskState<O>, release: HrtRelease): void {
    let output: O;
    try {
      output = s.task.safeDefault!(release);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      const error = new HrtJobError(HRT_SAFE_DEFAULT_FAILED, `safeDefault of "${s.id}" (release ${release.index}) threw: ${why}`, {
        cause: err, field: 'safeDefault', details: { taskId: s.id, index: release.index },
      });
      this.onEvent?.({ type: 'failed', taskId: s.id, release: s.record(), error, action: s.policy });
      return;
    }
    this.emit(s.id, output, release);
  }
}
