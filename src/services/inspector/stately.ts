// The Stately inspection protocol, so `@statelyai/inspect`'s WebSocket receiver
// (`createWebSocketReceiver({ server })`) can attach at STATELY_WS_PATH: one
// JSON text frame per event, shaped as the package's own inspector sends them
// (`@xstate.actor` with the machine config as a JSON string, `@xstate.event`,
// `@xstate.snapshot`; each with `sessionId`, `rootId`, `_version`, `createdAt`,
// `id: null`). Only this node's actors: while a receiver is attached the hub
// watches every actor (XState inspection on for all of them). Payloads and
// contexts pass the actor's contract filter and the size bound, like everything
// else the inspector shows, and payloads the node's secret redactor (what the
// hub gets from a watch is unscrubbed).

import type { AnyActorRef, AnyEventObject, Snapshot } from 'xstate';
import type { InspectorHub, RawBatch } from './hub.js';
import { boundedCopy, filterFields, REDACTED, type FieldTree } from './payload.js';

/** The `@statelyai/inspect` version whose message shapes these frames follow (its receivers check `_version` is a string). */
export const STATELY_PROTOCOL_VERSION = '0.7.2';
/** Largest machine definition sent (as JSON); a larger one is sent as `{ id }` only. */
const MAX_DEFINITION = 256 * 1024;

const definitions = new WeakMap<object, string>();

function definitionOf(ref: AnyActorRef): string {
  const logic = (ref as { logic?: { config?: unknown } }).logic;
  const config = logic?.config;
  if (typeof config !== 'object' || config === null) return JSON.stringify({ id: ref.id });
  let text = definitions.get(config);
  if (text === undefined) {
    try {
      // Functions (guards, actions given inline) show as their names, as Stately's own inspector does.
      text = JSON.stringify(config, (_k, v: unknown) => (typeof v === 'function' ? { type: (v as { name?: string }).name || 'anonymous' } : v));
    } catch {
      text = undefined;
    }
    if (text === undefined || text.length > MAX_DEFINITION) text = JSON.stringify({ id: (config as { id?: unknown }).id ?? ref.id });
    definitions.set(config, text);
  }
  return text;
}

function rootOf(ref: AnyActorRef): AnyActorRef {
  let r = ref;
  while (r._parent) r = r._parent;
  return r;
}

export class StatelyFrames {
  constructor(private readonly hub: InspectorHub) {}

  /** `@xstate.actor` for every running actor of the node (read from its cells now): what a receiver that attaches now is told first. */
  announce(): string[] {
    return [...this.hub.liveActors().values()].map((ref) => this.actor(ref));
  }

  /** The frames of one flush, in order: actors that started, events delivered, the latest snapshots. */
  frames(raw: RawBatch): string[] {
    const out: string[] = [];
    for (const ref of raw.actors) out.push(this.actor(ref));
    for (const e of raw.events) {
      const ref = e.actorRef as AnyActorRef;
      out.push(
        JSON.stringify({
          type: '@xstate.event',
          event: this.payload(ref, e.event),
          sourceId: (e.sourceRef as AnyActorRef | undefined)?.sessionId,
          sessionId: ref.sessionId,
          rootId: e.rootId,
          ...this.stamp(),
        }),
      );
    }
    for (const s of raw.snapshots) {
      out.push(
        JSON.stringify({
          type: '@xstate.snapshot',
          event: this.payload(s.ref, s.event),
          snapshot: this.snapshot(s.ref, s.snapshot),
          sessionId: s.ref.sessionId,
          rootId: rootOf(s.ref).sessionId,
          ...this.stamp(),
        }),
      );
    }
    return out;
  }

  private actor(ref: AnyActorRef): string {
    const root = rootOf(ref);
    return JSON.stringify({
      type: '@xstate.actor',
      name: ref.id,
      sessionId: ref.sessionId,
      rootId: root.sessionId,
      parentId: ref._parent?.sessionId,
      definition: definitionOf(ref),
      snapshot: this.snapshot(ref, ref.getSnapshot() as Snapshot<unknown>),
      ...this.stamp(),
    });
  }

  private stamp(): { _version: string; createdAt: string; id: null } {
    return { _version: STATELY_PROTOCOL_VERSION, createdAt: String(Math.round(this.hub.clock.now())), id: null };
  }

  private fields(ref: AnyActorRef): FieldTree {
    const actor = this.hub.actorIdOf(ref, rootOf(ref).sessionId);
    return actor === undefined ? new Map() : this.hub.fieldsOf(actor);
  }

  private payload(ref: AnyActorRef, event: AnyEventObject | undefined): unknown {
    if (!event) return { type: '' };
    let value = boundedCopy(filterFields(event, this.fields(ref)), this.hub.payloadBytes).value as Record<string, unknown>;
    const redact = this.hub.redact;
    if (redact) {
      try {
        const clean = redact(value);
        value = typeof clean === 'object' && clean !== null ? (clean as Record<string, unknown>) : {};
      } catch {
        value = {}; // what the redactor cannot handle is not shown
      }
    }
    value.type = typeof event.type === 'string' ? event.type : 'unknown';
    return value;
  }

  /** status and state value as they are; the context only as the contract lets it show; a child's output not at all. */
  private snapshot(ref: AnyActorRef, snapshot: Snapshot<unknown> | undefined): Record<string, unknown> {
    const s = (snapshot ?? { status: 'active' }) as { status?: unknown; value?: unknown; context?: unknown };
    const out: Record<string, unknown> = { status: s.status ?? 'active' };
    if (s.value !== undefined) out.value = boundedCopy(s.value, this.hub.payloadBytes).value;
    if (s.context !== undefined) {
      const ctx = typeof s.context === 'object' && s.context !== null ? filterFields(s.context, this.fields(ref), false) : REDACTED;
      out.context = boundedCopy(ctx, this.hub.payloadBytes).value;
    }
    return out;
  }
}
