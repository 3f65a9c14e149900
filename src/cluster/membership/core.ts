// The state a membership holds and the one path by which its view changes:
// records are merged into the table, and every change updates failure
// detection, down-member bookkeeping, events and the quorum decision. Also the
// sending helpers. The protocol (protocol.ts) and the public API
// (membership.ts) build on this.

import { ClusterCodes, ClusterError } from '../errors.js';
import { SeenViews, quorumBase } from './convergence.js';
import { decideDowning, type DowningDecision } from './downing.js';
import { isLive, isTerminal, type Member, type MemberStatus } from './member.js';
import { toWire, type GossipMessage, type MembershipMessage, type Sender } from './messages.js';
import { resolveMembershipOptions, type MembershipOptions, type ResolvedMembershipOptions } from './options.js';
import { ConfirmationProbe, unreachableKey } from './probe.js';
import { Reachability } from './reachability.js';
import { Timers } from './timers.js';
import { changeEvents, MemberTable, type MembershipEvent, type MergeResult } from './view.js';

export type MembershipListener = (event: MembershipEvent) => void;

export interface MembershipStats {
  received: number;
  sent: number;
  /** Malformed messages, and messages whose claimed sender is not the link's authenticated peer. */
  invalidMessages: number;
  spoofedMessages: number;
  /** Join requests refused (this node not up, or with unreachable members, or the joiner was downed). */
  joinsRefused: number;
  listenerErrors: number;
}

export abstract class MembershipCore {
  protected readonly o: ResolvedMembershipOptions;
  protected readonly table = new MemberTable();
  protected readonly reach: Reachability;
  protected readonly seen = new SeenViews();
  protected readonly probe = new ConfirmationProbe();
  protected readonly timers: Timers;
  protected readonly listeners = new Set<MembershipListener>();
  /** When this node first saw each down record (node id + incarnation), for the removal margin. */
  protected readonly downSeenAt = new Map<string, number>();
  protected lifecycle: 'idle' | 'running' | 'stopped' = 'idle';
  protected incarnation: number;
  protected quorate = false;
  protected lastDecision: DowningDecision | undefined;
  /**
   * Set when a confirmation round found too few members answering for this side to
   * keep running: fenced while the unreachable set it was run for still holds (the
   * next round, or a change of the set, lifts it). Key of that unreachable set.
   */
  protected probeVeto: string | undefined;
  /**
   * Set when this node lost quorum at its current incarnation. Regaining it then takes a
   * confirmation round answered by every live member (protocol.ts), not merely their messages
   * arriving again: messages a partition held back arrive late and look fresh, and a member
   * may have downed this node meanwhile (it does not answer a downed incarnation's probe).
   */
  protected unconfirmed = false;
  protected readonly counters: MembershipStats = { received: 0, sent: 0, invalidMessages: 0, spoofedMessages: 0, joinsRefused: 0, listenerErrors: 0 };

  constructor(options: MembershipOptions) {
    this.o = resolveMembershipOptions(options);
    this.incarnation = this.o.incarnation;
    this.reach = new Reachability(this.o.failureDetector);
    this.timers = new Timers(this.o.clock);
    this.table.replace(this.ownRecord('joining', 0));
  }

  /** This node's own record. */
  self(): Member {
    return this.table.get(this.o.nodeId) as Member;
  }

  /** Stops without leaving: timers end, messages are ignored (to the others this looks like a crash). */
  abstract stop(): void;

  protected livePeers(): Member[] {
    return this.table.filter((m) => m.nodeId !== this.o.nodeId && isLive(m.status));
  }

  /** Raises this node's own version with a new status, and tells everyone. */
  protected setSelf(status: MemberStatus): void {
    const mine = this.self();
    this.applyAll([{ ...mine, status, version: mine.version + 1 }]);
    this.announce();
  }

  /** Merges records into the view and carries out what each change implies. */
  protected applyAll(records: readonly Member[]): void {
    const changes: MergeResult[] = [];
    for (const r of records) {
      const res = this.table.merge(r);
      if (res.changed) changes.push(res);
    }
    if (changes.length === 0) return;
    const now = this.o.clock.now();
    for (const c of changes) if (c.after.status === 'down' && !this.downSeenAt.has(keyOf(c.after))) this.downSeenAt.set(keyOf(c.after), now);
    for (const key of this.downSeenAt.keys()) {
      const m = this.table.get(key.split('\u0000')[0]);
      if (m === undefined || m.status !== 'down' || keyOf(m) !== key) this.downSeenAt.delete(key);
    }
    this.reach.sync(this.table.all(), this.o.nodeId, now);
    for (const c of changes) for (const e of changeEvents(c.before, c.after)) this.emit({ ...e, at: now });
    this.updateQuorum();
  }

  /**
   * This side of a possible partition: this node and the members it heard from
   * within one heartbeat interval plus the acceptable pause. Deliberately stricter
   * than "φ below the threshold": a side must not count, as its own, members it has
   * not heard from for about as long as any downing takes, and a minority fences
   * itself (`quorum-lost`) before the majority can down it (≥ pause + stableAfterMs).
   */
  protected thisSide(): Set<string> {
    const window = this.o.heartbeatIntervalMs + this.o.failureDetector.acceptableHeartbeatPauseMs;
    const side = this.reach.fresh(this.o.clock.now(), window);
    side.add(this.o.nodeId);
    return side;
  }

  /** Whether this node may act for its side: running, up or leaving, and the strategy keeps the side of fresh members. */
  protected keepsRunning(): boolean {
    const own = this.self().status;
    return this.lifecycle === 'running' && (own === 'up' || own === 'leaving') && this.lastDecision?.keep === true;
  }

  /** Re-evaluates the downing strategy for this side and reports a change of quorum. */
  protected updateQuorum(): void {
    const own = this.self().status;
    const side = this.thisSide();
    const decision = decideDowning(this.o.downing, quorumBase(this.table.all(), side), side);
    this.lastDecision = decision;
    const vetoed = this.probeVeto !== undefined && this.probeVeto === unreachableKey(this.reach.observe(this.o.clock.now()).unreachable);
    if (!vetoed) this.probeVeto = undefined;
    const quorate = this.keepsRunning() && !vetoed && !this.unconfirmed;
    if (quorate === this.quorate) return;
    this.quorate = quorate;
    if (!quorate && this.lifecycle === 'running' && (own === 'up' || own === 'leaving')) this.unconfirmed = true;
    this.emit({ type: quorate ? 'quorum-gained' : 'quorum-lost', decision, memberStatus: own, at: this.o.clock.now() });
  }

  /** Every live member (but `except`) is on this side and none is unreachable. */
  protected hearsEveryone(except?: string): boolean {
    const side = this.thisSide();
    if (this.reach.observe(this.o.clock.now()).unreachable.some((id) => id !== except)) return false;
    return this.livePeers().every((m) => m.nodeId === except || side.has(m.nodeId));
  }

  /** The sender is an incarnation we hold as down, removed or superseded. */
  protected isStale(sender: Sender): boolean {
    const known = this.table.get(sender.nodeId);
    if (known === undefined) return false;
    return known.incarnation > sender.incarnation || (known.incarnation === sender.incarnation && isTerminal(known.status));
  }

  /** Pushes the view to every live member (a change everyone should see soon: up, refuted, leaving, removed, admitted). */
  protected announce(): void {
    if (this.lifecycle !== 'running') return;
    for (const m of this.livePeers()) this.sendGossip(m, false);
  }

  protected sendGossip(to: { nodeId: string; address: string }, reply: boolean): void {
    this.send(to, this.gossipMessage(reply));
  }

  protected gossipMessage(reply: boolean): GossipMessage {
    return { type: 'membership.gossip', from: this.sender(), members: toWire(this.table.all()), reply };
  }

  protected send(to: { address: string; nodeId?: string }, message: MembershipMessage): void {
    this.counters.sent++;
    this.o.link.send(to.nodeId === undefined ? { address: to.address } : { address: to.address, nodeId: to.nodeId }, message);
  }

  protected sender(): Sender {
    return { nodeId: this.o.nodeId, address: this.o.address, incarnation: this.incarnation };
  }

  protected ownRecord(status: MemberStatus, version: number): Member {
    return { nodeId: this.o.nodeId, address: this.o.address, incarnation: this.incarnation, status, version };
  }

  protected emit(event: MembershipEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener must not corrupt membership state; the failure is counted.
        this.counters.listenerErrors++;
      }
    }
  }

  protected stateError(message: string): ClusterError {
    return new ClusterError(ClusterCodes.membershipState, message, { field: 'status', details: { nodeId: this.o.nodeId } });
  }
}

export function keyOf(m: Member): string {
  return `${m.nodeId}\u0000${m.incarnation}`;
}
