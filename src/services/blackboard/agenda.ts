// The controller's agenda, and the strategies that pick from it: pure data and
// functions, so a run is a function of the writes, the strategy and its seed.
// A knowledge source is on the agenda at most once; further changes that trigger
// it while it waits are added to its item.

import type { Rng } from '../../base/rng.js';

/** A write the controller heard of. */
export interface BoardChange {
  topic: string;
  version: number;
  by: string;
}

export interface AgendaItem {
  source: string;
  priority: number;
  /** The changes that triggered it since it joined the agenda, oldest first (the last `MAX_CHANGES`). */
  changes: BoardChange[];
  /** When it joined the agenda, in controller order (smaller is earlier). */
  since: number;
}

export const MAX_CHANGES = 32;

/** Picks the index of the item to run next; `items` are in the order they joined the agenda. */
export type ControllerStrategy = (items: readonly AgendaItem[], rng: Rng) => number;

export type ControllerStrategyName = 'priority' | 'fifo' | 'random';

export const controllerStrategies: Readonly<Record<ControllerStrategyName, ControllerStrategy>> = Object.freeze({
  /** Highest priority first; among equals, the one waiting longest. */
  priority: (items) => {
    let best = 0;
    for (let i = 1; i < items.length; i++) if (items[i]!.priority > items[best]!.priority) best = i;
    return best;
  },
  /** The one waiting longest. */
  fifo: () => 0,
  /** Uniformly at random, from the controller's seeded Rng. */
  random: (items, rng) => rng.int(items.length),
});

export class Agenda {
  private items: AgendaItem[] = [];
  private seq = 0;

  /** Put `source` on the agenda, or add the change to its waiting item. */
  trigger(source: string, priority: number, change: BoardChange): void {
    const item = this.items.find((i) => i.source === source);
    if (item) {
      item.changes.push(change);
      if (item.changes.length > MAX_CHANGES) item.changes.shift();
      return;
    }
    this.items.push({ source, priority, changes: [change], since: ++this.seq });
  }

  /** Take the item at `index` off the agenda. */
  take(index: number): AgendaItem {
    const [item] = this.items.splice(index, 1);
    if (!item) throw new RangeError(`agenda has no item ${index}`);
    return item;
  }

  remove(source: string): void {
    this.items = this.items.filter((i) => i.source !== source);
  }

  list(): readonly AgendaItem[] {
    return this.items;
  }

  get size(): number {
    return this.items.length;
  }
}

/** The distinct topics of an item's changes, in the order first seen. */
export function topicsOf(item: AgendaItem): string[] {
  return [...new Set(item.changes.map((c) => c.topic))];
}
