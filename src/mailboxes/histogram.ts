// A fixed log-bucketed latency histogram for mailbox wait times.
// `record` is O(1) and allocation-free (buckets are allocated once, on the first record);
// quantiles are within `relativeError` (default 5%) of the exact value for values in [minMs, maxMs].

export interface LatencyHistogramOptions {
  /** Relative error bound on quantiles, 0 < e < 1 (default 0.05). */
  relativeError?: number;
  /** Smallest value resolved; smaller values (and 0) are reported as at most this (default 1 µs). */
  minMs?: number;
  /** Largest value resolved; larger values share the top bucket (default 1 h). */
  maxMs?: number;
}

export interface LatencySnapshot {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * Bucket 0 holds values ≤ minMs; bucket i ≥ 1 holds (minMs·γ^(i-1), minMs·γ^i] with
 * γ = (1+e)/(1-e), and reports minMs·2γ^i/(γ+1), which is within e of anything in the bucket.
 * Estimates are also clamped to the exact [min, max] seen.
 */
export class LatencyHistogram {
  readonly relativeError: number;
  readonly minMs: number;
  readonly maxMs: number;
  private readonly gamma: number;
  private readonly invLogGamma: number;
  private readonly buckets: number;
  private counts: Float64Array | null = null;
  private n = 0;
  private sum = 0;
  private lo = Infinity;
  private hi = 0;

  constructor(options: LatencyHistogramOptions = {}) {
    const e = options.relativeError ?? 0.05;
    const minMs = options.minMs ?? 0.001;
    const maxMs = options.maxMs ?? 3_600_000;
    if (!(e > 0 && e < 1)) throw new RangeError(`LatencyHistogram relativeError must be in (0, 1), got ${e}`);
    if (!(minMs > 0 && maxMs > minMs && maxMs < Infinity)) {
      throw new RangeError(`LatencyHistogram needs 0 < minMs < maxMs < Infinity, got ${minMs}, ${maxMs}`);
    }
    this.relativeError = e;
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.gamma = (1 + e) / (1 - e);
    this.invLogGamma = 1 / Math.log(this.gamma);
    this.buckets = Math.ceil(Math.log(maxMs / minMs) * this.invLogGamma) + 1;
  }

  /** Record one value in ms; negative or NaN values count as 0. */
  record(ms: number): void {
    if (!(ms >= 0)) ms = 0;
    const counts = this.counts ?? (this.counts = new Float64Array(this.buckets));
    let i = ms <= this.minMs ? 0 : Math.ceil(Math.log(ms / this.minMs) * this.invLogGamma);
    if (i >= this.buckets) i = this.buckets - 1;
    counts[i]!++;
    this.n++;
    this.sum += ms;
    if (ms > this.hi) this.hi = ms;
    if (ms < this.lo) this.lo = ms;
  }

  get count(): number {
    return this.n;
  }

  get mean(): number {
    return this.n === 0 ? 0 : this.sum / this.n;
  }

  get max(): number {
    return this.hi;
  }

  get min(): number {
    return this.n === 0 ? 0 : this.lo;
  }

  /**
   * Estimate of the value at rank max(1, ceil(q·count)) in sorted order (0 when empty):
   * q = 0.5 is the median; the top rank is the exact maximum.
   */
  quantile(q: number): number {
    const counts = this.counts;
    if (this.n === 0 || counts === null) return 0;
    const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * this.n));
    if (rank >= this.n) return this.hi;
    let seen = 0;
    let i = 0;
    for (; i < this.buckets - 1; i++) {
      seen += counts[i]!;
      if (seen >= rank) break;
    }
    const estimate = i === 0 ? this.minMs : (this.minMs * 2 * Math.pow(this.gamma, i)) / (this.gamma + 1);
    return Math.min(this.hi, Math.max(this.lo, estimate));
  }

  snapshot(): LatencySnapshot {
    return { count: this.n, mean: this.mean, p50: this.quantile(0.5), p99: this.quantile(0.99), max: this.hi };
  }

  /** Forget everything recorded (keeps the bucket storage). */
  reset(): void {
    this.counts?.fill(0);
    this.n = 0;
    this.sum = 0;
    this.lo = Infinity;
    this.hi = 0;
  }
}
