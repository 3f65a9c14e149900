// The only file that reaches into XState beyond its documented API. Every
// access below was read in xstate 5.33.3 (dist/raise-*.esm.js: createSystem,
// Actor; dist/xstate-actors.esm.js: fromPromise); most are on the public
// typings (`system.scheduler`, `system.getSnapshot()._scheduledEvents`,
// `actor.logic`, `actor.src`, `actor.systemId`), some are not (the `sessionId`
// key format, `system._relay`, `Actor._stop`, `__unsafeAllowInlineActors`).
// A version bump re-checks this file first.

import { isMachineSnapshot, type AnyActorRef, type EventObject } from 'xstate';

/** One entry of the system scheduler's table (`system._snapshot._scheduledEvents`). */
export interface ScheduledEventView {
  id: string;
  event: EventObject;
  /** XState stamps `Date.now()` here, not the injected clock: useless on a VirtualClock. */
  startedAt: number;
  delay: number;
  source: AnyActorRef;
  target: AnyActorRef;
}

export interface SchedulerView {
  schedule(source: AnyActorRef, target: AnyActorRef, event: EventObject, delay: number, id: string | undefined): void;
  cancel(source: AnyActorRef, id: string): void;
  cancelAll(actorRef: AnyActorRef): void;
}

/** The parts of an actor logic object a snapshot needs (fromPromise, fromCallback, machines…). */
export interface LogicView {
  transition(snapshot: unknown, event: EventObject, scope: unknown): unknown;
  start?(snapshot: unknown, scope: unknown): void;
  getPersistedSnapshot(snapshot: unknown, options?: unknown): unknown;
  restoreSnapshot?(snapshot: unknown, scope: unknown): unknown;
  getInitialSnapshot(scope: unknown, input: unknown): unknown;
  implementations?: { actors?: Record<string, unknown> };
  [key: string]: unknown;
}

interface SystemView {
  scheduler: SchedulerView;
  getSnapshot(): { _scheduledEvents: Record<string, ScheduledEventView> };
  _relay?(source: AnyActorRef | undefined, target: AnyActorRef, event: EventObject): void;
}

interface ActorView {
  logic: LogicView;
  src: unknown;
  systemId: string | undefined;
  sessionId: string;
  system: SystemView;
}

const view = (ref: AnyActorRef): ActorView => ref as unknown as ActorView;

export function systemOf(ref: AnyActorRef): object {
  return view(ref).system;
}

export function schedulerOf(ref: AnyActorRef): SchedulerView {
  return view(ref).system.scheduler;
}

/** The scheduler's live table, copied (keys are `${source.sessionId}.${id}`, in scheduling order). */
export function scheduledEventsOf(ref: AnyActorRef): Array<[string, ScheduledEventView]> {
  return Object.entries(view(ref).system.getSnapshot()._scheduledEvents);
}

/** The key XState's scheduler files a delayed event under (createScheduledEventId). */
export function scheduledEventKey(source: AnyActorRef, id: string): string {
  return `${view(source).sessionId}.${id}`;
}

/** Deliver `event` as the scheduler's timer callback does (inspection sees the source). */
export function relay(source: AnyActorRef, target: AnyActorRef, event: EventObject): void {
  const system = view(target).system;
  if (typeof system._relay === 'function') system._relay(source, target, event);
  else target.send(event);
}

/**
 * Stop any actor of the tree, root or not (`Actor._stop`). XState stops the
 * children of a machine that exits a state, not those of a root that failed.
 */
export function stopActor(ref: AnyActorRef): void {
  (ref as unknown as { _stop?(): void })._stop?.();
}

/**
 * `getPersistedSnapshot`, letting children with an inline logic `src` through
 * (the development build throws on them, statelyai/xstate#5057): capture names
 * them afterwards or refuses with a clear error.
 */
export function persistedSnapshotOf(ref: AnyActorRef): unknown {
  const persist = ref as unknown as { getPersistedSnapshot(options: unknown): unknown };
  return persist.getPersistedSnapshot({ __unsafeAllowInlineActors: true });
}

export function logicOf(ref: AnyActorRef): LogicView {
  return view(ref).logic;
}

/** Swap the logic of a created, not yet started actor (used to hold in-flight promises). */
export function replaceLogic(ref: AnyActorRef, logic: LogicView): void {
  view(ref).logic = logic;
}

export function srcOf(ref: AnyActorRef): unknown {
  return view(ref).src;
}

export function sessionIdOf(ref: AnyActorRef): string {
  return view(ref).sessionId;
}

export function systemIdOf(ref: AnyActorRef): string | undefined {
  return view(ref).systemId;
}

/** Children of a machine actor by id (invoked and spawned alike); none for other logic. */
export function childrenOf(ref: AnyActorRef): Record<string, AnyActorRef> {
  const snapshot: unknown = ref.getSnapshot();
  if (!isMachineSnapshot(snapshot)) return {};
  return snapshot.children as Record<string, AnyActorRef>;
}

export function isMachineActor(ref: AnyActorRef): boolean {
  return isMachineSnapshot(ref.getSnapshot());
}

export const PROMISE_RESOLVE = 'xstate.promise.resolve';
export const PROMISE_REJECT = 'xstate.promise.reject';

const promiseLogic = new WeakMap<object, boolean>();
const PROBE = Symbol('probe');

/**
 * Is this fromPromise logic? XState does not tag logic kinds, so ask its
 * transition function the one question only promise logic answers: does an
 * `xstate.promise.resolve` complete an active snapshot with that output?
 * (Callback logic throws on a foreign `self`, observables ignore the event.)
 */
export function isPromiseLogic(logic: LogicView): boolean {
  const known = promiseLogic.get(logic);
  if (known !== undefined) return known;
  let answer = false;
  if (typeof logic.start === 'function' && typeof logic.transition === 'function' && !logic.implementations) {
    try {
      const next = logic.transition(
        { status: 'active', output: undefined, error: undefined, input: undefined },
        { type: PROMISE_RESOLVE, data: PROBE } as EventObject,
        { self: {} },
      ) as { status?: unknown; output?: unknown } | undefined;
      answer = next?.status === 'done' && next.output === PROBE;
    } catch {
      answer = false;
    }
  }
  promiseLogic.set(logic, answer);
  return answer;
}
