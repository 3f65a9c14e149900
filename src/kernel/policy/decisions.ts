// Policy decisions as plain data: their shape, and the one place they are
// built and reported. Every decision leaves through `onDecision`; if it
// throws, the check fails with that error (fail closed).

import type { Clock } from '../../base/clock.js';
import { AgentOsError, PolicyDenied } from '../../base/errors.js';
import { hashArgs } from './canonical.js';

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

const ALLOWED = 'within capabilities';

/** Builds decisions, stamps them with the clock and hands them to `onDecision`. */
export class DecisionReporter {
  constructor(
    private readonly clock: Clock,
    private readonly onDecision: (decision: Decision) => void,
  ) {}

  /** Reports and returns the final 'allowed' (or, with `consent`, 'consent-granted') decision. */
  allow(
    actor: string,
    tenant: string,
    req: CheckRequest,
    argsHash: string | undefined,
    consent: { id: string; by: string } | undefined,
  ): Decision {
    const decision: Decision = {
      actor,
      tenant,
      kind: req.kind,
      name: req.name,
      decision: consent === undefined ? 'allowed' : 'consent-granted',
      argsHash,
      reason: consent === undefined ? ALLOWED : `approved by "${consent.by}"`,
      onBehalfOf: req.onBehalfOf,
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

  /** Reports a refusal and returns the PolicyDenied for the caller to throw. */
  refuse(
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

  /** Reports a refusal caused by `err` (its code and message) and returns `err` for the caller to throw. */
  refuseWith(
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

  report(
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

/** Refusals are logged with the args' hash when it can be computed (off the fast path). */
function safeHash(args: unknown): string | undefined {
  if (args === undefined) return undefined;
  try {
    return hashArgs(args);
  } catch {
    return undefined;
  }
}
