// The table of sensitive operations the kernel mediates: each (kind, name) has
// one handler, registered by a service (tools, models, memory), with an
// optional argument validator the kernel runs before asking for consent.
// Agents reach them only through `kernel.syscall`, which checks policy first.

import { AgentOsError, ErrorCodes, ValidationError } from '../base/errors.js';
import type { CallKind } from './policy/index.js';
import type { TraceSpan } from './trace.js';

export interface SyscallContext {
  actor: string;
  tenant: string;
  kernel: unknown;
  /** Idempotency key of the call, for a persistent caller (stable across crashes and replays). */
  key?: string;
  /** 1 on first dispatch; more when an idempotent call in doubt is retried. */
  attempt?: number;
  /** The principal of a delegated call (the kernel already checked the intersection of both contracts). */
  onBehalfOf?: string;
  /** Aborts when the caller stops or gives up (barge-in): long calls should stop. */
  signal?: AbortSignal;
  /** The span of this syscall: a service hangs its own spans under it (`ctx.span?.child('agentos.tool', …)`). */
  span?: TraceSpan;
}

export type SyscallHandler = (args: unknown, context: SyscallContext) => unknown;

export interface SyscallEntry {
  handler: SyscallHandler;
  /** Returns the arguments to run with, or throws a typed error naming the bad field. */
  validate?: (args: unknown) => unknown;
  /** For persistent callers: whether a call whose outcome was lost may run again (`true`, or `'key'`: the handler honours the idempotency key). */
  idempotent?: boolean | 'key';
  /** For persistent callers: undoes a non-idempotent call left in doubt by a crash. */
  compensate?: (call: { key: string; actor: string; attempt: number }, args: unknown) => unknown;
}

export class SyscallError extends AgentOsError {}

/**
 * Runs the handlers of one kind of syscall as the work of a service actor: `work`
 * is the handler call, given the signal to run under (the caller's, joined with
 * the service's own lifetime).
 */
export type ServiceInvoker = (work: (signal: AbortSignal | undefined) => unknown, context: SyscallContext, name: string) => Promise<unknown>;

const KINDS: readonly CallKind[] = ['tool', 'model', 'memory'];

/** The shape of a syscall request, checked at the edge. */
export function checkSyscallRequest(request: unknown): void {
  const r = request as { kind?: unknown; name?: unknown; tokens?: unknown; onBehalfOf?: unknown } | null;
  const bad = (field: string, why: string): never => {
    throw new ValidationError(ErrorCodes.invalidOptions, `syscall: ${field} ${why}`, { field });
  };
  if (typeof r !== 'object' || r === null) bad('request', 'must be an object { kind, name, args? }');
  if (!KINDS.includes(r!.kind as CallKind)) bad('kind', `must be one of ${KINDS.join(', ')} (got ${JSON.stringify(r!.kind)})`);
  if (typeof r!.name !== 'string' || r!.name.length === 0 || r!.name.length > 256) bad('name', 'must be a non-empty string');
  if (r!.tokens !== undefined && !(Number.isInteger(r!.tokens) && (r!.tokens as number) >= 0)) bad('tokens', 'must be a non-negative integer');
  if (r!.onBehalfOf !== undefined && typeof r!.onBehalfOf !== 'string') bad('onBehalfOf', 'must be an actor id');
}

export class SyscallTable {
  private readonly entries = new Map<string, SyscallEntry>();
  private readonly servers = new Map<CallKind, ServiceInvoker>();

  /** Handlers of `kind` run inside a service actor from now on. */
  serve(kind: CallKind, invoker: ServiceInvoker): void {
    this.servers.set(kind, invoker);
  }

  /** Run an entry's handler: through its kind's service actor when one serves it, else directly. */
  invoke(kind: CallKind, name: string, entry: SyscallEntry, args: unknown, context: SyscallContext): unknown {
    const server = this.servers.get(kind);
    if (!server) return entry.handler(args, context);
    return server((signal) => entry.handler(args, signal === context.signal ? context : { ...context, ...(signal ? { signal } : {}) }), context, name);
  }

  register(kind: CallKind, name: string, handler: SyscallHandler | SyscallEntry): void {
    const key = `${kind}:${name}`;
    if (this.entries.has(key)) throw new SyscallError('DUPLICATE_SYSCALL', `a ${kind} named "${name}" is already registered`, { field: 'name' });
    this.entries.set(key, typeof handler === 'function' ? { handler } : handler);
  }

  unregister(kind: CallKind, name: string): boolean {
    return this.entries.delete(`${kind}:${name}`);
  }

  resolve(kind: CallKind, name: string): SyscallEntry {
    const entry = this.entries.get(`${kind}:${name}`);
    if (!entry) throw new SyscallError('UNKNOWN_SYSCALL', `no ${kind} named "${name}" is registered on this node`, { field: 'name' });
    return entry;
  }

  list(): { kind: string; name: string }[] {
    return [...this.entries.keys()].map((k) => ({ kind: k.slice(0, k.indexOf(':')), name: k.slice(k.indexOf(':') + 1) }));
  }
}
