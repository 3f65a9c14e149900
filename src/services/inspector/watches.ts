// Which actors the inspector has the node inspect, for whom, and until when.
// Turning XState inspection on costs an actor's message path a good part of its
// throughput, so it is on only for actors a page looks at: a page takes a lease
// on an actor (`watch`), renews it while it shows the actor, and gives it back
// (`unwatch`) or lets it run out. An actor stays watched while any holder's
// lease on it runs (two pages on one actor do not end each other's watch).
// `'*'` is every actor, present and future: one entry like any other.
// Internal holds (a Stately receiver attached) have no expiry and no cap.

import { InspectorCodes, InspectorError } from './source.js';

/** Every actor (the kernel's ALL_ACTORS). */
export const WATCH_ALL = '*';

export interface WatchGrant {
  node: string;
  actor: string;
  leaseMs: number;
  /** When the lease ends unless renewed (the watching node's clock, ms). */
  expiresAt: number;
}

interface Entry {
  stop: () => void;
  /** Holder → when its lease ends (Infinity: an internal hold). */
  holders: Map<string, number>;
}

export interface WatchesOptions {
  leaseMs: number;
  /** Actors watched at once (a lease on a new actor beyond it is refused). */
  max: number;
  /** Start inspecting `actor`; returns the function that stops it. Throws for an actor the node does not run. */
  start(actor: string): () => void;
}

export class Watches {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: WatchesOptions) {}

  /** Take or renew `holder`'s lease on `actor`; returns when it ends. */
  watch(actor: string, holder: string, now: number): number {
    const expiresAt = now + this.options.leaseMs;
    const entry = this.entries.get(actor);
    if (entry) {
      // Renewing never shortens an internal hold.
      if ((entry.holders.get(holder) ?? -Infinity) < expiresAt) entry.holders.set(holder, expiresAt);
      return entry.holders.get(holder)!;
    }
    if (this.entries.size >= this.options.max) {
      throw new InspectorError(
        InspectorCodes.watchLimit,
        `cannot watch "${actor}": ${this.options.max} actors are watched already (unwatch one, or watch '*' for every actor)`,
        { field: 'actor' },
      );
    }
    this.open(actor, holder, expiresAt);
    return expiresAt;
  }

  /** An internal hold on `actor`, with no expiry and outside the cap, until `release(holder)`. */
  hold(actor: string, holder: string): void {
    const entry = this.entries.get(actor);
    if (entry) entry.holders.set(holder, Infinity);
    else this.open(actor, holder, Infinity);
  }

  /** End `holder`'s lease on `actor`; the actor stays watched while another holder's lease runs. Returns whether it still is. */
  unwatch(actor: string, holder: string): boolean {
    const entry = this.entries.get(actor);
    if (!entry) return false;
    entry.holders.delete(holder);
    if (entry.holders.size > 0) return true;
    this.close(actor, entry);
    return false;
  }

  /** End every lease and hold of `holder` (a page that closed). */
  release(holder: string): void {
    for (const [actor, entry] of [...this.entries]) {
      if (entry.holders.delete(holder) && entry.holders.size === 0) this.close(actor, entry);
    }
  }

  /** End the leases that ran out by `now` (called at each flush: at most `max` + 1 entries). */
  expire(now: number): void {
    for (const [actor, entry] of this.entries) {
      for (const [holder, until] of entry.holders) if (until <= now) entry.holders.delete(holder);
      if (entry.holders.size === 0) this.close(actor, entry);
    }
  }

  /** Actors watched now ('*' included when every actor is). */
  watched(): string[] {
    return [...this.entries.keys()];
  }

  /** Stop every watch (the hub is detached from its node). */
  clear(): void {
    for (const [actor, entry] of [...this.entries]) this.close(actor, entry);
  }

  private open(actor: string, holder: string, until: number): void {
    const stop = this.options.start(actor);
    this.entries.set(actor, { stop, holders: new Map([[holder, until]]) });
  }

  private close(actor: string, entry: Entry): void {
    this.entries.delete(actor);
    try {
      entry.stop();
    } catch {
      // The node is stopping: nothing is left to inspect.
    }
  }
}
