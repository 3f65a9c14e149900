// Raw inspection events → the inspector's events (protocol.ts), as pure
// functions called at flush time: `@agentos.*` system events by their type,
// XState's `@xstate.event` as a delivered message (payload filtered by the
// actor's contract and cut to a bound), coalesced `@xstate.snapshot`s (or a
// sampled state, poll.ts) as one `transition` per actor. `seq` is stamped by
// the hub afterwards. Redaction of secrets is the hub's (it holds the redactor).

import type { AnyActorRef, InspectionEvent } from 'xstate';
import { describeExit, type ExitReason } from '../../base/exit.js';
import type { SystemEvent } from '../../kernel/events.js';
import { boundedCopy, filteredCopy, type FieldTree } from './payload.js';
import type { InspectorEvent } from './protocol.js';

/** An inspector event before the hub gives it its `seq`. */
export type Draft = InspectorEvent extends infer E ? (E extends unknown ? Omit<E, 'seq'> : never) : never;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function reasonText(reason: unknown): string | undefined {
  if (typeof reason === 'string') return reason;
  if (typeof reason === 'object' && reason !== null && 'kind' in reason) return describeExit(reason as ExitReason);
  return undefined;
}

/** The actor a system event is about, when it names one. */
export function systemActor(ev: SystemEvent): string | undefined {
  return str(ev.id) ?? str(ev.actor) ?? str(ev.child) ?? str(ev.to);
}

const APPROVAL_DECIDED: Readonly<Record<string, 'approved' | 'rejected' | 'expired'>> = {
  '@agentos.consent.granted': 'approved',
  '@agentos.consent.rejected': 'rejected',
  '@agentos.consent.withdrawn': 'rejected',
  '@agentos.consent.expired': 'expired',
};

/** An `@agentos.*` event as the page shows it. `data` of a `system` event is a bounded JSON copy. */
export function mapSystemEvent(ev: SystemEvent, node: string, at: number, maxBytes: number): Draft {
  const type = ev.type;
  switch (type) {
    case '@agentos.actor.started':
    case '@agentos.actor.stopped': {
      const { type: _t, id, ...rest } = ev;
      const info = boundedCopy(rest, maxBytes).value as Record<string, unknown>;
      return { kind: type === '@agentos.actor.started' ? 'actor.started' : 'actor.stopped', node, at, actor: String(id), info };
    }
    case '@agentos.supervisor.restart':
    case '@agentos.supervisor.escalated': {
      const reason = reasonText(ev.reason);
      return {
        kind: type === '@agentos.supervisor.restart' ? 'restart' : 'escalated',
        node,
        at,
        actor: String(ev.child),
        supervisor: String(ev.supervisor),
        ...(reason === undefined ? {} : { reason: boundedCopy(reason, maxBytes).value as string }),
      };
    }
  }
  if (type === '@agentos.consent.requested' || type in APPROVAL_DECIDED) {
    const approval = ev.approval as { id?: unknown } | undefined;
    const id = str(approval?.id) ?? str(ev.id);
    if (id !== undefined) {
      const by = str(ev.by);
      const reason = str(ev.reason);
      return type === '@agentos.consent.requested'
        ? { kind: 'approval.requested', node, at, approval: id }
        : { kind: 'approval.decided', node, at, approval: id, decision: APPROVAL_DECIDED[type]!, ...(by ? { by } : {}), ...(reason ? { reason } : {}) };
    }
  }
  const { type: _t, ...rest } = ev;
  const actor = systemActor(ev);
  return { kind: 'system', node, at, type, data: boundedCopy(rest, maxBytes).value as Record<string, unknown>, ...(actor === undefined ? {} : { actor }) };
}

/**
 * A message delivered to an actor (or one of its invoked children), its payload filtered by the contract,
 * cut to `maxBytes` and, when given, scrubbed by `redact`. Built field by field: this runs once per message.
 */
export function mapMessageEvent(
  ev: Extract<InspectionEvent, { type: '@xstate.event' }>,
  node: string,
  at: number,
  actor: string,
  allowed: FieldTree,
  maxBytes: number,
  redact?: (value: unknown) => unknown,
): Draft {
  const { value, truncated } = filteredCopy(ev.event, allowed, maxBytes);
  const payload = (redact ? redact(value) : value) as { type: string };
  // The type is what the log is keyed by: never cut or redacted.
  payload.type = typeof ev.event?.type === 'string' ? ev.event.type.slice(0, 256) : 'unknown';
  const draft: Extract<Draft, { kind: 'event' }> = { kind: 'event', node, at, actor, event: payload };
  const source = (ev.sourceRef as AnyActorRef | undefined)?.id;
  if (source !== undefined) draft.source = source;
  const target = ev.actorRef as AnyActorRef;
  if (target._parent !== undefined) draft.child = target.id;
  if (truncated) draft.truncated = true;
  return draft;
}

/**
 * The latest snapshot of an actor's machine since the last flush, as one `transition`: exact (from inspection,
 * with the event that led there) or, without an event type, `sampled` (read at the flush; the cause unknown).
 */
export function mapTransition(actor: string, node: string, at: number, value: unknown, eventType: string | undefined, coalesced: number, maxBytes: number): Draft {
  return {
    kind: 'transition',
    node,
    at,
    actor,
    state: boundedCopy(value, maxBytes).value,
    ...(eventType === undefined ? { sampled: true as const } : { event: eventType }),
    ...(coalesced > 1 ? { coalesced } : {}),
  };
}
