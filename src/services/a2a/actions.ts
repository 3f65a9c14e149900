// What a machine uses to talk A2A: `a2aSend` (an action: the message goes
// through the node's A2A bus as this actor), `a2aCall` (invoked logic: a
// delegate's sensitive call for a conversation, with the intersection of
// scopes), and `delegatedInput` (the plain `syscall` input with `onBehalfOf`).

import { fromPromise } from 'xstate';
import { cellOfSystem, type ActorCell } from '../../actors/cell.js';
import type { ActionArgs } from '../../actors/reply.js';
import type { SyscallInput } from '../../actors/syscall.js';
import type { Kernel } from '../../kernel/kernel.js';
import { a2aBusOf, type A2ABus } from './bus.js';
import { A2ACodes, A2AError } from './errors.js';
import type { A2AMessage, A2AMessageInput } from './message.js';

type Computed<T> = T | ((args: ActionArgs) => T);

function busFor(system: unknown, helper: string): { cell: ActorCell; bus: A2ABus } {
  const cell = cellOfSystem(system);
  if (!cell) throw new A2AError('NOT_AN_AGENT', `${helper}: this machine is not running as an agentos actor`);
  const bus = a2aBusOf(cell.host as unknown as Kernel);
  if (!bus) throw new A2AError(A2ACodes.noBus, `${helper}: node has no A2A bus (createA2ABus(kernel))`);
  return { cell, bus };
}

/**
 * Send an A2A message as this actor through the node's bus (`from` and `type` are filled in).
 * A refused message is a dead letter and an `@agentos.a2a.refused` event; the sender does not crash.
 *   actions: a2aSend(({ event }) => a2aReply(event, 'inform', { total: 42 }))
 */
export function a2aSend(message: Computed<A2AMessageInput | A2AMessage>): (args: ActionArgs) => void {
  return (args) => {
    const { cell, bus } = busFor(args.system ?? args.self?.system, 'a2aSend');
    bus.sendFromCell(cell, typeof message === 'function' ? message(args) : message);
  };
}

export interface A2ACallInput {
  /** The delegated conversation this call is made for (the request's `conversationId`). */
  conversationId: string;
  request: SyscallInput;
}

/**
 * A delegate's sensitive call for a conversation: the kernel runs it `onBehalfOf` the caller, with the
 * intersection of both contracts (and of every principal up a delegation chain). Journaled like `syscall`
 * for persistent actors.
 *   invoke: { src: 'a2aCall', input: ({ event }) => ({ conversationId: event.conversationId, request: { kind: 'tool', name: 'crm.read', args } }) }
 */
export const a2aCall = fromPromise<unknown, A2ACallInput>(async ({ input, system, signal, self }) => {
  const { cell, bus } = busFor(system, 'a2aCall');
  const request = bus.delegated(cell.id, input?.conversationId, input?.request);
  return cell.host.call(cell, request, cell.callSignal(signal), self);
});

/**
 * The `syscall` input for work done for a delegating request: `onBehalfOf` the request's sender (as the
 * bus set it on delivery), so the kernel grants only what both may do. A request that does not delegate
 * leaves the input as it is.
 */
export function delegatedInput(message: Pick<A2AMessage, 'onBehalfOf'>, request: SyscallInput): SyscallInput {
  return message?.onBehalfOf === undefined ? request : { ...request, onBehalfOf: message.onBehalfOf };
}
