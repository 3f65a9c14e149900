// The inspector's wire protocol: JSON text frames over one WebSocket
// (`/ws` on the inspector's HTTP server). On connect the server sends one
// `snapshot` of everything it shows, then `delta` frames (batched: one frame
// per flush tick, never one per event). A browser that falls behind is never
// waited for: its queue is dropped and it gets a fresh `snapshot` (`resync`
// says why). Requests from the page carry an `id` and get one `reply`.
//
// Everything is plain data and carries the node it came from, so one page can
// show a whole cluster: the node serving the page merges what every member
// streams to it. Payloads are already redacted (node secrets, and the actor's
// contract `log_fields`) before they get here.

import type { PendingApproval } from '../../kernel/policy/approvals.js';
import type { PsRow } from '../../kernel/ps-rows.js';
import type { TreeNode } from '../../supervisors/types.js';

export const INSPECTOR_PROTOCOL_VERSION = 1;
export const INSPECTOR_WS_PATH = '/ws';
/** Where a Stately inspector (`@statelyai/inspect` receiver) attaches: plain `@xstate.*` events, nothing else. */
export const STATELY_WS_PATH = '/stately';

/** One actor as the table shows it: the `ps` row, plus its rate over the last stats window. */
export interface ActorRow extends PsRow {
  /** Messages delivered per second over the last stats window (null before the second window). */
  rate: number | null;
}

export interface NodeView {
  node: string;
  /** The node's clock (ms) when this view was taken. */
  now: number;
  tree: TreeNode;
  /** The kernel's own service actors (`agentos.system`). */
  system?: TreeNode;
  actors: ActorRow[];
  approvals: PendingApproval[];
  audit: { head: string | null; length: number; verified: boolean | null };
  /** Cluster members as this node sees them (empty when it is not in a cluster). */
  members: { nodeId: string; address: string; status: string; incarnation: number }[];
}

/** One thing that happened, as the page draws it. `seq` orders events of one node. */
export type InspectorEvent =
  | { kind: 'actor.started' | 'actor.stopped'; node: string; seq: number; at: number; actor: string; info?: Record<string, unknown> }
  /**
   * The actor's machine moved (or stayed, on a context-only change). Per flush the snapshots of one actor
   * coalesce into one transition carrying the latest state. For a watched actor (see `watch`) it is exact:
   * `event` is the event that led there and `coalesced` (when > 1) counts the transitions it stands for.
   * For any other actor it is `sampled`: the hub read the actor's state at the flush and found it changed;
   * the event that caused it is not known (no `event`), and `coalesced` counts the messages delivered since
   * the last sample.
   */
  | { kind: 'transition'; node: string; seq: number; at: number; actor: string; state: unknown; event?: string; sampled?: true; coalesced?: number }
  /**
   * A message delivered to a watched actor (payload redacted, cut to a bounded size: `truncated` when cut). `child`: the
   * id of the actor's invoked child it went to (child invocations belong to their agent); `source`: the sender's
   * XState id, when another XState actor sent it.
   */
  | { kind: 'event'; node: string; seq: number; at: number; actor: string; source?: string; child?: string; truncated?: true; event: { type: string; [key: string]: unknown } }
  | { kind: 'restart' | 'escalated'; node: string; seq: number; at: number; actor: string; supervisor: string; reason?: string; restarts?: number }
  | { kind: 'approval.requested' | 'approval.decided'; node: string; seq: number; at: number; approval: string; decision?: 'approved' | 'rejected' | 'expired'; by?: string; reason?: string }
  /** Any other `@agentos.*` system event, passed through as the kernel emitted it. */
  | { kind: 'system'; node: string; seq: number; at: number; type: string; data: Record<string, unknown>; /** The actor it names (`id`, `actor`, `child` or `to`), if any. */ actor?: string };

/** Server → page. */
export type ServerFrame =
  | { t: 'hello'; version: typeof INSPECTOR_PROTOCOL_VERSION; served: string }
  | { t: 'snapshot'; nodes: NodeView[]; events: InspectorEvent[] }
  | { t: 'delta'; events: InspectorEvent[]; nodes?: NodeView[] }
  | { t: 'resync'; reason: 'slow-consumer' | 'buffer-overrun' | 'node-joined' | 'node-left' }
  | { t: 'reply'; id: number; ok: true; result: unknown }
  | { t: 'reply'; id: number; ok: false; error: { code: string; message: string; field?: string } };

/** Page → server. Every request gets exactly one `reply` with its `id`. */
export type ClientRequest =
  /**
   * The XState machine definition of an actor, to draw its statechart. Result:
   * `{ actor, node, state, definition }` where `definition` is XState v5's `machine.toJSON()`
   * (a `StateMachineDefinition`: `id`, `key`, `type`, `initial`, `states`, `on` with transition
   * objects whose `target` are state ids like `#machine.a.b`), sent through JSON (functions
   * dropped), and `state` the actor's current state value; `definition: null` for non-machine logic.
   */
  | { id: number; op: 'machine'; node: string; actor: string }
  /**
   * Show this actor's messages (and exact transitions) from now on: XState inspection is turned on for it
   * alone. A lease: it ends `leaseMs` after the last `watch` (send it again to renew; the result says
   * `{ node, actor, leaseMs, expiresAt }` on that node's clock) or at `unwatch`. `actor: '*'` watches every
   * actor, present and future (trace everything: it costs the node what XState inspection costs). At most
   * `maxWatched` actors at once (INSPECTOR_WATCH_LIMIT); an actor the node does not run: INSPECTOR_UNKNOWN_ACTOR.
   */
  | { id: number; op: 'watch' | 'unwatch'; node: string; actor: string }
  /** Recent events of one actor from the replay buffer. */
  | { id: number; op: 'events'; node: string; actor: string; limit?: number }
  | { id: number; op: 'approve' | 'reject'; node: string; approval: string; by: string; reason?: string }
  /** A turn's lineage (prompt → sources → tool calls → output) by trace id or `<actor>#<turn>`. */
  | { id: number; op: 'trace'; node: string; ref: string }
  | { id: number; op: 'audit.verify'; node: string };
