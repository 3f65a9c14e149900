// Sensitive calls as XState child logic: `invoke: { src: syscall, input }` asks
// the kernel (which checks the contract, consent and budgets, and audits) and
// resolves with the result, so the statechart shows where the agent waits.

import { fromPromise } from 'xstate';
import { AgentOsError } from '../base/errors.js';
import { cellOfSystem } from './cell.js';
import type { CallRequest } from './cell-persist.js';

/** What an agent asks the kernel for: a tool, model or memory operation by name. */
export type SyscallInput = CallRequest;

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
