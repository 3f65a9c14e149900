// Delayed events across a snapshot. XState keeps armed delayed events in its
// system scheduler, stamps them with Date.now() (not the injected clock) and
// neither persists nor re-arms them: an `after` in progress is lost on restore
// (statelyai/xstate#4860, #5331). `trackDelays` records each event's due time
// on the injected Clock as it is armed; restore re-arms each at that time and,
// when the clock has moved past it, delivers it in due order as the clock
// would have (`catchUp`), so restoring at time T equals advancing to T.

import type { AnyActorRef, EventObject } from 'xstate';
import type { Clock, TimerHandle } from '../../base/clock.js';
import { StorageError } from '../../base/errors.js';
import { relay, scheduledEventKey, scheduledEventsOf, schedulerOf, systemOf } from './internals.js';
import { toPlainData } from './plain.js';
import { findByPath, pathLabel } from './tree.js';
import { SnapshotCodes, type ActorPath, type PendingTimer } from './types.js';

interface Due {
  dueAt: number;
  seq: number;
}

interface Tracker {
  clock: Clock;
  dues: Map<string, Due>;
  seq: number;
  autoId: number;
  pruneAt: number;
}

const trackers = new WeakMap<object, Tracker>();
const AUTO_ID = /^agentos\.delay\.(\d+)$/;
const byDue = (a: PendingTimer, b: PendingTimer): number => a.dueAt - b.dueAt || a.seq - b.seq;

/**
 * Record the due time, on `clock`, of every delayed event the actor's system
 * arms from now on (it wraps `system.scheduler.schedule`, once per system).
 * Call it after `createActor` and before `start()` (it must
 * be the clock the actor was created with); `restoreActor` does it itself.
 * Delayed events without an id get a deterministic one (`agentos.delay.N`)
 * instead of XState's random one. Arming an id its actor has already armed
 * replaces the earlier event (XState alone leaves the earlier timer running
 * but unreachable by `cancel`, and unlisted, so no snapshot could carry it).
 */
export function trackDelays(actor: AnyActorRef, clock: Clock): void {
  const system = systemOf(actor);
  if (trackers.has(system)) return;
  const tracker: Tracker = { clock, dues: new Map(), seq: 0, autoId: 0, pruneAt: 64 };
  trackers.set(system, tracker);
  const scheduler = schedulerOf(actor);
  const schedule = scheduler.schedule;
  scheduler.schedule = (source, target, event, delay, id) => {
    const sendId = id ?? `agentos.delay.${++tracker.autoId}`;
    const key = scheduledEventKey(source, sendId);
    // Same id still armed: XState would orphan the old timer (it still fires, cancel no longer reaches it). Replace it.
    if (tracker.dues.has(key)) scheduler.cancel(source, sendId);
    tracker.dues.set(key, { dueAt: clock.now() + delay, seq: ++tracker.seq });
    schedule(source, target, event, delay, sendId);
    if (tracker.dues.size > tracker.pruneAt) prune(actor, tracker);
  };
}

/** The clock an actor's delays are tracked on, if `trackDelays` was called. */
export function trackedClock(actor: AnyActorRef): Clock | undefined {
  return trackers.get(systemOf(actor))?.clock;
}

/** Fired and cancelled events leave the scheduler table without telling us; drop their due times now and then. */
function prune(actor: AnyActorRef, tracker: Tracker): void {
  const live = new Set(scheduledEventsOf(actor).map(([key]) => key));
  for (const key of tracker.dues.keys()) if (!live.has(key)) tracker.dues.delete(key);
  tracker.pruneAt = Math.max(64, 2 * tracker.dues.size);
}

/**
 * The armed delayed events of `root`'s system, in the order they will fire. Events whose
 * source or target has left the tree are skipped (XState would drop them on
 * delivery too). An event armed before `trackDelays` has no known due time:
 * that is refused rather than guessed.
 */
export function pendingTimers(root: AnyActorRef, paths: Map<AnyActorRef, ActorPath>): PendingTimer[] {
  const tracker = trackers.get(systemOf(root));
  const out: PendingTimer[] = [];
  const untracked: string[] = [];
  for (const [key, scheduled] of scheduledEventsOf(root)) {
    const source = paths.get(scheduled.source);
    const target = paths.get(scheduled.target);
    if (!source || !target) continue;
    const due = tracker?.dues.get(key);
    if (!due) {
      untracked.push(`${scheduled.id} (${pathLabel(source)})`);
      continue;
    }
    const event = toPlainData(scheduled.event, `timers[${scheduled.id}].event`) as PendingTimer['event'];
    out.push({ source, target, id: scheduled.id, event, dueAt: due.dueAt, seq: due.seq });
  }
  if (untracked.length > 0) {
    throw new StorageError(
      SnapshotCodes.uncapturable,
      `captureSnapshot: delayed events ${untracked.join(', ')} were armed before trackDelays(actor, clock), so their due times are unknown; call trackDelays before actor.start()`,
      { field: 'timers', details: { untracked } },
    );
  }
  return out.sort(byDue);
}

/** Due time of the earliest armed delayed event of `root`'s system whose due time is tracked. */
export function nextDue(root: AnyActorRef): number | undefined {
  const tracker = trackers.get(systemOf(root));
  let best: number | undefined;
  for (const [key] of scheduledEventsOf(root)) {
    const due = tracker?.dues.get(key);
    if (due && (best === undefined || due.dueAt < best)) best = due.dueAt;
  }
  return best;
}

/**
 * A clock whose `now()` restore can pin to a past instant while it re-arms and
 * catches up; timers set meanwhile are due relative to the pinned instant.
 * Unpinned, it is the base clock.
 */
export class CatchUpClock implements Clock {
  private pinned: number | undefined;
  private holding = false;
  /** Timers the base clock fired while held, by handle, in firing order. */
  private readonly fired = new Map<{ base: TimerHandle }, () => void>();

  constructor(readonly base: Clock) {}

  now(): number {
    return this.pinned ?? this.base.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const lag = this.pinned === undefined ? 0 : this.base.now() - this.pinned;
    const handle: { base: TimerHandle } = { base: undefined };
    handle.base = this.base.setTimeout(() => (this.holding ? this.fired.set(handle, fn) : fn()), Math.max(0, ms - lag));
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    const h = handle as { base: TimerHandle };
    this.fired.delete(h);
    this.base.clearTimeout(h.base);
  }

  pin(time: number | undefined): void {
    this.pinned = time;
  }

  /**
   * Held, timers that come due on the base clock wait (whoever holds delivers them in
   * due order with `catchUp`, which cancels each); released, any still waiting fire now.
   */
  hold(on: boolean): void {
    this.holding = on;
    if (on) return;
    const waiting = [...this.fired.values()];
    this.fired.clear();
    for (const fn of waiting) fn();
  }
}

/** Arm `timers` again on a restored, started actor, each at its original due time. */
export function rearmTimers(root: AnyActorRef, timers: readonly PendingTimer[], capturedAt: number, clock: CatchUpClock): void {
  const tracker = trackers.get(systemOf(root));
  if (!tracker) throw new Error('rearmTimers: trackDelays was not called on the restored actor');
  for (const t of timers) {
    const auto = AUTO_ID.exec(t.id);
    if (auto) tracker.autoId = Math.max(tracker.autoId, Number(auto[1]));
  }
  const armed = new Set(scheduledEventsOf(root).map(([key]) => key));
  const scheduler = schedulerOf(root);
  clock.pin(capturedAt);
  try {
    for (const t of [...timers].sort(byDue)) {
      const source = findByPath(root, t.source) as AnyActorRef;
      const target = findByPath(root, t.target) as AnyActorRef;
      // A future XState that re-arms by itself must not get a second copy.
      if (armed.has(scheduledEventKey(source, t.id))) continue;
      scheduler.schedule(source, target, t.event as EventObject, t.dueAt - capturedAt, t.id);
    }
  } finally {
    clock.pin(undefined);
  }
}

/**
 * Deliver, in due order, every armed event due at or before `until`, with the
 * clock pinned to each one's due time, as `VirtualClock.advanceTo(until)` would
 * have: events armed meanwhile and due within the window are delivered too.
 * Returns how many were delivered. Stops after `limit` (a zero-delay loop).
 */
export function catchUp(root: AnyActorRef, clock: CatchUpClock, from: number, until: number, limit = 100_000): number {
  const tracker = trackers.get(systemOf(root));
  if (!tracker) return 0;
  const scheduler = schedulerOf(root);
  let time = from;
  let delivered = 0;
  try {
    while (delivered < limit) {
      let next: { scheduled: ReturnType<typeof scheduledEventsOf>[number][1]; due: Due } | undefined;
      for (const [key, scheduled] of scheduledEventsOf(root)) {
        const due = tracker.dues.get(key);
        if (!due || due.dueAt > until) continue;
        if (!next || due.dueAt < next.due.dueAt || (due.dueAt === next.due.dueAt && due.seq < next.due.seq)) {
          next = { scheduled, due };
        }
      }
      if (!next) break;
      time = Math.max(time, next.due.dueAt);
      clock.pin(time);
      const { source, target, event, id } = next.scheduled;
      scheduler.cancel(source, id);
      relay(source, target, event);
      delivered++;
    }
  } finally {
    clock.pin(undefined);
  }
  return delivered;
}
