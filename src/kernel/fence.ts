// Fenced actors: a node that lost quorum stops its persistent agents' side
// effects, not only their mailboxes — a turn in progress (or a state that calls
// on its own, working through a queue in its context) must not make a new
// sensitive call while another node may be taking the agent over. A fenced
// actor's new calls wait at the gate, before anything is journaled: the fence
// lifted (quorum back, the agent still ours), they go on; the actor stopped
// (superseded by the copy that took over), they fail and never ran.

import { ActorError, ErrorCodes } from '../base/errors.js';

interface Gate {
  promise: Promise<void>;
  open(): void;
  fail(err: Error): void;
}

export class Fences {
  private readonly gates = new Map<string, Gate>();

  fence(id: string): void {
    if (this.gates.has(id)) return;
    let open!: () => void;
    let fail!: (err: Error) => void;
    const promise = new Promise<void>((resolve, reject) => {
      open = resolve;
      fail = reject;
    });
    promise.catch(() => undefined); // nobody may be waiting
    this.gates.set(id, { promise, open, fail });
  }

  /** The calls waiting go on. */
  lift(id: string): void {
    this.gates.get(id)?.open();
    this.gates.delete(id);
  }

  /** The actor is gone: the calls waiting fail (they never ran). */
  drop(id: string): void {
    const gate = this.gates.get(id);
    if (!gate) return;
    this.gates.delete(id);
    gate.fail(new ActorError(ErrorCodes.actorStopped, `"${id}" was stopped while fenced (its node had lost quorum); the call never ran`, { field: 'actorId' }));
  }

  /** The gate a call of `id` must pass, or undefined when it is not fenced (the common case: no promise). */
  gate(id: string): Promise<void> | undefined {
    return this.gates.get(id)?.promise;
  }

  isFenced(id: string): boolean {
    return this.gates.has(id);
  }
}
