// Gossip membership with phi accrual failure detection and split-brain downing.
// One instance per node. It joins through seed addresses, heartbeats every live
// member, gossips its whole view to one random member per round (push–pull),
// suspects members it cannot hear, and — only on a side that the downing
// strategy lets keep running, once the unreachable set has been stable and the
// side has confirmed itself — downs them; down members are removed after a
// margin. A side that loses quorum says so at once (`quorum-lost`) so the node
// can stop hosting persistent actors before the other side downs it. Time comes
// from the injected Clock and randomness from the injected Rng, so runs replay
// exactly on a VirtualClock.

import { ClusterCodes, ClusterError } from '../errors.js';
import type { MembershipListener, MembershipStats } from './core.js';
import type { DowningDecision } from './downing.js';
import { isTerminal, type Member } from './member.js';
import type { MembershipOptions } from './options.js';
import { MembershipProtocol } from './protocol.js';

export type { MembershipListener, MembershipStats } from './core.js';

export class Membership extends MembershipProtocol {
  private readonly unsubscribe: () => void;

  constructor(options: MembershipOptions) {
    super(options);
    this.unsubscribe = this.o.link.onMessage((from, message) => this.receive(from, message));
  }

  get nodeId(): string {
    return this.o.nodeId;
  }

  /** Starts joining through the seeds; `member-up` for this node follows once the others have seen it. */
  start(): void {
    if (this.lifecycle !== 'idle') throw this.stateError(`start() can be called once; membership of ${this.o.nodeId} is ${this.lifecycle}`);
    this.lifecycle = 'running';
    this.timers.every('heartbeat', this.o.heartbeatIntervalMs, () => this.heartbeatRound());
    this.timers.every('gossip', this.o.gossipIntervalMs, () => this.gossipRound());
    this.timers.every('check', this.o.checkIntervalMs, () => this.check());
    this.timers.every('reconnect', this.o.reconnectIntervalMs, () => this.reconnectRound());
    // The first seed forms the cluster if no other seed answers in time (none listed: at once).
    const firstSeed = this.o.seeds.length === 0 || this.o.seeds[0] === this.o.address;
    if (firstSeed && this.contacts.length === 0) return this.becomeUp();
    this.seedDeadline = firstSeed ? this.o.clock.now() + this.o.seedTimeoutMs : undefined;
    this.joinRound();
  }

  /** Current members (removed ones left out), ordered by address. */
  members(options: { includeRemoved?: boolean } = {}): Member[] {
    return options.includeRemoved === true ? this.table.all() : this.table.filter((m) => m.status !== 'removed');
  }

  member(nodeId: string): Member | undefined {
    return this.table.get(nodeId);
  }

  /** True while this node is up and its side of any partition keeps running: it may host persistent actors. */
  isQuorate(): boolean {
    return this.quorate;
  }

  /** The last downing decision for this side (undefined before the first evaluation). */
  lastDowningDecision(): DowningDecision | undefined {
    return this.lastDecision;
  }

  /** Members this node currently cannot hear (φ at or above the threshold), by node id. */
  unreachable(): string[] {
    return this.reach.observe(this.o.clock.now()).unreachable;
  }

  /** This node's φ for a member, or undefined when it does not monitor it. */
  phi(nodeId: string): number | undefined {
    return this.reach.phi(nodeId, this.o.clock.now());
  }

  stats(): MembershipStats {
    return { ...this.counters };
  }

  /** Subscribes to change events; returns the unsubscribe function. Listener errors are counted, not thrown. */
  on(listener: MembershipListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Graceful leave: `leaving` (gossiped to all), then `beforeLeave()`, then —
   * once every reachable member has acknowledged `leaving`, or after
   * leaveTimeoutMs — `removed` (gossiped to all), and this membership stops.
   * A failing hook does not keep the node in the cluster; leave() then rejects.
   */
  async leave(): Promise<void> {
    const status = this.self().status;
    if (this.lifecycle !== 'running' || status !== 'up') {
      throw this.stateError(`leave() needs an up member; ${this.o.nodeId} is ${this.lifecycle === 'running' ? status : this.lifecycle}`);
    }
    const progress: NonNullable<Membership['leaving']> = { seenBy: new Set(), done: undefined };
    this.leaving = progress;
    this.setSelf('leaving');
    let hookError: unknown;
    try {
      await this.o.beforeLeave?.();
    } catch (err) {
      hookError = err ?? new Error('beforeLeave rejected');
    }
    await new Promise<void>((resolve) => {
      progress.done = resolve;
      // Stopped or downed while the hook ran: nothing left to wait for.
      if (this.lifecycle !== 'running' || isTerminal(this.self().status)) return resolve();
      this.timers.once('leave-timeout', this.o.leaveTimeoutMs, resolve);
      this.checkLeaveAcknowledged();
    });
    if (this.lifecycle === 'running' && !isTerminal(this.self().status)) this.setSelf('removed');
    this.stop();
    if (hookError !== undefined) {
      throw new ClusterError(ClusterCodes.leaveHookFailed, `beforeLeave() of ${this.o.nodeId} failed; the node left the cluster anyway`, { cause: hookError, field: 'beforeLeave' });
    }
  }

  /** Stops without leaving: timers end, messages are ignored (to the others this looks like a crash). */
  stop(): void {
    if (this.lifecycle === 'stopped') return;
    this.lifecycle = 'stopped';
    this.timers.stop();
    this.unsubscribe();
    this.updateQuorum();
    this.leaving?.done?.();
  }
}
