// captureSnapshot: one versioned, plain-data snapshot of a running machine
// actor. It is XState's persisted snapshot made restorable (every child `src`
// a registered name), plus the delayed events XState does not persist, the
// in-flight promises the kernel must settle, and the agent's extras. The
// result is a deep copy: later transitions of the actor do not reach it.

import type { AnyActorRef } from 'xstate';
import type { Clock } from '../../base/clock.js';
import { AgentOsError, ErrorCodes, StorageError } from '../../base/errors.js';
import { childrenOf, isMachineActor, logicOf, persistedSnapshotOf, sessionIdOf, srcOf, systemIdOf } from './internals.js';
import { toPlainData } from './plain.js';
import { pendingTimers, trackedClock } from './timers.js';
import { classify, pathIndex, pathLabel } from './tree.js';
import {
  SNAPSHOT_FORMAT,
  SnapshotCodes,
  type ActorPath,
  type ActorSnapshot,
  type ChildEntry,
  type DefinitionRef,
  type InFlightInvoke,
  type PersistedMachineSnapshot,
} from './types.js';

export interface CaptureOptions {
  /** The agent definition the actor runs: restore checks it, migrations key on `version`. */
  definition: DefinitionRef;
  /** Agent state outside the machine (RNG state, token counts…); plain data. */
  extra?: Record<string, unknown>;
  /** Clock for `capturedAt`; defaults to the one given to `trackDelays`. */
  clock?: Clock;
}

const CAPTURABLE = new Set(['active', 'done']);

export function captureSnapshot(actor: AnyActorRef, options: CaptureOptions): ActorSnapshot {
  const definition = checkDefinition(options?.definition);
  if (!isMachineActor(actor)) {
    throw new StorageError(SnapshotCodes.uncapturable, `captureSnapshot: actor '${actor.id}' is not a state machine actor`);
  }
  const status = (actor.getSnapshot() as { status: string }).status;
  if (!CAPTURABLE.has(status)) {
    throw new StorageError(
      SnapshotCodes.uncapturable,
      `captureSnapshot: actor '${actor.id}' is ${status}; capture before stopping it (a stopped actor has lost its timers)`,
      { field: 'status' },
    );
  }
  const clock = options.clock ?? trackedClock(actor);
  if (!clock) {
    throw new AgentOsError(
      ErrorCodes.invalidOptions,
      'captureSnapshot: no clock: pass options.clock, or call trackDelays(actor, clock) before starting the actor',
      { field: 'clock' },
    );
  }
  const persisted = persistedSnapshotOf(actor) as PersistedMachineSnapshot;
  const children: ChildEntry[] = [];
  const inFlight: InFlightInvoke[] = [];
  describeChildren(actor, persisted, [], children, inFlight);
  const timers = pendingTimers(actor, pathIndex(actor));
  const systemId = systemIdOf(actor);
  return {
    format: SNAPSHOT_FORMAT,
    definition,
    capturedAt: clock.now(),
    actor: systemId === undefined ? { id: actor.id } : { id: actor.id, systemId },
    xstate: toPlainData(persisted, 'xstate') as PersistedMachineSnapshot,
    timers,
    inFlight: inFlight.map((f) => ({ ...f, input: toPlainData(f.input, `${pathLabel(f.path)}.input`) })),
    children,
    extra: toPlainData(options.extra ?? {}, 'extra') as Record<string, unknown>,
  };
}

/**
 * Walk the live children beside their persisted entries: name each child's
 * logic (an inline `spawn(logic)` is looked up among the parent machine's
 * registered actors, as XState cannot restore a logic object from bytes,
 * statelyai/xstate#4873), classify it, and list unsettled promises.
 */
function describeChildren(
  parent: AnyActorRef,
  persisted: PersistedMachineSnapshot,
  path: ActorPath,
  children: ChildEntry[],
  inFlight: InFlightInvoke[],
): void {
  const live = childrenOf(parent);
  for (const [id, entry] of Object.entries(persisted.children ?? {})) {
    const child = live[id];
    if (!child) continue;
    const childPath = [...path, id];
    if (id === sessionIdOf(child)) {
      // XState named it after its session id ('x:7'); a restored system books session ids afresh, so a later
      // spawn could take the same id and silently replace this child.
      throw new StorageError(
        SnapshotCodes.uncapturable,
        `captureSnapshot: child ${pathLabel(childPath)} was spawned without an id; give it one (spawn(src, { id }))`,
        { field: pathLabel(childPath) },
      );
    }
    const src = nameOf(parent, child, childPath);
    entry.src = src;
    const kind = classify(child);
    const status = (child.getSnapshot() as { status: string }).status;
    const systemId = systemIdOf(child);
    children.push({ path: childPath, src, kind, status, ...(systemId === undefined ? {} : { systemId }) });
    if (kind === 'promise' && status === 'active') {
      const input = (entry.snapshot as { input?: unknown }).input;
      inFlight.push({ path: childPath, src, input, ...(systemId === undefined ? {} : { systemId }) });
    }
    if (kind === 'machine') describeChildren(child, entry.snapshot as PersistedMachineSnapshot, childPath, children, inFlight);
  }
}

function nameOf(parent: AnyActorRef, child: AnyActorRef, path: ActorPath): string {
  const src = srcOf(child);
  if (typeof src === 'string') return src;
  const registered = logicOf(parent).implementations?.actors ?? {};
  for (const [name, logic] of Object.entries(registered)) if (logic === src) return name;
  throw new StorageError(
    SnapshotCodes.uncapturable,
    `captureSnapshot: child ${pathLabel(path)} was spawned from an inline logic object, which cannot be restored from bytes; register it in setup({ actors }) and spawn it by name`,
    { field: pathLabel(path) },
  );
}

function checkDefinition(definition: DefinitionRef | undefined): DefinitionRef {
  const ok = (s: unknown): s is string => typeof s === 'string' && s.length > 0 && s.length <= 1024;
  if (!definition || !ok(definition.name) || !ok(definition.version)) {
    throw new AgentOsError(
      ErrorCodes.invalidOptions,
      `captureSnapshot: options.definition must be { name, version } with non-empty strings (got ${JSON.stringify(definition)})`,
      { field: 'definition' },
    );
  }
  return { name: definition.name, version: definition.version };
}
