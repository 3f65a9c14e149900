// Pure decisions about where actors live: which members keep replicas of an
// actor (rendezvous hashing: every node computes the same answer from the same
// member list, and a member joining or leaving moves only the replicas it
// gains or held), which replicas a node restarts when a member is removed, and
// whether a contract's placement allows a node.

import { createHash } from 'node:crypto';

/** The `count` members (other than `owner`) that keep replicas of `id`, best first. */
export function replicaSet(id: string, owner: string, members: readonly string[], count: number): string[] {
  return members
    .filter((m) => m !== owner)
    .map((m) => ({ m, score: createHash('sha256').update(id).update('\u0000').update(m).digest().readBigUInt64BE(0) }))
    .sort((a, b) => (a.score === b.score ? (a.m < b.m ? -1 : 1) : a.score > b.score ? -1 : 1))
    .slice(0, Math.max(0, count))
    .map((x) => x.m);
}

export interface HeldReplica {
  id: string;
  owner: string;
  /** The holders, in the order the owner chose them. */
  replicaSet: readonly string[];
}

/**
 * The replicas `self` restarts now that `removed` is out: those `removed` owned whose
 * first holder still up is `self`. Nothing on a side without quorum (the other side
 * may still run them). Every holder decides alike from the same view, so exactly one
 * restarts each actor.
 */
export function failoverPlan(input: { self: string; quorate: boolean; removed: string; up: readonly string[]; replicas: readonly HeldReplica[] }): string[] {
  if (!input.quorate) return [];
  const up = new Set(input.up);
  up.delete(input.removed);
  up.add(input.self);
  return input.replicas.filter((r) => r.owner === input.removed && r.replicaSet.find((n) => up.has(n)) === input.self).map((r) => r.id);
}

/** Why a contract's placement does not allow a node of `nodePlacement` (undefined: it does). */
export function placementRefusal(contractPlacement: string | undefined, nodePlacement: string): string | undefined {
  if (contractPlacement === undefined || contractPlacement === nodePlacement) return undefined;
  return `its contract requires placement ${contractPlacement}; this node is ${nodePlacement}`;
}
