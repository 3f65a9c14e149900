// Where the kernel meets the durability layer: registering persistent spawns,
// starting persistent cells from their checkpoints (or holding them), numbering
// their calls with idempotency keys, acknowledging journaled messages, the last
// checkpoint at node stop, and recovery at node start. Without storage, a
// persistent agent is refused at spawn with a clear error.

import type { AnyActorRef } from 'xstate';
import type { ActorCell, CallRecord } from '../actors/cell.js';
import type { AgentDefinition } from '../actors/define.js';
import type { Envelope } from '../actors/envelope.js';
import type { Clock } from '../base/clock.js';
import { ActorError, ErrorCodes, StorageError } from '../base/errors.js';
import type { Supervisor } from '../supervisors/supervisor.js';
import type { SupervisorSpec } from '../supervisors/types.js';
import type { DurableActor } from './durable/actor.js';
import type { Durability, RecoveryReport } from './durable/manager.js';
import { recoverNode } from './durable/recover.js';
import { holdsPersistent, refOf, spawnRecord, specRecord } from './durable/registry.js';
import type { SyscallRequest } from './governance.js';

type StartTarget = AgentDefinition | { agent: AgentDefinition; input?: unknown };

export interface PersistenceHost {
  readonly clock: Clock;
  cell(id: string): ActorCell | undefined;
  supervisor(id: string): Supervisor<StartTarget> | undefined;
  spawnRecovered(target: AgentDefinition | SupervisorSpec<StartTarget>, options: { id: string }): Promise<unknown>;
  syscall(actorId: string, request: SyscallRequest, signal: AbortSignal | undefined, key: string): Promise<unknown>;
}

const durableOf = (cell: ActorCell | undefined): DurableActor | undefined => cell?.durable as DurableActor | undefined;

export class KernelPersistence {
  constructor(
    readonly durability: Durability | undefined,
    private readonly host: PersistenceHost,
  ) {}

  /** A stored persistent actor (running or not) owns its id. */
  isRegistered(id: string): boolean {
    return this.durability?.isRegistered(id) ?? false;
  }

  /**
   * Before a top-level spawn starts: record it if it holds persistent agents, committed
   * first, so a crash from here on brings it back. Returns whether it did.
   */
  async registerSpawn(
    id: string,
    start: StartTarget | SupervisorSpec<StartTarget>,
    options: { tenant?: string; restart?: 'permanent' | 'transient' | 'temporary'; shutdownMs?: number | 'infinity'; input?: unknown },
  ): Promise<boolean> {
    if (!holdsPersistent(start)) return false;
    const d = this.require(id);
    const spawn = spawnRecord(options);
    const order = d.nextOrder();
    const isSup = (start as { kind?: unknown }).kind === 'supervisor';
    await d.register(
      isSup
        ? { v: 1, kind: 'tree', id, order, spec: specRecord(start as SupervisorSpec<StartTarget>), spawn }
        : { v: 1, kind: 'agent', id, order, agent: refOf(start as AgentDefinition), spawn },
    );
    return true;
  }

  /** A dynamic child of a simple_one_for_one supervisor whose agents are persistent. */
  async registerDynamic(supId: string, id: string, args: unknown): Promise<void> {
    const template = this.host.supervisor(supId)?.spec.children[0];
    if (!this.durability || !template || !holdsPersistent(template.start as StartTarget)) return;
    await this.durability.register({ v: 1, kind: 'dynamic', id, order: this.durability.nextOrder(), supervisor: supId, ...(args === undefined ? {} : { args }) });
  }

  /** A persistent actor (or tree) gone for good takes its stored state with it. */
  forget(id: string): void {
    const d = this.durability;
    if (!d) return;
    if (durableOf(this.host.cell(id)) === undefined && !d.isRegistered(id)) return;
    void d.forget(id).catch(() => undefined);
  }

  /** A new cell of a persistent definition gets its durability. */
  attach(cell: ActorCell, durability: 'sync' | 'async' | undefined): void {
    if (!cell.def.persistence) return;
    this.require(cell.id).attach(cell, durability);
  }

  /**
   * Start an incarnation. A persistent actor comes back from its checkpoint (first
   * start: from LMDB; restart after a crash: the last one), then runs its logged
   * turns again; stored state it cannot use holds it (down, reported) instead.
   */
  startCell(cell: ActorCell, incarnation: number, first: boolean): void {
    const d = cell.durable ? this.durability : undefined;
    if (!d) return cell.start(incarnation);
    let plan;
    try {
      plan = d.plan(cell, first);
      cell.start(incarnation, plan.snapshot);
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      cell.incarnation = incarnation;
      return d.hold(cell, err);
    }
    d.resume(cell, plan);
  }

  /** A call from inside a machine: a persistent caller's gets the next idempotency key of its history. */
  call(from: ActorCell, request: SyscallRequest, signal: AbortSignal | undefined, origin: AnyActorRef | undefined, plain: () => Promise<unknown>): Promise<unknown> {
    const durable = durableOf(from);
    if (!durable || !this.durability) return plain();
    const key = this.durability.claimKey(from);
    const record: CallRecord = { key, request };
    from.trackCall(origin, record);
    // A barrier (replication, in a cluster) holds the call before it is journaled or run.
    // Only a call never dispatched waits: one the journal knows (re-run after a crash, in doubt) ran before.
    const barrier = this.durability.callBarrier && this.durability.journal.lookup(key).state === 'new' ? this.durability.callBarrier(from) : undefined;
    const p = barrier ? passBarrier(barrier, from.id, key, signal).then(() => this.host.syscall(from.id, request, signal, key)) : this.host.syscall(from.id, request, signal, key);
    durable.callStarted(key, p);
    return p.finally(() => from.callSettled(origin, key));
  }

  /** Resolves when `env` is durable (at once for a non-persistent target). */
  accepted(to: string, env: Envelope): Promise<void> {
    return durableOf(this.host.cell(to))?.accepted(env) ?? Promise.resolve();
  }

  checkpoint(id: string): Promise<void> {
    const cell = this.host.cell(id);
    if (!cell) return Promise.reject(new ActorError(ErrorCodes.unknownActor, `no actor "${id}"`, { field: 'id' }));
    if (!this.durability) return Promise.reject(new ActorError(ErrorCodes.invalidOptions, `"${id}" is not persistent`, { field: 'id' }));
    return this.durability.checkpoint(cell);
  }

  /** At node stop: a last checkpoint of every running persistent actor, so the next start has nothing to run again. */
  async checkpointAll(cells: Iterable<ActorCell>): Promise<void> {
    const running = [...cells].filter((c) => c.durable && (c.status === 'running' || c.status === 'paused'));
    await Promise.all(running.map((c) => durableOf(c)!.checkpoint().catch(() => undefined)));
  }

  /** Start every registered persistent actor again (node start); definitions are looked up by `name@version`. */
  async recover(lookup: (ref: string) => AgentDefinition | undefined): Promise<RecoveryReport | undefined> {
    if (!this.durability) return undefined;
    return recoverNode(
      {
        clock: this.host.clock,
        spawnRecovered: (target, options) => this.host.spawnRecovered(target, options),
        startDynamic: async (supId, child) => {
          const sup = this.host.supervisor(supId);
          if (!sup) throw new ActorError(ErrorCodes.unknownActor, `dynamic child "${child.id}": its supervisor "${supId}" did not come back`, { field: 'supervisor' });
          return sup.startChild(child);
        },
      },
      this.durability,
      lookup,
    );
  }

  private require(id: string): Durability {
    if (!this.durability) throw new ActorError(ErrorCodes.invalidOptions, `"${id}": persistent agents need a node with storage (createNode)`, { field: 'persistent' });
    return this.durability;
  }
}

/** The barrier passed, or an ActorError if the caller stops first (the call never ran). */
function passBarrier(barrier: Promise<void>, actor: string, key: string, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return barrier;
  const stopped = (): ActorError => new ActorError(ErrorCodes.actorStopped, `"${actor}" stopped before its call ${key} was dispatched; it never ran`, { field: 'actor' });
  if (signal.aborted) return Promise.reject(stopped());
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(stopped());
    signal.addEventListener('abort', onAbort, { once: true });
    barrier.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}
