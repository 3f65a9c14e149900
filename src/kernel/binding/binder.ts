// The stateful shell around binding resolution: resolves a request against the registry with
// rolled-back versions excluded, seals the manifest, and feeds SLO samples from bound agents
// to the rollback controller so later smooth bindings route around a regressed canary.

import { ContractError } from '../../base/errors.js';
import type { Clock } from '../../base/clock.js';
import type { Rng } from '../../base/rng.js';
import { sealManifest, MANIFEST_FORMAT, type BindingManifest, type Signer } from './manifest.js';
import { INVALID_BINDING_REQUEST, type Registry } from './registry.js';
import type { BindingRequest } from './request.js';
import { resolveBinding } from './resolve.js';
import { RollbackController, type RollbackRecord, type RollbackRule, type SloSample } from './rollback.js';

export interface BinderOptions {
  registry: Registry;
  sign: Signer;
  rollback?: Partial<RollbackRule>;
  /** Canary draws for requests that bring neither `canary.seed` nor `canary.rng`. */
  rng?: Rng;
  /** Stamps `boundAtMs` when given. */
  clock?: Clock;
}

export class Binder {
  private readonly registry: Registry;
  private readonly sign: Signer;
  private readonly rng: Rng | undefined;
  private readonly clock: Clock | undefined;
  private readonly controller: RollbackController;
  private sequence = 0;

  constructor(options: BinderOptions) {
    if (typeof options?.sign !== 'function') throw new ContractError(INVALID_BINDING_REQUEST, 'Binder needs a sign(bytes) function', { field: 'sign' });
    this.registry = options.registry;
    this.sign = options.sign;
    this.rng = options.rng;
    this.clock = options.clock;
    this.controller = new RollbackController(options.rollback);
  }

  /** Resolve and seal. Throws ContractError (malformed request) or AdmissionError (`BINDING_REFUSED`). */
  bind(request: BindingRequest): BindingManifest {
    const resolution = resolveBinding(request, this.registry, {
      excluded: (name, version) => this.controller.excluded(name, version),
      ...(this.rng && { rng: this.rng }),
    });
    this.sequence++;
    const names = new Set(resolution.selections.map((s) => s.name));
    return sealManifest({
      format: MANIFEST_FORMAT,
      bindingId: `${request.id ?? 'binding'}#${this.sequence}`,
      requestId: request.id ?? null,
      mode: resolution.mode,
      must: resolution.must,
      prefer: resolution.prefer,
      conditions: resolution.conditions,
      slo: { ...request.slo },
      selections: resolution.selections,
      substitutions: resolution.substitutions,
      rollbacks: this.controller.rollbacksOf(names),
      boundAtMs: this.clock ? this.clock.now() : null,
    }, this.sign);
  }

  /**
   * Feed one SLO observation of a binding. Only canary-split selections (role `canary` or
   * `stable` with canary figures) are tracked. Returns the rollbacks this sample triggered.
   */
  recordSlo(binding: BindingManifest, sample: SloSample): RollbackRecord[] {
    if (!Number.isFinite(sample?.latencyMs) || sample.latencyMs < 0 || typeof sample.ok !== 'boolean') {
      throw new ContractError(INVALID_BINDING_REQUEST, 'an SLO sample needs latencyMs ≥ 0 and ok: boolean', { field: 'sample' });
    }
    const triggered: RollbackRecord[] = [];
    for (const s of binding.body.selections) {
      if (!s.canary || (sample.slot !== undefined && sample.slot !== s.slot)) continue;
      const r = this.controller.observe(s.name, s.version, { canaryVersion: s.canary.newest, stableVersion: s.canary.stable }, sample);
      if (r) triggered.push(r);
    }
    return triggered;
  }

  rollbacks(): RollbackRecord[] {
    return this.controller.rollbacks();
  }

  /** Whether `version` of `name` has been rolled back. */
  isRolledBack(name: string, version: string): boolean {
    return this.controller.excluded(name, version) !== undefined;
  }
}
