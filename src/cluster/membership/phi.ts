// The phi accrual failure detector (Hayashibara et al., 2004), with the
// parameters Akka uses. Pure: it is told heartbeat times and asked about a
// time; it never reads a clock. φ = -log10(1 - F(elapsed)) where F is the CDF of
// a normal distribution fitted to the recent inter-arrival times, shifted by
// an acceptable pause and with a floor under the standard deviation.

import { ClusterCodes, ClusterError } from '../errors.js';

export interface PhiOptions {
  /** φ at or above which the peer is considered unavailable. Default 8. */
  threshold: number;
  /** Inter-arrival times kept in the sliding window. Default 1000. */
  maxSampleSize: number;
  /** Floor under the standard deviation, so a very regular peer is not judged on microseconds. Default 100 ms. */
  minStdDeviationMs: number;
  /** Added to the mean: this much silence beyond the usual interval is tolerated (GC, a busy event loop). Default 3000 ms. */
  acceptableHeartbeatPauseMs: number;
  /** Assumed interval before any has been measured. Default 1000 ms. */
  firstHeartbeatEstimateMs: number;
}

export const DEFAULT_PHI_OPTIONS: Readonly<PhiOptions> = Object.freeze({
  threshold: 8,
  maxSampleSize: 1000,
  minStdDeviationMs: 100,
  acceptableHeartbeatPauseMs: 3000,
  firstHeartbeatEstimateMs: 1000,
});

export function resolvePhiOptions(input: Partial<PhiOptions> = {}, field = 'failureDetector'): PhiOptions {
  const o = { ...DEFAULT_PHI_OPTIONS, ...input };
  const positive = (key: keyof PhiOptions, allowZero = false): void => {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
      throw new ClusterError(ClusterCodes.invalidOptions, `${field}.${key} must be a ${allowZero ? 'non-negative' : 'positive'} finite number, got ${String(v)}`, { field: `${field}.${key}` });
    }
  };
  positive('threshold');
  positive('minStdDeviationMs');
  positive('acceptableHeartbeatPauseMs', true);
  positive('firstHeartbeatEstimateMs');
  if (!Number.isSafeInteger(o.maxSampleSize) || o.maxSampleSize < 2) {
    throw new ClusterError(ClusterCodes.invalidOptions, `${field}.maxSampleSize must be an integer ≥ 2, got ${String(o.maxSampleSize)}`, { field: `${field}.maxSampleSize` });
  }
  return o;
}

/**
 * φ for `elapsedMs` of silence given the (already shifted) mean and standard
 * deviation, using the logistic approximation of the normal CDF
 * (Bowling et al. 2009): 1 - F(y) ≈ 1 / (1 + e^z), z = y(1.5976 + 0.070566 y²),
 * y = (elapsed - mean) / std. Hence φ = log10(1 + e^z), computed so that it
 * neither overflows for large z nor loses precision for very negative z.
 * Strictly increasing in elapsed (dz/dy > 0).
 */
export function phiOf(elapsedMs: number, meanMs: number, stdDevMs: number): number {
  const y = (elapsedMs - meanMs) / stdDevMs;
  const z = y * (1.5976 + 0.070566 * y * y);
  const ln = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
  return ln / Math.LN10;
}

/**
 * Inter-arrival statistics over a sliding window (a ring buffer with running
 * sums) and φ for the time since the last heartbeat.
 */
export class PhiAccrualDetector {
  readonly options: PhiOptions;
  private readonly samples: Float64Array;
  private head = 0;
  private count = 0;
  private sum = 0;
  private sumSq = 0;
  private pushesSinceResum = 0;
  private last: number | undefined;

  constructor(options: Partial<PhiOptions> = {}) {
    this.options = resolvePhiOptions(options);
    this.samples = new Float64Array(this.options.maxSampleSize);
  }

  /** Time of the last heartbeat, or undefined before the first. */
  get lastHeartbeatAt(): number | undefined {
    return this.last;
  }

  /** Number of inter-arrival samples in the window. */
  get sampleCount(): number {
    return this.count;
  }

  /** Records a heartbeat arriving at `at` (ms on the caller's clock). */
  heartbeat(at: number): void {
    if (this.last === undefined) {
      // No measurement yet: seed the window with two samples around the estimate
      // (mean = estimate, std = estimate / 4) so φ is defined from the start.
      const mean = this.options.firstHeartbeatEstimateMs;
      const std = mean / 4;
      this.push(mean - std);
      this.push(mean + std);
      this.last = at;
      return;
    }
    const interval = at - this.last;
    if (interval < 0) return; // out of order on the caller's clock: ignore
    // The first heartbeat after the peer was judged unavailable is not a sample:
    // a long outage would otherwise inflate the mean and slow the next detection.
    if (this.isAvailable(at)) this.push(interval);
    this.last = at;
  }

  /** Mean of the window (ms), before the acceptable pause is added. */
  mean(): number {
    return this.count === 0 ? this.options.firstHeartbeatEstimateMs : this.sum / this.count;
  }

  /** Standard deviation of the window (ms), before the floor is applied. */
  stdDeviation(): number {
    if (this.count === 0) return 0;
    const m = this.sum / this.count;
    return Math.sqrt(Math.max(0, this.sumSq / this.count - m * m));
  }

  /** Suspicion level at `at`; 0 before the first heartbeat (nothing to suspect yet). */
  phi(at: number): number {
    if (this.last === undefined) return 0;
    const elapsed = Math.max(0, at - this.last);
    const mean = this.mean() + this.options.acceptableHeartbeatPauseMs;
    const std = Math.max(this.stdDeviation(), this.options.minStdDeviationMs);
    return phiOf(elapsed, mean, std);
  }

  isAvailable(at: number): boolean {
    return this.phi(at) < this.options.threshold;
  }

  private push(value: number): void {
    const cap = this.samples.length;
    if (this.count === cap) {
      const old = this.samples[this.head];
      this.sum -= old;
      this.sumSq -= old * old;
    } else {
      this.count++;
    }
    this.samples[this.head] = value;
    this.head = (this.head + 1) % cap;
    this.sum += value;
    this.sumSq += value * value;
    // Running sums drift when fractional values are added and removed for a long
    // time; recompute them exactly once per window turn.
    if (++this.pushesSinceResum >= cap) this.resum();
  }

  private resum(): void {
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < this.count; i++) {
      const v = this.samples[i];
      sum += v;
      sumSq += v * v;
    }
    this.sum = sum;
    this.sumSq = sumSq;
    this.pushesSinceResum = 0;
  }
}

/**
 * Steady-state detection time: how long after the last heartbeat φ reaches the
 * threshold for a peer that had been sending exactly every `intervalMs` (so the
 * window's mean is `intervalMs` and its deviation is under the floor).
 * = interval + acceptable pause + y*·minStd, where φ(y*) = threshold.
 * With the defaults and a 1 s interval: ≈ 4523 ms (4522.6).
 */
export function detectionTimeMs(intervalMs: number, options: Partial<PhiOptions> = {}): number {
  const o = resolvePhiOptions(options);
  const mean = intervalMs + o.acceptableHeartbeatPauseMs;
  const std = o.minStdDeviationMs;
  // φ is strictly increasing in elapsed: bisect between 0 and a bound past the crossing.
  if (phiOf(0, mean, std) >= o.threshold) return 0;
  let lo = 0;
  let hi = mean + std;
  while (phiOf(hi, mean, std) < o.threshold) hi += (hi - mean) * 2;
  for (let i = 0; i < 100 && hi - lo > 1e-6; i++) {
    const mid = (lo + hi) / 2;
    if (phiOf(mid, mean, std) < o.threshold) lo = mid;
    else hi = mid;
  }
  return hi;
}
