// The bus's memory of conversations: open ones (bounded by `maxOpen`), the most
// recently closed ones (bounded by `retainClosed`; older ones are forgotten, so a
// late reply to them is refused as a reply to an unknown conversation), and one
// timer per open conversation with a deadline, on the node clock.

import type { Clock, TimerHandle } from '../../base/clock.js';
import { expire, TERMINAL, type ConversationState } from './protocol.js';

export interface TableLimits {
  maxOpen: number;
  retainClosed: number;
}

export class ConversationTable {
  private readonly open = new Map<string, ConversationState>();
  /** Closed conversations, oldest first (Map insertion order). */
  private readonly closed = new Map<string, ConversationState>();
  private readonly timers = new Map<string, TimerHandle>();
  /** Conversations forgotten to stay within `retainClosed`. */
  forgotten = 0;

  constructor(
    private readonly clock: Clock,
    private readonly limits: TableLimits,
    /** A conversation expired (on its timer, or found past its deadline first). */
    private readonly onExpired: (state: ConversationState) => void,
  ) {}

  /** The conversation as of `now`: an open one whose deadline has passed is expired first. */
  current(id: string, now: number): ConversationState | undefined {
    const s = this.open.get(id);
    if (s === undefined) return this.closed.get(id);
    if (s.deadline !== undefined && now >= s.deadline) {
      const expired = expire(s, now);
      this.commit(expired);
      this.onExpired(expired);
      return expired;
    }
    return s;
  }

  get openCount(): number {
    return this.open.size;
  }

  get closedCount(): number {
    return this.closed.size;
  }

  isFull(): boolean {
    return this.open.size >= this.limits.maxOpen;
  }

  /** Store the new state of a conversation: arm or clear its deadline timer; a closed one moves to the bounded closed list. */
  commit(state: ConversationState): void {
    const id = state.id;
    this.disarm(id);
    if (TERMINAL.has(state.status)) {
      this.open.delete(id);
      this.closed.delete(id);
      this.closed.set(id, state);
      while (this.closed.size > this.limits.retainClosed) {
        this.closed.delete(this.closed.keys().next().value!);
        this.forgotten++;
      }
      return;
    }
    this.closed.delete(id); // a forgotten id opened again
    this.open.set(id, state);
    if (state.deadline !== undefined) this.arm(id, state.deadline);
  }

  /** Open conversations, then closed ones (each oldest first). */
  all(): ConversationState[] {
    return [...this.open.values(), ...this.closed.values()];
  }

  openStates(): IterableIterator<ConversationState> {
    return this.open.values();
  }

  /** Stop every timer (the bus is closing). */
  clear(): void {
    for (const id of [...this.timers.keys()]) this.disarm(id);
  }

  private arm(id: string, deadline: number): void {
    const fire = (): void => {
      this.timers.delete(id);
      const s = this.open.get(id);
      if (s === undefined || s.deadline === undefined) return;
      const now = this.clock.now();
      // A real clock can wake a little early: look again rather than expire too soon.
      if (now < s.deadline) return this.arm(id, s.deadline);
      const expired = expire(s, now);
      this.commit(expired);
      this.onExpired(expired);
    };
    this.timers.set(id, this.clock.setTimeout(fire, Math.max(0, deadline - this.clock.now())));
  }

  private disarm(id: string): void {
    const t = this.timers.get(id);
    if (t === undefined) return;
    this.clock.clearTimeout(t);
    this.timers.delete(id);
  }
}
