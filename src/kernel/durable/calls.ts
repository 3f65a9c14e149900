// A persistent actor's sensitive call through the effect journal: a call already
// journaled replays its outcome (no consent asked again, no budget charged again,
// nothing run); a new one is checked by policy, journaled as dispatched, run, and
// its outcome journaled before the actor sees it. A call found in doubt (the
// process died between dispatch and outcome) is retried if idempotent, compensated
// if the tool can, and otherwise waits for a person: `node.effects.resolve`.

import { ActorError, ErrorCodes } from '../../base/errors.js';
import { EffectInDoubt, type Durability, type EffectJournal, type Idempotence, type InDoubtCall } from '../effects/index.js';
import { ResultOrder } from './order.js';

export interface JournaledCall {
  key: string;
  args: unknown;
  idempotent: Idempotence | undefined;
  compensate: ((call: InDoubtCall, args: unknown) => unknown) | undefined;
  durability: Durability;
  /** Policy: consent and budgets (only for a call that will run). */
  check(): Promise<void>;
  /** Throws if the caller is gone: checked before dispatch, so a stop is never journaled as the call's outcome. */
  ready(): void;
  run(call: { key: string; attempt: number }): unknown;
  signal: AbortSignal | undefined;
}

const never = (): never => {
  throw new Error('unreachable: a settled effect is replayed, never run');
};

export async function journaledCall(journal: EffectJournal, gate: InDoubtGate, call: JournaledCall): Promise<unknown> {
  try {
    return await outcomeOf(journal, gate, call);
  } finally {
    // While the actor runs logged turns again, its result waits for its place (order.ts).
    await gate.order.pass(call.key);
  }
}

async function outcomeOf(journal: EffectJournal, gate: InDoubtGate, call: JournaledCall): Promise<unknown> {
  const state = journal.lookup(call.key).state;
  if (state === 'completed' || state === 'failed' || state === 'compensated' || state === 'compacted') {
    return journal.run(call.key, { args: call.args }, never);
  }
  if (state === 'new') await call.check();
  call.ready();
  try {
    return await journal.run(
      call.key,
      {
        args: call.args,
        durability: call.durability,
        ...(call.idempotent === undefined ? {} : { idempotent: call.idempotent }),
        ...(call.compensate === undefined ? {} : { compensate: call.compensate }),
      },
      (ctx) => call.run(ctx),
    );
  } catch (err) {
    if (!(err instanceof EffectInDoubt)) throw err;
    await gate.wait(err.call, call.signal);
    return journal.run(call.key, { args: call.args }, never);
  }
}

/** Calls in doubt waiting for a person; `resolved` wakes the caller once the journal holds an outcome. */
export class InDoubtGate {
  private readonly waiting = new Map<string, { call: InDoubtCall; wake: () => void }>();
  /** Where results of an actor running its logged turns again wait for their turn. */
  readonly order = new ResultOrder();

  constructor(private readonly announce: (call: InDoubtCall) => void) {}

  wait(call: InDoubtCall, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(stopped(call));
      const onAbort = (): void => {
        this.waiting.delete(call.key);
        reject(stopped(call));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.set(call.key, {
        call,
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          this.waiting.delete(call.key);
          resolve();
        },
      });
      this.announce(call);
    });
  }

  /** The in-doubt calls an actor is waiting on right now. */
  list(): InDoubtCall[] {
    return [...this.waiting.values()].map((w) => w.call);
  }

  resolved(key: string): void {
    this.waiting.get(key)?.wake();
  }
}

function stopped(call: InDoubtCall): ActorError {
  return new ActorError(ErrorCodes.actorStopped, `"${call.actor}" stopped while its call ${call.key} was in doubt`, { field: 'actor' });
}
