// The policy engine: the decision the kernel takes on every tool, model and
// memory call — capabilities (intersected under delegation), human consent
// (consent.ts), token budgets — with every decision reported (decisions.ts).

import type { TokenSource } from '../../base/tokens.js';
import type { Clock } from '../../base/clock.js';
import { BudgetExceeded, ContractError, ErrorCodes } from '../../base/errors.js';
import { ApprovalQueue, type ApprovalEvent } from './approvals.js';
import { BudgetLedger, type BudgetLimits } from './budgets.js';
import { hashArgs } from './canonical.js';
import { CapabilitySet, intersect } from './capabilities.js';
import { PolicyCodes } from './codes.js';
import { abortReason, awaitConsent, type ConsentOptions, type GrantedConsent, type ResolvedConsentOptions } from './consent.js';
import { DecisionReporter, type CheckRequest, type Decision } from './decisions.js';
import type { Rbac } from './rbac.js';

export type { ConsentOptions } from './consent.js';
export type { CallKind, CheckRequest, Decision, DecisionKind } from './decisions.js';

export interface ActorPolicy {
  tenant: string;
  team?: string;
  /** The allowlist (patterns, see capabilities.ts). Anything else is denied. */
  capabilities: readonly string[];
  /** Capabilities that need a human approval on every call. */
  consentFor?: readonly string[];
  budgets?: BudgetLimits;
  /** Roles the actor holds in its tenant (and team), bound in the RBAC. */
  roles?: readonly string[];
  consent?: ConsentOptions;
}

export interface CheckOptions {
  /**
   * The caller's lifetime (e.g. the actor incarnation's). Once it aborts, the
   * check rejects with PolicyDenied CALL_ABORTED unless it has already
   * returned: before it starts nothing is asked; while awaiting consent the
   * approval is withdrawn; after consent the grant is left unused.
   */
  signal?: AbortSignal;
}

export interface PolicyEngineOptions {
  clock: Clock;
  rbac?: Rbac;
  /** Created (with `rbac` and `onApprovalEvent`) when omitted. */
  approvals?: ApprovalQueue;
  /** Created empty when omitted. */
  budgets?: BudgetLedger;
  /** Every decision. If it throws, the check fails with that error (fail closed). */
  onDecision: (decision: Decision) => void;
  /** Wired to the approval queue the engine creates. */
  onApprovalEvent?: (event: ApprovalEvent) => void;
  consent?: ConsentOptions;
  /** Where grant tokens get their randomness (default: the OS CSPRNG). */
  tokens?: TokenSource;
}

interface Registered {
  id: string;
  tenant: string;
  team: string | undefined;
  caps: CapabilitySet;
  consent: CapabilitySet;
  roles: readonly string[];
  options: ResolvedConsentOptions;
}

const KINDS: ReadonlySet<string> = new Set(['tool', 'model', 'memory']);

export class PolicyEngine {
  readonly approvals: ApprovalQueue;
  readonly budgets: BudgetLedger;
  readonly rbac: Rbac | undefined;
  private readonly decisions: DecisionReporter;
  private readonly consentDefaults: ResolvedConsentOptions;
  private readonly actors = new Map<string, Registered>();

  constructor(options: PolicyEngineOptions) {
    if (typeof options?.onDecision !== 'function') {
      throw new ContractError(PolicyCodes.invalidPolicy, 'PolicyEngine: onDecision is required', { field: 'onDecision' });
    }
    this.rbac = options.rbac;
    this.decisions = new DecisionReporter(options.clock, options.onDecision);
    this.approvals = options.approvals ?? new ApprovalQueue({ clock: options.clock, rbac: options.rbac, onEvent: options.onApprovalEvent, ...(options.tokens ? { newToken: () => options.tokens!(18) } : {}) });
    this.budgets = options.budgets ?? new BudgetLedger({ clock: options.clock });
    this.consentDefaults = { timeoutMs: 300_000, expiresInMs: 60_000, ...options.consent };
  }

  register(actorId: string, policy: ActorPolicy): void {
    const field = `actors.${actorId}`;
    if (typeof actorId !== 'string' || actorId.length === 0) throw invalid('actorId', 'must be a non-empty string');
    if (this.actors.has(actorId)) throw new ContractError(ErrorCodes.duplicateActor, `Actor "${actorId}" is already registered with the policy engine`, { field });
    if (typeof policy?.tenant !== 'string' || policy.tenant.length === 0) throw invalid(`${field}.tenant`, 'must be a non-empty string');
    const caps = CapabilitySet.of(policy.capabilities, `${field}.capabilities`);
    const consent = CapabilitySet.of(policy.consentFor ?? [], `${field}.consentFor`);
    const roles = policy.roles ?? [];
    if (roles.length > 0 && this.rbac === undefined) throw invalid(`${field}.roles`, 'roles need an Rbac in the engine options');
    const options = this.consentOptions(field, policy.consent);
    const scope = { tenant: policy.tenant, team: policy.team };
    const bound: string[] = [];
    try {
      for (const role of roles) {
        if (this.rbac!.rolesOf(actorId, scope).includes(role)) continue;
        this.rbac!.bind(actorId, role, scope);
        bound.push(role);
      }
      this.budgets.setActor(actorId, policy.budgets);
    } catch (err) {
      for (const role of bound) this.rbac!.unbind(actorId, role, scope);
      throw err;
    }
    this.actors.set(actorId, { id: actorId, tenant: policy.tenant, team: policy.team, caps, consent, roles: bound, options });
  }

  private consentOptions(field: string, overrides: ConsentOptions | undefined): Registered['options'] {
    const options = { ...this.consentDefaults, ...overrides };
    for (const key of ['timeoutMs', 'expiresInMs', 'escalationTimeoutMs'] as const) {
      const v = options[key];
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) {
        throw invalid(`${field}.consent.${key}`, `must be a positive number of ms, got ${String(v)}`);
      }
    }
    if (options.escalateTo !== undefined && this.rbac !== undefined && !this.rbac.roleNames().includes(options.escalateTo)) {
      throw invalid(`${field}.consent.escalateTo`, `names unknown role "${options.escalateTo}"`);
    }
    return options;
  }

  /** Forgets the actor, its budgets and the role bindings `register` made. */
  unregister(actorId: string): boolean {
    const a = this.actors.get(actorId);
    if (a === undefined) return false;
    this.actors.delete(actorId);
    this.budgets.setActor(actorId, undefined);
    for (const role of a.roles) this.rbac?.unbind(actorId, role, { tenant: a.tenant, team: a.team });
    return true;
  }

  /** The capability patterns the actor holds, intersected with `onBehalfOf`'s when given. */
  effectiveCapabilities(actorId: string, onBehalfOf?: string): string[] {
    const a = this.actors.get(actorId);
    if (a === undefined) return [];
    if (onBehalfOf === undefined) return [...a.caps.patterns];
    const p = this.actors.get(onBehalfOf);
    if (p === undefined || p.tenant !== a.tenant) return [];
    return intersect(a.caps.patterns, p.caps.patterns);
  }

  /**
   * Resolves with the final decision ('allowed' or 'consent-granted'), or
   * rejects with PolicyDenied / BudgetExceeded after reporting the refusal.
   * See CheckOptions.signal for cancellation (CALL_ABORTED).
   */
  async check(actorId: string, req: CheckRequest, options: CheckOptions = {}): Promise<Decision> {
    const a = this.actors.get(actorId);
    const name = req.name;
    const onBehalfOf = req.onBehalfOf;
    const signal = options?.signal;
    if (signal !== undefined && !isAbortSignal(signal)) {
      throw this.decisions.refuse(actorId, a?.tenant, req, undefined, PolicyCodes.invalidPolicy, `Actor "${actorId}": options.signal is not an AbortSignal`);
    }
    if (signal?.aborted === true) {
      throw this.decisions.refuse(actorId, a?.tenant, req, undefined, PolicyCodes.callAborted,
        `Call "${String(name)}" by actor "${actorId}" was aborted by its caller before the check${abortReason(signal)}`, 'aborted');
    }
    if (a === undefined) {
      throw this.decisions.refuse(actorId, undefined, req, undefined, PolicyCodes.unknownActor, `Actor "${actorId}" is not registered with the policy engine`);
    }
    if (typeof name !== 'string' || !KINDS.has(req.kind)) {
      throw this.decisions.refuse(actorId, a.tenant, req, undefined, PolicyCodes.capabilityDenied, `Actor "${actorId}" made a malformed ${String(req.kind)} call (name ${JSON.stringify(name)})`);
    }
    let allowed = a.caps.allows(name);
    let needsConsent = a.consent.allows(name);
    let principal: Registered | undefined;
    if (onBehalfOf !== undefined) {
      principal = this.actors.get(onBehalfOf);
      if (principal === undefined) {
        throw this.decisions.refuse(actorId, a.tenant, req, undefined, PolicyCodes.unknownActor, `Actor "${actorId}" acts for "${onBehalfOf}", which is not registered`);
      }
      if (principal.tenant !== a.tenant) {
        throw this.decisions.refuse(actorId, a.tenant, req, undefined, PolicyCodes.crossTenant,
          `Actor "${actorId}" (tenant "${a.tenant}") cannot act for "${onBehalfOf}" (tenant "${principal.tenant}")`);
      }
      allowed = allowed && principal.caps.allows(name);
      needsConsent = needsConsent || principal.consent.allows(name);
    }
    if (!allowed) {
      const whose = onBehalfOf === undefined ? '' : ` acting for "${onBehalfOf}"`;
      throw this.decisions.refuse(actorId, a.tenant, req, undefined, PolicyCodes.capabilityDenied,
        `Actor "${actorId}"${whose} lacks capability "${name}" (${req.kind} call)`);
    }
    let argsHash: string | undefined;
    if (req.args !== undefined) {
      try {
        argsHash = hashArgs(req.args);
      } catch (err) {
        throw this.decisions.refuseWith(actorId, a.tenant, req, undefined, err, 'denied');
      }
    }
    let consent: GrantedConsent | undefined;
    if (needsConsent) {
      consent = await awaitConsent(this.approvals, this.decisions, {
        party: a,
        req,
        argsHash,
        signal,
        stillRegistered: () => this.actors.get(a.id) === a && (principal === undefined || this.actors.get(principal.id) === principal),
      });
    }
    if (req.tokens !== undefined && this.budgets.hasLimits(a.tenant, actorId)) {
      try {
        this.budgets.charge({ tenant: a.tenant, actor: actorId, tokens: req.tokens });
      } catch (err) {
        throw this.decisions.refuseWith(actorId, a.tenant, req, argsHash, err, err instanceof BudgetExceeded ? 'budget-refused' : 'denied');
      }
    }
    return this.decisions.allow(actorId, a.tenant, req, argsHash, consent);
  }
}

function isAbortSignal(value: unknown): value is AbortSignal {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Partial<AbortSignal>;
  return typeof s.aborted === 'boolean' && typeof s.addEventListener === 'function' && typeof s.removeEventListener === 'function';
}

function invalid(field: string, why: string): ContractError {
  return new ContractError(PolicyCodes.invalidPolicy, `${field} ${why}`, { field });
}