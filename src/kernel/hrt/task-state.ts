// Per-task state of the HRT dispatcher, allocated once when the task is added: the release
// counters, the reused release object, the outcome counters and the latency histograms.
// Also the validation of a task, which fails with INVALID_HRT_TASK naming the field.

import { ContractError } from '../../base/errors.js';
import { LatencyHistogram, type LatencyHistogramOptions } from '../../mailboxes/index.js';
import { INVALID_HRT_TASK, normaliseTask } from '../admission/task.js';
import {
  OVERRUN_POLICIES,
  type HrtCause, type HrtJobTask, type HrtLatencyStats, type HrtRelease, type HrtReleaseRecord, type HrtTaskStats, type OverrunPolicy,
} from './types.js';

/** 1 µs resolution, 1 % relative error, up to 10 min: ≈ 1,000 buckets (8 KB) per histogram. */
export const DEFAULT_HISTOGRAM: LatencyHistogramOptions = { relativeError: 0.01, minMs: 0.001, maxMs: 600_000 };

function invalid(field: string, message: string): ContractError {
  return new ContractError(INVALID_HRT_TASK, `${field} ${message}`, { field });
}

/** A histogram with its buckets already allocated, so the first job does not allocate them. */
function preallocated(options: LatencyHistogramOptions): LatencyHistogram {
  const h = new LatencyHistogram(options);
  h.record(0);
  h.reset();
  return h;
}

function latency(h: LatencyHistogram): HrtLatencyStats {
  return { count: h.count, mean: h.mean, p50: h.quantile(0.5), p99: h.quantile(0.99), p999: h.quantile(0.999), max: h.max };
}

/** Mutable twin of HrtRelease, handed to jobs read-only. */
interface MutableRelease {
  index: number;
  releaseAt: number;
  deadline: number;
}

export class TaskState<O> {
  readonly id: string;
  readonly task: HrtJobTask<O>;
  readonly periodMs: number;
  readonly deadlineMs: number;
  readonly wcetMs: number;
  readonly policy: OverrunPolicy;
  /** epoch + offset: the release time of job 0. */
  readonly phase: number;
  /** Reused for every job of this task. */
  readonly release: MutableRelease = { index: 0, releaseAt: 0, deadline: 0 };

  /** The first job this task releases (tasks added late join the epoch's grid). */
  readonly firstIndex: number;
  /** Next job to release: jobs [firstIndex, nextIndex) are released. */
  nextIndex: number;
  /** Oldest job not yet handled: jobs [headIndex, nextIndex) are pending. */
  headIndex: number;
  state: 'active' | 'stopped' | 'removed' = 'active';
  stopCause: HrtCause | undefined;
  /** The previous job overran its WCET: the policy applies to the next one. */
  overranPrev = false;

  completions = 0;
  skipped = 0;
  degraded = 0;
  failed = 0;
  dropped = 0;
  misses = 0;
  wcetOverruns = 0;
  observedWcetMs = 0;
  readonly jitter: LatencyHistogram;
  readonly response: LatencyHistogram;
  readonly lateness: LatencyHistogram;

  constructor(task: HrtJobTask<O>, epochMs: number, nowMs: number, histogram: LatencyHistogramOptions) {
    const normal = normaliseTask({ id: task?.id, periodMs: task?.periodMs, wcetMs: task?.wcetMs, deadlineMs: task?.deadlineMs }, 'task');
    if (normal.deadlineMs > normal.periodMs) {
      throw invalid('task.deadlineMs', `must be ≤ task.periodMs (${normal.periodMs}), got ${normal.deadlineMs}`);
    }
    const offset = task.offsetMs ?? 0;
    if (typeof offset !== 'number' || !Number.isFinite(offset) || offset < 0) {
      throw invalid('task.offsetMs', `must be a finite number ≥ 0, got ${String(offset)}`);
    }
    if (!OVERRUN_POLICIES.includes(task.overrun)) {
      throw invalid('task.overrun', `must be one of ${OVERRUN_POLICIES.join(', ')}, got ${String(task.overrun)}`);
    }
    if (typeof task.job !== 'function') throw invalid('task.job', `must be a function (task "${normal.id}")`);
    if (task.safeDefault !== undefined && typeof task.safeDefault !== 'function') {
      throw invalid('task.safeDefault', `must be a function (task "${normal.id}")`);
    }
    if (task.overrun === 'degrade' && task.safeDefault === undefined) {
      throw invalid('task.safeDefault', `is required with overrun 'degrade' (task "${normal.id}")`);
    }
    this.id = normal.id;
    this.task = task;
    this.periodMs = normal.periodMs;
    this.deadlineMs = normal.deadlineMs;
    this.wcetMs = normal.wcetMs;
    this.policy = task.overrun;
    this.phase = epochMs + offset;
    // Join the grid at the first release not in the past; the 1e-9 keeps a release due exactly now.
    this.firstIndex = Math.max(0, Math.ceil((nowMs - this.phase) / this.periodMs - 1e-9));
    this.nextIndex = this.firstIndex;
    this.headIndex = this.firstIndex;
    this.jitter = preallocated(histogram);
    this.response = preallocated(histogram);
    this.lateness = preallocated(histogram);
  }

  /** Absolute release time of job k; computed, never accumulated, so it does not drift. */
  releaseAt(k: number): number {
    return this.phase + k * this.periodMs;
  }

  /** Point the reused release object at job k and return it. */
  load(k: number): HrtRelease {
    const r = this.release;
    r.index = k;
    r.releaseAt = this.phase + k * this.periodMs;
    r.deadline = r.releaseAt + this.deadlineMs;
    return r;
  }

  record(): HrtReleaseRecord {
    const r = this.release;
    return { index: r.index, releaseAt: r.releaseAt, deadline: r.deadline };
  }

  /** Abandon every pending job and stop releasing; returns how many were dropped. */
  halt(state: 'stopped' | 'removed', cause?: HrtCause): number {
    const pending = this.nextIndex - this.headIndex;
    this.dropped += pending;
    this.headIndex = this.nextIndex;
    if (this.state === 'active') {
      this.state = state;
      this.stopCause = cause;
    } else if (state === 'removed') {
      this.state = 'removed';
    }
    return pending;
  }

  snapshot(): HrtTaskStats {
    return {
      id: this.id,
      state: this.state,
      ...(this.stopCause === undefined ? {} : { stopCause: this.stopCause }),
      periodMs: this.periodMs,
      deadlineMs: this.deadlineMs,
      wcetMs: this.wcetMs,
      overrun: this.policy,
      releases: this.nextIndex - this.firstIndex,
      completions: this.completions,
      skipped: this.skipped,
      degraded: this.degraded,
      failed: this.failed,
      dropped: this.dropped,
      pending: this.nextIndex - this.headIndex,
      misses: this.misses,
      wcetOverruns: this.wcetOverruns,
      observedWcetMs: this.observedWcetMs,
      jitterMs: latency(this.jitter),
      responseMs: latency(this.response),
      latenessMs: latency(this.lateness),
    };
  }
}
