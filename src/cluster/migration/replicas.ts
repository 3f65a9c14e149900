// Replicas of persistent agents, for failover. After every checkpoint the owner
// ships the agent's last stored checkpoint — with its spawn record, dedupe marks
// and the messages it had accepted and not yet handled — to `replicas` other
// members chosen by rendezvous hashing over the up members; one shipment per
// actor in flight, the newest state next (so a busy actor costs at most one
// transfer at a time). Holders keep them in LMDB, sub-database `cluster-replicas`.

import type { Database, RootDatabase } from 'lmdb';
import { agentSpawnRecord, replicaState } from '../../kernel/durable/transfer.js';
import type { ActorCell } from '../../actors/cell.js';
import type { DurableActor } from '../../kernel/durable/actor.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Exchange } from './exchange.js';
import { replicaSet, type HeldReplica } from './placement.js';
import { HANDOFF_MESSAGE, packBody, unpackBody, unpackPlain, type HandoffMessage, type ReplicaBody } from './protocol.js';

export const REPLICA_DB = 'cluster-replicas';

/** Replicas this node holds for others: a small header per actor (for failover decisions) and the body. */
export class ReplicaStore {
  private readonly db: Database<Uint8Array, string>;
  /** Writes in arrival order: a drop that follows a replica on the link applies after it. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(root: RootDatabase) {
    this.db = root.openDB<Uint8Array, string>({ name: REPLICA_DB, encoding: 'binary' });
  }

  put(body: ReplicaBody): Promise<void> {
    const id = body.transfer.id;
    const header: HeldReplica = { id, owner: body.owner, replicaSet: body.replicaSet };
    return this.serial(
      () =>
        this.db.transaction(() => {
          this.db.put(`h:${id}`, packBody(header));
          this.db.put(`b:${id}`, packBody(body));
        }) as Promise<unknown>,
    );
  }

  /** Delete the replica of `id` if `owner` shipped it (checked after the writes before it). */
  dropFrom(owner: string, id: string): Promise<void> {
    return this.serial(() => (this.ownerOf(id) === owner ? this.remove(id) : Promise.resolve()));
  }

  /** The replica of `id`; undefined if none is held or it does not decode. */
  get(id: string): ReplicaBody | undefined {
    const bytes = this.db.get(`b:${id}`);
    if (bytes === undefined) return undefined;
    try {
      return unpackBody('replica', bytes);
    } catch {
      return undefined;
    }
  }

  /** The node that shipped the replica of `id`, if one is held. */
  ownerOf(id: string): string | undefined {
    const bytes = this.db.get(`h:${id}`);
    if (bytes === undefined) return undefined;
    try {
      return decodeHeader(bytes, id).owner;
    } catch {
      return undefined;
    }
  }

  delete(id: string): Promise<void> {
    return this.serial(() => this.remove(id));
  }

  private remove(id: string): Promise<unknown> {
    return this.db.transaction(() => {
      this.db.remove(`h:${id}`);
      this.db.remove(`b:${id}`);
    }) as Promise<unknown>;
  }

  private serial(write: () => Promise<unknown>): Promise<void> {
    const done = this.writes.then(write, write).then(() => undefined);
    this.writes = done.catch(() => undefined);
    return done;
  }

  /** Who owns each replica held here, and where else it is kept. */
  held(): HeldReplica[] {
    const out: HeldReplica[] = [];
    for (const { key, value } of this.db.getRange({ start: 'h:', end: 'h;' })) {
      try {
        out.push(decodeHeader(value, key.slice(2)));
      } catch {
        // an unreadable header is skipped: its actor is not failed over from here
      }
    }
    return out;
  }
}

function decodeHeader(bytes: Uint8Array, id: string): HeldReplica {
  const h = unpackPlain(bytes) as Partial<HeldReplica> | null;
  if (h?.id !== id || typeof h.owner !== 'string' || !Array.isArray(h.replicaSet) || !h.replicaSet.every((n) => typeof n === 'string')) throw new Error(`bad replica header of ${id}`);
  return h as HeldReplica;
}

export interface ReplicatorDeps {
  kernel: Kernel;
  self: string;
  replicas: number;
  timeoutMs: number;
  /** Up members, this node included. */
  upMembers(): string[];
  /** This node holds quorum and no member is suspect: members not up are out for good (an empty replica set lets calls go). */
  settled(): boolean;
  exchange: Exchange;
  send(node: string, message: HandoffMessage): void;
}

/** A checkpoint that every holder of the replica set stored: its capture number, of one DurableActor. */
interface Acked {
  d: DurableActor;
  capture: number;
}

interface Tracked {
  set: string[];
  busy: boolean;
  dirty: boolean;
  acked?: Acked;
  /** Calls waiting at the barrier: each for a capture of `d` at least `need` stored by every holder. */
  waiters: Array<{ d: DurableActor; need: number; resolve: () => void }>;
}

/** A failed shipment that calls wait on is tried again after this long (the replica set may have changed by then). */
const RETRY_MS = 100;

/**
 * The owner's side: ship each persistent agent's newest checkpoint to its replica set.
 *
 * It is also the agents' call barrier (exactly-once across a failover): a persistent
 * agent's new sensitive call waits until a checkpoint captured after the call was made
 * (so holding it in flight, under its idempotency key) is stored by every member of
 * the replica set. Whatever call an owner ever dispatched is then in the replica a
 * failover restarts from, and the new owner resumes it under the same key (the tool or
 * provider deduplicates) instead of running other turns into that key. With no other
 * member up there is nobody to replicate to, and calls are not held.
 */
export class Replicator {
  private readonly tracked = new Map<string, Tracked>();
  /** Actors being migrated: the checkpoint a move takes is not shipped as a replica (the target gets it). */
  private readonly suspended = new Set<string>();
  private readonly undo: (() => void)[] = [];
  private readonly timers = new Set<unknown>();
  private closed = false;
  private seq = 0;

  constructor(private readonly deps: ReplicatorDeps) {}

  start(): void {
    const durability = this.deps.kernel.durability;
    if (this.deps.replicas === 0 || !durability) return;
    this.undo.push(durability.onCheckpoint((id) => this.changed(id)));
    durability.callBarrier = (cell) => this.barrier(cell);
    this.undo.push(() => {
      if (durability.callBarrier) durability.callBarrier = undefined;
      for (const t of this.tracked.values()) this.release(t); // closing: nothing will ship any more
    });
    this.undo.push(
      this.deps.kernel.tap((e) => {
        if (e.type === '@agentos.actor.stopped' && typeof e.id === 'string') {
          const id = e.id;
          this.later(() => this.checkGone(id), 0);
        }
      }),
    );
    for (const id of this.deps.kernel.actorIds()) this.changed(id);
  }

  close(): void {
    this.closed = true;
    for (const u of this.undo.splice(0)) u();
    for (const t of this.timers) this.deps.kernel.clock.clearTimeout(t);
    this.timers.clear();
  }

  /** `changed(id)` after `ms` (an actor that just arrived: the move's last steps go first). */
  changedLater(id: string, ms: number): void {
    this.later(() => this.changed(id), ms);
  }

  /** The up members changed: replica sets may too. */
  membersChanged(): void {
    for (const id of this.tracked.keys()) this.changed(id);
  }

  /** `id` is moving: ship nothing of it until `resume` (the move failed) or `forget` (it left). */
  suspend(id: string): void {
    this.suspended.add(id);
  }

  resume(id: string): void {
    if (this.suspended.delete(id)) this.changed(id);
  }

  /** `id` left this node (moved, stopped for good): its replicas elsewhere are dropped. */
  forget(id: string): void {
    this.suspended.delete(id);
    const t = this.tracked.get(id);
    if (!t) return;
    this.tracked.delete(id);
    this.release(t);
    for (const node of t.set) this.trySend(node, { k: HANDOFF_MESSAGE, op: 'drop', id });
  }

  /** A checkpoint of `id` was committed. */
  changed(id: string): void {
    const durability = this.deps.kernel.durability;
    if (this.closed || this.deps.replicas === 0 || !durability || !agentSpawnRecord(durability.store, id)) return;
    let t = this.tracked.get(id);
    // A moving actor ships nothing (the target gets its state), unless a call waits on a replica.
    if (this.suspended.has(id) && !(t && t.waiters.length > 0)) return;
    if (!t) this.tracked.set(id, (t = { set: [], busy: false, dirty: false, waiters: [] }));
    t.dirty = true;
    if (!t.busy) void this.ship(id, t);
  }

  /** What a call of `cell` waits for before it is dispatched (undefined: nothing to wait for). */
  private barrier(cell: ActorCell): Promise<void> | undefined {
    const durability = this.deps.kernel.durability;
    const d = cell.durable as DurableActor | undefined;
    if (this.closed || !durability || !d || !agentSpawnRecord(durability.store, cell.id)) return undefined;
    if (replicaSet(cell.id, this.deps.self, this.deps.upMembers(), this.deps.replicas).length === 0 && this.deps.settled()) return undefined;
    const passed = d.covered().then(
      (capture) =>
        new Promise<void>((resolve) => {
          let t = this.tracked.get(cell.id);
          if (this.closed || (t?.acked?.d === d && t.acked.capture >= capture)) return resolve();
          if (!t) this.tracked.set(cell.id, (t = { set: [], busy: false, dirty: false, waiters: [] }));
          // The waiter first: a moving actor's state ships only for calls waiting on it.
          t.waiters.push({ d, need: capture, resolve });
          this.changed(cell.id);
        }),
    );
    // Released, the call still passes the actor's fence: the node may have lost quorum meanwhile.
    return passed.then(() => this.deps.kernel.fences.gate(cell.id));
  }

  private async ship(id: string, t: Tracked): Promise<void> {
    t.busy = true;
    t.dirty = false;
    let retry = false;
    try {
      // Read before the body: the body holds this capture or a newer one.
      const d = this.deps.kernel.durability?.actorOf(id);
      const capture = d?.lastCommittedCapture ?? 0;
      const body = this.body(id);
      if (!body) {
        // Nobody to replicate to, or nothing stored: calls go, once the members not up are out for good.
        if (this.deps.settled()) this.release(t);
        else retry = t.waiters.length > 0;
        return;
      }
      for (const node of t.set) if (!body.replicaSet.includes(node)) this.trySend(node, { k: HANDOFF_MESSAGE, op: 'drop', id });
      t.set = body.replicaSet;
      const results = await Promise.allSettled(body.replicaSet.map((node) => this.deps.exchange.request(node, 'replica', body, this.deps.timeoutMs)));
      const stored = results.every((r) => r.status === 'fulfilled' && (r.value as { ok?: unknown } | undefined)?.ok === true);
      if (stored && d) this.ackedUpTo(t, d, capture);
      retry = !stored && t.waiters.length > 0;
    } catch {
      // unreadable state is reported by the durable layer; the next checkpoint tries again
      retry = t.waiters.length > 0;
    } finally {
      t.busy = false;
      const live = this.tracked.get(id) === t;
      if (live && t.dirty && (!this.suspended.has(id) || t.waiters.length > 0)) void this.ship(id, t);
      else if (live && retry) this.later(() => this.changed(id), RETRY_MS);
    }
  }

  private ackedUpTo(t: Tracked, d: DurableActor, capture: number): void {
    if (t.acked?.d !== d || t.acked.capture < capture) t.acked = { d, capture };
    if (t.waiters.length === 0) return;
    const ready = t.waiters.filter((w) => w.d === d && w.need <= capture);
    t.waiters = t.waiters.filter((w) => !(w.d === d && w.need <= capture));
    for (const w of ready) w.resolve();
  }

  /** Let every waiting call go (no replica set any more, the agent left, the node closes). */
  private release(t: Tracked): void {
    for (const w of t.waiters.splice(0)) w.resolve();
  }

  private body(id: string): ReplicaBody | undefined {
    const { kernel, self } = this.deps;
    const state = replicaState(kernel.durability!.store, id);
    const d = kernel.describe(id);
    if (!state || !d) return undefined;
    const set = replicaSet(id, self, this.deps.upMembers(), this.deps.replicas);
    if (set.length === 0) return undefined;
    const { inbox, ...durable } = state;
    return {
      owner: self,
      seq: ++this.seq,
      replicaSet: set,
      transfer: {
        id,
        agent: d.agent as string,
        version: d.version as string,
        tenant: (d.tenant as string | undefined) ?? 'default',
        incarnation: d.incarnation as number,
        paused: false,
        durable,
        mailbox: inbox,
        presumeInFlight: true,
        ...(durable.spawn.restart ? { restart: durable.spawn.restart } : {}),
        ...(durable.spawn.input === undefined ? {} : { input: durable.spawn.input }),
      },
    };
  }

  private later(fn: () => void, ms: number): void {
    const timer = this.deps.kernel.clock.setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(timer);
  }

  private checkGone(id: string): void {
    if (!this.deps.kernel.describe(id) && !this.deps.kernel.durability?.isRegistered(id)) this.forget(id);
  }

  private trySend(node: string, m: HandoffMessage): void {
    try {
      this.deps.send(node, m);
    } catch {
      // the node is gone; it drops nothing, and its replica is of no use to anyone
    }
  }
}
