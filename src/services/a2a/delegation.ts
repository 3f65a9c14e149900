// Delegation: a `request` that delegates makes its callee work with the
// intersection of the callee's contract and every principal's on the way. The
// kernel intersects with the immediate principal (the request's `onBehalfOf`);
// for a chain (A asks B, B asks C on A's behalf) the outer principals are checked
// here before the call, and a refusal is audited like the kernel's own.

import { PolicyDenied } from '../../base/errors.js';
import { modelGlobMatches } from '../../kernel/contract/index.js';
import type { SyscallRequest } from '../../kernel/governance.js';
import type { Kernel } from '../../kernel/kernel.js';
import { allows, PolicyCodes } from '../../kernel/policy/index.js';
import { A2ACodes, A2AError } from './errors.js';
import type { A2AMessage } from './message.js';
import { TERMINAL, type ConversationState } from './protocol.js';

/**
 * The principals a delegating message from `from` works for, outermost first: `[from]` when it
 * delegates its own authority, or the chain of an open conversation in which `from` is the delegate
 * of `onBehalfOf`. Every principal must be an admitted actor of the sender's tenant (and the receiver's).
 */
export function principalsOf(kernel: Kernel, msg: A2AMessage, open: Iterable<ConversationState>): string[] {
  const from = msg.from;
  const principal = msg.onBehalfOf ?? from;
  let chain: string[] | undefined;
  if (principal === from) chain = [from];
  else {
    for (const s of open) {
      const d = s.delegation;
      if (d && d.delegate === from && d.principals[d.principals.length - 1] === principal && !TERMINAL.has(s.status)) {
        chain = [...d.principals, from];
        break;
      }
    }
  }
  if (chain === undefined) {
    throw new A2AError(A2ACodes.delegationDenied, `"${from}" may not delegate on behalf of "${principal}": it delegates its own authority, or one it holds as the delegate of an open conversation`, { field: 'onBehalfOf' });
  }
  const tenant = kernel.governance.admittedActor(from)?.tenant;
  const target = kernel.governance.admittedActor(msg.to)?.tenant;
  for (const p of chain) {
    const t = kernel.governance.admittedActor(p)?.tenant;
    if (t === undefined) throw new A2AError(A2ACodes.unknownActor, `principal "${p}" is not an admitted actor of this node`, { field: 'onBehalfOf' });
    if (t !== tenant || (target !== undefined && t !== target)) {
      throw new A2AError(A2ACodes.delegationDenied, `"${from}" may not delegate the authority of "${p}" (tenant ${t}) to "${msg.to}" (tenant ${target ?? '-'})`, { field: 'onBehalfOf' });
    }
  }
  return chain;
}

/** Audit a delegated conversation once, when its request opens it. */
export function auditDelegation(kernel: Kernel, msg: A2AMessage, principals: readonly string[]): void {
  kernel.governance.record({
    kind: 'a2a',
    decision: 'delegated',
    actor: msg.from,
    tenant: kernel.governance.admittedActor(msg.from)?.tenant ?? '-',
    subject: msg.to,
    reason: `"${msg.to}" works on behalf of ${principals.map((p) => `"${p}"`).join(' via ')} in conversation "${msg.conversationId}"`,
    data: { conversationId: msg.conversationId, delegate: msg.to, principals: [...principals], ...(msg.protocol === undefined ? {} : { protocol: msg.protocol }) },
  });
}

/**
 * The syscall a delegate makes for a conversation: `onBehalfOf` the immediate principal (the kernel
 * intersects with it), after checking the outer principals of a chain. Throws A2A_NOT_DELEGATED when
 * `actor` is not the delegate of an open delegated conversation `state`.
 */
export function delegatedRequest(kernel: Kernel, actor: string, state: ConversationState | undefined, conversationId: string, request: SyscallRequest): SyscallRequest {
  const d = state?.delegation;
  if (!state || !d || d.delegate !== actor || TERMINAL.has(state.status)) {
    const why = !state ? 'is unknown' : !d ? 'does not delegate' : d.delegate !== actor ? `delegates to "${d.delegate}"` : `is ${state.status}`;
    throw new A2AError(A2ACodes.notDelegated, `"${actor}" cannot call on behalf of conversation "${conversationId}": it ${why}`, { field: 'conversationId' });
  }
  const immediate = d.principals[d.principals.length - 1]!;
  for (const outer of d.principals.slice(0, -1)) checkOuter(kernel, actor, outer, request, conversationId);
  return { ...request, onBehalfOf: immediate, reason: request.reason ?? `A2A conversation ${conversationId} on behalf of ${d.principals.join(' via ')}` };
}

/** An outer principal of a chain must hold the capability (or allow the model) too; a denial is audited. */
function checkOuter(kernel: Kernel, actor: string, outer: string, request: SyscallRequest, conversationId: string): void {
  const g = kernel.governance;
  let code: string | undefined;
  let message = '';
  if (request.kind === 'model') {
    const allow = g.admittedActor(outer)?.contract.modelPolicy?.allow ?? [];
    if (!allow.some((glob) => modelGlobMatches(glob, request.name))) {
      code = 'MODEL_DENIED';
      message = `Actor "${actor}" acting for "${outer}" (conversation "${conversationId}") may not use model "${request.name}": not in "${outer}"'s modelPolicy.allow`;
    }
  } else if (!allows(g.policy.effectiveCapabilities(actor, outer), request.name)) {
    code = PolicyCodes.capabilityDenied;
    message = `Actor "${actor}" acting for "${outer}" (conversation "${conversationId}") lacks capability "${request.name}" (${request.kind} call)`;
  }
  if (code === undefined) return;
  g.record({
    kind: 'policy',
    decision: 'denied',
    actor,
    tenant: g.admittedActor(actor)?.tenant ?? '-',
    subject: request.name,
    reason: message,
    data: { kind: request.kind, onBehalfOf: outer, conversationId, code },
  });
  throw new PolicyDenied(code, message, { field: request.kind === 'model' ? 'modelPolicy.allow' : 'name' });
}
