// The policy engine: the decision the kernel takes on every tool, model and
// memory call — capabilities (intersected under delegation), human consent,
// token budgets — with every decision reported through `onDecision`.

import type { Clock } from '../../base/clock.js';
import { AgentOsError, BudgetExceeded, ContractError, ErrorCodes, PolicyDenied } from '../../base/errors.js';
import { ApprovalQueue, type ApprovalEvent, type ApprovalOutcome } from './approvals.js';
import { BudgetLedger, type BudgetLimits } from './budgets.js';
import { hashArgs } from './canonical.js';
import { CapabilitySet, intersect } from './capabilities.js';
import { PolicyCodes } from './codes.js';
import type { Rbac } from './rbac.js';

export type CallKind = 'tool' | 'model' | 'memory';

export type DecisionKind =
  | 'allowed'
  | 'denied'
  | 'consent-requested'
  | 'consent-granted'
  | 'consent-rejected'
  | 'consent-expired'
  /** The pending approval was withdrawn (the caller's signal aborted while waiting). */
  | 'consent-withdrawn'
  /** The caller's signal aborted before the check began or after consent was given. */
  | 'aborted'
  | 'budget-refused';

/** One policy decision, plain data, ready for the audit log. */
export interface Decision {
  actor: string;
  /** Undefined only when the actor is unknown. */
  tenant: string | undefined;
  kind: CallKind;
  name: string;
  decision: DecisionKind;
  /** Canonical SHA-256 of the call's args; undefined when the call has none. */
  argsHash: string | undefined;
  reason: string;
  onBehalfOf: string | undefined;
  at: number;
  /** Error code for denials and refusals. */
  code?: string;
  approvalId?: string;
  /** Who approved or rejected. */
  by?: string;
  tokens?: number;
}

export interface ConsentOptions {
  /** How long a human has before escalation (or expiry). Default 5 min. */
  timeoutMs?: number;
  /** Role also addressed after the first timeout. */
  escalateTo?: string;
  escalationTimeoutMs?: number;
  /** Lifetime of a granted approval. Default 60 s. */
  expiresInMs?: number;
}

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

export interface CheckRequest {
  kind: CallKind;
  /** The capability name of the call, e.g. `web.fetch`. */
  name: string;
  args?: unknown;
  /** Tokens to charge against the budgets. */
  tokens?: number;
  /** The actor this one acts for: the effective capabilities are the intersection. */
  onBehalfOf?: string;
  /** Principal that asked for the call (may not approve it). Default: onBehalfOf, else the actor. */
  requester?: string;
  /** Shown to the approver. */
  reason?: string;
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
}

interface Registered {
  id: string;
  tenant: string;
  team: string | undefined;
  caps: CapabilitySet;
  consent: CapabilitySet;
  roles: readonly string[];
  options: Required<Pick<ConsentOptions, 'timeoutMs' | 'expiresInMs'>> & ConsentOptions;
}

const KINDS: ReadonlySet<string> = new Set(['tool', 'model', 'memory']);
const ALLOWED = 'within capabilities';

export class PolicyEngine {
  readonly approvals: ApprovalQueue;
  readonly budgets: BudgetLedger;
  readonly rbac: Rbac | undefined;
  private readonly clock: Clock;
  private readonly onDecision: (decision: Decision) => void;
  private readonly consentDefaults: Required<Pick<ConsentOptions, 'timeoutMs' | 'expiresInMs'>> & ConsentOptions;
  private readonly actors = new Map<string, Registered>();

  constructor(options: PolicyEngineOptions) {
    if (typeof options?.onDecision !== 'function') {
      throw new ContractError(PolicyCodes.invalidPolicy, 'PolicyEngine: onDecision is required', { field: 'onDecision' });
    }
    this.clock = options.clock;
    this.rbac = options.rbac;
    this.onDecision = options.onDecision;
    this.approvals = options.approvals ?? new ApprovalQueue({ clock: options.clock, rbac: options.rbac, onEvent: options.onApprovalEvent });
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
      throw this.refuse(actorId, a?.tenant, req, undefined, PolicyCodes.invalidPolicy, `Actor "${actorId}": options.signal is not an AbortSignal`);
    }
    if (signal?.aborted === true) {
      throw this.refuse(actorId, a?.tenant, req, undefined, PolicyCodes.callAborted,
        `Call "${String(name)}" by actor "${actorId}" was aborted by its caller before the check${abortReason(signal)}`, 'aborted');
    }
    if (a === undefined) {
      throw this.refuse(actorId, undefined, req, undefined, PolicyCodes.unknownActor, `Actor "${actorId}" is not registered with the policy engine`);
    }
    if (typeof name !== 'string' || !KINDS.has(req.kind)) {
      throw this.refuse(actorId, a.tenant, req, undefined, PolicyCodes.capabilityDenied, `Actor "${actorId}" made a malformed ${String(req.kind)} call (name ${JSON.stringify(name)})`);
    }
    let allowed = a.caps.allows(name);
    let needsConsent = a.consent.allows(name);
    let principal: Registered | undefined;
    if (onBehalfOf !== undefined) {
      principal = this.actors.get(onBehalfOf);
      if (principal === undefined) {
        throw this.refuse(actorId, a.tenant, req, undefined, PolicyCodes.unknownActor, `Actor "${actorId}" acts for "${onBehalfOf}", which is not registered`);
      }
      if (principal.tenant !== a.tenant) {
        throw this.refuse(actorId, a.tenant, req, undefined, PolicyCodes.crossTenant,
          `Actor "${actorId}" (tenant "${a.tenant}") cannot act for "${onBehalfOf}" (tenant "${principal.tenant}")`);
      }
      allowed = allowed && principal.caps.allows(name);
      needsConsent = needsConsent || principal.consent.allows(name);
    }
    if (!allowed) {
      const whose = onBehalfOf === undefined ? '' : ` acting for "${onBehalfOf}"`;
      throw this.refuse(actorId, a.tenant, req, undefined, PolicyCodes.capabilityDenied,
        `Actor "${actorId}"${whose} lacks capability "${name}" (${req.kind} call)`);
    }
    let argsHash: string | undefined;
    if (req.args !== undefined) {
      try {
        argsHash = hashArgs(req.args);
      } catch (err) {
        throw this.refuseWith(actorId, a.tenant, req, undefined, err, 'denied');
      }
    }
    let consent: Extract<ApprovalOutcome, { status: 'granted' }> | undefined;
    if (needsConsent) consent = await this.awaitConsent(a, principal, req, argsHash, signal);
    if (req.tokens !== undefined && this.budgets.hasLimits(a.tenant, actorId)) {
      try {
        this.budgets.charge({ tenant: a.tenant, actor: actorId, tokens: req.tokens });
      } catch (err) {
        throw this.refuseWith(actorId, a.tenant, req, argsHash, err, err instanceof BudgetExceeded ? 'budget-refused' : 'denied');
      }
    }
    const decision: Decision = {
      actor: actorId,
      tenant: a.tenant,
      kind: req.kind,
      name,
      decision: consent === undefined ? 'allowed' : 'consent-granted',
      argsHash,
      reason: consent === undefined ? ALLOWED : `approved by "${consent.by}"`,
      onBehalfOf,
      at: this.clock.now(),
    };
    if (consent !== undefined) {
      decision.approvalId = consent.id;
      decision.by = consent.by;
    }
    if (req.tokens !== undefined) decision.tokens = req.tokens;
    this.onDecision(decision);
    return decision;
  }

  private async awaitConsent(
    a: Registered,
    principal: Registered | undefined,
    req: CheckRequest,
    argsHash: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Extract<ApprovalOutcome, { status: 'granted' }>> {
    const o = a.options;
    let pending: { id: string; promise: Promise<ApprovalOutcome> };
    try {
      pending = this.approvals.request({
        actor: a.id,
        tenant: a.tenant,
        team: a.team,
        requester: req.requester ?? req.onBehalfOf ?? a.id,
        onBehalfOf: req.onBehalfOf,
        capability: req.name,
        args: req.args,
        argsHash,
        reason: req.reason,
        timeoutMs: o.timeoutMs,
        escalateTo: o.escalateTo,
        escalationTimeoutMs: o.escalationTimeoutMs,
        expiresInMs: o.expiresInMs,
      });
    } catch (err) {
      throw this.refuseWith(a.id, a.tenant, req, argsHash, err, 'denied');
    }
    this.report(a.id, a.tenant, req, argsHash, 'consent-requested', `awaiting human approval ${pending.id}`, { approvalId: pending.id });
    // The caller going away withdraws the request: a human can no longer
    // approve a call nobody will make (nor a retry double it). The actor is a
    // party to its own request, so the withdrawal needs no approver rights.
    const onAbort = (): void => {
      try {
        this.approvals.withdraw(pending.id, { by: a.id, reason: `caller aborted${abortReason(signal!)}` });
      } catch {
        // Already decided: the outcome is in flight and the check below refuses it.
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    // Aborted by a hook (onDecision, onApprovalEvent) before the listener was attached.
    if (signal?.aborted === true) onAbort();
    let outcome: ApprovalOutcome;
    try {
      outcome = await pending.promise;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const approvalId = outcome.id;
    if (signal?.aborted === true || outcome.status === 'withdrawn') {
      // Withdrawn (by our abort or through the queue), or aborted once the
      // outcome was in: a grant is left unused and expires on its own.
      const withdrawn = outcome.status === 'withdrawn';
      const what = withdrawn ? `withdrawn (approval ${approvalId})` : `aborted by its caller after approval ${approvalId} was ${outcome.status}`;
      const why = signal?.aborted === true ? abortReason(signal) : '';
      throw this.refuse(a.id, a.tenant, req, argsHash, PolicyCodes.callAborted, `Call "${req.name}" by actor "${a.id}" was ${what}${why}`,
        withdrawn ? 'consent-withdrawn' : 'aborted', outcome.status === 'granted' ? { approvalId, by: outcome.by } : { approvalId });
    }
    if (outcome.status === 'rejected') {
      throw this.refuse(a.id, a.tenant, req, argsHash, PolicyCodes.consentRejected,
        `"${outcome.by}" rejected "${req.name}" for actor "${a.id}": ${outcome.reason}`, 'consent-rejected', { approvalId, by: outcome.by });
    }
    if (outcome.status === 'expired') {
      const how = outcome.escalated ? ' after escalation' : '';
      throw this.refuse(a.id, a.tenant, req, argsHash, PolicyCodes.consentExpired,
        `No approval for "${req.name}" (actor "${a.id}") before the deadline${how}`, 'consent-expired', { approvalId });
    }
    // Zero trust across the wait: the parties must still be registered as they were.
    if (this.actors.get(a.id) !== a || (principal !== undefined && this.actors.get(principal.id) !== principal)) {
      throw this.refuse(a.id, a.tenant, req, argsHash, PolicyCodes.unknownActor,
        `Actor "${a.id}" or its principal was unregistered while awaiting approval ${approvalId}`, 'denied', { approvalId });
    }
    try {
      this.approvals.consume(outcome.grant, { args: req.args, tenant: a.tenant, capability: req.name });
    } catch (err) {
      throw this.refuseWith(a.id, a.tenant, req, argsHash, err, 'denied', { approvalId, by: outcome.by });
    }
    return outcome;
  }

  private refuse(
    actor: string,
    tenant: string | undefined,
    req: CheckRequest,
    argsHash: string | undefined,
    code: string,
    message: string,
    decision: DecisionKind = 'denied',
    extra?: Partial<Decision>,
  ): PolicyDenied {
    const err = new PolicyDenied(code, message, { field: 'name', details: { actor, name: req.name, kind: req.kind } });
    this.report(actor, tenant, req, argsHash, decision, message, { code, ...extra });
    return err;
  }

  private refuseWith(
    actor: string,
    tenant: string | undefined,
    req: CheckRequest,
    argsHash: string | undefined,
    err: unknown,
    decision: DecisionKind,
    extra?: Partial<Decision>,
  ): unknown {
    const code = err instanceof AgentOsError ? err.code : 'INTERNAL';
    const message = err instanceof Error ? err.message : String(err);
    this.report(actor, tenant, req, argsHash, decision, message, { code, ...extra });
    return err;
  }

  private report(
    actor: string,
    tenant: string | undefined,
    req: CheckRequest,
    argsHash: string | undefined,
    decision: DecisionKind,
    reason: string,
    extra: Partial<Decision>,
  ): void {
    const d: Decision = {
      actor,
      tenant,
      kind: req.kind,
      name: req.name,
      decision,
      argsHash: argsHash ?? safeHash(req.args),
      reason,
      onBehalfOf: req.onBehalfOf,
      at: this.clock.now(),
      ...extra,
    };
    if (req.tokens !== undefined) d.tokens = req.tokens;
    this.onDecision(d);
  }
}

function isAbortSignal(value: unknown): value is AbortSignal {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Partial<AbortSignal>;
  return typeof s.aborted === 'boolean' && typeof s.addEventListener === 'function' && typeof s.removeEventListener === 'function';
}

/** `: <reason>` for the messages, when the signal carries a describable reason. */
function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  try {
    if (r instanceof Error) return r.message.length > 0 ? `: ${r.message}` : '';
    if (typeof r === 'string' && r.length > 0) return `: ${r}`;
  } catch {
    // A hostile reason must not break the refusal.
  }
  return '';
}

/** Refusals are logged with the args' hash when it can be computed (off the fast path). */
function safeHash(args: unknown): string | undefined {
  if (args === undefined) return undefined;
  try {
    return hashArgs(args);
  } catch {
    return undefined;
  }
}

function invalid(field: string, why: string): ContractError {
  return new ContractError(PolicyCodes.invalidPolicy, `${field} ${why}`, { field });
}
