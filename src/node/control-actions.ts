// Control routes that act on a running node: send a message to an actor or
// ask it (validated by the kernel exactly as a `ref.send` is), decide the
// human approvals its consent gates wait for, and read its audit log live
// (every record so far flushed, under a freshly signed head).

import { ActorError, ErrorCodes } from '../base/errors.js';
import type { SignedTreeHead, VerifyResult } from '../kernel/audit/index.js';
import type { PendingApproval } from '../kernel/policy/index.js';
import { ControlCodes, ControlError, bodyFields, queryNumber, queryString, type ControlRequest, type ControlRoute } from './control-request.js';
import type { AgentOsNode } from './node.js';
import type { ActorRef } from '../kernel/ref.js';
import type { MigrationResult } from '../cluster/migration/protocol.js';

export interface SendResponse {
  node: string;
  actor: string;
  /** The message's `type`, as the kernel accepted it. */
  type: string;
}

export interface AskResponse {
  node: string;
  actor: string;
  /** The actor's reply (null when it replied with nothing). */
  reply: unknown;
}

export interface MigrateResponse {
  node: string;
  /** What `node.migrate` answered: `{ id, from, to, incarnation, ms, … }`. */
  result: MigrationResult;
}

export interface ApprovalsResponse {
  node: string;
  /** The node clock's now, so a client can tell how long each request has left without trusting its own clock. */
  now: number;
  /** Pending requests, oldest first, as `node.approvals.list()` shows them (args and reason redacted). */
  approvals: PendingApproval[];
}

export interface ApproveResponse {
  node: string;
  id: string;
  by: string;
  /** When the single-use grant stops being valid (node clock, ms). */
  expiresAt: number;
}

export interface RejectResponse {
  node: string;
  id: string;
  by: string;
  reason: string;
}

export interface AuditVerifyResponse {
  node: string;
  result: VerifyResult;
  /** Root of the whole log when it verified, else null. */
  rootHash: string | null;
}

export interface AuditHeadResponse {
  node: string;
  head: SignedTreeHead;
}

function target(node: AgentOsNode, id: string): ActorRef {
  const ref = node.lookup(id);
  if (ref === undefined) throw new ActorError(ErrorCodes.unknownActor, `no actor "${id}" on node "${node.name}"`, { field: 'id' });
  return ref;
}

/** Send options from the query: `priority`, `deadlineMs`; the kernel checks their ranges. */
function sendOptions(query: URLSearchParams): { priority?: number; deadlineMs?: number } {
  const priority = queryNumber(query, 'priority');
  const deadlineMs = queryNumber(query, 'deadlineMs');
  return { ...(priority === undefined ? {} : { priority }), ...(deadlineMs === undefined ? {} : { deadlineMs }) };
}

function messageType(body: unknown): string {
  const type = body !== null && typeof body === 'object' ? (body as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? type : '';
}

export const ACTOR_ROUTES: readonly ControlRoute[] = [
  {
    method: 'POST',
    path: '/v1/actors/:id/send',
    query: ['priority', 'deadlineMs'],
    body: true,
    // post, not send: the answer means accepted (for a persistent actor: journaled), not merely handed over.
    handle: async ({ node, params, query, body }): Promise<SendResponse> => {
      await target(node, params.id!).post(body as { type: string }, sendOptions(query));
      return { node: node.name, actor: params.id!, type: messageType(body) };
    },
  },
  {
    method: 'POST',
    path: '/v1/actors/:id/ask',
    query: ['priority', 'deadlineMs', 'timeoutMs'],
    body: true,
    handle: async ({ node, params, query, body }): Promise<AskResponse> => {
      const timeoutMs = queryNumber(query, 'timeoutMs');
      const reply = await target(node, params.id!).ask(body as { type: string }, { ...sendOptions(query), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
      return { node: node.name, actor: params.id!, reply: reply ?? null };
    },
  },
  {
    method: 'POST',
    path: '/v1/actors/:id/migrate',
    query: ['drainMs', 'timeoutMs'],
    body: true,
    // The actor may live on another member: the node asked passes the move to its owner.
    handle: async ({ node, params, query, body }): Promise<MigrateResponse> => {
      const to = required(bodyFields(body, ['to']), 'to');
      const drainMs = queryNumber(query, 'drainMs');
      const timeoutMs = queryNumber(query, 'timeoutMs');
      const result = await node.migrate(params.id!, to, { ...(drainMs === undefined ? {} : { drainMs }), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
      return { node: node.name, result };
    },
  },
];

function required(fields: Record<string, string | string[] | undefined>, key: string): string {
  const value = fields[key];
  if (typeof value !== 'string' || value.trim() === '') throw new ControlError(400, ControlCodes.badRequest, `field "${key}" is required (a non-empty string)`, { field: key });
  return value;
}

/** The decision fields of an approve/reject body; the queue itself checks who may decide. */
function decision({ body }: ControlRequest, withReason: boolean): { by: string; reason: string; roles?: string[] } {
  const fields = bodyFields(body, withReason ? ['by', 'reason', 'roles'] : ['by', 'roles'], ['roles']);
  const roles = fields.roles as string[] | undefined;
  return { by: required(fields, 'by'), reason: withReason ? required(fields, 'reason') : '', ...(roles === undefined ? {} : { roles }) };
}

export const APPROVAL_ROUTES: readonly ControlRoute[] = [
  {
    method: 'GET',
    path: '/v1/approvals',
    query: ['tenant'],
    handle: ({ node, query }): ApprovalsResponse => {
      const tenant = queryString(query, 'tenant');
      return { node: node.name, now: node.clock.now(), approvals: node.approvals.list(tenant === undefined ? {} : { tenant }) };
    },
  },
  {
    method: 'POST',
    path: '/v1/approvals/:id/approve',
    body: true,
    handle: (request): ApproveResponse => {
      const { by, roles } = decision(request, false);
      const granted = request.node.approvals.approve(request.params.id!, { by, ...(roles ? { roles } : {}) });
      return { node: request.node.name, ...granted };
    },
  },
  {
    method: 'POST',
    path: '/v1/approvals/:id/reject',
    body: true,
    handle: (request): RejectResponse => {
      const { by, reason, roles } = decision(request, true);
      request.node.approvals.reject(request.params.id!, { by, reason, ...(roles ? { roles } : {}) });
      return { node: request.node.name, id: request.params.id!, by, reason };
    },
  },
];

export const AUDIT_ROUTES: readonly ControlRoute[] = [
  {
    method: 'GET',
    path: '/v1/audit/verify',
    handle: async ({ node }): Promise<AuditVerifyResponse> => {
      // Flushed first: the verdict then covers every record so far, under a signed head.
      await node.audit.flushed();
      const result = node.audit.verify();
      return { node: node.name, result, rootHash: result.ok ? node.audit.head().rootHash : null };
    },
  },
  {
    method: 'GET',
    path: '/v1/audit/head',
    handle: async ({ node }): Promise<AuditHeadResponse> => {
      const head = node.audit.head();
      await node.audit.flushed(); // the head handed out is durable
      return { node: node.name, head };
    },
  },
];
