import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/base/rng.js';
import { VirtualClock } from '../../../src/base/clock.js';
import { armStats, Binder, regression, DEFAULT_ROLLBACK_RULE, resolveBinding, type BindingRequest } from '../../../src/kernel/binding/index.js';
import { registry, signer, verifier } from './fixtures.js';
import { verifyManifest } from '../../../src/kernel/binding/index.js';

const canaryRequest = (percent: number, seed?: number): BindingRequest => ({
  id: 'scribe', mode: 'smooth', requires: [{ slot: 'asr', want: 'asr_local_v2..v3' }], must: { privacy: 'phi' },
  canary: { percent, ...(seed !== undefined && { seed }) },
});

describe('smooth canary', () => {
  it('routes close to p% of seeded bindings to the newest version, the rest to the previous stable one', () => {
    for (const percent of [5, 25, 50]) {
      const picks = Array.from({ length: 4_000 }, (_, seed) => resolveBinding(canaryRequest(percent, seed), registry).selections[0]);
      const share = picks.filter((s) => s.role === 'canary').length / picks.length;
      expect(Math.abs(share - percent / 100)).toBeLessThan(0.025);
      expect(new Set(picks.map((s) => `${s.role}:${s.version}`))).toEqual(new Set(['canary:v3', 'stable:v2.1']));
    }
  });

  it('is deterministic for the same seed', () => {
    for (let seed = 0; seed < 50; seed++) {
      const a = resolveBinding(canaryRequest(30, seed), registry).selections[0];
      const b = resolveBinding(canaryRequest(30, seed), registry).selections[0];
      expect(b).toEqual(a);
    }
  });

  it('draws from an injected rng in sequence, replayable from its seed', () => {
    const run = (): string[] => {
      const rng = seededRng(7);
      return Array.from({ length: 20 }, () => resolveBinding({ ...canaryRequest(50), canary: { percent: 50, rng } }, registry).selections[0].version);
    };
    const first = run();
    expect(run()).toEqual(first);
    expect(new Set(first).size).toBe(2);
  });

  it('records the draw and both versions, and does not split when only one version fits', () => {
    const s = resolveBinding(canaryRequest(100, 1), registry).selections[0];
    expect(s).toMatchObject({ role: 'canary', version: 'v3', canary: { percent: 100, newest: 'v3', stable: 'v2.1' } });
    const single = resolveBinding({ ...canaryRequest(50, 1), requires: [{ slot: 'asr', want: 'asr_local_v3' }] }, registry).selections[0];
    expect(single).toMatchObject({ role: 'highest', version: 'v3' });
    expect(single.canary).toBeUndefined();
  });

  it('needs a seed or rng to draw from', () => {
    expect(() => resolveBinding(canaryRequest(50), registry)).toThrow(/canary needs/);
    expect(new Binder({ registry, sign: signer, rng: seededRng(1) }).bind(canaryRequest(50)).body.selections[0].canary).toBeDefined();
  });
});

describe('rollback', () => {
  function splitTraffic(binder: Binder, latency: { canary: number; stable: number }, errors = { canary: 0, stable: 0 }, n = 200) {
    const triggered = [];
    for (let seed = 0; seed < n; seed++) {
      const m = binder.bind(canaryRequest(50, seed));
      const arm = m.body.selections[0].role === 'canary' ? 'canary' : 'stable';
      const ok = (seed % 100) >= errors[arm] * 100;
      triggered.push(...binder.recordSlo(m, { latencyMs: latency[arm] + (seed % 7), ok }));
    }
    return triggered;
  }

  it('marks the canary bad when its p95 latency regresses past stable × 1.2, and later bindings pick stable', () => {
    const binder = new Binder({ registry, sign: signer, clock: new VirtualClock(1_000) });
    const triggered = splitTraffic(binder, { canary: 150, stable: 100 });
    expect(triggered).toHaveLength(1);
    const [record] = triggered;
    expect(record).toMatchObject({ name: 'asr_local', canaryVersion: 'v3', stableVersion: 'v2.1', reason: 'latency' });
    expect(record.canary.samples).toBeGreaterThanOrEqual(DEFAULT_ROLLBACK_RULE.minSamples);
    expect(record.stable.samples).toBeGreaterThanOrEqual(DEFAULT_ROLLBACK_RULE.minSamples);
    expect(record.canary.p95LatencyMs).toBeGreaterThan(record.stable.p95LatencyMs * 1.2);
    expect(record.message).toMatch(/^canary p95 15\d ms > stable p95 10\d ms × 1.2 over \d+\/\d+ samples$/);
    expect(binder.isRolledBack('asr_local', 'v3')).toBe(true);

    for (let seed = 0; seed < 30; seed++) {
      const m = binder.bind(canaryRequest(50, seed));
      expect(m.body.selections[0]).toMatchObject({ version: 'v2.1', role: 'stable' });
      expect(m.body.selections[0].reasons.join(' ')).toContain('asr_local v3 skipped: rolled back after');
      expect(m.body.rollbacks).toEqual([record]);
      expect(m.body.boundAtMs).toBe(1_000);
      expect(verifyManifest(m, verifier)).toEqual({ ok: true });
    }
    expect(binder.rollbacks()).toEqual([record]);
  });

  it('rolls back on an error rate higher than stable by more than the margin', () => {
    const binder = new Binder({ registry, sign: signer });
    const [record] = splitTraffic(binder, { canary: 100, stable: 100 }, { canary: 0.2, stable: 0.02 });
    expect(record).toMatchObject({ reason: 'errors' });
    expect(record.canary.errorRate - record.stable.errorRate).toBeGreaterThan(0.05);
    expect(record.message).toContain('canary error rate');
  });

  it('keeps the canary while it stays within the rule, and waits for enough samples', () => {
    const binder = new Binder({ registry, sign: signer });
    expect(splitTraffic(binder, { canary: 110, stable: 100 })).toEqual([]);
    const impatient = new Binder({ registry, sign: signer, rollback: { minSamples: 150 } });
    expect(splitTraffic(impatient, { canary: 300, stable: 100 }, undefined, 200)).toEqual([]);
    expect(impatient.isRolledBack('asr_local', 'v3')).toBe(false);
  });

  it('computes nearest-rank p95 and compares by the documented rule', () => {
    const samples = Array.from({ length: 20 }, (_, i) => ({ latencyMs: i + 1, ok: i !== 0 }));
    expect(armStats(samples)).toEqual({ samples: 20, p95LatencyMs: 19, errorRate: 0.05 });
    const rule = { ...DEFAULT_ROLLBACK_RULE };
    const stable = { samples: 20, p95LatencyMs: 100, errorRate: 0.01 };
    expect(regression({ samples: 20, p95LatencyMs: 120, errorRate: 0.06 }, stable, rule)).toBeUndefined();
    expect(regression({ samples: 20, p95LatencyMs: 121, errorRate: 0 }, stable, rule)?.reason).toBe('latency');
    expect(regression({ samples: 20, p95LatencyMs: 100, errorRate: 0.07 }, stable, rule)?.reason).toBe('errors');
    expect(regression({ samples: 19, p95LatencyMs: 999, errorRate: 1 }, stable, rule)).toBeUndefined();
  });

  it('validates samples and rules', () => {
    const binder = new Binder({ registry, sign: signer });
    const m = binder.bind(canaryRequest(50, 1));
    expect(() => binder.recordSlo(m, { latencyMs: -1, ok: true })).toThrow(/SLO sample/);
    expect(() => new Binder({ registry, sign: signer, rollback: { latencyFactor: Number.NaN } })).toThrow(/rollback\.latencyFactor/);
  });
});
