// The binding request: what an agent's contract asks for (slots with version specs, hard
// `must` constraints, soft `prefer`, allowed fallbacks and the conditions in force), and
// its validation, which turns every malformed field into a ContractError naming it.

import { ContractError } from '../../base/errors.js';
import type { Rng } from '../../base/rng.js';
import { INVALID_BINDING_REQUEST, type ConstraintValue } from './registry.js';
import { parseVersionSpec, type VersionSpec } from './version.js';

/**
 * `strict`: pinned versions only, any mismatch refuses. `smooth`: highest compatible version in
 * the range, with an optional canary split and automatic rollback. `flexible`: like smooth
 * (without canary) plus policy-bounded substitutions from `allowFallbacks` while a condition holds.
 */
export type BindingMode = 'strict' | 'smooth' | 'flexible';

export const BINDING_CONDITIONS = ['bandwidth_low', 'context_exceeds_local', 'provider_unavailable'] as const;
export type BindingCondition = (typeof BINDING_CONDITIONS)[number];

export interface SlotRequirement {
  slot: string;
  /** `asr_local_v2` (pinned) or `asr_local_v2..v3` (range). */
  want: string;
  /** Optional artifact hash pin: only the entry with this hash will do. */
  hash?: string;
}

/**
 * May replace a slot's choice by `to` (a version spec) while `when` holds. `from` names the slot,
 * its `want` as written, or the wanted name without version.
 */
export interface FallbackRule {
  from: string;
  to: string;
  when: BindingCondition;
}

/** Route `percent`% of smooth bindings to the newest compatible version; draws come from `rng`, else a fresh `seededRng(seed)`. */
export interface CanaryOptions {
  percent: number;
  seed?: number;
  rng?: Rng;
}

export interface BindingRequest {
  /** Who asks (actor or workflow id), recorded in the manifest. */
  id?: string;
  mode: BindingMode;
  requires: readonly SlotRequirement[];
  /** Hard constraints on every selected entry's attributes; never relaxed, by any mode. */
  must?: Readonly<Record<string, ConstraintValue>>;
  /** Soft constraints: rank otherwise equal candidates. */
  prefer?: Readonly<Record<string, ConstraintValue>>;
  allowFallbacks?: readonly FallbackRule[];
  conditions?: ReadonlySet<BindingCondition> | readonly BindingCondition[];
  canary?: CanaryOptions;
  /** SLO targets the caller binds under (e.g. `{ p95LatencyMs: 400 }`), sealed into the manifest. */
  slo?: Readonly<Record<string, number>>;
}

/** A request after validation, with parsed specs. */
export interface CheckedRequest {
  request: BindingRequest;
  specs: VersionSpec[];
  fallbacks: { rule: FallbackRule; spec: VersionSpec }[];
  must: Record<string, ConstraintValue>;
  prefer: Record<string, ConstraintValue>;
  conditions: BindingCondition[];
}

function fail(field: string, message: string): never {
  throw new ContractError(INVALID_BINDING_REQUEST, `${field} ${message}`, { field });
}

function constraints(value: unknown, field: string): Record<string, ConstraintValue> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, 'must be an object of attribute → value');
  const out: Record<string, ConstraintValue> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) {
      fail(`${field}.${k}`, `must be a string, finite number or boolean, got ${JSON.stringify(v)}`);
    }
    out[k] = v;
  }
  return out;
}

function condition(value: unknown, field: string): BindingCondition {
  if (!(BINDING_CONDITIONS as readonly unknown[]).includes(value)) {
    fail(field, `must be one of ${BINDING_CONDITIONS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as BindingCondition;
}

export function checkRequest(request: BindingRequest): CheckedRequest {
  if (request?.mode !== 'strict' && request?.mode !== 'smooth' && request?.mode !== 'flexible') {
    fail('mode', `must be strict, smooth or flexible, got ${JSON.stringify(request?.mode)}`);
  }
  if (!Array.isArray(request.requires) || request.requires.length === 0) fail('requires', 'must list at least one slot');
  const slots = new Set<string>();
  const specs = request.requires.map((r, i) => {
    if (typeof r?.slot !== 'string' || r.slot.length === 0) fail(`requires[${i}].slot`, 'must be a non-empty string');
    if (slots.has(r.slot)) fail(`requires[${i}].slot`, `"${r.slot}" appears twice`);
    slots.add(r.slot);
    if (r.hash !== undefined && (typeof r.hash !== 'string' || r.hash.length === 0)) fail(`requires[${i}].hash`, 'must be a non-empty string');
    const spec = parseVersionSpec(r.want, `requires[${i}].want`);
    if (request.mode === 'strict' && !spec.pinned) {
      fail(`requires[${i}].want`, `"${r.want}": strict binding needs a pinned version (name_vN), not a range`);
    }
    return spec;
  });
  const fallbacks = (request.allowFallbacks ?? []).map((rule, i) => {
    const field = `allowFallbacks[${i}]`;
    if (typeof rule?.from !== 'string' || rule.from.length === 0) fail(`${field}.from`, 'must be a non-empty string');
    condition(rule.when, `${field}.when`);
    return { rule, spec: parseVersionSpec(rule.to, `${field}.to`) };
  });
  const conditions = [...new Set([...(request.conditions ?? [])].map((c, i) => condition(c, `conditions[${i}]`)))].sort();
  const { canary } = request;
  if (canary !== undefined) {
    if (typeof canary.percent !== 'number' || !(canary.percent >= 0 && canary.percent <= 100)) {
      fail('canary.percent', `must be a number in [0, 100], got ${JSON.stringify(canary.percent)}`);
    }
    if (canary.seed !== undefined && !Number.isInteger(canary.seed)) fail('canary.seed', 'must be an integer');
  }
  if (request.slo !== undefined) {
    for (const [k, v] of Object.entries(request.slo)) if (!Number.isFinite(v)) fail(`slo.${k}`, 'must be a finite number');
  }
  return {
    request, specs, fallbacks, conditions,
    must: constraints(request.must, 'must'),
    prefer: constraints(request.prefer, 'prefer'),
  };
}
