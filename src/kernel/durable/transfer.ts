// A persistent actor's stored state as it travels between nodes (live migration,
// and the replicas a failover restarts from): its spawn record, a checkpoint (for
// a move, captured for it; for a replica, the last one stored), the dedupe marks
// it keeps and, for a replica, the messages it had accepted and not yet handled.
// Importing writes the checkpoint
// and marks into this node's store; the ordinary start path (load → restore →
// resume) then brings the actor up from there.

import type { ActorCell } from '../../actors/cell.js';
import { decodeSnapshot, type ActorSnapshot } from '../../actors/snapshot/index.js';
import { StorageError } from '../../base/errors.js';
import type { DurableActor } from './actor.js';
import type { Durability } from './manager.js';
import { DurableCodes, type CheckpointRecord, type SpawnRecord } from './records.js';
import type { DurableStore } from './store.js';

export interface DurableTransfer {
  /** How it was spawned (tenant, restart type, input). */
  spawn: SpawnRecord;
  /** A move: the checkpoint captured for it (stored by the target only). A replica: the last one stored on its owner. */
  checkpoint: CheckpointRecord;
  /** The last [turn, call] it saw from each persistent sender. */
  marks: Array<[string, [number, number]]>;
}

/** A message the actor had accepted and not yet handled, as its inbox stores it. */
export interface StoredMessage {
  payload: unknown;
  from?: string;
  priority?: number;
  deadline?: number;
  conversationId?: string;
  performative?: string;
}

/** The spawn record of a top-level persistent agent; undefined for trees, dynamic children and unregistered actors. */
export function agentSpawnRecord(store: DurableStore, id: string): SpawnRecord | undefined {
  const r = store.registration(id);
  return r?.kind === 'agent' ? r.spawn : undefined;
}

/** Per transfer taken for a move: when the checkpoint write in flight at its capture has settled. */
const settledAtSource = new WeakMap<DurableTransfer, Promise<void>>();

/**
 * Capture `cell` for a move: its checkpoint record, encoded once and not written here (the
 * target stores it before it answers; see `DurableActor.captureForMove` for why this node
 * needs no copy), its spawn record and its dedupe marks as of the capture. `afterCapture`
 * runs right after the capture (a migration stops the actor there, so nothing happens after it).
 */
export async function checkpointForTransfer(durability: Durability, cell: ActorCell, afterCapture: () => void): Promise<{ transfer: DurableTransfer; snapshot: ActorSnapshot }> {
  const d = durability.of(cell) as DurableActor;
  const spawn = agentSpawnRecord(durability.store, cell.id);
  const taken = spawn && d.captureForMove(afterCapture);
  if (!spawn || !taken) {
    throw new StorageError(DurableCodes.held, `"${cell.id}" could not be checkpointed for the move (status ${cell.status})`, { field: 'id' });
  }
  const transfer: DurableTransfer = { spawn, checkpoint: taken.record, marks: d.currentMarks() };
  settledAtSource.set(transfer, taken.settled);
  return { transfer, snapshot: taken.snapshot };
}

/**
 * Resolves once the checkpoint write that was in flight on the source when `t` was captured
 * has settled (at once if there was none, or `t` was not taken by `checkpointForTransfer`).
 * A move waits for it before the actor leaves, so that nothing of that write (its
 * replication, its compaction) runs after.
 */
export function sourceSettled(t: DurableTransfer | undefined): Promise<void> {
  return (t && settledAtSource.get(t)) ?? Promise.resolve();
}

/** What a replica carries: the last stored checkpoint (nothing is captured), marks and the accepted messages. */
export function replicaState(store: DurableStore, id: string): (DurableTransfer & { inbox: StoredMessage[] }) | undefined {
  const spawn = agentSpawnRecord(store, id);
  const checkpoint = storedCheckpoint(store, id);
  if (!spawn || !checkpoint) return undefined;
  const inbox = store.inbox(id).map((r): StoredMessage => {
    const m: StoredMessage = { payload: store.payload(id, r.body) };
    if (r.from !== undefined) m.from = r.from;
    if (r.priority !== undefined) m.priority = r.priority;
    if (r.deadline !== undefined) m.deadline = r.deadline;
    if (r.conversationId !== undefined) m.conversationId = r.conversationId;
    if (r.performative !== undefined) m.performative = r.performative;
    return m;
  });
  return { spawn, checkpoint, marks: store.marks(id), inbox };
}

/** The latest checkpoint as stored, without the padding the store adds for page reuse. */
function storedCheckpoint(store: DurableStore, id: string): CheckpointRecord | undefined {
  const r = store.checkpointOf(id, 'latest');
  return r && { v: r.v, turn: r.turn, at: r.at, chain: r.chain, snapshot: r.snapshot };
}

/** Register an arriving agent here with its checkpoint and marks (one transaction); its start then loads them. */
export function importTransfer(durability: Durability, id: string, agent: { name: string; version: string }, t: DurableTransfer): Promise<void> {
  const registration = { v: 1, kind: 'agent', id, order: durability.nextOrder(), agent: `${agent.name}@${agent.version}`, spawn: t.spawn } as const;
  return durability.store.importState(registration, t.checkpoint, t.marks);
}

/** The calls a checkpoint holds in flight: key and request. */
export function callsInCheckpoint(t: DurableTransfer): Array<{ key: string; request: { kind: string; name: string; args?: unknown } }> {
  const snapshot = decodeSnapshot(t.checkpoint.snapshot);
  const calls = (snapshot.extra as { calls?: Array<{ key: string; request: { kind: string; name: string; args?: unknown } }> }).calls;
  return Array.isArray(calls) ? calls.map((c) => ({ key: c.key, request: c.request })) : [];
}
