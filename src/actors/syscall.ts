// Sensitive calls as XState child logic: `invoke: { src: syscall, input }` asks
// the kernel (which checks the contract, consent and budgets, and audits) and
// resolves with the result, so the statechart shows where the agent waits.

import { fromPromise } from 'xstate';
import { AgentOsError } from '../base/errors.js';
import { cellOfSystem } from './cell.js';

export interface SyscallInput {
  kind: 'tool' | 'model' | 'memory';
  name: string;
  args?: unknown;
  /** Tokens to charge against the actor's budgets. */
  tokens?: number;
  /** Act for another actor: the call gets the intersection of both capability sets. */
  onBehalfOf?: string;
  reason?: string;
}

/** Invoke a tool, model or memory operation through the kernel. */
export const syscall = fromPromise<unknown, SyscallInput>(async ({ input, system, signal, self }) => {
  const cell = cellOfSystem(system);
  if (!cell) throw new AgentOsError('NOT_AN_AGENT', 'syscall: this machine is not running as an agentos actor');
  return cell.host.call(cell, input, cell.callSignal(signal), self);
});

/** Shorthand: invoke the tool `name` with the given input. */
export const callTool = (name: string) =>
  fromPromise<unknown, unknown>(async ({ input, system, signal, self }) => {
    const cell = cellOfSystem(system);
    if (!cell) throw new AgentOsError('NOT_AN_AGENT', 'callTool: this machine is not running as an agentos actor');
    return cell.host.call(cell, { kind: 'tool', name, args: input }, cell.callSignal(signal), self);
  });
