// The table of sensitive operations the kernel mediates: each (kind, name) has
// one handler, registered by a service (tools, models, memory). Agents reach
// them only through `kernel.syscall`, which checks policy first.

import { AgentOsError } from '../base/errors.js';
import type { CallKind } from './policy/index.js';

export interface SyscallContext {
  actor: string;
  tenant: string;
  kernel: unknown;
}

export type SyscallHandler = (args: unknown, context: SyscallContext) => unknown;

export class SyscallError extends AgentOsError {}

export class SyscallTable {
  private readonly handlers = new Map<string, SyscallHandler>();

  register(kind: CallKind, name: string, handler: SyscallHandler): void {
    const key = `${kind}:${name}`;
    if (this.handlers.has(key)) throw new SyscallError('DUPLICATE_SYSCALL', `a ${kind} named "${name}" is already registered`, { field: 'name' });
    this.handlers.set(key, handler);
  }

  unregister(kind: CallKind, name: string): boolean {
    return this.handlers.delete(`${kind}:${name}`);
  }

  resolve(kind: CallKind, name: string): SyscallHandler {
    const handler = this.handlers.get(`${kind}:${name}`);
    if (!handler) throw new SyscallError('UNKNOWN_SYSCALL', `no ${kind} named "${name}" is registered on this node`, { field: 'name' });
    return handler;
  }

  list(): { kind: string; name: string }[] {
    return [...this.handlers.keys()].map((k) => ({ kind: k.slice(0, k.indexOf(':')), name: k.slice(k.indexOf(':') + 1) }));
  }
}
