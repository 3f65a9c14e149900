// On-demand XState inspection, for in-process observers the node trusts (the
// inspector). Turning XState inspection on for every actor costs the message path
// a fifth of its throughput even with a listener that does nothing (each event
// becomes four or five inspection objects), so a service asks for what it shows:
// one actor's events while a page looks at it, or every actor's while a Stately
// receiver is attached. A watch attaches to the actor's XState system
// (`system.inspect`) and follows it across restarts, restores and migrations
// back in: each new incarnation is attached as it is created, before it starts.
//
// Events reach watchers as XState emits them, unscrubbed: a watcher shows
// payloads only after its own redaction (the inspector redacts when it maps an
// event). The node's `inspect` option is the other path: every actor, scrubbed.

import type { AnyActorRef, InspectionEvent, Subscription } from 'xstate';
import type { ActorCell } from '../actors/cell.js';

export type InspectionWatcher = (event: InspectionEvent) => void;

/** Every actor. */
export const ALL_ACTORS = '*';

export class Inspection {
  /** Watches, counted per watcher function: one watcher watching an actor and '*' is one subscription to it. */
  private readonly byActor = new Map<string, Map<InspectionWatcher, number>>();
  private readonly everyActor = new Map<InspectionWatcher, number>();
  /** What is attached to each cell's running XState actor: watcher → its subscription and how many watches it serves. */
  private readonly attached = new WeakMap<ActorCell, { actor: AnyActorRef; subs: Map<InspectionWatcher, { sub: Subscription; refs: number }> }>();

  constructor(
    private readonly cellOf: (id: string) => ActorCell | undefined,
    private readonly allCells: () => Iterable<ActorCell>,
  ) {}

  /** Is anyone watching? (The cheap check on the path that creates actors.) */
  get active(): boolean {
    return this.everyActor.size > 0 || this.byActor.size > 0;
  }

  /**
   * Deliver the inspection events of actor `id` (or of every actor: `ALL_ACTORS`) to `watcher` until the
   * returned function is called. A watcher gets each event once, however many of its watches cover the actor.
   */
  watch(id: string, watcher: InspectionWatcher): () => void {
    const counts = id === ALL_ACTORS ? this.everyActor : (this.byActor.get(id) ?? this.byActor.set(id, new Map()).get(id)!);
    counts.set(watcher, (counts.get(watcher) ?? 0) + 1);
    if (id === ALL_ACTORS) for (const cell of this.allCells()) this.attachOne(cell, watcher);
    else {
      const cell = this.cellOf(id);
      if (cell) this.attachOne(cell, watcher);
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (counts.get(watcher) ?? 1) - 1;
      if (n > 0) counts.set(watcher, n);
      else counts.delete(watcher);
      if (id !== ALL_ACTORS && counts.size === 0) this.byActor.delete(id);
      if (id === ALL_ACTORS) for (const cell of this.allCells()) this.detachOne(cell, watcher);
      else {
        const cell = this.cellOf(id);
        if (cell) this.detachOne(cell, watcher);
      }
    };
  }

  /** Is `id` an actor of this node (a cell, running or between incarnations)? */
  has(id: string): boolean {
    return this.cellOf(id) !== undefined;
  }

  /** Every cell of the node, live (no copy): for observers that sample actors without inspecting them. */
  cells(): Iterable<ActorCell> {
    return this.allCells();
  }

  /** Watched actors (ids), not counting watchers of every actor. */
  watched(): string[] {
    return [...this.byActor.keys()];
  }

  /** A cell created a new XState actor (an incarnation starting, a restore): attach its watchers. */
  created(cell: ActorCell, actor: AnyActorRef): void {
    if (!this.active) return;
    const own = this.byActor.get(cell.id);
    for (const [w, n] of this.everyActor) this.attachOne(cell, w, actor, n + (own?.get(w) ?? 0));
    if (own) for (const [w, n] of own) if (!this.everyActor.has(w)) this.attachOne(cell, w, actor, n);
  }

  private attachOne(cell: ActorCell, watcher: InspectionWatcher, actor: AnyActorRef | undefined = cell.xstateActor, refs = 1): void {
    if (!actor) return;
    let entry = this.attached.get(cell);
    if (!entry || entry.actor !== actor) {
      // A new incarnation: what was attached to the old actor went with it.
      entry = { actor, subs: new Map() };
      this.attached.set(cell, entry);
    }
    const had = entry.subs.get(watcher);
    if (had) {
      had.refs += refs;
      return;
    }
    const safe: InspectionWatcher = (event) => {
      try {
        watcher(event);
      } catch {
        // A watcher's bug must not become an actor crash: inspection is best effort.
      }
    };
    entry.subs.set(watcher, { sub: actor.system.inspect(safe), refs });
    // The actor was created before it was watched: tell the watcher it exists (XState announced it to nobody).
    safe({ type: '@xstate.actor', actorRef: actor, rootId: actor.sessionId } as InspectionEvent);
  }

  private detachOne(cell: ActorCell, watcher: InspectionWatcher): void {
    const entry = this.attached.get(cell);
    const had = entry?.subs.get(watcher);
    if (!had || --had.refs > 0) return;
    had.sub.unsubscribe();
    entry!.subs.delete(watcher);
  }
}
