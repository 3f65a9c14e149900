// The hub's options and what it hands its subscribers (hub.ts).

import type { AnyActorRef, AnyEventObject, InspectionEvent, Snapshot } from 'xstate';
import type { Clock } from '../../base/clock.js';
import type { InspectorEvent, NodeView, ServerFrame } from './protocol.js';
import { InspectorCodes, InspectorError } from './source.js';

export interface InspectorHubOptions {
  /** This node's name (the `node` of every local event). */
  node: string;
  clock: Clock;
  /** How often what came in is turned into events and sent (default 50 ms). */
  flushMs?: number;
  /** How often a NodeView is taken while someone listens (default 1000 ms). */
  statsMs?: number;
  /** Events kept for replay (the snapshot a new page gets, the `events` op). Default 10,000. */
  bufferEvents?: number;
  /**
   * Raw events (messages, system events) parked between two flushes: what one flush maps at most, so the
   * hub's work is bounded however busy the node (1,024 per 50 ms: 20k events/s). Beyond it the oldest are
   * dropped, and a `@agentos.inspector.dropped` system event says how many. Transitions are not counted
   * here: they coalesce per actor; sampled ones are bounded by the same number per flush (the rest counted
   * in one such event, their states still in the views). Default 1,024.
   */
  inboxEvents?: number;
  /** Bound on one payload (message, state, system event data) as JSON. Default 2,048 bytes. */
  payloadBytes?: number;
  /** How long a `watch` lasts unless renewed (hub clock). Default 30,000 ms. */
  watchLeaseMs?: number;
  /** Actors watched at once. Default 64. */
  maxWatched?: number;
  /** The node's secret redactor (else the source's): scrubs system events and payloads at flush time. */
  redact?: (value: unknown) => unknown;
}

export type ResyncReason = Extract<ServerFrame, { t: 'resync' }>['reason'];

/** XState's own events of one flush, for a Stately receiver (only the local node's). */
export interface RawBatch {
  actors: AnyActorRef[];
  events: Extract<InspectionEvent, { type: '@xstate.event' }>[];
  snapshots: { ref: AnyActorRef; snapshot: Snapshot<unknown>; event: AnyEventObject }[];
}

export interface HubSubscriber {
  /** New events of a flush (local and merged remote ones), and the views taken or received since the last. */
  batch?(events: InspectorEvent[], nodes: NodeView[] | undefined): void;
  /** What a page shows changed as a whole (a node joined or left): send it a fresh snapshot. */
  resync?(reason: ResyncReason): void;
  raw?(raw: RawBatch): void;
}

export function positive(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InspectorError(InspectorCodes.invalidOptions, `inspector ${field} must be a positive integer, got ${String(value)}`, { field });
  }
  return value;
}
