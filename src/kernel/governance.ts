// Governance: the kernel's trusted path. Admission (contract → schedulability,
// compute, models), binding (sealed manifests), the policy engine (capabilities,
// consent, budgets) and the audit log, composed so that every decision about an
// actor is made here and recorded here.

import type { AgentDefinition } from '../actors/define.js';
import type { Clock } from '../base/clock.js';
import { AdmissionError, PolicyDenied } from '../base/errors.js';
import { AdmissionController, staticCatalog, type CatalogModel, type HrtPolicy, type NodeCapacity } from './admission/index.js';
import { admissionRequestOf, bindingRequestOf, contractOf, policyOf, profileOf, type RuntimeProfile } from './agent-contract.js';
import type { AuditLog, AuditRecordInput } from './audit/index.js';
import { Binder, staticRegistry, type BindingManifest, type RegistryEntry } from './binding/index.js';
import { contractHash, modelGlobMatches, type Contract } from './contract/index.js';
import { allows, PolicyEngine, type CallKind, type CheckRequest, type ConsentOptions, type Decision, type Rbac } from './policy/index.js';

export interface GovernanceOptions {
  clock: Clock;
  nodeId: string;
  audit: AuditLog;
  sign: (bytes: Uint8Array) => string;
  capacity: NodeCapacity;
  hrtPolicy?: HrtPolicy;
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

  constructor(private readonly options: GovernanceOptions) {
    this.audit = options.audit;
    this.conditions = options.conditions ?? [];
    this.admission = new AdmissionController({
      hrtPolicy: options.hrtPolicy ?? 'edf',
      capacity: options.capacity,
      catalog: staticCatalog(options.models),
    });
    this.binder = new Binder({ registry: staticRegistry(options.registry ?? []), sign: options.sign, clock: options.clock });
    this.policy = new PolicyEngine({
      clock: options.clock,
      ...(options.rbac ? { rbac: options.rbac } : {}),
      ...(options.consent ? { consent: options.consent } : {}),
      onDecision: (d) => this.record(policyRecord(d)),
      onApprovalEvent: () => {},
    });
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
    const decision = this.admission.check(admissionRequestOf(id, contract));
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
      this.admission.admit(admissionRequestOf(id, contract));
    } catch (err) {
      this.policy.unregister(id);
      throw err;
    }
    const admitted: Admitted = { contract, contractHash: hash, profile: profileOf(contract), manifest, tenant: t };
    this.admitted.set(id, admitted);
    this.record({
      kind: 'admission',
      decision: 'admitted',
      actor: id,
      tenant: t,
      subject: def.name,
      reason: decision.message,
      hashes: { contract: hash, ...(manifest ? { bindingManifest: manifest.hash } : {}) },
      data: { latency: contract.class.latency, ...(decision.hrt ? { hrtUtilisation: round(decision.hrt.after.utilisation) } : {}) },
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
        try {
          this.policy.budgets.charge({ tenant: admitted.tenant, actor: actorId, tokens: request.tokens });
        } catch (err) {
          this.record({ kind: 'budget', decision: 'budget-refused', actor: actorId, tenant: admitted.tenant, subject: request.name, reason: (err as Error).message });
          throw err;
        }
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


const round = (x: number): number => Math.round(x * 10_000) / 10_000;
