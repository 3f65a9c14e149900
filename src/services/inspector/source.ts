// What the inspector reads from (and asks of) the node it runs in, as plain
// functions: the node layer builds one from a node (src/node/inspector.ts),
// tests build small fakes. Nothing here is called on the message path: views
// are taken once per stats window, actors sampled once per flush, requests run
// when a page asks. What reaches the hub per message is only what it asked
// for: system events, and the inspection events of the actors it watches.

import type { AnyActorRef, InspectionEvent } from 'xstate';
import { AgentOsError } from '../../base/errors.js';
import type { SystemEvent } from '../../kernel/events.js';
import type { PendingApproval } from '../../kernel/policy/approvals.js';
import type { PsRow } from '../../kernel/ps-rows.js';
import type { TreeNode } from '../../supervisors/types.js';
import type { NodeView } from './protocol.js';

export const InspectorCodes = {
  /** Listening on an interface other than loopback needs a token. */
  tokenRequired: 'INSPECTOR_TOKEN_REQUIRED',
  invalidOptions: 'INSPECTOR_INVALID_OPTIONS',
  /** The inspector could not listen (port in use, permission). */
  listenFailed: 'INSPECTOR_LISTEN_FAILED',
  /** A request frame that is not JSON, or not a request. */
  badRequest: 'INSPECTOR_BAD_REQUEST',
  unknownOp: 'INSPECTOR_UNKNOWN_OP',
  unknownNode: 'INSPECTOR_UNKNOWN_NODE',
  unknownActor: 'INSPECTOR_UNKNOWN_ACTOR',
  /** More actors watched at once than the inspector's `maxWatched`. */
  watchLimit: 'INSPECTOR_WATCH_LIMIT',
  /** Too many requests of one page in flight. */
  busy: 'INSPECTOR_BUSY',
  /** A request forwarded to another member got no answer in time. */
  remoteTimeout: 'INSPECTOR_REMOTE_TIMEOUT',
  /** The node does not offer this (no lineage, no cluster). */
  unavailable: 'INSPECTOR_UNAVAILABLE',
  /** The source failed in a way that is not an AgentOsError. */
  internal: 'INSPECTOR_INTERNAL',
} as const;

/** Errors of the inspector itself: bad options, bad requests, unknown nodes, timeouts. */
export class InspectorError extends AgentOsError {}

/** An approval's outcome, as the approvals list no longer shows it. */
export interface ApprovalDecision {
  decision: 'approved' | 'rejected' | 'expired';
  by?: string;
  reason?: string;
}

export interface MachineInfo {
  actor: string;
  node: string;
  /** The actor's current state value. */
  state: unknown;
  /** XState's `machine.toJSON()` through JSON (functions dropped); null for logic that is not a machine. */
  definition: unknown;
}

export interface InspectorSource {
  /** The node's name. */
  readonly node: string;
  tree(): TreeNode;
  /** The kernel's service actors (`agentos.system`). */
  systemTree?(): TreeNode;
  /** One `ps` row per actor of these trees (taken just before): the users' tree, then the system tree's with `system: true`. */
  rows(tree: TreeNode, system: TreeNode | undefined): PsRow[];
  /** Pending approvals (args already redacted by the node). */
  approvals(): PendingApproval[];
  /** How a request that left the approvals list ended (undefined: not known). */
  approvalOutcome?(id: string): ApprovalDecision | undefined;
  auditHead(): { head: string | null; length: number };
  members(): NodeView['members'];
  /** An actor's machine definition and state; throws an AgentOsError (UNKNOWN_ACTOR) for an id this node does not run. */
  machine(actorId: string): MachineInfo;
  /**
   * Scrubs what the inspector shows (system events, message payloads) at flush time: the node's secret
   * redactor. What `tap` and `watch` deliver is unscrubbed. Must return a copy.
   */
  redact?(value: unknown): unknown;
  /** The node's `@agentos.*` system events, as emitted (unscrubbed), until the returned function is called. Must not throw into the kernel. */
  tap?(listener: (event: SystemEvent) => void): () => void;
  /**
   * Visit every local actor without copying: its id, its running XState actor (undefined before its first
   * start) and the messages delivered to it so far. Called once per flush: must not allocate per actor.
   */
  eachActor?(visit: (id: string, actor: AnyActorRef | undefined, delivered: number) => void): void;
  /**
   * XState's inspection events of actor `id` (every actor: `'*'`), unscrubbed, following it across restarts,
   * until the returned function is called. Throws InspectorError INSPECTOR_UNKNOWN_ACTOR for an id the node
   * does not run.
   */
  watch?(id: string, listener: (event: InspectionEvent) => void): () => void;
  /** The actor's contract `observability.log_fields` (undefined: no contract, show only `type`). */
  logFields(actorId: string): readonly string[] | undefined;
  /** Through the node's approval queue, as `node.approvals.approve` (audited like every decision). */
  approve(id: string, decision: { by: string; reason?: string }): unknown;
  reject(id: string, decision: { by: string; reason: string }): unknown;
  /** A turn's lineage by trace id or `<actor>#<turn>`. */
  trace(ref: string): unknown;
  /** Verify the audit log end to end. */
  verifyAudit(): { ok: boolean; size?: number; problem?: string };
}
