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
  private readonly byActor = new Map<string, Set<InspectionWatcher>>();
  private readonly everyActor = new Set<InspectionWatcher>();
  /** What is attached to each cell's running XState actor: watcher → its subscription. */
  private readonly attached = new WeakMap<ActorCell, { actor: AnyActorRef; subs: Map<InspectionWatcher, Subscription> }>();

  constructor(
    private readonly cellOf: (id: string) => ActorCell | undefined,
    private readonly allCells: () => Iterable<ActorCell>,
  ) {}

  /** Is anyone watching? (The cheap check on the path that creates actors.) */
  get active(): boolean {
    return this.everyActor.size > 0 || this.byActor.size > 0;
  }

  /** Deliver the inspection events of actor `id` (or of every actor: `ALL_ACTORS`) to `watcher` until the returned function is called. */
  watch(id: string, watcher: InspectionWatcher): () => void {
    const safe: InspectionWatcher = (event) => {
      try {
        watcher(event);
      } catch {
        // A watcher's bug must not become an actor crash: inspection is best effort.
      }
    };
    if (id === ALL_ACTORS) {
      this.everyActor.add(safe);
      for (const cell of this.allCells()) this.attachOne(cell, safe);
    } else {
      let set = this.byActor.get(id);
      if (!set) this.byActor.set(id, (set = new Set()));
      set.add(safe);
      const cell = this.cellOf(id);
      if (cell) this.attachOne(cell, safe);
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (id === ALL_ACTORS) {
        this.everyActor.delete(safe);
        for (const cell of this.allCells()) this.detachOne(cell, safe);
      } else {
        const set = this.byActor.get(id);
        set?.delete(safe);
        if (set?.size === 0) this.byActor.delete(id);
        const cell = this.cellOf(id);
        if (cell) this.detachOne(cell, safe);
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
    for (const w of this.everyActor) this.attachOne(cell, w, actor);
    const set = this.byActor.get(cell.id);
    if (set) for (const w of set) this.attachOne(cell, w, actor);
  }

  private attachOne(cell: ActorCell, watcher: InspectionWatcher, actor: AnyActorRef | undefined = cell.xstateActor): void {
    if (!actor) return;
    let entry = this.attached.get(cell);
    if (!entry || entry.actor !== actor) {
      // A new incarnation: what was attached to the old actor went with it.
      entry = { actor, subs: new Map() };
      this.attached.set(cell, entry);
    }
    if (entry.subs.has(watcher)) return;
    entry.subs.set(watcher, actor.system.inspect(watcher));
    // The actor was created before it was watched: tell the watcher it exists (XState announced it to nobody).
    watcher({ type: '@xstate.actor', actorRef: actor, rootId: actor.sessionId } as InspectionEvent);
  }

  private detachOne(cell: ActorCell, watcher: InspectionWatcher): void {
    const entry = this.attached.get(cell);
    entry?.subs.get(watcher)?.unsubscribe();
    entry?.subs.delete(watcher);
  }
}
