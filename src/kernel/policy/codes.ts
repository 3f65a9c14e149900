// Stable error codes of the policy layer, in one place so docs, tests and the
// audit log can enumerate them. Codes never change; messages may.

export const PolicyCodes = {
  /** The name is outside the actor's (effective) capability set. */
  capabilityDenied: 'CAPABILITY_DENIED',
  /** The actor, or the actor it acts for, is not registered with the engine. */
  unknownActor: 'UNKNOWN_ACTOR',
  /** Delegation across tenants. */
  crossTenant: 'CROSS_TENANT',
  /** A human rejected the approval. */
  consentRejected: 'CONSENT_REJECTED',
  /** The approval timed out, or a grant was used after its expiry. */
  consentExpired: 'CONSENT_EXPIRED',
  /** A grant was presented for other arguments, tenant or capability, or was not issued here. */
  consentMismatch: 'CONSENT_MISMATCH',
  /** A single-use grant was presented a second time. */
  consentReused: 'CONSENT_REUSED',
  /** The approver is the requester, the actor or the principal it acts for. */
  sodViolation: 'SOD_VIOLATION',
  /** The approver lacks `approve:<capability>` (or, after escalation, the escalation role). */
  approverNotAuthorized: 'APPROVER_NOT_AUTHORIZED',
  approvalNotFound: 'APPROVAL_NOT_FOUND',
  /** The approval was already granted, rejected, expired or withdrawn. */
  approvalDecided: 'APPROVAL_DECIDED',
  /**
   * The caller's AbortSignal fired before the check returned (before it began,
   * while awaiting consent, or after consent but before the grant was used),
   * or the pending approval was withdrawn. The call must not run.
   */
  callAborted: 'CALL_ABORTED',
  /** A token-rate limit or absolute token cap would be exceeded. */
  budgetExceeded: 'BUDGET_EXCEEDED',
  /** Malformed capability or permission pattern. */
  invalidCapability: 'INVALID_CAPABILITY',
  /** Arguments that cannot be hashed canonically (non-JSON values, cycles). */
  invalidArgs: 'INVALID_ARGS',
  /** Malformed role catalogue, binding, budget limit or option. */
  invalidPolicy: 'INVALID_POLICY',
  /** Role inheritance forms a cycle. */
  roleCycle: 'ROLE_CYCLE',
  unknownRole: 'UNKNOWN_ROLE',
} as const;

export type PolicyCode = (typeof PolicyCodes)[keyof typeof PolicyCodes];
