// The shapes of the HRT lane's dispatcher: periodic tasks, the release a job is given, the
// events the lane reports (misses, overruns, failures, stops), per-task figures, and the typed
// errors. Times are milliseconds as reals on the injected clock.

import { AgentOsError } from '../../base/errors.js';

/** A job returned a Promise (or any thenable): HRT jobs must be synchronous. */
export const HRT_ASYNC_JOB = 'HRT_ASYNC_JOB';
/** A job threw. */
export const HRT_JOB_FAILED = 'HRT_JOB_FAILED';
/** A task's `safeDefault` threw while the dispatcher degraded a job. */
export const HRT_SAFE_DEFAULT_FAILED = 'HRT_SAFE_DEFAULT_FAILED';

/** A job of an HRT task broke the lane's rules (async) or failed (threw); `details.taskId` names it. */
export class HrtJobError extends AgentOsError {}

/** Time in ms with sub-ms precision; `performance.now()`-based in the lane, virtual in tests. */
export interface HrtClock {
  now(): number;
}

/**
 * The job a task runs at one release. The dispatcher reuses one object per task (no
 * allocation per job): read it during the call, copy it if you keep it.
 */
export interface HrtRelease {
  /** Job number k: the job released at epoch + offset + k·period. */
  readonly index: number;
  /** Absolute release time. */
  readonly releaseAt: number;
  /** Absolute deadline: releaseAt + deadlineMs. */
  readonly deadline: number;
}

/**
 * What happens to a job that would start after its deadline has passed, or that follows a job
 * which overran its WCET (and, for `stop` and `degrade`, to a job that failed):
 * `skip` drops it, `degrade` emits `safeDefault(release)` instead, `stop` stops the task.
 */
export type OverrunPolicy = 'skip' | 'degrade' | 'stop';

export const OVERRUN_POLICIES: readonly OverrunPolicy[] = ['skip', 'degrade', 'stop'];

/** One periodic HRT task. Jobs must be synchronous, bounded and allocation-light. */
export interface HrtJobTask<O = unknown> {
  id: string;
  periodMs: number;
  /** Relative deadline, 0 < D ≤ period; default the period. */
  deadlineMs?: number;
  /** Declared worst-case execution time; a job running longer is a WCET overrun. */
  wcetMs: number;
  /** Phase of the first release relative to the dispatcher's epoch (default 0). */
  offsetMs?: number;
  overrun: OverrunPolicy;
  job(release: HrtRelease): O;
  /** Required with `overrun: 'degrade'`: the output emitted in place of a job that is not run. */
  safeDefault?(release: HrtRelease): O;
}

/** Why a job was not run as released, or why a task stopped. */
export type HrtCause = 'deadline-passed' | 'wcet-overrun' | 'job-failed';

/** A copy of a release, safe to keep. */
export interface HrtReleaseRecord {
  index: number;
  releaseAt: number;
  deadline: number;
}

/** Reported through `onEvent`; rare by construction, so these are allocated. */
export type HrtEvent =
  /** A job ran and finished after its deadline; its output was still emitted. */
  | { type: 'miss'; taskId: string; release: HrtReleaseRecord; finishedAt: number; latenessMs: number; execMs: number }
  /** A job ran longer than the declared WCET; `action` is applied to the task's next job. */
  | { type: 'overrun'; taskId: string; release: HrtReleaseRecord; execMs: number; wcetMs: number; action: OverrunPolicy }
  /** A job was dropped (`skip`); `latenessMs` > 0 when its deadline had already passed. */
  | { type: 'skipped'; taskId: string; release: HrtReleaseRecord; cause: HrtCause; latenessMs: number }
  /** `safeDefault` was emitted in place of the job (`degrade`). */
  | { type: 'degraded'; taskId: string; release: HrtReleaseRecord; cause: HrtCause; latenessMs: number }
  /** A job threw or returned a thenable (HRT_ASYNC_JOB), or a `safeDefault` threw. */
  | { type: 'failed'; taskId: string; release: HrtReleaseRecord; error: HrtJobError; action: OverrunPolicy }
  /** The task stopped (`stop`); `dropped` counts its jobs abandoned by stopping, the triggering one included. */
  | { type: 'stopped'; taskId: string; release: HrtReleaseRecord; cause: HrtCause; dropped: number };

export interface HrtLatencyStats {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * Per-task figures. Every release is accounted exactly once:
 * releases = completions + skipped + degraded + failed + dropped + pending.
 * `misses` overlaps those outcomes: late completions plus jobs abandoned because their
 * deadline had passed before they could start.
 */
export interface HrtTaskStats {
  id: string;
  state: 'active' | 'stopped' | 'removed';
  stopCause?: HrtCause;
  periodMs: number;
  deadlineMs: number;
  wcetMs: number;
  overrun: OverrunPolicy;
  releases: number;
  /** Jobs that ran and returned an output (on time or late). */
  completions: number;
  skipped: number;
  degraded: number;
  /** Jobs that threw or returned a thenable. */
  failed: number;
  /** Released jobs abandoned because the task stopped or was removed. */
  dropped: number;
  /** Released, not yet handled. */
  pending: number;
  misses: number;
  wcetOverruns: number;
  /** Largest measured execution time of a job that ran (failed jobs included). */
  observedWcetMs: number;
  /** start − releaseAt of every job that ran. */
  jitterMs: HrtLatencyStats;
  /** finish − releaseAt of every completion. */
  responseMs: HrtLatencyStats;
  /** How late each miss was (finish − deadline, or start − deadline for an abandoned job). */
  latenessMs: HrtLatencyStats;
}
