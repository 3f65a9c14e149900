// The consent flow of a check: request a human approval, wait for it,
// withdraw it if the caller aborts meanwhile, and consume the single-use grant.
// Every step is reported as a decision; any outcome but a usable grant throws.

import type { ApprovalOutcome, ApprovalQueue } from './approvals.js';
import { PolicyCodes } from './codes.js';
import type { CheckRequest, DecisionReporter } from './decisions.js';

export interface ConsentOptions {
  /** How long a human has before escalation (or expiry). Default 5 min. */
  timeoutMs?: number;
  /** Role also addressed after the first timeout. */
  escalateTo?: string;
  escalationTimeoutMs?: number;
  /** Lifetime of a granted approval. Default 60 s. */
  expiresInMs?: number;
}

/** Consent options with their defaults applied. */
export type ResolvedConsentOptions = Required<Pick<ConsentOptions, 'timeoutMs' | 'expiresInMs'>> & ConsentOptions;

export type GrantedConsent = Extract<ApprovalOutcome, { status: 'granted' }>;

/** The registered actor asking for consent. */
export interface ConsentParty {
  id: string;
  tenant: string;
  team: string | undefined;
  options: ResolvedConsentOptions;
}

export interface ConsentCall {
  party: ConsentParty;
  req: CheckRequest;
  argsHash: string | undefined;
  signal: AbortSignal | undefined;
  /** Whether the actor and its principal are still registered as they were before the wait. */
  stillRegistered: () => boolean;
}

/** Resolves with the consumed grant, or throws after reporting why there is none. */
export async function awaitConsent(
  approvals: ApprovalQueue,
  decisions: DecisionReporter,
  { party: a, req, argsHash, signal, stillRegistered }: ConsentCall,
): Promise<GrantedConsent> {
  const o = a.options;
  let pending: { id: string; promise: Promise<ApprovalOutcome> };
  try {
    pending = approvals.request({
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
    throw decisions.refuseWith(a.id, a.tenant, req, argsHash, err, 'denied');
  }
  decisions.report(a.id, a.tenant, req, argsHash, 'consent-requested', `awaiting human approval ${pending.id}`, { approvalId: pending.id });
  // The caller going away withdraws the request: a human can no longer
  // approve a call nobody will make (nor a retry double it). The actor is a
  // party to its own request, so the withdrawal needs no approver rights.
  const onAbort = (): void => {
    try {
      approvals.withdraw(pending.id, { by: a.id, reason: `caller aborted${abortReason(signal!)}` });
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
    throw decisions.refuse(a.id, a.tenant, req, argsHash, PolicyCodes.callAborted, `Call "${req.name}" by actor "${a.id}" was ${what}${why}`,
      withdrawn ? 'consent-withdrawn' : 'aborted', outcome.status === 'granted' ? { approvalId, by: outcome.by } : { approvalId });
  }
  if (outcome.status === 'rejected') {
    throw decisions.refuse(a.id, a.tenant, req, argsHash, PolicyCodes.consentRejected,
      `"${outcome.by}" rejected "${req.name}" for actor "${a.id}": ${outcome.reason}`, 'consent-rejected', { approvalId, by: outcome.by });
  }
  if (outcome.status === 'expired') {
    const how = outcome.escalated ? ' after escalation' : '';
    throw decisions.refuse(a.id, a.tenant, req, argsHash, PolicyCodes.consentExpired,
      `No approval for "${req.name}" (actor "${a.id}") before the deadline${how}`, 'consent-expired', { approvalId });
  }
  // Zero trust across the wait: the parties must still be registered as they were.
  if (!stillRegistered()) {
    throw decisions.refuse(a.id, a.tenant, req, argsHash, PolicyCodes.unknownActor,
      `Actor "${a.id}" or its principal was unregistered while awaiting approval ${approvalId}`, 'denied', { approvalId });
  }
  try {
    approvals.consume(outcome.grant, { args: req.args, tenant: a.tenant, capability: req.name });
  } catch (err) {
    throw decisions.refuseWith(a.id, a.tenant, req, argsHash, err, 'denied', { approvalId, by: outcome.by });
  }
  return outcome;
}

/** `: <reason>` for the messages, when the signal carries a describable reason. */
export function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  try {
    if (r instanceof Error) return r.message.length > 0 ? `: ${r.message}` : '';
    if (typeof r === 'string' && r.length > 0) return `: ${r}`;
  } catch {
    // A hostile reason must not break the refusal.
  }
  return '';
}
