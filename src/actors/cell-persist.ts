// The parts of an actor cell only persistent actors use: capturing a checkpoint
// with the turn counters and in-flight calls beside the machine's snapshot, and
// the replay timeline — while logged turns run again after a restore, the
// actor's clock is held and follows the turns' recorded times, so delayed
// events fire between turns where they fired the first time.

import type { AnyActorRef } from 'xstate';
import type { Clock } from '../base/clock.js';
import { captureSnapshot, catchUp, CatchUpClock, nextDue, type ActorSnapshot } from './snapshot/index.js';
import { pathIndex } from './snapshot/tree.js';

/** A sensitive call as an agent makes it (the input of the `syscall` actor logic). */
export interface CallRequest {
  kind: 'tool' | 'model' | 'memory';
  name: string;
  args?: unknown;
  /** Tokens to charge against the actor's budgets. */
  tokens?: number;
  /** Act for another actor: the call gets the intersection of both capability sets. */
  onBehalfOf?: string;
  reason?: string;
}

/** A sensitive call a persistent actor has in flight: its idempotency key and the request, for a restore to resume. */
export interface CallRecord {
  key: string;
  request: CallRequest;
}

/** A checkpoint of `actor`: its snapshot, plus the calls still in flight (by child path) and `extra`. */
export function captureCell(
  actor: AnyActorRef,
  definition: { name: string; version: string },
  clock: Clock,
  calls: ReadonlyMap<AnyActorRef, CallRecord>,
  extra: Record<string, unknown>,
): ActorSnapshot {
  const paths = pathIndex(actor);
  const inFlight: Array<{ path: string[]; key: string; request: CallRequest }> = [];
  for (const [ref, record] of calls) {
    const path = paths.get(ref);
    if (path && (ref.getSnapshot() as { status: string }).status === 'active') inFlight.push({ path, key: record.key, request: record.request });
  }
  return captureSnapshot(actor, { definition, clock, extra: { ...extra, calls: inFlight } });
}

/** The held clock of an incarnation whose logged turns are being run again. */
export class ReplayTimeline {
  readonly clock: CatchUpClock;

  constructor(base: Clock) {
    this.clock = new CatchUpClock(base);
    this.clock.hold(true);
  }

  /** Deliver the delayed events due by `time` in due order (at most `limit`), then keep the clock at `time` (never earlier). */
  to(actor: AnyActorRef, time: number, limit?: number): void {
    const from = this.clock.now();
    if (time > from || limit !== undefined) catchUp(actor, this.clock, from, time, limit);
    this.clock.pin(Math.max(from, time));
  }

  /** When the next delayed event is due (undefined if none is armed). */
  nextDue(actor: AnyActorRef): number | undefined {
    return nextDue(actor);
  }

  /** Replay over: catch up to the present, and the clock runs free. */
  end(actor: AnyActorRef | undefined): void {
    if (actor) this.to(actor, this.clock.base.now());
    this.clock.pin(undefined);
    this.clock.hold(false);
  }
}
