// The path of one sensitive call through the kernel: request shape → capability
// precheck (a denied actor learns nothing about what exists) → handler lookup →
// argument schema (before anyone is asked to consent) → consent and budgets →
// run. A persistent actor's call also goes through the effect journal: exactly
// once by idempotency key, its outcome journaled before the actor sees it.

import { ActorError, AgentOsError, ErrorCodes } from '../base/errors.js';
import { journaledCall } from './durable/calls.js';
import type { Durability } from './durable/manager.js';
import type { Governance, SyscallRequest } from './governance.js';
import { checkSyscallRequest, type SyscallTable } from './syscalls.js';
import type { TraceSpan } from './trace.js';

export interface SyscallDeps {
  governance: Governance;
  syscalls: SyscallTable;
  durability: Durability | undefined;
  /** Durability mode of a persistent caller's writes. */
  durabilityOf(actorId: string): 'sync' | 'async';
  kernel: unknown;
}

export async function runSyscall(deps: SyscallDeps, actorId: string, request: SyscallRequest, signal?: AbortSignal, key?: string, span?: TraceSpan): Promise<unknown> {
  const { governance } = deps;
  checkSyscallRequest(request);
  await governance.precheck(actorId, request);
  const entry = deps.syscalls.resolve(request.kind, request.name);
  const args = entry.validate ? validated(deps, actorId, request, entry.validate) : request.args;
  const admitted = (): { tenant: string } => {
    const a = governance.admittedActor(actorId);
    if (!a) throw new ActorError(ErrorCodes.actorStopped, `"${actorId}" stopped before its ${request.kind} call "${request.name}" ran`, { field: 'actor' });
    return a;
  };
  let tenant: string | undefined;
  const run = (call?: { key: string; attempt: number }): unknown =>
    deps.syscalls.invoke(request.kind, request.name, entry, args, {
      actor: actorId,
      tenant: tenant ?? admitted().tenant,
      kernel: deps.kernel,
      ...call,
      ...(request.onBehalfOf === undefined ? {} : { onBehalfOf: request.onBehalfOf }),
      ...(signal ? { signal } : {}),
      ...(span ? { span } : {}),
    });
  if (key !== undefined && deps.durability) {
    return journaledCall(deps.durability.journal, deps.durability.gate, {
      key,
      args,
      idempotent: entry.idempotent,
      compensate: entry.compensate,
      durability: deps.durabilityOf(actorId),
      check: async () => {
        await governance.check(actorId, request, signal);
      },
      ready: () => {
        tenant = admitted().tenant;
      },
      run,
      signal,
    });
  }
  await governance.check(actorId, request, signal);
  return run();
}

/** Arguments that fail the handler's schema are refused before anyone is asked, and the refusal is audited. */
function validated(deps: SyscallDeps, actorId: string, request: SyscallRequest, validate: (args: unknown) => unknown): unknown {
  try {
    return validate(request.args);
  } catch (err) {
    const a = deps.governance.admittedActor(actorId);
    deps.governance.record({
      kind: 'policy',
      decision: 'invalid-args',
      actor: actorId,
      tenant: a?.tenant ?? '-',
      subject: request.name,
      reason: err instanceof Error ? err.message.slice(0, 500) : String(err),
      data: { kind: request.kind, code: err instanceof AgentOsError ? err.code : 'ERROR' },
    });
    throw err;
  }
}
