// Public surface of the kernel's policy layer: capabilities, RBAC, approvals
// with single-use grants, token budgets, and the engine that composes them.

export { PolicyCodes, type PolicyCode } from './codes.js';
export { snapshotArgs, hashArgs, canonicalJson, type ArgsSnapshot, type JsonValue } from './canonical.js';
export { CapabilitySet, allows, covers, intersect, matches, normalize, validateCapability } from './capabilities.js';
export { Rbac, type CanOptions, type RbacOptions, type RbacScope, type RoleBinding, type RoleSpec } from './rbac.js';
export { GrantRegistry, type ConsumeRequest, type GrantToken } from './grants.js';
export {
  ApprovalQueue,
  type ApprovalEvent,
  type ApprovalEventType,
  type ApprovalOutcome,
  type ApprovalQueueOptions,
  type ApprovalRequest,
  type ApproveOptions,
  type PendingApproval,
  type WithdrawOptions,
} from './approvals.js';
export {
  BudgetLedger,
  TokenBucket,
  budgetExceeded,
  DEFAULT_ALERT_AT,
  type BudgetAlert,
  type BudgetParty,
  type BudgetLimits,
  type BudgetName,
  type BudgetRefusal,
  type BudgetScope,
  type ChargeRequest,
  type MeterSnapshot,
  type TokenBucketOptions,
} from './budgets.js';
export {
  PolicyEngine,
  type ActorPolicy,
  type CallKind,
  type CheckOptions,
  type CheckRequest,
  type ConsentOptions,
  type Decision,
  type DecisionKind,
  type PolicyEngineOptions,
} from './engine.js';
