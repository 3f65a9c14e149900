// restoreActor: a started XState actor that behaves as the captured one
// would have. XState restores state, context, history and the child tree
// (children are recreated from their registered logic and started); on top
// of that this re-arms delayed events at their original due times, catches up
// on those the clock has passed, holds in-flight promises for the kernel, and
// refuses, before anything starts, a snapshot the machine cannot take.

import { createActor, type Actor, type AnyActorRef, type AnyStateMachine, type InspectionEvent } from 'xstate';
import type { Clock } from '../../base/clock.js';
import { StorageError } from '../../base/errors.js';
import { holdPromise } from './inflight.js';
import { childrenOf, isPromiseLogic, logicOf, stopActor } from './internals.js';
import { assertSnapshotShape } from './shape.js';
import { CatchUpClock, catchUp, rearmTimers, trackDelays } from './timers.js';
import { findByPath, pathLabel, walkTree } from './tree.js';
import { SnapshotCodes, type ActorPath, type ActorSnapshot, type DefinitionRef, type PersistedMachineSnapshot } from './types.js';

export interface RestoreOptions {
  /** The node's clock: delayed events come due on it at their captured times. */
  clock: Clock;
  input?: unknown;
  inspect?: (event: InspectionEvent) => void;
  /** Root actor id and system id; default to the captured ones. */
  id?: string;
  systemId?: string;
  /** The definition restoring it; a snapshot of another one is refused (decode with `migrate` first). */
  definition?: DefinitionRef;
  /**
   * In-flight promise actors: `hold` (default) brings them back without running
   * them, for `settleInFlight` / `reissueInFlight`; `rerun` is XState's own
   * behaviour, running each promise creator again now (at-least-once).
   */
  inFlight?: 'hold' | 'rerun';
  /**
   * Deliver the delayed events the clock has passed at once (default). `false` leaves
   * them armed (with a held CatchUpClock as `clock`, nothing fires) for a caller that
   * runs logged turns again first and catches up between them.
   */
  catchUp?: boolean;
}

export function restoreActor<TMachine extends AnyStateMachine>(
  machine: TMachine,
  snapshot: ActorSnapshot,
  options: RestoreOptions,
): Actor<TMachine> {
  assertSnapshotShape(snapshot, SnapshotCodes.corrupt, 'restoreActor');
  if (options.definition) checkDefinition(snapshot, options.definition);
  const clock = options.clock instanceof CatchUpClock ? options.clock : new CatchUpClock(options.clock);
  const systemId = options.systemId ?? snapshot.actor.systemId;
  const actor = createActor(machine, {
    snapshot: copyOf(snapshot.xstate),
    clock,
    id: options.id ?? snapshot.actor.id,
    ...(systemId === undefined ? {} : { systemId }),
    ...(options.input === undefined ? {} : { input: options.input }),
    ...(options.inspect ? { inspect: options.inspect } : {}),
  } as never) as Actor<TMachine>;
  checkRestored(actor, machine, snapshot);
  if ((options.inFlight ?? 'hold') === 'hold') {
    for (const f of snapshot.inFlight) holdPromise(findByPath(actor, f.path) as AnyActorRef);
  }
  trackDelays(actor, clock);
  startAndCatchUp(actor, snapshot, clock, options.catchUp ?? true);
  return actor;
}

/** Before anything starts: the machine took the state, and every child, timer owner and in-flight call came back. */
function checkRestored(actor: AnyActorRef, machine: AnyStateMachine, snapshot: ActorSnapshot): void {
  const initial = actor.getSnapshot() as { status: string; error?: unknown };
  if (initial.status === 'error') {
    incompatible(`machine '${machine.id}' cannot take this snapshot: ${describe(initial.error)}`, 'xstate', initial.error);
  }
  checkChildren(actor, snapshot.xstate, []);
  for (const t of snapshot.timers) {
    for (const path of [t.source, t.target]) {
      if (!findByPath(actor, path)) incompatible(`delayed event '${t.id}' belongs to ${pathLabel(path)}, which did not come back`, 'timers');
    }
  }
  for (const f of snapshot.inFlight) {
    const child = findByPath(actor, f.path);
    if (!child || !isPromiseLogic(logicOf(child))) {
      incompatible(`in-flight call ${pathLabel(f.path)} did not come back as promise logic`, 'inFlight');
    }
  }
}

/** Start, re-arm the captured timers, deliver those the clock has passed; a failure on the way stops everything. */
function startAndCatchUp(actor: AnyActorRef, snapshot: ActorSnapshot, clock: CatchUpClock, deliverDue: boolean): void {
  let failure: { error: unknown } | undefined;
  const watch = actor.subscribe({ error: (error) => (failure = { error }) });
  actor.start();
  if (!failure) {
    rearmTimers(actor, snapshot.timers, snapshot.capturedAt, clock);
    const now = clock.base.now();
    if (deliverDue && now > snapshot.capturedAt) catchUp(actor, clock, snapshot.capturedAt, now);
  }
  watch.unsubscribe();
  if (failure) {
    for (const node of walkTree(actor).reverse()) stopActor(node.ref);
    const { error } = failure as { error: unknown };
    throw new StorageError(SnapshotCodes.restoreFailed, `restoreActor: '${actor.id}' failed while starting from its snapshot: ${describe(error)}`, {
      cause: error,
    });
  }
}

/** XState revives actor refs into the context in place: hand it a copy, so one snapshot can restore many times. */
function copyOf(persisted: PersistedMachineSnapshot): PersistedMachineSnapshot {
  try {
    return structuredClone(persisted);
  } catch (err) {
    throw new StorageError(SnapshotCodes.corrupt, `restoreActor: snapshot field xstate is not plain data: ${describe(err)}`, {
      field: 'xstate',
      cause: err,
    });
  }
}

/** XState drops a child whose logic it cannot resolve without a word; we refuse the snapshot instead. */
function checkChildren(parent: AnyActorRef, persisted: PersistedMachineSnapshot, path: ActorPath): void {
  const live = childrenOf(parent);
  for (const [id, entry] of Object.entries(persisted.children)) {
    const childPath = [...path, id];
    const child = live[id];
    if (!child) {
      incompatible(`child ${pathLabel(childPath)} did not come back: its logic '${entry.src}' is not registered in the machine`, pathLabel(childPath));
    }
    const status = (child.getSnapshot() as { status: string; error?: unknown }).status;
    if (status === 'error') incompatible(`child ${pathLabel(childPath)} cannot take its snapshot`, pathLabel(childPath));
    const nested = (entry.snapshot as Partial<PersistedMachineSnapshot>).children;
    if (nested && typeof nested === 'object') checkChildren(child, entry.snapshot as PersistedMachineSnapshot, childPath);
  }
}

function checkDefinition(snapshot: ActorSnapshot, want: DefinitionRef): void {
  const have = snapshot.definition;
  if (have.name !== want.name || have.version !== want.version) {
    incompatible(
      `snapshot of ${have.name}@${have.version} cannot restore ${want.name}@${want.version}; decode it with the definition and a migration`,
      'definition',
    );
  }
}

function incompatible(why: string, field: string, cause?: unknown): never {
  throw new StorageError(SnapshotCodes.incompatible, `restoreActor: ${why}`, { field, ...(cause === undefined ? {} : { cause }) });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
