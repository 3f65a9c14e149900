// Options of a Membership, their defaults in one place, and the link it talks
// through (implemented by the in-memory network for tests and, later, by an
// adapter over the WebSocket transport).

import type { Clock } from '../../base/clock.js';
import type { Rng } from '../../base/rng.js';
import { ClusterCodes, ClusterError } from '../errors.js';
import { resolveDowning, type DowningStrategy } from './downing.js';
import type { MembershipMessage } from './messages.js';
import { resolvePhiOptions, type PhiOptions } from './phi.js';

/** Where to send: a seed is known only by address; a member also by node id. */
export interface PeerTarget {
  address: string;
  nodeId?: string;
}

/**
 * What membership needs from a transport: best-effort delivery (a message may be
 * lost; order per link is kept) and the sender's authenticated node id.
 */
export interface MembershipLink {
  send(to: PeerTarget, message: MembershipMessage): void;
  /** Registers the receiver; returns a function that unregisters it. */
  onMessage(handler: (from: string, message: unknown) => void): () => void;
}

export interface MembershipOptions {
  nodeId: string;
  /** This node's address as others reach it (ws://host:port for the real transport). */
  address: string;
  /** Generation of this node: the node must raise it on every restart (persist a restart counter). */
  incarnation: number;
  /** Addresses to contact to join. The first seed forms the cluster if no other seed answers. Empty: form a cluster alone. */
  seeds: readonly string[];
  clock: Clock;
  rng: Rng;
  link: MembershipLink;
  heartbeatIntervalMs?: number;
  gossipIntervalMs?: number;
  /** How often reachability, suspicion, downing and removal are evaluated. */
  checkIntervalMs?: number;
  failureDetector?: Partial<PhiOptions>;
  downing?: DowningStrategy;
  /** The unreachable set must be unchanged this long before a quorate side downs it. */
  stableAfterMs?: number;
  /** A down member is removed (and may be failed over) this long after this node saw it down. */
  downRemovalMarginMs?: number;
  joinRetryIntervalMs?: number;
  /** The first seed forms a new cluster if no other seed welcomes it within this time. */
  seedTimeoutMs?: number;
  /** Longest wait for the others to acknowledge `leaving` before going `removed`. */
  leaveTimeoutMs?: number;
  /** How often seeds and removed members are sent our view, so islands left by a split brain merge. */
  reconnectIntervalMs?: number;
  /** Rejoin as a new incarnation after being downed by the others (default true). */
  autoRejoin?: boolean;
  /** Called after this node is `leaving` and before it is `removed` (hand off actors here). */
  beforeLeave?: () => Promise<void>;
}

export interface ResolvedMembershipOptions {
  nodeId: string;
  address: string;
  incarnation: number;
  seeds: string[];
  clock: Clock;
  rng: Rng;
  link: MembershipLink;
  heartbeatIntervalMs: number;
  gossipIntervalMs: number;
  checkIntervalMs: number;
  failureDetector: PhiOptions;
  downing: DowningStrategy;
  stableAfterMs: number;
  downRemovalMarginMs: number;
  joinRetryIntervalMs: number;
  seedTimeoutMs: number;
  leaveTimeoutMs: number;
  reconnectIntervalMs: number;
  autoRejoin: boolean;
  beforeLeave: (() => Promise<void>) | undefined;
}

export const MEMBERSHIP_DEFAULTS = Object.freeze({
  heartbeatIntervalMs: 1000,
  gossipIntervalMs: 1000,
  checkIntervalMs: 250,
  stableAfterMs: 2000,
  downRemovalMarginMs: 2000,
  joinRetryIntervalMs: 1000,
  seedTimeoutMs: 3000,
  leaveTimeoutMs: 5000,
  reconnectIntervalMs: 5000,
});

function invalid(field: string, message: string): never {
  throw new ClusterError(ClusterCodes.invalidOptions, `${field} ${message}`, { field });
}

function duration(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) invalid(field, `must be a positive number of milliseconds, got ${String(value)}`);
  return value as number;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) invalid(field, 'must be a non-empty string (at most 2048 characters)');
  return value as string;
}

export function resolveMembershipOptions(o: MembershipOptions): ResolvedMembershipOptions {
  if (typeof o !== 'object' || o === null) invalid('options', 'must be an object');
  const nodeId = text(o.nodeId, 'nodeId');
  if (nodeId.length > 256) invalid('nodeId', 'must be at most 256 characters');
  const address = text(o.address, 'address');
  if (!Number.isSafeInteger(o.incarnation) || o.incarnation < 0) invalid('incarnation', `must be a non-negative integer, got ${String(o.incarnation)}`);
  if (!Array.isArray(o.seeds)) invalid('seeds', 'must be an array of addresses');
  const seeds = o.seeds.map((s, i) => text(s, `seeds[${i}]`));
  if (o.clock === undefined || typeof o.clock.now !== 'function' || typeof o.clock.setTimeout !== 'function') invalid('clock', 'must be a Clock');
  if (o.rng === undefined || typeof o.rng.int !== 'function') invalid('rng', 'must be an Rng');
  if (o.link === undefined || typeof o.link.send !== 'function' || typeof o.link.onMessage !== 'function') invalid('link', 'must have send() and onMessage()');
  if (o.beforeLeave !== undefined && typeof o.beforeLeave !== 'function') invalid('beforeLeave', 'must be a function returning a promise');
  if (o.autoRejoin !== undefined && typeof o.autoRejoin !== 'boolean') invalid('autoRejoin', 'must be a boolean');
  const d = MEMBERSHIP_DEFAULTS;
  const heartbeatIntervalMs = duration(o.heartbeatIntervalMs, 'heartbeatIntervalMs', d.heartbeatIntervalMs);
  const stableAfterMs = duration(o.stableAfterMs, 'stableAfterMs', d.stableAfterMs);
  // A side counts members heard from within heartbeat + pause; downing comes ≥ pause + stableAfter
  // after the last heartbeat, so a longer stableAfter than one interval keeps the two apart.
  if (stableAfterMs <= heartbeatIntervalMs) invalid('stableAfterMs', `must be longer than heartbeatIntervalMs (${heartbeatIntervalMs}), got ${stableAfterMs}`);
  return {
    nodeId,
    address,
    incarnation: o.incarnation,
    seeds: [...new Set(seeds)],
    clock: o.clock,
    rng: o.rng,
    link: o.link,
    heartbeatIntervalMs,
    gossipIntervalMs: duration(o.gossipIntervalMs, 'gossipIntervalMs', d.gossipIntervalMs),
    checkIntervalMs: duration(o.checkIntervalMs, 'checkIntervalMs', d.checkIntervalMs),
    failureDetector: resolvePhiOptions(o.failureDetector),
    downing: resolveDowning(o.downing),
    stableAfterMs,
    downRemovalMarginMs: duration(o.downRemovalMarginMs, 'downRemovalMarginMs', d.downRemovalMarginMs),
    joinRetryIntervalMs: duration(o.joinRetryIntervalMs, 'joinRetryIntervalMs', d.joinRetryIntervalMs),
    seedTimeoutMs: duration(o.seedTimeoutMs, 'seedTimeoutMs', d.seedTimeoutMs),
    leaveTimeoutMs: duration(o.leaveTimeoutMs, 'leaveTimeoutMs', d.leaveTimeoutMs),
    reconnectIntervalMs: duration(o.reconnectIntervalMs, 'reconnectIntervalMs', d.reconnectIntervalMs),
    autoRejoin: o.autoRejoin ?? true,
    beforeLeave: o.beforeLeave,
  };
}
