import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/mailboxes/histogram.js';

/** The exact value at rank max(1, ceil(q·n)) of the sorted sample: the quantile the histogram estimates. */
const exactQuantile = (sorted: number[], q: number): number => sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;

/** Values spread over the whole resolved range, 1 µs .. 1 h, log-uniformly. */
const latencyArb = fc.double({ min: -3, max: Math.log10(3_600_000), noNaN: true }).map((e) => 10 ** e);

const QS = [0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1];

describe('LatencyHistogram', () => {
  it('reports zeros when empty', () => {
    const h = new LatencyHistogram();
    expect(h.snapshot()).toEqual({ count: 0, mean: 0, p50: 0, p99: 0, max: 0 });
    expect(h.quantile(0.5)).toBe(0);
    expect(h.min).toBe(0);
  });

  it('allocates its buckets on the first record only, and reuses them', () => {
    const h = new LatencyHistogram();
    expect((h as any).counts).toBeNull();
    h.record(1);
    const buckets = (h as any).counts;
    expect(buckets).toBeInstanceOf(Float64Array);
    expect(buckets.length).toBeLessThan(300); // ≈ 221 buckets for 5 % over 1 µs..1 h
    for (let i = 0; i < 1000; i++) h.record(i);
    h.reset();
    h.record(2);
    expect((h as any).counts).toBe(buckets);
  });

  it('reports the top rank as the exact max', () => {
    const h = new LatencyHistogram();
    for (const v of [1, 2, 3, 17.77]) h.record(v);
    expect(h.quantile(1)).toBe(17.77);
    expect(h.quantile(0.99)).toBe(17.77);
    expect(h.quantile(0.75)).not.toBe(3); // below the top rank it is a bucket estimate
    expect(Math.abs(h.quantile(0.75) - 3) / 3).toBeLessThanOrEqual(0.05);
  });

  it('keeps count, mean and max exact', () => {
    const h = new LatencyHistogram();
    for (const v of [1, 2, 3, 10, 0]) h.record(v);
    expect(h.count).toBe(5);
    expect(h.mean).toBe(3.2);
    expect(h.max).toBe(10);
    expect(h.min).toBe(0);
  });

  it('reports all-equal samples exactly (estimates are clamped to the observed min and max)', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 10; i++) h.record(7.3);
    const { mean, ...rest } = h.snapshot();
    expect(mean).toBeCloseTo(7.3, 12);
    expect(rest).toEqual({ count: 10, p50: 7.3, p99: 7.3, max: 7.3 });
    const z = new LatencyHistogram();
    for (let i = 0; i < 10; i++) z.record(0);
    expect(z.snapshot()).toEqual({ count: 10, mean: 0, p50: 0, p99: 0, max: 0 });
  });

  it('counts negative and NaN values as 0, and values beyond 1 h in the top bucket', () => {
    const h = new LatencyHistogram();
    h.record(-5);
    h.record(NaN);
    expect(h.snapshot()).toEqual({ count: 2, mean: 0, p50: 0, p99: 0, max: 0 });
    h.record(1e9);
    expect(h.max).toBe(1e9);
    expect(h.quantile(1)).toBe(1e9); // the top rank is the exact max
    h.record(2e9);
    expect(h.quantile(0.75)).toBeGreaterThanOrEqual(3_600_000 * 0.95); // rank 3 of [0, 0, 1e9, 2e9]: top bucket
    expect(h.quantile(0.75)).toBeLessThanOrEqual(3_600_000 * 1.05);
  });

  it('reset forgets everything', () => {
    const h = new LatencyHistogram();
    h.record(5);
    h.reset();
    expect(h.snapshot()).toEqual({ count: 0, mean: 0, p50: 0, p99: 0, max: 0 });
  });

  it('rejects invalid options', () => {
    expect(() => new LatencyHistogram({ relativeError: 0 })).toThrow(RangeError);
    expect(() => new LatencyHistogram({ relativeError: 1 })).toThrow(RangeError);
    expect(() => new LatencyHistogram({ minMs: 0 })).toThrow(RangeError);
    expect(() => new LatencyHistogram({ minMs: 10, maxMs: 5 })).toThrow(RangeError);
  });

  it('every quantile is within 5% of the exact quantile for values in 1 µs..1 h', () => {
    fc.assert(
      fc.property(fc.array(latencyArb, { minLength: 1, maxLength: 400 }), (values) => {
        const h = new LatencyHistogram();
        for (const v of values) h.record(v);
        const sorted = [...values].sort((a, b) => a - b);
        for (const q of QS) {
          const exact = exactQuantile(sorted, q);
          expect(Math.abs(h.quantile(q) - exact)).toBeLessThanOrEqual(0.05 * exact * (1 + 1e-9));
        }
      }),
    );
  });

  it('honours a custom relative error (1%)', () => {
    fc.assert(
      fc.property(fc.array(latencyArb, { minLength: 1, maxLength: 200 }), (values) => {
        const h = new LatencyHistogram({ relativeError: 0.01 });
        for (const v of values) h.record(v);
        const sorted = [...values].sort((a, b) => a - b);
        for (const q of QS) {
          const exact = exactQuantile(sorted, q);
          expect(Math.abs(h.quantile(q) - exact)).toBeLessThanOrEqual(0.01 * exact * (1 + 1e-9));
        }
      }),
    );
  });

  it('reports values under 1 µs (including 0) with an absolute error of at most 1 µs', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 0.002, noNaN: true }), { minLength: 1, maxLength: 100 }), (values) => {
        const h = new LatencyHistogram();
        for (const v of values) h.record(v);
        const sorted = [...values].sort((a, b) => a - b);
        for (const q of QS) {
          const exact = exactQuantile(sorted, q);
          expect(Math.abs(h.quantile(q) - exact)).toBeLessThanOrEqual(Math.max(0.001, 0.05 * exact) + 1e-12);
        }
      }),
    );
  });
});
