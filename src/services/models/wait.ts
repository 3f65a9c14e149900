// Waiting on the injected Clock, abortably: what paces the local model's
// stream and times out a remote one, so a VirtualClock drives both in tests.

import type { Clock } from '../../base/clock.js';
import { ModelCodes, ModelError } from './errors.js';

export function abortedError(what: string, signal: AbortSignal | undefined): ModelError {
  return new ModelError(ModelCodes.aborted, `${what} aborted by the caller`, { field: 'signal', ...(signal?.reason === undefined ? {} : { cause: signal.reason }) });
}

/** Resolves after `ms` on `clock`; rejects with MODEL_ABORTED if `signal` aborts first. */
export function sleep(clock: Clock, ms: number, signal: AbortSignal | undefined, what = 'model stream'): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortedError(what, signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(abortedError(what, signal));
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
