// What the hub takes in between two flushes, parked as cheaply as possible
// because `listener` runs inside the kernel (system events) and on the message
// path of watched actors (their XState inspection events): a message or system
// event goes into a bounded ring, a snapshot overwrites its XState actor's slot
// (per actor only the latest state waits, with a count), an announced root
// actor is remembered by session. The flush takes it all (hub.ts).

import type { AnyActorRef, AnyEventObject, InspectionEvent, Snapshot } from 'xstate';
import { cellOfSystem } from '../../actors/cell.js';
import type { Clock } from '../../base/clock.js';
import type { SystemEvent } from '../../kernel/events.js';
import { Ring } from './ring.js';

/** `@xstate.actor`s kept between two flushes for Stately receivers (more are announced at attach anyway). */
const MAX_BORN = 4096;

export interface PendingSnapshot {
  ref: AnyActorRef;
  rootId: string;
  snapshot: Snapshot<unknown>;
  event: AnyEventObject;
  count: number;
  at: number;
}

export class Intake {
  /** Messages and system events, in arrival order (bounded: the oldest go, counted). */
  readonly inbox: Ring<SystemEvent | InspectionEvent>;
  private pending = new Map<AnyActorRef, PendingSnapshot>();
  /** Root XState session → actor id (when the cell cannot be found from the actor's system). */
  private readonly roots = new Map<string, string>();
  private born: AnyActorRef[] = [];
  /** Keep announced XState actors for the next flush (while a Stately receiver listens). */
  keepBorn = false;

  constructor(
    private readonly clock: Clock,
    inboxEvents: number,
  ) {
    this.inbox = new Ring(inboxEvents);
  }

  /**
   * Parks the event and returns. XState's microsteps and actions are not kept (the snapshot after them says
   * where the machine went). Never throws (it is called from inside the kernel).
   */
  readonly listener = (event: SystemEvent | InspectionEvent): void => {
    try {
      const type = event.type;
      if (type === '@xstate.snapshot') {
        const e = event as Extract<InspectionEvent, { type: '@xstate.snapshot' }>;
        const ref = e.actorRef as AnyActorRef;
        const p = this.pending.get(ref);
        if (p === undefined) this.pending.set(ref, { ref, rootId: e.rootId, snapshot: e.snapshot, event: e.event, count: 1, at: this.clock.now() });
        else {
          p.snapshot = e.snapshot;
          p.event = e.event;
          p.count++;
          p.at = this.clock.now();
        }
      } else if (type === '@xstate.actor') {
        const ref = (event as Extract<InspectionEvent, { type: '@xstate.actor' }>).actorRef as AnyActorRef;
        if (ref._parent === undefined) {
          if (this.roots.size > 100_000) this.roots.clear();
          this.roots.set(ref.sessionId, ref.id);
        }
        if (this.keepBorn && this.born.length < MAX_BORN) this.born.push(ref);
      } else if (type === '@xstate.event' || type.startsWith('@agentos.')) {
        this.inbox.push(event, this.clock.now());
      }
    } catch {
      // Inspection is best effort: never an error in the kernel or the actor that emitted.
    }
  };

  /** The latest snapshot of each XState actor since the last call (undefined: none). */
  takeSnapshots(): Map<AnyActorRef, PendingSnapshot> | undefined {
    if (this.pending.size === 0) return undefined;
    const taken = this.pending;
    this.pending = new Map();
    return taken;
  }

  /** XState actors announced since the last call. */
  takeBorn(): AnyActorRef[] {
    return this.born.splice(0);
  }

  /** The agentos actor an XState actor belongs to (an invoked child belongs to its agent). */
  actorIdOf(ref: AnyActorRef, rootId: string): string | undefined {
    return cellOfSystem(ref.system)?.id ?? this.roots.get(rootId);
  }
}
