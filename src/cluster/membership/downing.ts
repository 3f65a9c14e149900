// Split-brain resolution as a pure decision: given the members a node last knew
// as up and which of them it can still reach, does its side of a partition keep
// running? A side that does not keep running fences itself (its members stop
// hosting persistent actors); only a side that keeps running downs the others.
//
// Safety: for any split of one member set into two sides, at most one side
// decides to keep running (property-tested). It holds when both sides decide
// over the same member set, i.e. for a clean partition of a converged view; with
// asymmetric reachability (A cannot hear B, C hears both) a node may down a
// member that others still reach — that member then rejoins as a new incarnation.

import { ClusterCodes, ClusterError } from '../errors.js';
import { byAddress } from './member.js';

export type DowningStrategy =
  /** Keep the side with more than half of the members; at exactly half, the side holding the lowest member (by address). */
  | { strategy: 'keep-majority' }
  /** Keep a side with at least `quorumSize` members. Unsafe past 2·quorumSize − 1 members, so then no side keeps running. */
  | { strategy: 'static-quorum'; quorumSize: number };

export const keepMajority = (): DowningStrategy => ({ strategy: 'keep-majority' });
export const staticQuorum = (quorumSize: number): DowningStrategy => resolveDowning({ strategy: 'static-quorum', quorumSize });

export type DowningReason =
  | 'majority'
  | 'minority'
  | 'half-with-lowest'
  | 'half-without-lowest'
  | 'quorum'
  | 'below-quorum'
  | 'too-many-members'
  | 'no-members';

export interface DowningDecision {
  keep: boolean;
  reason: DowningReason;
  /** Size of the side (members that are reachable) and of the member set. */
  reachable: number;
  members: number;
}

export interface DowningMember {
  readonly nodeId: string;
  readonly address: string;
}

/**
 * Decides for the side made of the `members` whose id is in `reachable`.
 * Members are identified by node id; `reachable` may hold ids outside `members`
 * (they are ignored).
 */
export function decideDowning(
  strategy: DowningStrategy,
  members: readonly DowningMember[],
  reachable: ReadonlySet<string>,
): DowningDecision {
  const total = members.length;
  const side = members.filter((m) => reachable.has(m.nodeId)).length;
  const decision = (keep: boolean, reason: DowningReason): DowningDecision => ({ keep, reason, reachable: side, members: total });
  if (total === 0) return decision(true, 'no-members');
  if (strategy.strategy === 'keep-majority') {
    if (2 * side > total) return decision(true, 'majority');
    if (2 * side < total) return decision(false, 'minority');
    const lowest = [...members].sort(byAddress)[0];
    return reachable.has(lowest.nodeId) ? decision(true, 'half-with-lowest') : decision(false, 'half-without-lowest');
  }
  // Two disjoint sides of ≥ q members need ≥ 2q members; refusing past 2q − 1 keeps it safe.
  if (total > 2 * strategy.quorumSize - 1) return decision(false, 'too-many-members');
  return side >= strategy.quorumSize ? decision(true, 'quorum') : decision(false, 'below-quorum');
}

/** Validates a strategy from options; keep-majority when none is given. */
export function resolveDowning(input: unknown, field = 'downing'): DowningStrategy {
  if (input === undefined) return keepMajority();
  const bad = (msg: string, f = field): never => {
    throw new ClusterError(ClusterCodes.invalidOptions, `${f} ${msg}`, { field: f });
  };
  if (typeof input !== 'object' || input === null) return bad('must be { strategy: "keep-majority" } or { strategy: "static-quorum", quorumSize }');
  const s = input as { strategy?: unknown; quorumSize?: unknown };
  if (s.strategy === 'keep-majority') return { strategy: 'keep-majority' };
  if (s.strategy === 'static-quorum') {
    const q = s.quorumSize;
    if (typeof q !== 'number' || !Number.isSafeInteger(q) || q < 1) return bad(`must be a positive integer, got ${String(q)}`, `${field}.quorumSize`);
    return { strategy: 'static-quorum', quorumSize: q };
  }
  return bad(`must be "keep-majority" or "static-quorum", got ${JSON.stringify(s.strategy)}`, `${field}.strategy`);
}
