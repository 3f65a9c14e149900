// Moving an actor between kernels (live migration; failover restarts one from a
// replica the same way). On the source, `capture` pauses the actor, waits until
// its in-flight work is done (the current turn and the calls it started; new
// messages queue), checkpoints it — a persistent one through the durable layer,
// so what travels is exactly the stored checkpoint — and stops its machine;
// `seal` hides it from the router and hands over what queued meanwhile;
// `retire` stops it for good (a persistent one's stored state goes only then), or
// `resume` brings it back here when the move failed. On the target, `arrive`
// starts it from the transfer, admitted again against its contract here, with
// its queued messages first. No I/O: the cluster layer carries the transfer.

import type { ActorCell } from '../actors/cell.js';
import type { AgentDefinition } from '../actors/define.js';
import { ASK_ADDRESS, type Envelope } from '../actors/envelope.js';
import { decodeSnapshot, encodeSnapshot, type ActorSnapshot } from '../actors/snapshot/index.js';
import { classify, walkTree } from '../actors/snapshot/tree.js';
import type { Clock } from '../base/clock.js';
import { ActorError, ErrorCodes } from '../base/errors.js';
import type { RestartType } from '../supervisors/types.js';
import type { DurableActor } from './durable/actor.js';
import type { Durability } from './durable/manager.js';
import { presumeInDoubt, type PresumedCall } from './durable/presume.js';
import { agentSpawnRecord, callsInCheckpoint, checkpointForTransfer, importTransfer, type DurableTransfer } from './durable/transfer.js';
import type { Governance } from './governance.js';
import type { Arrival, HandoffPersistence, TransferMessage } from './handoff-start.js';
import type { CallKind } from './policy/index.js';
import { remoteAskAddress } from './remote.js';
import type { Router } from './router.js';
import type { SyscallTable } from './syscalls.js';

export type { TransferMessage } from './handoff-start.js';

/** Everything an actor needs to carry on on another node. Plain data. */
export interface ActorTransfer {
  id: string;
  agent: string;
  version: string;
  tenant: string;
  restart?: RestartType;
  input?: unknown;
  /** The incarnation the source published; the target's is higher. */
  incarnation: number;
  /** Paused by an operator: it stays paused. */
  paused: boolean;
  /** Non-persistent actors: the encoded snapshot. */
  snapshot?: Uint8Array;
  /** Persistent actors: the stored state. */
  durable?: DurableTransfer;
  /** Messages queued for it, in delivery order. */
  mailbox: TransferMessage[];
  /** Failover: the checkpoint's calls in flight are journaled in doubt before it starts. */
  presumeInFlight?: boolean;
}

/** What the source keeps while the target takes the actor: enough to resume here. */
export interface Captured {
  transfer: ActorTransfer;
  snapshot: ActorSnapshot;
  queued: Envelope[];
  wasPaused: boolean;
}

export interface HandoffDeps {
  nodeId: string;
  clock: Clock;
  cells: Map<string, ActorCell>;
  isSupervisor(id: string): boolean;
  restartOf(id: string): RestartType | undefined;
  router: Router;
  governance: Governance;
  durability: Durability | undefined;
  syscalls: SyscallTable;
  persistence: HandoffPersistence;
  /** `registered`: a persistent actor whose registration is already stored (it is not written again). */
  spawn(def: AgentDefinition, options: { id: string; tenant?: string; restart?: RestartType; input?: unknown }, registered: boolean): Promise<unknown>;
  stopActor(id: string): Promise<void>;
}

export class KernelHandoff {
  /** Actors the router must not see here: moved away (being retired), or arrived and waiting for older messages. */
  private readonly hidden = new Set<string>();
  private readonly pinned = new Map<string, string>();
  private revealing = 0;
  /** Per arrived actor: one more than the incarnation its source published (its incarnations here count on from it). */
  private readonly bases = new Map<string, number>();

  constructor(private readonly deps: HandoffDeps) {}

  // ── what the router sees ───────────────────────────────────────────────

  routable(id: string): ActorCell | undefined {
    const cell = this.deps.cells.get(id);
    return cell && this.hidden.has(id) && this.revealing === 0 ? undefined : cell;
  }

  /** Run `fn` with hidden actors visible (messages the cluster delivers in their order). */
  reveal<T>(fn: () => T): T {
    this.revealing++;
    try {
      return fn();
    } finally {
      this.revealing--;
    }
  }

  unhide(id: string): void {
    this.hidden.delete(id);
  }

  /** The incarnation to publish: the source's, counted on (a move or failover raises it). */
  /** Keep `id` where it is (a child run here for a supervisor on another node): moves are refused with `reason`. */
  pin(id: string, reason: string): void {
    this.pinned.set(id, reason);
  }

  unpin(id: string): void {
    this.pinned.delete(id);
  }

  incarnationOf(cell: ActorCell): number {
    return (this.bases.get(cell.id) ?? 0) + cell.incarnation;
  }

  // ── source side ────────────────────────────────────────────────────────

  /** Why `id` cannot move (undefined: it can). Throws UNKNOWN_ACTOR for an id with no actor here. */
  refusal(id: string): { reason: string; field: string } | undefined {
    const pinned = this.pinned.get(id);
    if (pinned !== undefined) return { reason: pinned, field: 'actorId' };
    const cell = this.deps.cells.get(id);
    if (!cell) {
      if (this.deps.isSupervisor(id)) return { reason: `"${id}" is a supervisor; only top-level agents migrate`, field: 'actorId' };
      throw new ActorError(ErrorCodes.unknownActor, `no actor "${id}" on node "${this.deps.nodeId}"`, { field: 'actorId' });
    }
    if (cell.parentPath !== '') return { reason: `"${id}" is a child of the supervisor at ${cell.parentPath}; only top-level agents migrate`, field: 'actorId' };
    if (cell.def.lane) return { reason: `"${id}" runs on an HRT lane thread, which cannot be captured`, field: 'actorId' };
    if (this.deps.governance.admittedActor(id)?.contract.migratable === false) return { reason: `the contract of "${id}" says migratable: false`, field: 'migratable' };
    if (cell.status !== 'running' && cell.status !== 'paused') return { reason: `"${id}" is ${cell.status}`, field: 'actorId' };
    if (cell.durable && !(this.deps.durability && agentSpawnRecord(this.deps.durability.store, id))) return { reason: `"${id}" is persistent but not a registered top-level agent`, field: 'actorId' };
    return undefined;
  }

  /**
   * Pause, drain, checkpoint and stop the machine (the cell stays, queuing messages).
   * Throws, with the actor running again here, if its work does not drain within
   * `drainMs` or it cannot be captured.
   */
  async capture(id: string, drainMs: number): Promise<Captured> {
    const cell = this.deps.cells.get(id)!;
    const wasPaused = cell.status === 'paused';
    cell.pause();
    try {
      await this.quiesce(cell, drainMs);
      let snapshot: ActorSnapshot;
      let durable: DurableTransfer | undefined;
      let bytes: Uint8Array | undefined;
      if (cell.durable) {
        ({ transfer: durable, snapshot } = await checkpointForTransfer(this.deps.durability!, cell, () => cell.kill()));
      } else {
        snapshot = cell.capture()!;
        bytes = encodeSnapshot(snapshot);
        cell.kill();
      }
      const queued = cell.mailbox.drain();
      const restart = this.deps.restartOf(id);
      const transfer: ActorTransfer = {
        id,
        agent: cell.def.name,
        version: cell.def.version,
        tenant: cell.tenant ?? 'default',
        incarnation: this.incarnationOf(cell),
        paused: wasPaused,
        mailbox: queued.map((env) => this.outgoing(env)),
        ...(restart === undefined ? {} : { restart }),
        ...(cell.def.input === undefined ? {} : { input: cell.def.input }),
        ...(bytes ? { snapshot: bytes } : {}),
        ...(durable ? { durable } : {}),
      };
      return { transfer, snapshot, queued, wasPaused };
    } catch (err) {
      if (cell.status === 'paused' && !wasPaused) cell.resume();
      throw err;
    }
  }

  /** The move failed: the actor carries on here from its capture, with every message it had, in order. */
  resume(captured: Captured): void {
    const cell = this.deps.cells.get(captured.transfer.id);
    if (!cell) return;
    this.hidden.delete(cell.id);
    const late = cell.mailbox.drain();
    cell.start(cell.incarnation, captured.snapshot);
    for (const env of [...captured.queued, ...late]) cell.mailbox.push(env);
    if (!captured.wasPaused) cell.resume();
  }

  /** The target has it: the router stops seeing it here, and what queued since the capture goes on. */
  seal(id: string): TransferMessage[] {
    this.hidden.add(id);
    return (this.deps.cells.get(id)?.mailbox.drain() ?? []).map((env) => this.outgoing(env));
  }

  /** Stop it here for good; a persistent actor's stored state goes now (it lives on elsewhere). */
  async retire(id: string): Promise<void> {
    if (this.deps.cells.get(id)?.durable) this.deps.durability?.movingAway(id);
    try {
      await this.deps.stopActor(id);
    } finally {
      this.hidden.delete(id);
      this.bases.delete(id);
    }
  }

  // ── target side ────────────────────────────────────────────────────────

  /**
   * Start `def` from a transfer: admitted here as any spawn is, then restored (a persistent
   * actor from its checkpoint, written to this node's store first), its queued messages
   * first. `hidden`: the router does not see it until `unhide` (older messages still on
   * their way). Returns the incarnation it publishes.
   */
  async arrive(def: AgentDefinition, t: ActorTransfer, options: { hidden?: boolean } = {}): Promise<number> {
    const { durability } = this.deps;
    await durability?.forgotten(t.id); // it left this node before, and its records are still going
    if ((def.persistence !== undefined) !== (t.durable !== undefined)) {
      throw new ActorError(ErrorCodes.invalidAgent, `"${t.id}": ${def.name}@${def.version} is ${def.persistence ? '' : 'not '}persistent here, unlike on its source`, { field: 'definition' });
    }
    if (this.deps.cells.has(t.id) || this.deps.isSupervisor(t.id) || durability?.isRegistered(t.id)) {
      throw new ActorError(ErrorCodes.duplicateActor, `an actor with id "${t.id}" already exists on node "${this.deps.nodeId}"`, { field: 'id' });
    }
    if (t.durable) {
      await importTransfer(durability!, t.id, def, t.durable);
      if (t.presumeInFlight) await presumeInDoubt(durability!.store.root, t.id, this.presumed(t.durable), this.deps.clock.now());
    }
    const definition = { name: def.name, version: def.version };
    const arrival: Arrival = { snapshot: t.snapshot ? decodeSnapshot(t.snapshot, { definition }) : undefined, mailbox: t.mailbox, accepted: [] };
    this.bases.set(t.id, t.incarnation + 1);
    if (options.hidden) this.hidden.add(t.id);
    this.deps.persistence.expect(t.id, arrival);
    if (t.durable) durability!.movingAway(t.id, true);
    try {
      await this.deps.spawn(def, { id: t.id, tenant: t.tenant, ...(t.restart ? { restart: t.restart } : {}), ...(t.input === undefined ? {} : { input: t.input }) }, t.durable !== undefined);
    } catch (err) {
      this.deps.persistence.cancel(t.id);
      this.bases.delete(t.id);
      this.hidden.delete(t.id);
      // What the import wrote goes (the actor lives on at its source).
      if (t.durable) await durability!.store.forget(t.id, true, true).catch(() => undefined);
      throw err;
    } finally {
      if (t.durable) durability!.movingAway(t.id, false);
    }
    await Promise.all(arrival.accepted);
    await durability?.flushed();
    const cell = this.deps.cells.get(t.id)!;
    if (!t.paused) cell.resume();
    return this.incarnationOf(cell);
  }

  /** Queue a transferred message in the cell (journaled if persistent): the checks ran where it was first accepted. */
  enqueue(cell: ActorCell, m: TransferMessage): Promise<void> | undefined {
    const env = this.deps.router.rebuild(cell, m);
    if (m.replyTo !== undefined) env.replyTo = m.replyTo;
    if (m.correlationId !== undefined) env.correlationId = m.correlationId;
    if (m.traceparent !== undefined) env.traceparent = m.traceparent;
    if (m.idempotencyKey !== undefined) env.idempotencyKey = m.idempotencyKey;
    if (!cell.mailbox.push(env).ok) {
      this.deps.router.undeliverable(env, 'mailbox full on arrival');
      return undefined;
    }
    return (cell.durable as DurableActor | undefined)?.accept(env);
  }

  /** Messages the source forwarded after the move, in order, ahead of anything routed later. */
  deliverLate(id: string, messages: readonly TransferMessage[]): Promise<void> {
    const cell = this.deps.cells.get(id);
    if (!cell) throw new ActorError(ErrorCodes.unknownActor, `no actor "${id}" on node "${this.deps.nodeId}"`, { field: 'id' });
    const writes = messages.map((m) => this.enqueue(cell, m)).filter((w): w is Promise<void> => w !== undefined);
    if (cell.runnable) cell.host.schedule(cell);
    return Promise.all(writes).then(() => undefined);
  }

  // ── internals ──────────────────────────────────────────────────────────

  /** Wait until no call or promise of the actor is in flight (and no logged turn is being run again). */
  private async quiesce(cell: ActorCell, drainMs: number): Promise<void> {
    const deadline = this.deps.clock.now() + drainMs;
    while (this.busy(cell)) {
      if (this.deps.clock.now() >= deadline) {
        throw new ActorError(ErrorCodes.actorStopped, `"${cell.id}" still had work in flight after ${drainMs} ms`, { field: 'drainMs' });
      }
      await new Promise<void>((resolve) => this.deps.clock.setTimeout(resolve, 1));
    }
  }

  private busy(cell: ActorCell): boolean {
    if (cell.redelivering) return true;
    if ((cell.durable as DurableActor | undefined)?.callsInFlight().length) return true;
    const children = (cell.getSnapshot() as { children?: Record<string, unknown> } | undefined)?.children ?? {};
    for (const child of Object.values(children)) {
      for (const { ref } of walkTree(child as Parameters<typeof walkTree>[0])) {
        if (classify(ref) === 'promise' && (ref.getSnapshot() as { status: string }).status === 'active') return true;
      }
    }
    return false;
  }

  /** A queued envelope as it travels: an ask waiting here gets its answer back here. */
  private outgoing(env: Envelope): TransferMessage {
    const m: TransferMessage = { payload: env.payload };
    if (env.from !== undefined) m.from = env.from;
    if (env.priority !== undefined) m.priority = env.priority;
    if (env.deadline !== undefined) m.deadline = env.deadline;
    if (env.conversationId !== undefined) m.conversationId = env.conversationId;
    if (env.performative !== undefined) m.performative = env.performative;
    if (env.traceparent !== undefined) m.traceparent = env.traceparent;
    if (env.idempotencyKey !== undefined) m.idempotencyKey = env.idempotencyKey;
    if (env.correlationId !== undefined) m.correlationId = env.correlationId;
    if (env.replyTo !== undefined) m.replyTo = env.replyTo === ASK_ADDRESS ? remoteAskAddress(this.deps.nodeId) : env.replyTo;
    return m;
  }

  /** The checkpoint's calls in flight, with their arguments as this node's handlers validate them. */
  private presumed(t: DurableTransfer): PresumedCall[] {
    return callsInCheckpoint(t).map(({ key, request }) => {
      try {
        const entry = this.deps.syscalls.resolve(request.kind as CallKind, request.name);
        return { key, args: entry.validate ? entry.validate(request.args) : request.args, idempotent: entry.idempotent ?? false };
      } catch {
        return { key, args: request.args, idempotent: false };
      }
    });
  }
}
