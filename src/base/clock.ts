// Time is injected. The kernel, scheduler and supervisors read time only from a
// Clock, so tests run on a VirtualClock and replays are deterministic.
// The shape of setTimeout/clearTimeout matches XState's Clock, so the same
// object drives an actor's delayed transitions.

export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds, monotonic within one clock. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Wall-clock time for production use. `now()` is monotonic (performance.now based). */
export class RealClock implements Clock {
  private readonly origin = Date.now() - performance.now();
  now(): number {
    return this.origin + performance.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref?.();
    return t;
  }
  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  }
}

interface VirtualTimer {
  id: number;
  due: number;
  seq: number;
  fn: () => void;
}

/**
 * Time that moves only when told to. Timers fire in due-time order (ties in
 * the order they were set) as `advance` passes them; a timer set by a firing
 * timer for a time within the advanced window fires in the same advance.
 */
export class VirtualClock implements Clock {
  private time: number;
  private seq = 0;
  private timers = new Map<number, VirtualTimer>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { id, due: this.time + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Number of timers not yet fired. */
  pending(): number {
    return this.timers.size;
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    this.advanceTo(this.time + ms);
  }

  advanceTo(target: number): void {
    for (;;) {
      const next = this.nextDue();
      if (next === undefined || next.due > target) break;
      this.timers.delete(next.id);
      this.time = Math.max(this.time, next.due);
      next.fn();
    }
    this.time = Math.max(this.time, target);
  }

  /** Fire timers until none remain (bounded, to catch runaway periodic timers). */
  runAll(maxTimers = 100_000): void {
    for (let i = 0; i < maxTimers; i++) {
      const next = this.nextDue();
      if (next === undefined) return;
      this.advanceTo(next.due);
    }
    throw new Error(`VirtualClock.runAll: more than ${maxTimers} timers fired`);
  }

  private nextDue(): VirtualTimer | undefined {
    let best: VirtualTimer | undefined;
    for (const t of this.timers.values()) {
      if (best === undefined || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
