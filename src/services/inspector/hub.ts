// The inspector's fan-in. `listener` is the node's `inspect` option: it runs on
// every XState transition of every actor, so it only parks the event — a
// message or system event goes into a bounded ring, a snapshot overwrites its
// actor's slot (per actor only the latest state waits). A flush tick on the
// node's clock turns what came in into inspector events with this node's `seq`,
// keeps the newest `bufferEvents` of them for replay, and hands them, with a
// fresh NodeView once per stats window, to subscribers (the page server, the
// link that streams to another member). Other members' batches merge in through
// `ingestRemote`, so one hub can show a whole cluster.

import type { AnyActorRef, AnyEventObject, InspectionEvent, Snapshot } from 'xstate';
import { cellOfSystem } from '../../actors/cell.js';
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { SystemEvent } from '../../kernel/events.js';
import { mapMessageEvent, mapSystemEvent, mapTransition, type Draft } from './mapping.js';
import { DEFAULT_PAYLOAD_BYTES, fieldTree, type FieldTree } from './payload.js';
import type { ClientRequest, InspectorEvent, NodeView, ServerFrame } from './protocol.js';
import { MAX_EVENTS_LIMIT } from './requests.js';
import { Ring } from './ring.js';
import { InspectorCodes, InspectorError, type InspectorSource } from './source.js';
import { ApprovalWatch, ViewTaker } from './views.js';

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
   * here: they coalesce per actor. Default 1,024.
   */
  inboxEvents?: number;
  /** Bound on one payload (message, state, system event data) as JSON. Default 2,048 bytes. */
  payloadBytes?: number;
}

type ResyncReason = Extract<ServerFrame, { t: 'resync' }>['reason'];

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

interface PendingSnapshot {
  ref: AnyActorRef;
  rootId: string;
  snapshot: Snapshot<unknown>;
  event: AnyEventObject;
  count: number;
  at: number;
}

export class InspectorHub {
  readonly node: string;
  readonly clock: Clock;
  readonly flushMs: number;
  readonly statsMs: number;
  readonly payloadBytes: number;
  private readonly inbox: Ring<SystemEvent | InspectionEvent>;
  private readonly replay: Ring<InspectorEvent>;
  private pending = new Map<AnyActorRef, PendingSnapshot>();
  private seq = 0;
  private source: InspectorSource | undefined;
  private viewTaker: ViewTaker | undefined;
  private approvals: ApprovalWatch | undefined;
  private readonly views = new Map<string, NodeView>();
  private changedViews: NodeView[] = [];
  private remoteEvents: InspectorEvent[] = [];
  private lastViewAt = -Infinity;
  private readonly subscribers = new Set<HubSubscriber>();
  private rawSubscribers = 0;
  private readonly filters = new Map<string, FieldTree>();
  /** Root XState session → actor id (when the cell cannot be found from the actor's system). */
  private readonly roots = new Map<string, string>();
  /** The running root XState actor of each local actor (for a Stately receiver that attaches late). */
  private readonly live = new Map<string, AnyActorRef>();
  private timer: TimerHandle | undefined;
  private running = false;
  private forwarder: ((request: ClientRequest) => Promise<unknown>) | undefined;

  constructor(options: InspectorHubOptions) {
    this.node = options.node;
    this.clock = options.clock;
    this.flushMs = positive(options.flushMs ?? 50, 'flushMs');
    this.statsMs = positive(options.statsMs ?? 1000, 'statsMs');
    this.payloadBytes = positive(options.payloadBytes ?? DEFAULT_PAYLOAD_BYTES, 'payloadBytes');
    this.replay = new Ring(positive(options.bufferEvents ?? 10_000, 'bufferEvents'));
    this.inbox = new Ring(positive(options.inboxEvents ?? 1024, 'inboxEvents'));
  }

  /**
   * The hot path: the node's `inspect` listener. Parks the event and returns;
   * XState's microsteps, actions and transitions are not kept (the snapshot
   * after them says where the machine went).
   */
  readonly listener = (event: SystemEvent | InspectionEvent): void => {
    const type = event.type;
    if (type === '@xstate.snapshot') {
      const e = event as Extract<InspectionEvent, { type: '@xstate.snapshot' }>;
      const ref = e.actorRef as AnyActorRef;
      const p = this.pending.get(ref);
      if (p === undefined) this.pending.set(ref, { ref, rootId: e.rootId, snapshot: e.snapshot, event: e.event, count: 1, at: this.clock.now() });
      else {
        p.snapshot = e.snapshot;
        p.event = e.event;
        p.count++;
        p.at = this.clock.now();
      }
    } else if (type === '@xstate.event' || type === '@xstate.actor' || type.startsWith('@agentos.')) {
      this.inbox.push(event, this.clock.now());
    }
  };

  /** The node the hub reads views from and runs requests on (once the node exists). */
  attach(source: InspectorSource): void {
    this.source = source;
    this.viewTaker = new ViewTaker(source);
    this.approvals = new ApprovalWatch(source);
    this.filters.clear();
  }

  /** Start the flush tick (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  subscribe(subscriber: HubSubscriber): () => void {
    this.subscribers.add(subscriber);
    if (subscriber.raw) this.rawSubscribers++;
    return () => {
      if (this.subscribers.delete(subscriber) && subscriber.raw) this.rawSubscribers--;
    };
  }

  /** Requests for another node's actors go here (the cluster link sets it). */
  setForwarder(forward: ((request: ClientRequest) => Promise<unknown>) | undefined): void {
    this.forwarder = forward;
  }

  /** Everything a page shows, as of now: every node's latest view and the replay buffer. */
  snapshot(): { nodes: NodeView[]; events: InspectorEvent[] } {
    this.ensureView();
    return { nodes: [...this.views.values()], events: this.replay.toArray() };
  }

  /** The local node's view (taken now if the last one is older than a stats window). */
  localView(): NodeView | undefined {
    this.ensureView();
    return this.views.get(this.node);
  }

  /** Events of one actor from the replay buffer, oldest first. */
  eventsOf(node: string, actor: string, limit = 100): InspectorEvent[] {
    const n = Math.min(Math.max(1, limit), MAX_EVENTS_LIMIT);
    return this.replay.newest(n, (e) => e.node === node && 'actor' in e && e.actor === actor).reverse();
  }

  /** Local actors' running root XState actors (id → ref). */
  liveActors(): ReadonlyMap<string, AnyActorRef> {
    return this.live;
  }

  /** The contract filter of an actor's payloads (only `type` without a source or contract). */
  fieldsOf(actor: string): FieldTree {
    let tree = this.filters.get(actor);
    if (tree === undefined) {
      let fields: readonly string[] | undefined;
      try {
        fields = this.source?.logFields(actor);
      } catch {
        fields = undefined;
      }
      tree = fieldTree(fields);
      this.filters.set(actor, tree);
    }
    return tree;
  }

  /** Another member's batch: its events (with its own seq) and its latest view. */
  ingestRemote(node: string, batch: { events?: InspectorEvent[]; view?: NodeView }): void {
    if (node === this.node) return;
    for (const e of batch.events ?? []) {
      if (e.node !== node) continue;
      this.replay.push(e);
      this.remoteEvents.push(e);
    }
    if (batch.view && batch.view.node === node) {
      const joined = !this.views.has(node);
      this.views.set(node, batch.view);
      if (joined) this.resync('node-joined');
      else this.changedViews.push(batch.view);
    }
  }

  /** A member left: its view goes (its events stay in the log); pages get a fresh snapshot. */
  dropNode(node: string): void {
    if (node === this.node || !this.views.delete(node)) return;
    this.resync('node-left');
  }

  /** Nodes with a view here. */
  nodes(): string[] {
    return [...this.views.keys()];
  }

  /** Run a page's request: here, or on the member that runs the actor. */
  async request(req: ClientRequest): Promise<unknown> {
    if (req.op === 'events') return this.eventsOf(req.node, req.actor, req.limit);
    if (req.node !== this.node) {
      if (!this.forwarder) throw new InspectorError(InspectorCodes.unknownNode, `no node "${req.node}" here (this is "${this.node}", not in a cluster)`, { field: 'node' });
      return this.forwarder(req);
    }
    const source = this.source;
    if (!source) throw new InspectorError(InspectorCodes.unavailable, `node "${this.node}" is still starting`, { field: 'node' });
    switch (req.op) {
      case 'machine':
        return source.machine(req.actor);
      case 'approve': {
        const result = source.approve(req.approval, { by: req.by, ...(req.reason === undefined ? {} : { reason: req.reason }) });
        this.approvals?.decide(req.approval, { decision: 'approved', by: req.by, ...(req.reason === undefined ? {} : { reason: req.reason }) });
        return result ?? { id: req.approval, by: req.by };
      }
      case 'reject': {
        const reason = req.reason ?? 'rejected in the inspector';
        const result = source.reject(req.approval, { by: req.by, reason });
        this.approvals?.decide(req.approval, { decision: 'rejected', by: req.by, reason });
        return result ?? { id: req.approval, by: req.by, reason };
      }
      case 'trace':
        return source.trace(req.ref);
      case 'audit.verify': {
        const result = source.verifyAudit();
        if (this.viewTaker) this.viewTaker.verified = result.ok;
        return result;
      }
    }
  }

  /** Turn what came in since the last flush into events, and send them. Called by the tick; tests may call it. */
  flush(): void {
    const at = this.clock.now();
    const drafts: Draft[] = [];
    const raw: RawBatch | undefined = this.rawSubscribers > 0 ? { actors: [], events: [], snapshots: [] } : undefined;
    this.inbox.drain((ev, t) => this.map(ev, t, drafts, raw));
    const dropped = this.inbox.takeDropped();
    if (dropped > 0) drafts.push({ kind: 'system', node: this.node, at, type: '@agentos.inspector.dropped', data: { events: dropped, reason: 'more events between two flushes than the inbox holds' } });
    const pending = this.pending;
    this.pending = new Map();
    for (const p of pending.values()) {
      raw?.snapshots.push({ ref: p.ref, snapshot: p.snapshot, event: p.event });
      if (p.ref._parent !== undefined) continue; // a child's snapshot is not its agent's state
      const actor = this.actorIdOf(p.ref, p.rootId);
      const value = (p.snapshot as { value?: unknown }).value;
      if (actor === undefined || value === undefined) continue;
      drafts.push(mapTransition(actor, this.node, p.at, value, String(p.event?.type ?? ''), p.count, this.payloadBytes));
    }
    if (this.approvals) {
      try {
        drafts.push(...this.approvals.diff(this.node, at));
      } catch {
        // The approval queue is closing: compared again at the next flush.
      }
    }
    // Transitions were parked apart from messages: put the flush back in time order (stable, nearly sorted already).
    drafts.sort((a, b) => a.at - b.at);
    const events: InspectorEvent[] = [];
    for (const d of drafts) {
      // Drafts are the hub's own fresh objects: stamped in place.
      const e = d as InspectorEvent;
      e.seq = ++this.seq;
      this.replay.push(e);
      events.push(e);
    }
    if (this.remoteEvents.length > 0) events.push(...this.remoteEvents.splice(0));
    const listening = this.subscribers.size > 0;
    if (listening && at - this.lastViewAt >= this.statsMs) this.takeView(at);
    const nodes = this.changedViews.length > 0 ? this.changedViews.splice(0) : undefined;
    if (!listening) return;
    for (const s of [...this.subscribers]) {
      try {
        if (raw && s.raw) s.raw(raw);
        if (s.batch && (events.length > 0 || nodes)) s.batch(events, nodes);
      } catch {
        // A subscriber's failure is its own: the others and the node go on.
      }
    }
  }

  private map(ev: SystemEvent | InspectionEvent, at: number, drafts: Draft[], raw: RawBatch | undefined): void {
    if (ev.type === '@xstate.event') {
      const e = ev as Extract<InspectionEvent, { type: '@xstate.event' }>;
      raw?.events.push(e);
      const actor = this.actorIdOf(e.actorRef as AnyActorRef, e.rootId);
      if (actor !== undefined) drafts.push(mapMessageEvent(e, this.node, at, actor, this.fieldsOf(actor), this.payloadBytes, this.source?.redact));
      return;
    }
    if (ev.type === '@xstate.actor') {
      const ref = (ev as Extract<InspectionEvent, { type: '@xstate.actor' }>).actorRef as AnyActorRef;
      raw?.actors.push(ref);
      if (ref._parent === undefined) {
        if (this.roots.size > 100_000) this.roots.clear();
        this.roots.set(ref.sessionId, ref.id);
        const actor = this.actorIdOf(ref, ref.sessionId);
        if (actor !== undefined) this.live.set(actor, ref);
      }
      return;
    }
    const draft = mapSystemEvent(ev as SystemEvent, this.node, at, this.payloadBytes);
    if (draft.kind === 'actor.started' || draft.kind === 'actor.stopped') {
      this.filters.delete(draft.actor); // a new incarnation may run a new contract version
      if (draft.kind === 'actor.stopped' && this.live.get(draft.actor)?.getSnapshot().status !== 'active') this.live.delete(draft.actor);
    }
    if (this.approvals && !this.approvals.noted(draft)) return;
    drafts.push(draft);
  }

  /** The agentos actor an XState actor belongs to (an invoked child belongs to its agent). */
  actorIdOf(ref: AnyActorRef, rootId: string): string | undefined {
    return cellOfSystem(ref.system)?.id ?? this.roots.get(rootId);
  }

  private ensureView(): void {
    const at = this.clock.now();
    if (this.viewTaker && (!this.views.has(this.node) || at - this.lastViewAt >= this.statsMs)) this.takeView(at);
  }

  private takeView(at: number): void {
    if (!this.viewTaker) return;
    this.lastViewAt = at;
    try {
      const view = this.viewTaker.take(at);
      this.views.set(this.node, view);
      this.changedViews.push(view);
    } catch {
      // A view that cannot be taken now (the node is stopping) is taken next window.
    }
  }

  private resync(reason: ResyncReason): void {
    for (const s of [...this.subscribers]) {
      try {
        s.resync?.(reason);
      } catch {
        // as in flush
      }
    }
  }

  private arm(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.running) return;
      try {
        this.flush();
      } catch {
        // A flush that fails (the node is stopping under it) is retried at the next tick, never thrown into the clock.
      } finally {
        if (this.running) this.arm();
      }
    }, this.flushMs);
  }
}

function positive(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InspectorError(InspectorCodes.invalidOptions, `inspector ${field} must be a positive integer, got ${String(value)}`, { field });
  }
  return value;
}
