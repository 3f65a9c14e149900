// Request/response over one-way messages: an ask registers a correlation id
// and a timer on the node clock; the reply (or a failure) settles it once.

import type { Clock, TimerHandle } from '../base/clock.js';
import { cryptoTokens, type TokenSource } from '../base/tokens.js';
import { AskTimeout, ErrorCodes } from '../base/errors.js';

interface PendingAsk {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: TimerHandle;
  target: string;
}

export class AskRegistry {
  private readonly pending = new Map<string, PendingAsk>();
  private seq = 0;

  constructor(
    private readonly clock: Clock,
    private readonly prefix: string,
    private readonly tokens: TokenSource = cryptoTokens,
  ) {}

  /** Open an ask; returns its correlation id and the promise of its reply. */
  open(target: string, type: string, timeoutMs: number): { correlationId: string; reply: Promise<unknown> } {
    // Unguessable, so an actor cannot settle an ask it was not sent.
    const correlationId = `${this.prefix}${++this.seq}.${this.tokens(8)}`;
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        if (!this.pending.delete(correlationId)) return;
        reject(
          new AskTimeout(ErrorCodes.askTimeout, `ask "${type}" to "${target}" got no reply within ${timeoutMs} ms`, {
            field: 'timeoutMs',
            details: { target, type, timeoutMs },
          }),
        );
      }, timeoutMs);
      this.pending.set(correlationId, { resolve, reject, timer, target });
    });
    return { correlationId, reply };
  }

  /** Settle an ask with a reply; only the actor that was asked may answer it. */
  resolve(correlationId: string | undefined, value: unknown, replier?: string): boolean {
    if (correlationId === undefined) return false;
    const pending = this.pending.get(correlationId);
    if (!pending || (replier !== undefined && pending.target !== replier)) return false;
    const p = this.take(correlationId);
    p?.resolve(value);
    return p !== undefined;
  }

  reject(correlationId: string | undefined, error: unknown): boolean {
    const p = correlationId === undefined ? undefined : this.take(correlationId);
    p?.reject(error);
    return p !== undefined;
  }

  /** Fail every ask still waiting (node stop). */
  rejectAll(error: (target: string) => unknown): void {
    for (const id of [...this.pending.keys()]) {
      const p = this.take(id);
      p?.reject(error(p.target));
    }
  }

  get size(): number {
    return this.pending.size;
  }

  private take(id: string): PendingAsk | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    this.clock.clearTimeout(p.timer);
    return p;
  }
}
