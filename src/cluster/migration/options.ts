// Options of actor mobility (migration, replication, failover), their defaults
// in one place, checked with errors naming the option path.

import { PLACEMENTS, type Placement } from '../../kernel/contract/schema.js';
import { ClusterCodes, ClusterError } from '../errors.js';

export interface MobilityOptions {
  /** Where this node runs, matched against contracts' `placement` when an actor moves here. Default `on_prem`. */
  placement?: Placement;
  /** Other members that keep a copy of each persistent agent's last checkpoint, for failover. Default 1; 0: no replicas, no failover. */
  replicas?: number;
  /** A node leaving gracefully (`leave()`, `node.stop()`) first moves its agents to other members. Default true. */
  handOffOnLeave?: boolean;
  migration?: {
    /** Longest wait for an actor's in-flight calls to finish before a move gives up. Default 5000 ms. */
    drainMs?: number;
    /** Longest wait for the target to take the actor. Default 10,000 ms. */
    timeoutMs?: number;
    /** Longest a sender's messages wait for its older ones routed through the old owner. Default 2000 ms. */
    holdMs?: number;
  };
}

export interface ResolvedMobility {
  placement: Placement;
  replicas: number;
  handOffOnLeave: boolean;
  drainMs: number;
  timeoutMs: number;
  holdMs: number;
}

export function resolveMobility(o: MobilityOptions): ResolvedMobility {
  const bad = (field: string, why: string): never => {
    throw new ClusterError(ClusterCodes.invalidOptions, `cluster.${field} ${why}`, { field: `cluster.${field}` });
  };
  const ms = (v: unknown, field: string, fallback: number): number => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 2 ** 31 - 1) bad(field, `must be a positive number of ms (got ${String(v)})`);
    return v as number;
  };
  if (o.placement !== undefined && !PLACEMENTS.includes(o.placement)) bad('placement', `must be one of ${PLACEMENTS.join(', ')} (got ${JSON.stringify(o.placement)})`);
  if (o.replicas !== undefined && !(Number.isInteger(o.replicas) && o.replicas >= 0 && o.replicas <= 16)) bad('replicas', `must be an integer 0-16 (got ${String(o.replicas)})`);
  if (o.handOffOnLeave !== undefined && typeof o.handOffOnLeave !== 'boolean') bad('handOffOnLeave', `must be true or false (got ${JSON.stringify(o.handOffOnLeave)})`);
  if (o.migration !== undefined && (typeof o.migration !== 'object' || o.migration === null)) bad('migration', 'must be { drainMs?, timeoutMs?, holdMs? }');
  const m = o.migration ?? {};
  return {
    placement: o.placement ?? 'on_prem',
    replicas: o.replicas ?? 1,
    handOffOnLeave: o.handOffOnLeave ?? true,
    drainMs: ms(m.drainMs, 'migration.drainMs', 5000),
    timeoutMs: ms(m.timeoutMs, 'migration.timeoutMs', 10_000),
    holdMs: ms(m.holdMs, 'migration.holdMs', 2000),
  };
}
