// While a restored persistent actor runs its logged turns again, the result of
// each of its calls must reach it where it first did: before the turn whose
// `settled` list names it, or, after the last logged turn, in the order the
// journal recorded the outcomes. Otherwise a result that overtakes a turn moves
// the side effects that follow it to other idempotency keys, and they run twice.
// Results are held here, at the end of the journaled call, until the re-run lets
// each through.

import type { RootDatabase } from 'lmdb';
import { parseIdempotencyKey } from '../effects/index.js';
import { EffectStore } from '../effects/store.js';

interface Held {
  released: boolean;
  /** The outcome is back and waiting here. */
  arrived: boolean;
  promise: Promise<void>;
  release: () => void;
}

export class ResultOrder {
  private readonly holding = new Set<string>();
  private readonly held = new Map<string, Held>();

  /** From now until `end(actor)`, results of the actor's calls wait for `release`. */
  hold(actor: string): void {
    this.holding.add(actor);
  }

  /** The end of a journaled call: resolves when its result may reach the actor. */
  pass(key: string): Promise<void> {
    if (this.holding.size === 0 || !this.holding.has(actorOf(key))) return Promise.resolve();
    const h = this.entry(key);
    h.arrived = true;
    if (h.released) this.held.delete(key);
    return h.promise;
  }

  /** Let the result of `key` through (now, or when it arrives). */
  release(key: string): void {
    const h = this.entry(key);
    h.released = true;
    h.release();
    if (h.arrived) this.held.delete(key);
  }

  /** The re-run is over: every result of the actor goes through from now on. */
  end(actor: string): void {
    this.holding.delete(actor);
    for (const [key, h] of this.held) {
      if (actorOf(key) !== actor) continue;
      h.release();
      this.held.delete(key);
    }
  }

  private entry(key: string): Held {
    let h = this.held.get(key);
    if (!h) {
      let release!: () => void;
      const promise = new Promise<void>((resolve) => (release = resolve));
      h = { released: false, arrived: false, promise, release };
      this.held.set(key, h);
    }
    return h;
  }
}

function actorOf(key: string): string {
  try {
    return parseIdempotencyKey(key).actor;
  } catch {
    return '';
  }
}

/** Where and when the journal recorded a call's outcome (undefined: none committed, or only its dispatch). */
export class OutcomeTimes {
  private readonly store: EffectStore;

  constructor(db: RootDatabase) {
    this.store = EffectStore.open(db);
  }

  of(key: string): { seq: number; at: number } | undefined {
    try {
      const actor = parseIdempotencyKey(key).actor;
      const seq = this.store.latestSeq(key);
      if (seq === undefined) return undefined;
      const entry = this.store.entry(actor, seq, key);
      return entry && entry.header.kind !== 'dispatched' ? { seq, at: entry.header.at } : undefined;
    } catch {
      return undefined; // an unreadable entry: the call itself reports it
    }
  }
}
