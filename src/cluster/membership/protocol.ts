// The membership protocol: periodic rounds (heartbeat, gossip, check,
// reconnect), joining and admission, the downing round, and what to do with
// each incoming message. Reads and changes the view only through MembershipCore.

import { decideDowning } from './downing.js';
import { quorumBase } from './convergence.js';
import { islandWins } from './islands.js';
import { isLive, isTerminal, type Member } from './member.js';
import { parseMembershipMessage, toWire, type GossipMessage, type Sender, type WelcomeMessage } from './messages.js';
import { unreachableKey } from './probe.js';
import { keyOf, MembershipCore } from './core.js';

export abstract class MembershipProtocol extends MembershipCore {
  /** Where join requests go: the seeds, or after being downed the member that told us. */
  protected contacts: string[] = this.o.seeds.filter((a) => a !== this.o.address);
  protected welcomed = false;
  protected seedDeadline: number | undefined;
  /** Set while leaving: who has acknowledged it, and how to end the wait. */
  protected leaving: { seenBy: Set<string>; done: (() => void) | undefined } | undefined;

  // ---- rounds ----

  protected heartbeatRound(): void {
    const from = this.sender();
    for (const m of this.livePeers()) this.send(m, { type: 'membership.heartbeat', from });
  }

  protected gossipRound(): void {
    const peers = this.livePeers();
    if (peers.length > 0) this.sendGossip(peers[this.o.rng.int(peers.length)], false);
  }

  /** Suspicion, downing (quorate side, stable unreachable set, confirmed), removal of down members, promotion of joiners. */
  protected check(): void {
    const now = this.o.clock.now();
    const own = this.self().status;
    const { unreachable, stableSince } = this.reach.observe(now);
    if (own === 'up' || own === 'leaving') {
      // Joiners are not marked suspect: a suspect counts for quorum, a joiner that was never up must not.
      const suspects = unreachable.map((id) => this.table.get(id)).filter((m): m is Member => m !== undefined && (m.status === 'up' || m.status === 'leaving'));
      this.applyAll(suspects.map((m) => ({ ...m, status: 'suspect' })));
      // Probed again while vetoed too: a lost answer must not fence this node for good.
      // A node back from a loss of quorum asks every live member before it hosts again.
      const confirming = this.unconfirmed && !this.quorate;
      const downingDue = unreachable.length > 0 && now - stableSince >= this.o.stableAfterMs;
      if (this.keepsRunning() && (confirming || downingDue) && !this.probe.inFlight) this.startProbe(unreachable, confirming);
    }
    const removals: Member[] = [];
    for (const m of this.table.all()) {
      if (m.status !== 'down' || m.nodeId === this.o.nodeId) continue;
      const seenAt = this.downSeenAt.get(keyOf(m)) ?? now;
      this.downSeenAt.set(keyOf(m), seenAt);
      if (now - seenAt >= this.o.downRemovalMarginMs) removals.push({ ...m, status: 'removed' });
    }
    this.applyAll(removals);
    this.promoteJoiners();
    this.updateQuorum();
  }

  /**
   * Asks every member this side counts on (`all`: every live member, to confirm quorum) to
   * answer; the decision waits for the answers (or one heartbeat interval).
   */
  private startProbe(unreachable: string[], all: boolean): void {
    const blocked = new Set(all ? [] : unreachable);
    const targets = this.livePeers().filter((m) => !blocked.has(m.nodeId));
    const nonce = this.probe.start(targets.map((m) => m.nodeId), unreachable);
    const from = this.sender();
    for (const m of targets) this.send(m, { type: 'membership.probe', from, nonce });
    if (targets.length === 0) return this.finishProbe();
    this.timers.once('probe', this.o.heartbeatIntervalMs, () => this.finishProbe());
  }

  /**
   * Confirms quorum when every member asked answered; downs the unreachable members
   * if they are still the same and the members that answered keep this side
   * running; if they do not, this side is fenced at once (rather than when its
   * silent members' freshness runs out).
   */
  private finishProbe(): void {
    this.timers.cancel('probe');
    const result = this.probe.finish();
    if (result === undefined || !this.keepsRunning()) return;
    const side = new Set([this.o.nodeId, ...result.acked]);
    const keep = decideDowning(this.o.downing, quorumBase(this.table.all(), side), side).keep;
    if (keep && this.unconfirmed && [...result.targets].every((id) => result.acked.has(id))) this.unconfirmed = false;
    const { unreachable } = this.reach.observe(this.o.clock.now());
    if (unreachableKey(unreachable) !== result.unreachableKey) return this.updateQuorum();
    this.probeVeto = keep ? undefined : result.unreachableKey;
    this.updateQuorum();
    if (!keep) return;
    // A member that answered is not downed, even if its heartbeats have not caught up.
    const targets = unreachable.filter((id) => !result.acked.has(id)).map((id) => this.table.get(id)).filter((m): m is Member => m !== undefined && isLive(m.status));
    this.applyAll(targets.map((m) => ({ ...m, status: 'down' })));
  }

  /** Seeds and removed members are sent our view now and then, so islands left by a split brain meet again (islands.ts). */
  protected reconnectRound(): void {
    if (this.self().status !== 'up') return;
    const live = new Set([this.o.address, ...this.livePeers().map((m) => m.address)]);
    const gone = this.table.filter((m) => isTerminal(m.status)).map((m) => m.address);
    const candidates = [...new Set([...this.o.seeds, ...gone])].filter((a) => !live.has(a)).sort();
    if (candidates.length > 0) this.send({ address: candidates[this.o.rng.int(candidates.length)] }, this.gossipMessage(false));
  }

  /**
   * Joining → up for members every live member has seen (Akka moves Joining → Up
   * only at convergence), decided by any up member that hears everyone — so no
   * side of a detected partition grows. Quorum is not required, or a static quorum
   * could never be reached.
   */
  private promoteJoiners(): void {
    if (this.self().status !== 'up' || !this.hearsEveryone()) return;
    const ready = this.seen.promotable(this.table.all(), this.o.nodeId);
    if (ready.length === 0) return;
    this.applyAll(ready.map((m) => ({ ...m, status: 'up' })));
    this.announce();
  }

  // ---- joining ----

  protected joinRound(): void {
    if (this.self().status !== 'joining') return;
    if (this.seedDeadline !== undefined && !this.welcomed && this.o.clock.now() >= this.seedDeadline) return this.becomeUp();
    // Retried until up (also after a welcome: if the admitting member dies before we are
    // promoted, another admits us). Each retry also counts as a heartbeat there.
    const from = this.sender();
    for (const address of this.contacts) this.send({ address }, { type: 'membership.join', from });
    this.timers.once('join', this.o.joinRetryIntervalMs, () => this.joinRound());
  }

  /** This node is up: by forming the cluster, or promoted by a member once everyone has seen it. */
  protected becomeUp(record?: Member): void {
    this.seedDeadline = undefined;
    this.timers.cancel('join');
    if (record === undefined) return this.setSelf('up');
    this.applyAll([record]);
    this.announce();
  }

  /**
   * Downed by the others: come back as the next incarnation (a new member to
   * everyone). The old view is from the losing side, so it is dropped; the member
   * that told us is asked to admit us, and its welcome brings the current view.
   */
  private rejoin(informant: string): void {
    const previous = this.incarnation;
    const now = this.o.clock.now();
    this.incarnation = previous + 1;
    this.contacts = [informant];
    this.welcomed = false;
    this.table.clear();
    this.downSeenAt.clear();
    this.seen.clear();
    this.probe.cancel();
    this.probeVeto = undefined;
    this.unconfirmed = false;
    this.reach.clear(now);
    this.table.replace(this.ownRecord('joining', 0));
    this.emit({ type: 'member-joined', member: this.self(), at: now });
    this.emit({ type: 'rejoining', previousIncarnation: previous, incarnation: this.incarnation, at: now });
    this.updateQuorum();
    this.joinRound();
    // Should that member be gone, fall back to the seeds.
    this.timers.once('rejoin-fallback', this.o.seedTimeoutMs, () => {
      if (this.self().status === 'joining' && !this.welcomed) this.contacts = [...new Set([informant, ...this.o.seeds])].filter((a) => a !== this.o.address);
    });
  }

  // ---- receiving ----

  protected receive(from: string, raw: unknown): void {
    if (this.lifecycle !== 'running') return;
    this.counters.received++;
    const msg = parseMembershipMessage(raw);
    if (msg === undefined) {
      this.counters.invalidMessages++;
      return;
    }
    if (msg.from.nodeId !== from) {
      this.counters.spoofedMessages++;
      return;
    }
    if (from === this.o.nodeId) return;
    switch (msg.type) {
      case 'membership.heartbeat':
        this.reach.heartbeat(from, msg.from.incarnation, this.o.clock.now());
        return;
      case 'membership.join':
        return this.onJoin(msg.from);
      case 'membership.welcome':
        return this.onWelcome(msg);
      case 'membership.gossip':
        return this.onGossip(msg);
      case 'membership.probe':
        if (this.isStale(msg.from)) return; // a downed incarnation gets no answer: it must not confirm quorum
        // It is alive and its link works: a downing of it under way here is called off (the unreachable set changes).
        this.reach.heartbeat(from, msg.from.incarnation, this.o.clock.now());
        this.send(msg.from, { type: 'membership.probe-ack', from: this.sender(), nonce: msg.nonce });
        return;
      case 'membership.probe-ack':
        if (this.probe.ack(from, msg.nonce)) this.finishProbe();
        return;
    }
  }

  private onJoin(joiner: Sender): void {
    this.reach.heartbeat(joiner.nodeId, joiner.incarnation, this.o.clock.now());
    if (this.isStale(joiner)) {
      // Downed (or superseded) at this incarnation: show it our view, so it comes back as the next one.
      this.counters.joinsRefused++;
      return this.sendGossip(joiner, true);
    }
    // Admit only when settled: up, and hearing every member but possibly an older
    // incarnation of the joiner — no side of a detected partition grows.
    if (this.self().status !== 'up' || !this.hearsEveryone(joiner.nodeId)) {
      this.counters.joinsRefused++;
      return;
    }
    const known = this.table.get(joiner.nodeId);
    const isNew = known === undefined || known.incarnation < joiner.incarnation;
    this.applyAll([{ ...joiner, status: 'joining', version: 0 }]);
    const reply: WelcomeMessage = { type: 'membership.welcome', from: this.sender(), members: toWire(this.table.all()) };
    this.send(joiner, reply);
    // Tell everyone now: their replies show they have seen the joiner, so it can be promoted.
    if (isNew) this.announce();
  }

  /** Admitted: take the admitting member's view and show ours to everyone (so the promoter sees we take part). */
  private onWelcome(msg: Pick<WelcomeMessage, 'from' | 'members'>): void {
    if (this.self().status !== 'joining') return;
    this.welcomed = true;
    this.timers.cancel('rejoin-fallback');
    this.seen.record(msg.from.nodeId, msg.from.incarnation, msg.members);
    const incarnation = this.incarnation;
    this.mergeView(msg.members, msg.from);
    if (this.lifecycle === 'running' && this.incarnation === incarnation) this.announce();
  }

  private onGossip(msg: GossipMessage): void {
    if (this.self().status === 'joining' && !this.welcomed) {
      // Not a member yet: only a view that holds this incarnation matters — downed
      // (rejoin as the next), or admitted with the welcome lost (take this as one).
      const mine = msg.members.find((m) => m.nodeId === this.o.nodeId && m.incarnation === this.incarnation);
      if (mine === undefined || this.isStale(msg.from)) return;
      return isTerminal(mine.status) ? this.mergeSelf(mine, msg.from) : this.onWelcome(msg);
    }
    // Gossip from an incarnation we hold as down, removed or superseded is not merged
    // (its view is from the losing side of a partition, full of stale suspicions); it
    // only gets our view back, so it learns its fate and rejoins.
    if (!this.isStale(msg.from)) {
      this.seen.record(msg.from.nodeId, msg.from.incarnation, msg.members);
      this.mergeView(msg.members, msg.from);
    } else if (this.downedByIsland(msg.members)) {
      return this.rejoin(msg.from.address);
    }
    if (this.lifecycle !== 'running') return;
    if (this.leaving !== undefined) {
      const mine = this.self();
      const echoed = msg.members.find((m) => m.nodeId === mine.nodeId);
      if (echoed !== undefined && echoed.incarnation === mine.incarnation && (echoed.status === 'leaving' || isTerminal(echoed.status))) {
        this.leaving.seenBy.add(msg.from.nodeId);
        this.checkLeaveAcknowledged();
      }
    }
    // Push–pull: a push is answered with our view, so both sides converge in one
    // exchange (and an admission or a leave is acknowledged).
    if (!msg.reply) this.sendGossip(msg.from, true);
    this.promoteJoiners();
  }

  /**
   * A member we hold as down says we are down too: two islands that downed each
   * other. If its island wins, we rejoin it; otherwise it joins ours when it gets
   * our view (every push is answered).
   */
  private downedByIsland(theirs: readonly Member[]): boolean {
    const mine = this.self();
    const verdict = theirs.find((m) => m.nodeId === mine.nodeId && m.incarnation === mine.incarnation);
    return mine.status === 'up' && verdict !== undefined && isTerminal(verdict.status) && this.o.autoRejoin && islandWins(theirs, this.table.all());
  }

  protected checkLeaveAcknowledged(): void {
    const progress = this.leaving;
    if (progress === undefined || progress.done === undefined) return;
    const unreachable = new Set(this.reach.observe(this.o.clock.now()).unreachable);
    const waiting = this.livePeers().filter((m) => !unreachable.has(m.nodeId) && !progress.seenBy.has(m.nodeId));
    if (waiting.length === 0) progress.done();
  }

  private mergeView(records: readonly Member[], informant: Sender): void {
    const incarnation = this.incarnation;
    const others: Member[] = [];
    for (const r of records) {
      if (r.nodeId === this.o.nodeId) this.mergeSelf(r, informant);
      else others.push(r);
      // Stopped, or rejoining with a fresh view: the rest of this one no longer applies.
      if (this.lifecycle !== 'running' || this.incarnation !== incarnation) return;
    }
    this.applyAll(others);
  }

  /** Another node's record of this node: promotion, a suspicion to refute, being downed, or being superseded. */
  private mergeSelf(r: Member, informant: Sender): void {
    const mine = this.self();
    if (r.incarnation < mine.incarnation) return;
    if (r.incarnation > mine.incarnation) {
      // A newer process runs under this node id: this one is stale and must go quiet.
      this.applyAll([r]);
      return this.stop();
    }
    if (isTerminal(r.status)) {
      if (isTerminal(mine.status)) return;
      this.applyAll([r]);
      if (this.leaving !== undefined) return this.leaving.done?.();
      return this.o.autoRejoin ? this.rejoin(informant.address) : this.stop();
    }
    if (mine.status === 'joining' && r.status === 'up') return this.becomeUp(r);
    if (r.version > mine.version || (r.version === mine.version && r.status === 'suspect')) {
      this.applyAll([{ ...mine, version: r.version + 1 }]);
      this.announce();
    }
  }
}
