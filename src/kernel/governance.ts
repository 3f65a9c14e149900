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
import { PolicyEngine, type CallKind, type CheckRequest, type ConsentOptions, type Decision, type Rbac } from './policy/index.js';

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
    this.admission.admit(admissionRequestOf(id, contract));
    const policy = policyOf(contract, t);
    // Roles bind only where the node has an RBAC model to bind them in.
    if (!this.options.rbac) delete policy.roles;
    this.policy.register(id, policy);
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
   * The policy check of a sensitive call. Tools and memory are checked against
   * the contract's capabilities (with consent and budgets); models against its
   * `modelPolicy.allow`. Every decision is audited. Throws on denial.
   */
  async check(actorId: string, request: SyscallRequest): Promise<Decision | undefined> {
    if (request.kind === 'model') {
      const admitted = this.admitted.get(actorId);
      const allow = admitted?.contract.modelPolicy?.allow ?? [];
      if (!allow.some((glob) => modelGlobMatches(glob, request.name))) {
        this.record({ kind: 'policy', decision: 'denied', actor: actorId, tenant: admitted?.tenant, subject: request.name, reason: 'model not in modelPolicy.allow' });
        throw new PolicyDenied('MODEL_DENIED', `actor "${actorId}" may not call model "${request.name}": not in its contract's modelPolicy.allow (${allow.join(', ') || 'empty'})`, {
          field: 'modelPolicy.allow',
        });
      }
      if (request.tokens !== undefined && admitted) {
        try {
          this.policy.budgets.charge({ tenant: admitted.tenant, actor: actorId, tokens: request.tokens });
        } catch (err) {
          this.record({ kind: 'budget', decision: 'budget-refused', actor: actorId, tenant: admitted.tenant, subject: request.name, reason: (err as Error).message });
          throw err;
        }
      }
      this.record({ kind: 'policy', decision: 'allowed', actor: actorId, tenant: admitted?.tenant, subject: request.name, data: { kind: 'model' } });
      return undefined;
    }
    const check: CheckRequest = { kind: request.kind, name: request.name };
    if (request.args !== undefined) check.args = request.args;
    if (request.tokens !== undefined) check.tokens = request.tokens;
    if (request.onBehalfOf !== undefined) check.onBehalfOf = request.onBehalfOf;
    if (request.reason !== undefined) check.reason = request.reason;
    return this.policy.check(actorId, check);
  }

  /** Append to the audit log (kernel decisions only). */
  record(input: AuditRecordInput): void {
    this.audit.append(stripUndefined(input));
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
    data: stripUndefined({ kind: d.kind, onBehalfOf: d.onBehalfOf, approvalId: d.approvalId, by: d.by, tokens: d.tokens, code: d.code }),
  };
}

function stripUndefined<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
  return out as T;
}

const round = (x: number): number => Math.round(x * 10_000) / 10_000;
