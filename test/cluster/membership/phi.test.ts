// The phi accrual failure detector: the formula, the sliding window, and the
// three properties the issue asks for (monotone in silence, low under regular
// heartbeats, a stopped peer crosses the threshold within the computed time).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PHI_OPTIONS, PhiAccrualDetector, detectionTimeMs, phiOf } from '../../../src/cluster/membership/phi.js';
import { ClusterError } from '../../../src/cluster/errors.js';

/** A detector fed heartbeats at the given inter-arrival times, starting at t = 0. */
function fed(intervals: readonly number[], options = {}): { fd: PhiAccrualDetector; last: number } {
  const fd = new PhiAccrualDetector(options);
  let t = 0;
  fd.heartbeat(t);
  for (const i of intervals) {
    t += i;
    fd.heartbeat(t);
  }
  return { fd, last: t };
}

describe('phiOf (logistic approximation of the normal CDF)', () => {
  it('is log10(2) at the mean; the CDF it implies is within 1.5e-4 of the normal CDF (Bowling et al.)', () => {
    expect(phiOf(1000, 1000, 100)).toBeCloseTo(Math.log10(2), 12);
    // 1 - Φ(y) for the standard normal distribution.
    const tails: Array<[number, number]> = [[-2, 0.9772499], [-1, 0.8413447], [0.5, 0.3085375], [1, 0.1586553], [2, 0.0227501], [3, 0.0013499], [4, 0.0000317], [5, 2.8665e-7]];
    for (const [y, tail] of tails) {
      const approxTail = 10 ** -phiOf(1000 + 100 * y, 1000, 100);
      expect(Math.abs(approxTail - tail)).toBeLessThan(1.5e-4);
    }
    // In the tail the approximation over-estimates φ a little (detects slightly early), as Akka's does.
    expect(phiOf(1400, 1000, 100)).toBeGreaterThan(-Math.log10(0.0000317));
  });

  it('is finite and non-negative far on either side (no overflow to NaN)', () => {
    expect(phiOf(0, 1e6, 1)).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(phiOf(0, 1e6, 1))).toBe(false);
    expect(phiOf(1e9, 1000, 100)).toBeGreaterThan(1000);
  });
});

describe('PhiAccrualDetector', () => {
  it('reports 0 before the first heartbeat and is seeded from the first-heartbeat estimate', () => {
    const fd = new PhiAccrualDetector();
    expect(fd.phi(123_456)).toBe(0);
    fd.heartbeat(0);
    expect(fd.mean()).toBe(1000);
    expect(fd.stdDeviation()).toBe(250);
    expect(fd.sampleCount).toBe(2);
  });

  it('keeps at most maxSampleSize samples and forgets the oldest', () => {
    const { fd } = fed([...Array(10).fill(100), ...Array(5).fill(300)], { maxSampleSize: 5, firstHeartbeatEstimateMs: 100 });
    expect(fd.sampleCount).toBe(5);
    expect(fd.mean()).toBe(300);
    expect(fd.stdDeviation()).toBe(0);
  });

  it('applies the minimum standard deviation and the acceptable pause', () => {
    const { fd, last } = fed(Array(50).fill(1000));
    // mean 1000 (+3000 pause), std floored at 100: φ at last + 4000 is φ at the mean.
    expect(fd.phi(last + 4000)).toBeCloseTo(Math.log10(2), 2);
    expect(fd.phi(last + 4000 + 300)).toBeCloseTo(phiOf(4300, 4000, 100), 2);
  });

  it('does not take the gap of an outage as a sample (the next detection is not slowed)', () => {
    const { fd, last } = fed(Array(30).fill(1000));
    const before = fd.mean();
    fd.heartbeat(last + 60_000); // back after a minute of silence
    expect(fd.mean()).toBeCloseTo(before, 6);
    fd.heartbeat(last + 61_000);
    expect(fd.isAvailable(last + 61_000 + 4000)).toBe(true);
    expect(fd.isAvailable(last + 61_000 + 4600)).toBe(false);
  });

  it('ignores a heartbeat older than the last one', () => {
    const { fd, last } = fed([1000, 1000]);
    fd.heartbeat(last - 500);
    expect(fd.lastHeartbeatAt).toBe(last);
  });

  it('rejects invalid options with CLUSTER_INVALID_OPTIONS naming the field', () => {
    for (const [options, field] of [
      [{ threshold: 0 }, 'failureDetector.threshold'],
      [{ minStdDeviationMs: -1 }, 'failureDetector.minStdDeviationMs'],
      [{ acceptableHeartbeatPauseMs: Number.NaN }, 'failureDetector.acceptableHeartbeatPauseMs'],
      [{ maxSampleSize: 1 }, 'failureDetector.maxSampleSize'],
      [{ firstHeartbeatEstimateMs: 0 }, 'failureDetector.firstHeartbeatEstimateMs'],
    ] as const) {
      const err = (() => {
        try {
          new PhiAccrualDetector(options);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(ClusterError);
      expect(err).toMatchObject({ code: 'CLUSTER_INVALID_OPTIONS', field });
    }
  });
});

describe('detection time', () => {
  it('for the defaults and 1 s heartbeats is ≈ 4523 ms after the last heartbeat', () => {
    const d = detectionTimeMs(1000);
    expect(d).toBeGreaterThan(4522);
    expect(d).toBeLessThan(4523);
    // = interval + acceptable pause + y*·minStd with y* ≈ 5.226
    expect((d - 1000 - DEFAULT_PHI_OPTIONS.acceptableHeartbeatPauseMs) / DEFAULT_PHI_OPTIONS.minStdDeviationMs).toBeCloseTo(5.226, 2);
  });

  it('grows with the threshold', () => {
    expect(detectionTimeMs(1000, { threshold: 1 })).toBeLessThan(detectionTimeMs(1000, { threshold: 8 }));
    expect(detectionTimeMs(1000, { threshold: 8 })).toBeLessThan(detectionTimeMs(1000, { threshold: 12 }));
  });
});

const intervals = fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 0, maxLength: 60 });

describe('properties', () => {
  it('φ is monotone (non-decreasing) in the time elapsed since the last heartbeat', () => {
    fc.assert(
      fc.property(intervals, fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 20_000 }), (ivs, a, b) => {
        const { fd, last } = fed(ivs);
        const [t1, t2] = a <= b ? [a, b] : [b, a];
        expect(fd.phi(last + t1)).toBeLessThanOrEqual(fd.phi(last + t2));
      }),
      { numRuns: 500 },
    );
  });

  it('regular heartbeats (interval 0.2–2 s, ±20% jitter) keep φ below 1 whenever the next one is due', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 200, max: 2000 }),
        fc.array(fc.double({ min: -0.2, max: 0.2, noNaN: true }), { minLength: 5, maxLength: 100 }),
        (interval, jitters) => {
          const fd = new PhiAccrualDetector();
          let t = 0;
          fd.heartbeat(t);
          for (const j of jitters) {
            const next = t + interval * (1 + j);
            expect(fd.phi(next)).toBeLessThan(1); // just before the heartbeat lands
            fd.heartbeat(next);
            t = next;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a peer that stops after regular heartbeats crosses the threshold exactly at detectionTimeMs (steady state), never before', () => {
    fc.assert(
      fc.property(fc.integer({ min: 500, max: 3000 }), fc.integer({ min: 120, max: 300 }), (interval, beats) => {
        // Seed the estimate with the interval, so the window is exactly regular (std under the floor).
        const { fd, last } = fed(Array(beats).fill(interval), { firstHeartbeatEstimateMs: interval, maxSampleSize: 1000 });
        const d = detectionTimeMs(interval);
        expect(fd.isAvailable(last + d - 1)).toBe(true);
        expect(fd.isAvailable(last + d + 1)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('with ±10% jitter a stopped peer is detected within 1.1·interval + pause + 5.3·max(0.13·interval, minStd)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 500, max: 2000 }),
        fc.array(fc.double({ min: -0.1, max: 0.1, noNaN: true }), { minLength: 20, maxLength: 100 }),
        (interval, jitters) => {
          // The window's mean is ≤ 1.1·interval and its deviation ≤ 0.13·interval (the two seed
          // samples at ±25% included), and φ(mean + 5.3·std) > 8 since y* ≈ 5.226.
          const { fd, last } = fed(jitters.map((j) => interval * (1 + j)), { firstHeartbeatEstimateMs: interval });
          const bound = 1.1 * interval + DEFAULT_PHI_OPTIONS.acceptableHeartbeatPauseMs + 5.3 * Math.max(0.13 * interval, DEFAULT_PHI_OPTIONS.minStdDeviationMs);
          expect(fd.isAvailable(last + bound)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
