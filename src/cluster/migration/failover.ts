// Failover: when a member is removed after being down, on the side that keeps
// quorum, each persistent agent it owned is restarted by exactly one survivor —
// the first holder of its replica still up — from the last replicated checkpoint,
// through the same import path as a migration, with a higher incarnation; the
// checkpoint's calls in flight are journaled in doubt first. A node that comes
// back with a copy of an actor that was failed over is told its copy is
// superseded and stops it. While this node's side lacks quorum, its own
// persistent agents are paused (the other side may be restarting them). A node
// the others downed meanwhile comes back as a new incarnation and resumes none of
// them until every up member has shown it its actors — each member does so only
// after its own failovers in progress — so an agent restarted elsewhere is
// stopped here (superseded) and never runs on both nodes.

import type { AgentDefinition } from '../../actors/define.js';
import { isAgentOsError } from '../../base/errors.js';
import type { Kernel } from '../../kernel/kernel.js';
import { failoverPlan } from './placement.js';
import { HANDOFF_MESSAGE, type HandoffMessage } from './protocol.js';
import type { ReplicaStore } from './replicas.js';

export interface FailoverDeps {
  kernel: Kernel;
  self: string;
  /** Replicas held here (none on a node without storage: nothing to fail over). */
  store: ReplicaStore | undefined;
  /** Up members, this node included. */
  upMembers(): string[];
  isQuorate(): boolean;
  definition(name: string, version: string): AgentDefinition | undefined;
  send(node: string, message: HandoffMessage): void;
  /** Whether `id` is moving right now (never superseded or paused mid-move). */
  moving(id: string): boolean;
  /** An actor was restarted here. */
  restarted(id: string): void;
  /** The other node the directory places `id` on (undefined: none). */
  owner(id: string): string | undefined;
}

export class Failover {
  /** Actors restarted here, by the node they were taken from. */
  private readonly takenOver = new Map<string, string>();
  /** Persistent agents this node paused when its side lost quorum. */
  private readonly fenced = new Set<string>();
  /** Fenced agents of a node that was downed meanwhile: resumed or stopped once every up member has synced. */
  private readonly unsettled = new Set<string>();
  /** Members that sent their whole directory since this node rejoined. */
  private readonly synced = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly deps: FailoverDeps) {}

  /** `node` was removed after being down: restart the actors this node is first in line for. */
  memberRemoved(node: string): Promise<void> {
    const store = this.deps.store;
    if (!store) return this.chain;
    const ids = failoverPlan({ self: this.deps.self, quorate: this.deps.isQuorate(), removed: node, up: this.deps.upMembers(), replicas: store.held() });
    if (ids.length === 0) return this.chain;
    // One failover at a time: imports write this node's store and start actors in order.
    this.pending++;
    this.chain = this.chain
      .then(async () => {
        for (const id of ids) await this.restart(store, id, node);
      })
      .finally(() => void this.pending--);
    return this.chain;
  }

  /** Run `fn` once no failover is in progress here (at once if none is). */
  whenIdle(fn: () => void): void {
    if (this.pending === 0) fn();
    else void this.chain.then(fn);
  }

  /** `node` published these actors: any of them restarted here (or being restarted) was failed over from it, so its copy is stale. */
  published(node: string, ids: readonly string[]): void {
    this.whenIdle(() => {
      for (const id of ids) {
        if (this.takenOver.get(id) !== node || !this.deps.kernel.lookup(id)) continue;
        try {
          this.deps.send(node, { k: HANDOFF_MESSAGE, op: 'superseded', id });
        } catch {
          // it will publish again when the link is back
        }
      }
    });
  }

  /** Whether `id` was failed over here from `node` (a replica of it from that node is stale). */
  tookOver(id: string, node: string): boolean {
    return this.takenOver.get(id) === node;
  }

  /** The others downed this node; it comes back as a new incarnation. Its fenced agents may live elsewhere now. */
  rejoined(): void {
    this.quorumLost(); // a node downed while it thought itself quorate (paused, say) fences now
    for (const id of this.fenced) this.unsettled.add(id);
    this.synced.clear();
  }

  /** `node` sent its whole directory (after its own failovers in progress). */
  directorySynced(node: string): void {
    this.synced.add(node);
    void this.settle();
  }

  /** The up members changed: the set whose directories are awaited did too. */
  membersChanged(): void {
    void this.settle();
  }

  /** `by` restarted `id` while this node was out of the cluster: the copy here is stale. */
  async superseded(by: string, id: string): Promise<void> {
    const { kernel } = this.deps;
    if (this.deps.moving(id) || !kernel.describe(id)) return;
    kernel.emit('@agentos.actor.superseded', { id, by });
    kernel.governance.record({ kind: 'cluster', decision: 'superseded', actor: id, subject: by, reason: `"${id}" was failed over to node "${by}" while this node was out of the cluster; this copy is stopped and its stored state dropped` });
    this.fenced.delete(id);
    this.unsettled.delete(id);
    await kernel.stopActor(id).catch(() => undefined);
  }

  /** This node's side lost quorum: its persistent agents stop taking messages (they queue). */
  quorumLost(): void {
    const { kernel } = this.deps;
    for (const id of kernel.actorIds()) {
      const d = kernel.describe(id);
      if (!d?.persistent || d.status !== 'running' || this.deps.moving(id)) continue;
      kernel.pauseActor(id);
      // Its own work too: a turn in progress, or a state that calls on its own, makes no new call.
      kernel.fences.fence(id);
      this.fenced.add(id);
    }
  }

  quorumGained(): void {
    for (const id of [...this.fenced]) {
      if (this.unsettled.has(id)) continue;
      if (this.deps.kernel.describe(id)?.status === 'paused') this.deps.kernel.resumeActor(id);
      this.deps.kernel.fences.lift(id);
      this.fenced.delete(id);
    }
    void this.settle();
  }

  /**
   * Once quorate and every other up member has synced since the rejoin: an unsettled agent
   * another node now hosts was failed over (a restart raises its incarnation) — this copy is
   * superseded; one no other node claims resumes here.
   */
  private async settle(): Promise<void> {
    if (this.unsettled.size === 0 || !this.deps.isQuorate()) return;
    if (!this.deps.upMembers().every((n) => n === this.deps.self || this.synced.has(n))) return;
    for (const id of [...this.unsettled]) {
      this.unsettled.delete(id);
      this.fenced.delete(id);
      const owner = this.deps.owner(id);
      if (owner !== undefined && owner !== this.deps.self) await this.superseded(owner, id);
      else {
        if (this.deps.kernel.describe(id)?.status === 'paused') this.deps.kernel.resumeActor(id);
        this.deps.kernel.fences.lift(id);
      }
    }
  }

  private async restart(store: ReplicaStore, id: string, from: string): Promise<void> {
    const { kernel } = this.deps;
    const started = kernel.clock.now();
    const replica = store.get(id);
    if (!replica) return;
    if (kernel.describe(id)) return void (await store.delete(id));
    const t = replica.transfer;
    const def = this.deps.definition(t.agent, t.version);
    const fail = (code: string, reason: string): void => {
      kernel.emit('@agentos.actor.failover-failed', { id, from, code, reason });
      kernel.governance.record({ kind: 'cluster', decision: 'failover-failed', actor: id, subject: from, reason });
    };
    if (!def || def.version !== t.version) return fail('CLUSTER_MIGRATION_REFUSED', `node "${this.deps.self}" has no agent ${t.agent}@${t.version} registered`);
    // Marked before the restart: a replica the old owner shipped before the partition ended is stale from now on.
    this.takenOver.set(id, from);
    try {
      const incarnation = await kernel.handoff.arrive(def, t);
      this.deps.restarted(id);
      await store.delete(id);
      kernel.emit('@agentos.actor.failed-over', { id, from, incarnation, turn: t.durable?.checkpoint.turn, ms: kernel.clock.now() - started });
      kernel.governance.record({ kind: 'cluster', decision: 'failed-over', actor: id, subject: from, reason: `restarted from the checkpoint of turn ${t.durable?.checkpoint.turn ?? 0} replicated by "${from}"` });
    } catch (err) {
      this.takenOver.delete(id);
      fail(isAgentOsError(err) ? err.code : 'FAILOVER_FAILED', (err as Error)?.message ?? String(err));
    }
  }
}
