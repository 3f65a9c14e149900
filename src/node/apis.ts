// The node's user-facing views of kernel services: the approvals queue (human
// consent) and the audit log (signed, verifiable).

import type { AuditLog, SignedTreeHead, VerifyResult } from '../kernel/audit/index.js';
import type { Governance } from '../kernel/governance.js';
import type { PendingApproval } from '../kernel/policy/index.js';

export interface ApprovalsApi {
  /** Requests waiting for a human, with their full context. */
  list(filter?: { tenant?: string }): PendingApproval[];
  approve(id: string, by: { by: string; roles?: readonly string[] }): { id: string; by: string; expiresAt: number };
  reject(id: string, by: { by: string; reason: string; roles?: readonly string[] }): void;
}

export interface AuditApi {
  /** The signed tree head: `{ size, rootHash, signature, publicKey, timestamp }` (hex). */
  head(): SignedTreeHead;
  /** Exact leaf bytes of records [from, to). */
  leaves(from: number, to: number): Uint8Array[];
  record(index: number): unknown;
  proveInclusion(index: number, size?: number): string[];
  proveConsistency(size1: number, size2?: number): string[];
  verify(): VerifyResult;
  /** Resolves once every record appended so far is durable. */
  flushed(): Promise<void>;
  readonly size: number;
}

export function approvalsApi(governance: Governance): ApprovalsApi {
  const q = governance.policy.approvals;
  return {
    list: (filter) => q.list(filter ?? {}),
    approve: (id, by) => q.approve(id, by),
    reject: (id, by) => q.reject(id, by),
  };
}

export function auditApi(log: AuditLog): AuditApi {
  return {
    head: () => log.head(),
    leaves: (from, to) => log.leaves(from, to),
    record: (index) => log.record(index),
    proveInclusion: (index, size) => log.proveInclusion(index, size),
    proveConsistency: (size1, size2) => log.proveConsistency(size1, size2),
    verify: () => log.verify(),
    flushed: () => log.flushed(),
    get size() {
      return log.size;
    },
  };
}
