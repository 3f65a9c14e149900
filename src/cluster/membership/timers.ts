// Named one-shot and periodic timers on an injected Clock, cancelled together.
// A timer set again under the same name replaces the pending one.

import type { Clock, TimerHandle } from '../../base/clock.js';

export class Timers {
  private readonly handles = new Map<string, TimerHandle>();
  private stopped = false;

  constructor(private readonly clock: Clock) {}

  /** Runs `fn` once after `ms`. */
  once(name: string, ms: number, fn: () => void): void {
    if (this.stopped) return;
    this.cancel(name);
    const handle = this.clock.setTimeout(() => {
      this.handles.delete(name);
      if (!this.stopped) fn();
    }, ms);
    this.handles.set(name, handle);
  }

  /** Runs `fn` every `ms`, the first time `ms` from now. */
  every(name: string, ms: number, fn: () => void): void {
    this.once(name, ms, () => {
      fn();
      this.every(name, ms, fn);
    });
  }

  cancel(name: string): void {
    const handle = this.handles.get(name);
    if (handle !== undefined) this.clock.clearTimeout(handle);
    this.handles.delete(name);
  }

  /** Cancels everything; later calls are ignored. */
  stop(): void {
    this.stopped = true;
    for (const handle of this.handles.values()) this.clock.clearTimeout(handle);
    this.handles.clear();
  }
}
