// Human approval gate for `consent_for` calls: a queue of pending requests
// with deadlines, one escalation, separation of duties and RBAC-checked
// approvers. A granted request yields a single-use grant bound to its args.
// What operators see (`list`, `get`, events) passes through an optional
// redactor; the queue keeps the original args (and their hash) for the grant.

import type { Clock, TimerHandle } from '../../base/clock.js';
import { PolicyDenied, ValidationError } from '../../base/errors.js';
import { snapshotArgs } from './canonical.js';
import { PolicyCodes } from './codes.js';
import { GrantRegistry, type ConsumeRequest, type GrantToken } from './grants.js';
import type { Rbac } from './rbac.js';

export interface ApprovalRequest {
  actor: string;
  tenant: string;
  /** RBAC team scope of the approval, when the actor belongs to a team. */
  team?: string;
  /** The principal asking; it may not approve (nor may `actor` or `onBehalfOf`). */
  requester: string;
  onBehalfOf?: string;
  capability: string;
  args?: unknown;
  /** If given, must equal the canonical hash of `args` (else CONSENT_MISMATCH). */
  argsHash?: string;
  reason?: string;
  timeoutMs: number;
  /** Role that may also approve after the first timeout. */
  escalateTo?: string;
  /** Deadline after escalation; defaults to `timeoutMs`. */
  escalationTimeoutMs?: number;
  /** Lifetime of the grant once approved. */
  expiresInMs: number;
  /**
   * A stable id chosen by the requester (a durable gate asking again after a restart
   * keeps the id operators already saw); must not be pending or recently decided.
   */
  id?: string;
  /** 1: the request was already escalated before (a durable gate asking again); `timeoutMs` is then the escalation's remaining time. */
  escalationLevel?: 0 | 1;
  /** An absolute deadline on the node clock (a durable gate asking again keeps its original one); overrides `timeoutMs`. */
  deadline?: number;
}

export interface PendingApproval {
  readonly id: string;
  readonly actor: string;
  readonly tenant: string;
  readonly team: string | undefined;
  readonly requester: string;
  readonly onBehalfOf: string | undefined;
  readonly capability: string;
  /** Deep-frozen copy of the arguments as given. */
  readonly args: unknown;
  /** SHA-256 of the canonical sorted-key JSON of `args`. */
  readonly argsHash: string;
  readonly reason: string | undefined;
  readonly createdAt: number;
  readonly deadline: number;
  /** 0 until the first timeout, 1 once escalated. */
  readonly escalationLevel: 0 | 1;
  readonly escalateTo: string | undefined;
}

export type ApprovalOutcome =
  | { status: 'granted'; id: string; by: string; grant: GrantToken }
  | { status: 'rejected'; id: string; by: string; reason: string }
  | { status: 'expired'; id: string; escalated: boolean }
  /** The request was withdrawn (its caller went away); see `ApprovalQueue.withdraw`. */
  | { status: 'withdrawn'; id: string };

export type ApprovalEventType =
  | 'consent.requested'
  | 'consent.granted'
  | 'consent.rejected'
  | 'consent.expired'
  | 'consent.escalated'
  | 'consent.withdrawn';

export interface ApprovalEvent {
  type: ApprovalEventType;
  at: number;
  approval: PendingApproval;
  by?: string;
  reason?: string;
  /** `consent.escalated`: the role now also addressed. */
  role?: string;
  /** `consent.granted`: when the grant stops being valid. */
  expiresAt?: number;
}

export interface ApprovalQueueOptions {
  clock: Clock;
  /** If set, approvers need `approve:<capability>` (or the escalation role once escalated). */
  rbac?: Rbac;
  /** Must not throw: the lead wires it to the audit log. Its events carry the redacted view. */
  onEvent?: (event: ApprovalEvent) => void;
  /** Scrubs args and reasons before they leave for operators (e.g. the node's secret redactor). */
  redact?: (value: unknown) => unknown;
  newId?: () => string;
  newToken?: () => string;
}

export interface WithdrawOptions {
  /** The requester, actor or principal; anyone else needs the rights `reject` needs. */
  by: string;
  /** Recorded on the `consent.withdrawn` event. Default 'withdrawn'. */
  reason?: string;
  /** As for `approve`, when `by` is not a party to the request. */
  roles?: readonly string[];
}

export interface ApproveOptions {
  by: string;
  /** Act under these roles only; without RBAC, the roles the caller vouches for. */
  roles?: readonly string[];
}

interface Entry {
  item: PendingApproval;
  expiresInMs: number;
  escalationTimeoutMs: number;
  timer: TimerHandle;
  resolve: (outcome: ApprovalOutcome) => void;
}

const DECIDED_MEMORY = 10_000;

export class ApprovalQueue {
  private readonly clock: Clock;
  private readonly rbac: Rbac | undefined;
  private readonly onEvent: (event: ApprovalEvent) => void;
  private readonly listeners = new Set<(event: ApprovalEvent) => void>();
  private readonly newId: () => string;
  private readonly grants: GrantRegistry;
  private readonly pending = new Map<string, Entry>();
  /** Recently decided ids → outcome status, to tell "decided" from "unknown". */
  private readonly decided = new Map<string, ApprovalOutcome['status']>();
  private seq = 0;
  private redact: ((value: unknown) => unknown) | undefined;
  /** The redacted view of each item, made once (so a listing polled every second does not redact, and count, again). */
  private views = new WeakMap<PendingApproval, PendingApproval>();

  constructor(options: ApprovalQueueOptions) {
    this.clock = options.clock;
    this.rbac = options.rbac;
    this.onEvent = options.onEvent ?? (() => {});
    this.newId = options.newId ?? (() => `apr-${++this.seq}`);
    this.grants = new GrantRegistry({ clock: options.clock, newToken: options.newToken });
    this.redact = options.redact;
  }

  /** Also deliver every event (redacted, as `onEvent` gets it) to `listener`, until the returned function is called. A throwing listener is ignored. */
  listen(listener: (event: ApprovalEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Scrub what operators see from now on (`undefined`: show args as given). */
  setRedactor(redact: ((value: unknown) => unknown) | undefined): void {
    this.redact = redact;
    this.views = new WeakMap();
  }

  request(req: ApprovalRequest): { id: string; promise: Promise<ApprovalOutcome> } {
    for (const f of ['actor', 'tenant', 'requester', 'capability'] as const) requireString(req[f], f);
    const timeoutMs = requireDuration(req.timeoutMs, 'timeoutMs');
    const expiresInMs = requireDuration(req.expiresInMs, 'expiresInMs');
    const escalationTimeoutMs = requireDuration(req.escalationTimeoutMs ?? timeoutMs, 'escalationTimeoutMs');
    if (req.escalateTo !== undefined && this.rbac !== undefined && !this.rbac.roleNames().includes(req.escalateTo)) {
      throw new ValidationError(PolicyCodes.unknownRole, `escalateTo names unknown role "${req.escalateTo}"`, { field: 'escalateTo' });
    }
    const snap = snapshotArgs(req.args);
    if (req.argsHash !== undefined && req.argsHash !== snap.hash) {
      throw new PolicyDenied(PolicyCodes.consentMismatch, `argsHash ${req.argsHash} is not the hash of the given args (${snap.hash})`, {
        field: 'argsHash',
      });
    }
    if (req.id !== undefined) requireString(req.id, 'id');
    const id = req.id ?? this.newId();
    if (this.pending.has(id) || this.decided.has(id)) throw new ValidationError(PolicyCodes.invalidPolicy, `Approval id "${id}" is not unique`);
    const now = this.clock.now();
    if (req.deadline !== undefined && !(typeof req.deadline === 'number' && Number.isFinite(req.deadline) && req.deadline > now)) {
      throw new ValidationError(PolicyCodes.invalidPolicy, `deadline must be a node-clock time after now (${now}), got ${String(req.deadline)}`, { field: 'deadline' });
    }
    const deadline = req.deadline ?? now + timeoutMs;
    const item: PendingApproval = Object.freeze({
      id,
      actor: req.actor,
      tenant: req.tenant,
      team: req.team,
      requester: req.requester,
      onBehalfOf: req.onBehalfOf,
      capability: req.capability,
      args: snap.copy,
      argsHash: snap.hash,
      reason: req.reason,
      createdAt: now,
      deadline,
      escalationLevel: req.escalationLevel === 1 ? 1 : 0,
      escalateTo: req.escalateTo,
    });
    let resolve!: (outcome: ApprovalOutcome) => void;
    const promise = new Promise<ApprovalOutcome>((r) => (resolve = r));
    const timer = this.clock.setTimeout(() => this.timedOut(id), deadline - now);
    this.pending.set(id, { item, expiresInMs, escalationTimeoutMs, timer, resolve });
    this.emit({ type: 'consent.requested', at: now, approval: item });
    return { id, promise };
  }

  /** Pending requests, oldest first, optionally of one tenant (args and reason redacted, if a redactor is set). */
  list(filter: { tenant?: string } = {}): PendingApproval[] {
    const out: PendingApproval[] = [];
    for (const { item } of this.pending.values()) if (filter.tenant === undefined || item.tenant === filter.tenant) out.push(this.view(item));
    return out;
  }

  /** One pending request, as `list` shows it. */
  get(id: string): PendingApproval | undefined {
    const item = this.pending.get(id)?.item;
    return item && this.view(item);
  }

  /** Grants the request; the single-use grant goes to the requester's promise, not to the approver. */
  approve(id: string, options: ApproveOptions): { id: string; by: string; expiresAt: number } {
    const entry = this.open(id);
    const by = requireString(options?.by, 'by');
    this.authorize(entry.item, by, options.roles, 'approve');
    const g = this.grants.issue({
      approvalId: id,
      tenant: entry.item.tenant,
      capability: entry.item.capability,
      argsHash: entry.item.argsHash,
      approvedBy: by,
      expiresInMs: entry.expiresInMs,
    });
    this.settle(entry, { status: 'granted', id, by, grant: g });
    this.emit({ type: 'consent.granted', at: this.clock.now(), approval: entry.item, by, expiresAt: g.expiresAt });
    return { id, by, expiresAt: g.expiresAt };
  }

  /** Rejects the request. An authorised approver may; so may the requester or actor (a withdrawal). */
  reject(id: string, options: { by: string; reason: string; roles?: readonly string[] }): void {
    const entry = this.open(id);
    const by = requireString(options?.by, 'by');
    const reason = typeof options.reason === 'string' && options.reason.length > 0 ? options.reason : 'no reason given';
    if (!isParty(entry.item, by)) this.authorize(entry.item, by, options.roles, 'reject');
    this.settle(entry, { status: 'rejected', id, by, reason });
    this.emit({ type: 'consent.rejected', at: this.clock.now(), approval: entry.item, by, reason });
  }

  /**
   * Withdraws a pending request because its caller no longer wants (or can
   * use) it: it leaves `list()`, its timer is cleared, a `consent.withdrawn`
   * event is emitted and the requester's promise resolves
   * `{ status: 'withdrawn', id }`. The requester, actor or principal may
   * withdraw; anyone else needs the rights `reject` needs. Afterwards
   * `approve`/`reject`/`withdraw` of the id throw APPROVAL_DECIDED (like any
   * decided id, until it drops out of the bounded decided-id memory, then
   * APPROVAL_NOT_FOUND).
   */
  withdraw(id: string, options: WithdrawOptions): void {
    const entry = this.open(id);
    const by = requireString(options?.by, 'by');
    const reason = typeof options.reason === 'string' && options.reason.length > 0 ? options.reason : 'withdrawn';
    if (!isParty(entry.item, by)) this.authorize(entry.item, by, options.roles, 'withdraw');
    this.settle(entry, { status: 'withdrawn', id });
    this.emit({ type: 'consent.withdrawn', at: this.clock.now(), approval: entry.item, by, reason });
  }

  /** See GrantRegistry.consume: once, unexpired, same args hash, tenant and capability. */
  consume(grant: GrantToken, req: ConsumeRequest): void {
    this.grants.consume(grant, req);
  }

  /** Rejects everything pending (recorded as by "system") and drops all timers. */
  close(): void {
    const reason = 'approval queue closed';
    for (const entry of [...this.pending.values()]) {
      this.settle(entry, { status: 'rejected', id: entry.item.id, by: 'system', reason });
      this.emit({ type: 'consent.rejected', at: this.clock.now(), approval: entry.item, by: 'system', reason });
    }
    this.grants.close();
  }

  private open(id: string): Entry {
    const entry = this.pending.get(id);
    if (entry !== undefined) return entry;
    const status = this.decided.get(id);
    if (status !== undefined) {
      throw new PolicyDenied(PolicyCodes.approvalDecided, `Approval ${id} was already decided (${status})`, { field: 'id' });
    }
    throw new PolicyDenied(PolicyCodes.approvalNotFound, `No approval with id ${JSON.stringify(id)}`, { field: 'id' });
  }

  private authorize(item: PendingApproval, by: string, roles: readonly string[] | undefined, verb: string): void {
    if (isParty(item, by)) {
      throw new PolicyDenied(
        PolicyCodes.sodViolation,
        `Separation of duties: "${by}" cannot ${verb} approval ${item.id} for "${item.capability}" because it is its requester, actor or principal`,
        { field: 'by', details: { id: item.id, by } },
      );
    }
    const permission = `approve:${item.capability}`;
    const scope = { tenant: item.tenant, team: item.team, roles };
    const escalated = item.escalationLevel > 0 && item.escalateTo !== undefined;
    const rbac = this.rbac;
    const permitted = rbac === undefined || rbac.can(by, permission, scope);
    const viaEscalation =
      escalated && (rbac === undefined ? roles?.includes(item.escalateTo!) === true : rbac.hasRole(by, item.escalateTo!, scope));
    if (permitted || viaEscalation) return;
    const alt = escalated ? ` or the role "${item.escalateTo}"` : '';
    throw new PolicyDenied(
      PolicyCodes.approverNotAuthorized,
      `"${by}" may not ${verb} approval ${item.id}: it lacks the permission "${permission}"${alt} in tenant "${item.tenant}"`,
      { field: 'by', details: { id: item.id, by, permission } },
    );
  }

  private timedOut(id: string): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    const now = this.clock.now();
    const { item } = entry;
    if (item.escalationLevel === 0 && item.escalateTo !== undefined) {
      entry.item = Object.freeze({ ...item, escalationLevel: 1, deadline: now + entry.escalationTimeoutMs });
      entry.timer = this.clock.setTimeout(() => this.timedOut(id), entry.escalationTimeoutMs);
      this.emit({ type: 'consent.escalated', at: now, approval: entry.item, role: item.escalateTo });
      return;
    }
    this.settle(entry, { status: 'expired', id, escalated: item.escalationLevel > 0 });
    this.emit({ type: 'consent.expired', at: now, approval: item });
  }

  private settle(entry: Entry, outcome: ApprovalOutcome): void {
    this.clock.clearTimeout(entry.timer);
    this.pending.delete(entry.item.id);
    this.decided.set(entry.item.id, outcome.status);
    if (this.decided.size > DECIDED_MEMORY) this.decided.delete(this.decided.keys().next().value!);
    entry.resolve(outcome);
  }

  private emit(event: ApprovalEvent): void {
    const reason = event.reason === undefined ? {} : { reason: this.scrub(event.reason) };
    const shown = this.redact ? { ...event, approval: this.view(event.approval), ...reason } : event;
    this.onEvent(shown);
    for (const l of this.listeners) {
      try {
        l(shown);
      } catch {
        // a listener's failure is its own: the decision stands
      }
    }
  }

  /** The item with args and reason redacted (itself without a redactor); `argsHash` stays the hash of the original args. */
  private view(item: PendingApproval): PendingApproval {
    if (!this.redact) return item;
    let v = this.views.get(item);
    if (!v) {
      v = Object.freeze({ ...item, args: frozen(this.scrub(item.args)), reason: item.reason === undefined ? undefined : this.scrub(item.reason) });
      this.views.set(item, v);
    }
    return v;
  }

  /** A redactor that throws hides the value rather than leak it. */
  private scrub<T>(value: T): T {
    try {
      return this.redact!(value) as T;
    } catch {
      return '[REDACTED]' as T;
    }
  }
}

/** Deep-frozen, like the args the queue keeps (a redactor returns JSON for JSON). */
function frozen(value: unknown): unknown {
  try {
    return snapshotArgs(value).copy;
  } catch {
    return value;
  }
}

function isParty(item: PendingApproval, by: string): boolean {
  return by === item.requester || by === item.actor || by === item.onBehalfOf;
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(PolicyCodes.invalidPolicy, `${field} must be a non-empty string, got ${JSON.stringify(value)}`, { field });
  }
  return value;
}

function requireDuration(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ValidationError(PolicyCodes.invalidPolicy, `${field} must be a positive number of ms, got ${String(value)}`, { field });
  }
  return value;
}
