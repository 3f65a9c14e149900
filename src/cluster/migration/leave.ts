// Graceful leave: before a node leaves the cluster, every agent that may move is
// migrated to another up member — its first choice by rendezvous hashing over the
// others (so a leaving node spreads its actors, and every node would pick alike),
// the next one if that member refuses (placement, admission, a timeout). What
// cannot move (migratable: false, HRT lane actors, supervisors' children) stops
// with the node as before; a persistent one comes back when this node starts again.

import { isAgentOsError } from '../../base/errors.js';
import type { Kernel } from '../../kernel/kernel.js';
import { replicaSet } from './placement.js';
import type { MigrationResult } from './protocol.js';

export interface HandOffReport {
  moved: { id: string; to: string }[];
  /** Actors that stay (and stop with this node), with why. */
  stayed: { id: string; reason: string }[];
}

export interface HandOffDeps {
  kernel: Kernel;
  self: string;
  /** Up members, this node included. */
  upMembers(): string[];
  migrate(id: string, target: string): Promise<MigrationResult>;
  /** Moves in flight at once (default 2). */
  concurrency?: number;
}

export async function handOffAll(deps: HandOffDeps): Promise<HandOffReport> {
  const report: HandOffReport = { moved: [], stayed: [] };
  const queue: string[] = [];
  for (const id of deps.kernel.actorIds()) {
    let refusal: string | undefined;
    try {
      refusal = deps.kernel.handoff.refusal(id)?.reason;
    } catch (err) {
      refusal = (err as Error).message; // gone meanwhile
    }
    if (refusal === undefined) queue.push(id);
    else report.stayed.push({ id, reason: refusal });
  }
  const next = async (): Promise<void> => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) await moveOne(deps, id, report);
  };
  await Promise.all(Array.from({ length: Math.max(1, deps.concurrency ?? 2) }, next));
  return report;
}

async function moveOne(deps: HandOffDeps, id: string, report: HandOffReport): Promise<void> {
  const others = deps.upMembers().filter((m) => m !== deps.self);
  const reasons: string[] = [];
  for (const target of replicaSet(id, deps.self, others, others.length)) {
    try {
      const result = await deps.migrate(id, target);
      report.moved.push({ id, to: result.to });
      return;
    } catch (err) {
      reasons.push(`${target}: ${isAgentOsError(err) ? `${err.code} ${err.message}` : (err as Error).message}`);
    }
  }
  report.stayed.push({ id, reason: others.length === 0 ? 'no other member is up' : reasons.join('; ') });
}
