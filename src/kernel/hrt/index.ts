// The hard-real-time lane's pure core: the periodic EDF dispatcher and its types.
// The worker thread, rings and OS priority live with the lane host, not here.

export { HrtDispatcher, type HrtDispatcherOptions } from './dispatcher.js';
export { DEFAULT_HISTOGRAM } from './task-state.js';
export {
  HRT_ASYNC_JOB, HRT_JOB_FAILED, HRT_SAFE_DEFAULT_FAILED, HrtJobError, OVERRUN_POLICIES,
  type HrtCause, type HrtClock, type HrtEvent, type HrtJobTask, type HrtLatencyStats, type HrtRelease,
  type HrtReleaseRecord, type HrtTaskStats, type OverrunPolicy,
} from './types.js';
