// Canary rollback: SLO samples from bindings feed per-version windows, and a canary whose p95
// latency or error rate regresses against the stable version it is tested beside is marked bad.
// The rule and figures are recorded, so every rollback can be explained after the fact.

import { ContractError } from '../../base/errors.js';
import { INVALID_BINDING_REQUEST } from './registry.js';

/** One observation of a bound agent's service level. */
export interface SloSample {
  latencyMs: number;
  ok: boolean;
  /** Attribute the sample to one slot only (default: every canary/stable slot of the binding). */
  slot?: string;
}

/**
 * Roll the canary back when both arms have at least `minSamples` samples (in windows of the
 * last `window`) and either canary p95 latency > stable p95 × `latencyFactor`, or canary error
 * rate > stable error rate + `errorMargin` (absolute, 0.05 = five percentage points).
 */
export interface RollbackRule {
  minSamples: number;
  latencyFactor: number;
  errorMargin: number;
  window: number;
}

export const DEFAULT_ROLLBACK_RULE: Readonly<RollbackRule> = { minSamples: 20, latencyFactor: 1.2, errorMargin: 0.05, window: 200 };

export interface ArmStats {
  samples: number;
  p95LatencyMs: number;
  errorRate: number;
}

export interface RollbackRecord {
  name: string;
  canaryVersion: string;
  stableVersion: string;
  reason: 'latency' | 'errors';
  message: string;
  canary: ArmStats;
  stable: ArmStats;
  rule: RollbackRule;
  /** Samples observed for this name when the rollback fired. */
  atSample: number;
}

/** Nearest-rank p95 and error rate of a window. */
export function armStats(samples: readonly SloSample[]): ArmStats {
  if (samples.length === 0) return { samples: 0, p95LatencyMs: 0, errorRate: 0 };
  const sorted = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  const p95 = sorted[Math.ceil(0.95 * sorted.length) - 1];
  return { samples: samples.length, p95LatencyMs: p95, errorRate: samples.filter((s) => !s.ok).length / samples.length };
}

/** The regression the rule sees between the two arms, if any (pure). */
export function regression(canary: ArmStats, stable: ArmStats, rule: RollbackRule): { reason: 'latency' | 'errors'; message: string } | undefined {
  if (canary.samples < rule.minSamples || stable.samples < rule.minSamples) return undefined;
  if (canary.p95LatencyMs > stable.p95LatencyMs * rule.latencyFactor) {
    return {
      reason: 'latency',
      message: `canary p95 ${canary.p95LatencyMs} ms > stable p95 ${stable.p95LatencyMs} ms × ${rule.latencyFactor} over ${canary.samples}/${stable.samples} samples`,
    };
  }
  if (canary.errorRate > stable.errorRate + rule.errorMargin) {
    const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
    return {
      reason: 'errors',
      message: `canary error rate ${pct(canary.errorRate)} > stable ${pct(stable.errorRate)} + ${pct(rule.errorMargin)} over ${canary.samples}/${stable.samples} samples`,
    };
  }
  return undefined;
}

function checkRule(rule: Partial<RollbackRule>): RollbackRule {
  const merged = { ...DEFAULT_ROLLBACK_RULE, ...rule };
  for (const [k, v] of Object.entries(merged)) {
    if (!Number.isFinite(v) || v < 0) throw new ContractError(INVALID_BINDING_REQUEST, `rollback.${k} must be a finite number ≥ 0, got ${v}`, { field: `rollback.${k}` });
  }
  if (merged.window < 1 || merged.minSamples > merged.window) {
    throw new ContractError(INVALID_BINDING_REQUEST, `rollback.window must be ≥ 1 and ≥ minSamples`, { field: 'rollback.window' });
  }
  return merged;
}

/** Per-version sample windows and the set of rolled-back versions. */
export class RollbackController {
  readonly rule: RollbackRule;
  private readonly windows = new Map<string, SloSample[]>();
  private readonly counts = new Map<string, number>();
  private readonly bad = new Map<string, RollbackRecord>();
  private readonly records: RollbackRecord[] = [];

  constructor(rule: Partial<RollbackRule> = {}) {
    this.rule = checkRule(rule);
  }

  /**
   * Record a sample for `version` of `name`, observed while `canaryVersion` was being tested
   * against `stableVersion`; returns the rollback it triggers, if any.
   */
  observe(name: string, version: string, pair: { canaryVersion: string; stableVersion: string }, sample: SloSample): RollbackRecord | undefined {
    const key = `${name}@${version}`;
    const window = this.windows.get(key) ?? [];
    window.push({ latencyMs: sample.latencyMs, ok: sample.ok });
    if (window.length > this.rule.window) window.shift();
    this.windows.set(key, window);
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    const canaryKey = `${name}@${pair.canaryVersion}`;
    if (this.bad.has(canaryKey)) return undefined;
    const canary = armStats(this.windows.get(canaryKey) ?? []);
    const stable = armStats(this.windows.get(`${name}@${pair.stableVersion}`) ?? []);
    const found = regression(canary, stable, this.rule);
    if (!found) return undefined;
    const record: RollbackRecord = {
      name, canaryVersion: pair.canaryVersion, stableVersion: pair.stableVersion, ...found,
      canary, stable, rule: { ...this.rule }, atSample: this.counts.get(name) ?? 0,
    };
    this.bad.set(canaryKey, record);
    this.records.push(record);
    return record;
  }

  /** Why `version` of `name` must not be bound, or undefined. */
  excluded(name: string, version: string): string | undefined {
    const r = this.bad.get(`${name}@${version}`);
    return r && `rolled back after ${r.atSample} samples: ${r.message}`;
  }

  rollbacks(): RollbackRecord[] {
    return this.records.map((r) => ({ ...r }));
  }

  /** Rollbacks of the given names, for sealing into a manifest. */
  rollbacksOf(names: ReadonlySet<string>): RollbackRecord[] {
    return this.records.filter((r) => names.has(r.name)).map((r) => ({ ...r }));
  }

  stats(name: string, version: string): ArmStats {
    return armStats(this.windows.get(`${name}@${version}`) ?? []);
  }
}
