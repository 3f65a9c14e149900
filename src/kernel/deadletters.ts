// Messages that could not be delivered, kept in a bounded log with the reason,
// and announced as `@agentos.deadletter`. Nothing is dropped silently. With a
// redactor set, payloads and reasons are scrubbed as they enter the log, so a
// credential in an undeliverable message is neither kept nor shown.

import type { Envelope } from '../actors/envelope.js';

export interface DeadLetter {
  at: number;
  id: string;
  from: string | undefined;
  to: string;
  type: string;
  reason: string;
  payload: unknown;
}

export class DeadLetterLog {
  private readonly entries: DeadLetter[] = [];
  private next = 0;
  private total = 0;

  private redact: ((value: unknown) => unknown) | undefined;

  constructor(
    private readonly capacity = 1000,
    options: { redact?: (value: unknown) => unknown } = {},
  ) {
    this.redact = options.redact;
  }

  /** Scrub payloads and reasons of letters added from now on (e.g. with the node's secret redactor). */
  setRedactor(redact: ((value: unknown) => unknown) | undefined): void {
    this.redact = redact;
  }

  add(env: Pick<Envelope, 'id' | 'from' | 'to' | 'type' | 'payload'>, reason: string, at: number): DeadLetter {
    const letter: DeadLetter = { at, id: env.id, from: env.from, to: env.to, type: env.type, reason: this.scrub(reason), payload: this.scrub(env.payload) };
    if (this.entries.length < this.capacity) this.entries.push(letter);
    else this.entries[this.next] = letter;
    this.next = (this.next + 1) % this.capacity;
    this.total++;
    return letter;
  }

  /** Most recent dead letters, oldest first. */
  list(): DeadLetter[] {
    if (this.entries.length < this.capacity) return [...this.entries];
    return [...this.entries.slice(this.next), ...this.entries.slice(0, this.next)];
  }

  /** A redactor that throws hides the value rather than keep it. */
  private scrub<T>(value: T): T {
    if (!this.redact) return value;
    try {
      return this.redact(value) as T;
    } catch {
      return '[REDACTED]' as T;
    }
  }

  /** Dead letters ever recorded (including those rotated out of the log). */
  get count(): number {
    return this.total;
  }
}
