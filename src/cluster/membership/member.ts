// A member record and the order that merges two records of the same node.
//
// Design choice: SWIM-style per-member versions with suspicion refutation, not
// Akka's vector-clocked gossip with convergence. Each record carries its node's
// `incarnation` (a generation: a restarted node is a new incarnation and replaces
// the old one) and a `version` that only the member itself raises — to go up, to
// leave, or to refute a suspicion. Others may only mark it `suspect`, `down` or
// `removed` at the version they saw. Records of one node are then totally ordered
// (see `compareMembers`), so merging is "keep the larger": commutative,
// associative and idempotent — a join-semilattice, so any two nodes that have
// exchanged their views hold the same view, with no leader and no convergence
// round. What Akka's vector clock adds — knowing that every node has seen a
// state — we need in two places only, and get from the views peers gossip to us:
// promoting a joiner to up (convergence.ts) and completing a graceful leave.

export const MEMBER_STATUSES = ['joining', 'up', 'suspect', 'leaving', 'down', 'removed'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

export interface Member {
  readonly nodeId: string;
  /** Where the node listens (a ws:// URL for the real transport). */
  readonly address: string;
  /** Generation of the node: raised on every restart; a higher one replaces a lower one. */
  readonly incarnation: number;
  readonly status: MemberStatus;
  /** Raised only by the member itself (join → up, leave, refuting a suspicion). */
  readonly version: number;
}

/** Statuses of members that take part: they are heartbeated, gossiped to and failure-detected. */
export function isLive(status: MemberStatus): boolean {
  return status === 'joining' || status === 'up' || status === 'suspect' || status === 'leaving';
}

/** Members counted by the downing strategy ("last known up"): joining ones do not vote yet. */
export function countsForQuorum(status: MemberStatus): boolean {
  return status === 'up' || status === 'suspect' || status === 'leaving';
}

/** `down` and `removed` end an incarnation: nothing at the same incarnation can undo them. */
export function isTerminal(status: MemberStatus): boolean {
  return status === 'down' || status === 'removed';
}

// Among terminal statuses removed beats down; among live ones, at equal versions,
// a suspicion beats the member's own claim (the member refutes by raising its version).
const TERMINAL_RANK: Record<MemberStatus, number> = { joining: 0, up: 0, suspect: 0, leaving: 0, down: 1, removed: 2 };
const LIVE_RANK: Record<MemberStatus, number> = { joining: 0, up: 1, leaving: 2, suspect: 3, down: 4, removed: 5 };

/**
 * Total order on two records of the same node: incarnation, then terminal status
 * (absorbing for the incarnation, whatever the version), then version, then status
 * rank, then address (only to keep the order total on malformed input).
 */
export function compareMembers(a: Member, b: Member): number {
  return (
    a.incarnation - b.incarnation ||
    TERMINAL_RANK[a.status] - TERMINAL_RANK[b.status] ||
    a.version - b.version ||
    LIVE_RANK[a.status] - LIVE_RANK[b.status] ||
    (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)
  );
}

/** The merge of two records of one node: the larger in `compareMembers` order. */
export function mergeMember(a: Member, b: Member): Member {
  return compareMembers(a, b) >= 0 ? a : b;
}

export function sameMember(a: Member, b: Member): boolean {
  return compareMembers(a, b) === 0 && a.nodeId === b.nodeId;
}

/** Ordering used for views and for the downing tie-break: by address, then node id. */
export function byAddress(a: Pick<Member, 'address' | 'nodeId'>, b: Pick<Member, 'address' | 'nodeId'>): number {
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0;
}
