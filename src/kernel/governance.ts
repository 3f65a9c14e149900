// Governance: the kernel's trusted path. Admission (contract → schedulability,
// compute, models), binding (sealed manifests), the policy engine (capabilities,
// consent, budgets) and the audit log, composed so that every decision about an
// actor is made here and recorded here.

import type { TokenSource } from '../base/tokens.js';
import type { AgentDefinition } from '../actors/define.js';
import type { Clock } from '../base/clock.js';
import { AdmissionError, PolicyDenied } from '../base/errors.js';
import { AdmissionController, staticCatalog, type CatalogModel, type HrtPolicy, type NodeCapacity } from './admission/index.js';
import { admissionRequestOf, bindingRequestOf, contractOf, policyOf, profileOf, type RuntimeProfile } from './agent-contract.js';
import type { AuditLog, AuditRecordInput } from './audit/index.js';
import { Binder, staticRegistry, type BindingManifest, type RegistryEntry } from './binding/index.js';
import { contractHash, modelGlobMatches, type Contract } from './contract/index.js';
import type { BudgetAlert } from './policy/budgets.js';
import { allows, PolicyEngine, type CallKind, type CheckRequest, type ConsentOptions, type Decision, type Rbac } from './policy/index.js';

export interface GovernanceOptions {
  clock: Clock;
  nodeId: string;
  audit: AuditLog;
  sign: (bytes: Uint8Array) => string;
  capacity: NodeCapacity;
  hrtPolicy?: HrtPolicy;
  /** Where grant tokens get their randomness (default: the OS CSPRNG). */
  tokens?: TokenSource;
  /** HRT lanes lane actors are partitioned over (default 1). */
  hrtLanes?: number;
  models: CatalogModel[];
  registry?: RegistryEntry[];
  /** Conditions flexible bindings may react to (`bandwidth_low`, `provider_unavailable`, …). */
  conditions?: string[];
  rbac?: Rbac;
  /** Node-wide consent defaults: approval timeout, escalation role and its timeout, grant expiry. */
  consent?: ConsentOptions;
}

/** What admission hands back for a started actor. */
export interface Admitted {
  contract: Contract;
  contractHash: string;
  profile: RuntimeProfile;
  manifest: BindingManifest | undefined;
  tenant: string;
  /** The HRT lane a lane actor (one whose definition has `lane`) was placed on. */
  lane?: number;
}

export interface SyscallRequest {
  kind: CallKind;
  name: string;
  args?: unknown;
  tokens?: number;
  onBehalfOf?: string;
  reason?: string;
}

export const DEFAULT_TENANT = 'default';

export class Governance {
  readonly admission: AdmissionController;
  readonly policy: PolicyEngine;
  readonly binder: Binder;
  readonly audit: AuditLog;
  private readonly admitted = new Map<string, Admitted>();
  private readonly conditions: string[];
  /** Model tokens charged at the check, per actor and model, until the gateway's handler claims them (oldest first). */
  private readonly reservations = new Map<string, number[]>();

  constructor(private readonly options: GovernanceOptions) {
    this.audit = options.audit;
    this.conditions = options.conditions ?? [];
    this.admission = new AdmissionController({
      hrtPolicy: options.hrtPolicy ?? 'edf',
      ...(options.hrtLanes === undefined ? {} : { hrtLanes: options.hrtLanes }),
      capacity: options.capacity,
      catalog: staticCatalog(options.models),
    });
    this.binder = new Binder({ registry: staticRegistry(options.registry ?? []), sign: options.sign, clock: options.clock });
    this.policy = new PolicyEngine({
      clock: options.clock,
      ...(options.rbac ? { rbac: options.rbac } : {}),
      ...(options.consent ? { consent: options.consent } : {}),
      ...(options.tokens ? { tokens: options.tokens } : {}),
      onDecision: (d) => this.record(policyRecord(d)),
      onApprovalEvent: () => {},
    });
    this.policy.budgets.onAlert((a) => this.record(alertRecord(a)));
  }

  /** The runtime profile of a definition (validates its contract). */
  profile(def: AgentDefinition): RuntimeProfile {
    return profileOf(contractOf(def));
  }

  /**
   * Admit an actor: validate its contract, test it against the node, bind its
   * preferred versions and register its policy. Throws (and audits) on refusal;
   * on success the reservation holds until `release`.
   */
  admit(id: string, def: AgentDefinition, tenant: string | undefined): Admitted {
    const existing = this.admitted.get(id);
    if (existing) return existing;
    const t = tenant ?? DEFAULT_TENANT;
    let contract: Contract;
    try {
      contract = contractOf(def);
    } catch (err) {
      this.record({ kind: 'admission', decision: 'refused', actor: id, tenant: t, subject: def.name, reason: (err as Error).message });
      throw err;
    }
    const hash = contractHash(contract);
    const request = { ...admissionRequestOf(id, contract), ...(def.lane && contract.class.latency === 'HRT' ? { lane: true } : {}) };
    const decision = this.admission.check(request);
    if (!decision.admitted) {
      this.record({ kind: 'admission', decision: 'refused', actor: id, tenant: t, subject: def.name, reason: decision.message, hashes: { contract: hash } });
      const first = decision.refusals[0];
      throw new AdmissionError('ADMISSION_REFUSED', decision.message, {
        field: first?.field ?? 'contract',
        details: { refusals: decision.refusals },
      });
    }
    let manifest: BindingManifest | undefined;
    const bindingRequest = bindingRequestOf(id, contract, this.conditions);
    if (bindingRequest) {
      try {
        manifest = this.binder.bind(bindingRequest);
      } catch (err) {
        this.record({ kind: 'binding', decision: 'refused', actor: id, tenant: t, subject: def.name, reason: (err as Error).message, hashes: { contract: hash } });
        throw err;
      }
    }
    const policy = policyOf(contract, t);
    // Roles bind only where the node has an RBAC model to bind them in.
    if (!this.options.rbac) delete policy.roles;
    try {
      this.policy.register(id, policy);
    } catch (err) {
      this.record({ kind: 'admission', decision: 'refused', actor: id, tenant: t, subject: def.name, reason: (err as Error).message, hashes: { contract: hash } });
      throw err;
    }
    try {
      this.admission.admit(request);
    } catch (err) {
      this.policy.unregister(id);
      throw err;
    }
    const admitted: Admitted = { contract, contractHash: hash, profile: profileOf(contract), manifest, tenant: t, ...(decision.lane === undefined ? {} : { lane: decision.lane }) };
    this.admitted.set(id, admitted);
    this.record({
      kind: 'admission',
      decision: 'admitted',
      actor: id,
      tenant: t,
      subject: def.name,
      reason: decision.message,
      hashes: { contract: hash, ...(manifest ? { bindingManifest: manifest.hash } : {}) },
      data: { latency: contract.class.latency, ...(decision.hrt ? { hrtUtilisation: round(decision.hrt.after.utilisation) } : {}), ...(decision.lane === undefined ? {} : { lane: decision.lane }) },
    });
    if (manifest) {
      this.record({
        kind: 'binding',
        decision: 'sealed',
        actor: id,
        tenant: t,
        subject: def.name,
        hashes: { bindingManifest: manifest.hash },
        data: { mode: manifest.body.mode, selections: manifest.body.selections.map((s) => `${s.slot}=${s.name}@${s.version}`) },
      });
    }
    return admitted;
  }

  admittedActor(id: string): Admitted | undefined {
    return this.admitted.get(id);
  }

  /** Free an actor's reservations and policy (it is gone for good). */
  release(id: string): void {
    if (!this.admitted.delete(id)) return;
    for (const key of [...this.reservations.keys()]) if (key.startsWith(`${id}\u0000`)) this.reservations.delete(key);
    this.admission.release(id);
    this.policy.unregister(id);
  }

  /**
   * The cheap half of the check, before the handler is looked up or its
   * arguments validated: is the name within the caller's contract at all? A
   * denial is audited and thrown here, so an actor without the capability
   * learns nothing about what the node has.
   */
  async precheck(actorId: string, request: SyscallRequest): Promise<void> {
    if (request.kind === 'model') {
      this.modelAllowed(actorId, request);
      return;
    }
    const effective = this.policy.effectiveCapabilities(actorId, request.onBehalfOf);
    if (!allows(effective, request.name)) await this.check(actorId, request); // denies, audits, throws
  }

  /**
   * The policy check of a sensitive call. Tools and memory are checked against
   * the contract's capabilities (with consent and budgets); models against its
   * `modelPolicy.allow` (intersected with the principal's when acting on its
   * behalf). Every decision is audited. Throws on denial; `signal` withdraws a
   * pending consent request when the caller goes away.
   */
  async check(actorId: string, request: SyscallRequest, signal?: AbortSignal): Promise<Decision | undefined> {
    if (request.kind === 'model') {
      const admitted = this.modelAllowed(actorId, request);
      if (request.tokens !== undefined) {
        this.chargeModel(actorId, admitted.tenant, request.name, request.tokens);
        const key = reservationKey(actorId, request.name);
        this.reservations.set(key, [...(this.reservations.get(key) ?? []), request.tokens]);
      }
      this.record({
        kind: 'policy',
        decision: 'allowed',
        actor: actorId,
        tenant: admitted.tenant,
        subject: request.name,
        data: { kind: 'model', ...(request.onBehalfOf ? { onBehalfOf: request.onBehalfOf } : {}), ...(request.tokens !== undefined ? { tokens: request.tokens } : {}) },
      });
      return undefined;
    }
    const check: CheckRequest = { kind: request.kind, name: request.name };
    if (request.args !== undefined) check.args = request.args;
    if (request.tokens !== undefined) check.tokens = request.tokens;
    if (request.onBehalfOf !== undefined) check.onBehalfOf = request.onBehalfOf;
    if (request.reason !== undefined) check.reason = request.reason;
    return this.policy.check(actorId, check, signal ? { signal } : undefined);
  }

  /**
   * The tokens the check of `actorId`'s call to `model` charged, for the
   * service that runs the call to settle (oldest first); undefined when the
   * call declared none. Each reservation is claimed once.
   */
  claimModelReservation(actorId: string, model: string): number | undefined {
    const key = reservationKey(actorId, model);
    const queue = this.reservations.get(key);
    const tokens = queue?.shift();
    if (queue && queue.length === 0) this.reservations.delete(key);
    return tokens;
  }

  /** Charge `tokens` for an allowed model call that declared none (audited and thrown when over budget). */
  reserveModelTokens(actorId: string, model: string, tokens: number): void {
    const admitted = this.modelAllowed(actorId, { kind: 'model', name: model });
    this.chargeModel(actorId, admitted.tenant, model, tokens);
  }

  /**
   * Settle a model call: the `reserved` tokens charged for it become the
   * `actual` tokens it used (refund or overrun), audited with both. `tenant` is
   * the caller's at the call (it may have stopped since).
   */
  settleModelTokens(actorId: string, tenant: string, model: string, reserved: number, actual: number, data: Record<string, unknown> = {}): number {
    const delta = this.policy.budgets.settle({ tenant, actor: actorId }, reserved, actual);
    this.record({ kind: 'budget', decision: 'settled', actor: actorId, tenant, subject: model, data: { ...data, reserved, actual, delta } });
    return delta;
  }

  private chargeModel(actorId: string, tenant: string, model: string, tokens: number): void {
    try {
      this.policy.budgets.charge({ tenant, actor: actorId, tokens });
    } catch (err) {
      this.record({ kind: 'budget', decision: 'budget-refused', actor: actorId, tenant, subject: model, reason: (err as Error).message });
      throw err;
    }
  }

  /** A model call must be in the caller's `modelPolicy.allow` — and the principal's, for a delegated call. */
  private modelAllowed(actorId: string, request: SyscallRequest): Admitted {
    const admitted = this.admitted.get(actorId);
    const deny = (code: string, message: string, field: string, tenant?: string): never => {
      this.record({ kind: 'policy', decision: 'denied', actor: actorId, tenant, subject: request.name, reason: message, data: { kind: 'model', onBehalfOf: request.onBehalfOf } });
      throw new PolicyDenied(code, message, { field });
    };
    if (!admitted) return deny('UNKNOWN_ACTOR', `no admitted actor "${actorId}" on this node`, 'actor');
    const parties: [string, Admitted][] = [[actorId, admitted]];
    if (request.onBehalfOf !== undefined) {
      const principal = this.admitted.get(request.onBehalfOf);
      if (!principal) return deny('UNKNOWN_ACTOR', `no admitted actor "${request.onBehalfOf}" to act on behalf of`, 'onBehalfOf', admitted.tenant);
      if (principal.tenant !== admitted.tenant) {
        return deny('CROSS_TENANT', `"${actorId}" (tenant ${admitted.tenant}) may not act for "${request.onBehalfOf}" (tenant ${principal.tenant})`, 'onBehalfOf', admitted.tenant);
      }
      parties.push([request.onBehalfOf, principal]);
    }
    for (const [who, party] of parties) {
      const allow = party.contract.modelPolicy?.allow ?? [];
      if (!allow.some((glob) => modelGlobMatches(glob, request.name))) {
        deny('MODEL_DENIED', `actor "${who}" may not use model "${request.name}": not in its contract's modelPolicy.allow (${allow.join(', ') || 'empty'})`, 'modelPolicy.allow', admitted.tenant);
      }
    }
    return admitted;
  }

  /** Append to the audit log (kernel decisions only). */
  record(input: AuditRecordInput): void {
    this.audit.append(input);
  }
}

function policyRecord(d: Decision): AuditRecordInput {
  const kind = d.decision.startsWith('consent') ? 'consent' : d.decision === 'budget-refused' ? 'budget' : 'policy';
  return {
    kind,
    decision: d.decision,
    actor: d.actor,
    ...(d.tenant === undefined ? {} : { tenant: d.tenant }),
    subject: d.name,
    reason: d.reason,
    ...(d.argsHash === undefined ? {} : { hashes: { arguments: d.argsHash } }),
    data: { kind: d.kind, onBehalfOf: d.onBehalfOf, approvalId: d.approvalId, by: d.by, tokens: d.tokens, code: d.code },
  };
}

function alertRecord(a: BudgetAlert): AuditRecordInput {
  const share = Math.round((a.used / a.limit) * 100);
  return {
    kind: 'budget',
    decision: 'alert',
    actor: a.actor,
    tenant: a.tenant,
    subject: `${a.scope}:${a.id}`,
    reason: `${a.scope} "${a.id}" has used ${share}% of its ${a.budget} limit ${a.limit} (alert at ${Math.round(a.threshold * 100)}%)`,
    data: { scope: a.scope, id: a.id, budget: a.budget, limit: a.limit, used: a.used, threshold: a.threshold },
  };
}

const reservationKey = (actorId: string, model: string): string => `${actorId}\u0000${model}`;

const round = (x: number): number => Math.round(x * 10_000) / 10_000;
