// Errors of the cluster layer (transport, membership, remote actors). One class,
// `ClusterError`, with stable codes in `ClusterCodes`. Shared file: edits are
// append-only, so codes never change meaning once other modules match on them.

import { AgentOsError, type AgentOsErrorOptions } from '../base/errors.js';

export const ClusterCodes = {
  /** A peer failed the HMAC challenge–response (or TLS identity) check. */
  authFailed: 'CLUSTER_AUTH_FAILED',
  /** A frame could not be decoded or does not match the frame schema. */
  frameInvalid: 'CLUSTER_FRAME_INVALID',
  /** A frame (or one envelope) is larger than the configured limit. */
  frameTooLarge: 'CLUSTER_FRAME_TOO_LARGE',
  /** The bounded send queue of a link is full; the message was not accepted. */
  queueFull: 'CLUSTER_QUEUE_FULL',
  /** No link to this node id is known. */
  peerUnknown: 'CLUSTER_PEER_UNKNOWN',
  /** The transport (or the link) is closed. */
  closed: 'CLUSTER_CLOSED',
  /** A second peer claimed a node id that already has an authenticated link. */
  nodeIdClash: 'CLUSTER_NODE_ID_CLASH',
  /** The handshake did not complete within the timeout. */
  handshakeTimeout: 'CLUSTER_HANDSHAKE_TIMEOUT',
  /** Options passed to a cluster component are invalid. */
  invalidOptions: 'CLUSTER_INVALID_OPTIONS',
  /** A message is not encodable (functions, symbols, cycles…). */
  messageInvalid: 'CLUSTER_MESSAGE_INVALID',
  /** The transport could not listen (address in use, permission). */
  listenFailed: 'CLUSTER_LISTEN_FAILED',
  /** A membership operation is not valid in this member's state (start twice, leave before up or after stop). */
  membershipState: 'CLUSTER_MEMBERSHIP_STATE',
  /** The beforeLeave hook failed; the node left the cluster anyway. */
  leaveHookFailed: 'CLUSTER_LEAVE_HOOK_FAILED',
  /** The actor may not move: its contract says `migratable: false`, or it is of a kind that cannot (system actor, supervisor tree, HRT lane actor). */
  notMigratable: 'CLUSTER_NOT_MIGRATABLE',
  /** The target node refused the actor (no such definition, placement, admission); the actor stays where it was. */
  migrationRefused: 'CLUSTER_MIGRATION_REFUSED',
  /** The move did not complete (target unreachable, timeout, work that did not drain); the actor resumed on its source, nothing lost. */
  migrationFailed: 'CLUSTER_MIGRATION_FAILED',
  /** No up member of the cluster has this node id. */
  unknownNode: 'CLUSTER_UNKNOWN_NODE',
  /** The node running a child of a supervisor here (or asked to start one) is down or did not answer; the supervisor applies its strategy. */
  nodeDown: 'CLUSTER_NODE_DOWN',
} as const;

export type ClusterCode = (typeof ClusterCodes)[keyof typeof ClusterCodes];

/** Anything the cluster layer refuses or reports: matched on `code`. */
export class ClusterError extends AgentOsError {
  constructor(code: string, message: string, options: AgentOsErrorOptions = {}) {
    super(code, message, options);
  }
}
