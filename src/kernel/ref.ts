// ActorRef: a handle by id. It survives restarts (the id resolves through the
// kernel each time), so holding a ref never pins an old incarnation.

import type { AnyActorRef } from 'xstate';
import type { SendOptions } from '../actors/envelope.js';

export interface AskOptions extends Omit<SendOptions, 'replyTo' | 'correlationId'> {
  /** Reply deadline (default 5000 ms). */
  timeoutMs?: number;
}

/** What a ref needs from the kernel. */
export interface RefHost {
  send(to: string, message: unknown, options?: SendOptions): void;
  post(to: string, message: unknown, options?: SendOptions): Promise<void>;
  checkpointActor(id: string): Promise<void>;
  ask(to: string, message: unknown, options?: AskOptions): Promise<unknown>;
  stopActor(id: string): Promise<void>;
  pauseActor(id: string): void;
  resumeActor(id: string): void;
  snapshotOf(id: string): ReturnType<AnyActorRef['getSnapshot']> | undefined;
  pathOf(id: string): string;
}

/** Any message: an object with a string `type`. */
export interface AnyMessage {
  type: string;
  [key: string]: unknown;
}

export class ActorRef<TMessage extends { type: string } = AnyMessage, TReply = unknown> {
  readonly #host: RefHost; // truly private: printing a ref never walks into the kernel

  constructor(
    readonly id: string,
    host: RefHost,
  ) {
    this.#host = host;
  }

  /** Path in the supervision tree, e.g. `/sup/a1`. */
  get path(): string {
    return this.#host.pathOf(this.id);
  }

  /** Fire and forget. Throws a typed error if the message is refused at the edge. */
  send(message: TMessage, options?: SendOptions): void {
    this.#host.send(this.id, message, options);
  }

  /**
   * Send and wait until the message is accepted. For a persistent actor that means
   * journaled in LMDB (and flushed to disk under `sync` durability): from then on a
   * crash does not lose it. For any other actor it resolves once queued.
   */
  post(message: TMessage, options?: SendOptions): Promise<void> {
    return this.#host.post(this.id, message, options);
  }

  /** Checkpoint a persistent actor now (its definition says `persistent`); resolves when written. */
  checkpoint(): Promise<void> {
    return this.#host.checkpointActor(this.id);
  }

  /** Request/response: resolves with the machine's `reply`, rejects on timeout or failure. */
  ask<R = TReply>(message: TMessage, options?: AskOptions): Promise<R> {
    return this.#host.ask(this.id, message, options) as Promise<R>;
  }

  /** The current XState snapshot (undefined while stopped). */
  getSnapshot(): ReturnType<AnyActorRef['getSnapshot']> | undefined {
    return this.#host.snapshotOf(this.id);
  }

  /** Stop delivering; messages keep queueing (up to the mailbox bound). */
  pause(): void {
    this.#host.pauseActor(this.id);
  }

  resume(): void {
    this.#host.resumeActor(this.id);
  }

  /** Stop for good (exit reason `shutdown`): the supervisor will not restart it. */
  stop(): Promise<void> {
    return this.#host.stopActor(this.id);
  }

  toJSON(): { id: string } {
    return { id: this.id };
  }
}
