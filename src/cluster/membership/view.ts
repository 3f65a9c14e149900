// A node's view: one record per node id (the newest incarnation seen, including
// tombstones of removed ones so stale gossip cannot bring them back), merged
// record by record, and the change events each merge implies.

import { byAddress, compareMembers, type Member, type MemberStatus } from './member.js';
import type { DowningDecision } from './downing.js';

export type MemberEventType = 'member-joined' | 'member-up' | 'member-suspect' | 'member-leaving' | 'member-down' | 'member-removed';

export interface MemberEvent {
  type: MemberEventType;
  member: Member;
  /** Clock time at which this node observed the change. */
  at: number;
}

export interface QuorumEvent {
  /** quorum-lost: stop hosting persistent actors. quorum-gained: this side may host them (again). */
  type: 'quorum-lost' | 'quorum-gained';
  /** The downing strategy's verdict for this side (a node not up or leaving is never quorate, whatever it says). */
  decision: DowningDecision;
  /** This node's own status at the time. */
  memberStatus: MemberStatus;
  at: number;
}

export interface RejoinEvent {
  /** This node was downed by the others; it joins again as `incarnation`. */
  type: 'rejoining';
  previousIncarnation: number;
  incarnation: number;
  at: number;
}

export type MembershipEvent = MemberEvent | QuorumEvent | RejoinEvent;

const STATUS_EVENT: Record<MemberStatus, MemberEventType | undefined> = {
  joining: undefined,
  up: 'member-up',
  suspect: 'member-suspect',
  leaving: 'member-leaving',
  down: 'member-down',
  removed: 'member-removed',
};

/**
 * Events for a record replacing `before` (undefined: first sighting of the node).
 * A new incarnation retires the old one (member-removed) and is announced with
 * member-joined, then its status if past joining. A tombstone or a down record of
 * an incarnation never seen live announces nothing.
 */
export function changeEvents(before: Member | undefined, after: Member): Array<{ type: MemberEventType; member: Member }> {
  const out: Array<{ type: MemberEventType; member: Member }> = [];
  if (before === undefined || before.incarnation < after.incarnation) {
    if (before !== undefined && before.status !== 'removed') out.push({ type: 'member-removed', member: { ...before, status: 'removed' } });
    if (after.status === 'down' || after.status === 'removed') return out;
    out.push({ type: 'member-joined', member: after });
    const status = STATUS_EVENT[after.status];
    if (status !== undefined) out.push({ type: status, member: after });
    return out;
  }
  if (before.status !== after.status) {
    const status = STATUS_EVENT[after.status];
    if (status !== undefined) out.push({ type: status, member: after });
  }
  return out;
}

export interface MergeResult {
  changed: boolean;
  before: Member | undefined;
  after: Member;
}

export class MemberTable {
  private readonly byId = new Map<string, Member>();

  get(nodeId: string): Member | undefined {
    return this.byId.get(nodeId);
  }

  /** Every record, tombstones included, by address. */
  all(): Member[] {
    return [...this.byId.values()].sort(byAddress);
  }

  /** Records whose status passes `keep`, by address. */
  filter(keep: (m: Member) => boolean): Member[] {
    return this.all().filter(keep);
  }

  /** Keeps the larger of the held record and `incoming` (see compareMembers). */
  merge(incoming: Member): MergeResult {
    const before = this.byId.get(incoming.nodeId);
    if (before !== undefined && compareMembers(incoming, before) <= 0) return { changed: false, before, after: before };
    const after = Object.freeze({ ...incoming });
    this.byId.set(incoming.nodeId, after);
    return { changed: true, before, after };
  }

  /** Forgets every record (a node rejoining after being downed starts from the welcome's view). */
  clear(): void {
    this.byId.clear();
  }

  /** Replaces a record regardless of order: only for this node's own record on a rejoin. */
  replace(record: Member): void {
    this.byId.set(record.nodeId, Object.freeze({ ...record }));
  }

  /** True when `other` holds a record for some node that is older than ours or lacks one we hold. */
  isBehind(other: readonly Member[]): boolean {
    const theirs = new Map(other.map((m) => [m.nodeId, m]));
    for (const mine of this.byId.values()) {
      const t = theirs.get(mine.nodeId);
      if (t === undefined || compareMembers(mine, t) > 0) return true;
    }
    return false;
  }
}
