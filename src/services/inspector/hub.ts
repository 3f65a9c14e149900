// The inspector's fan-in. It costs the node nothing per message for actors
// nobody looks at: it is not the node's `inspect` listener. What reaches it:
// the node's system events (the kernel's tap), and XState's inspection events
// only of the actors a page watches (watches.ts: leases; `'*'` while a Stately
// receiver is attached). `listener` only parks them: a message or system event
// goes into a bounded ring, a snapshot overwrites its actor's slot. A flush tick
// on the node's clock turns what came in into inspector events with this node's
// `seq`, samples every actor's state for changes (poll.ts: how the table and the
// log follow actors nobody watches), keeps the newest `bufferEvents` for replay,
// and hands them, with a fresh NodeView once per stats window, to subscribers
// (the page server, the link that streams to another member). Secrets are
// scrubbed here, at flush time. Other members' batches merge in through
// `ingestRemote`, so one hub can show a whole cluster.

import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { SystemEvent } from '../../kernel/events.js';
import { mapMessageEvent, mapSystemEvent, mapTransition, type Draft } from './mapping.js';
import { DEFAULT_PAYLOAD_BYTES, fieldTree, type FieldTree } from './payload.js';
import type { ClientRequest, InspectorEvent, NodeView } from './protocol.js';
import { MAX_EVENTS_LIMIT } from './requests.js';
import { Intake } from './intake.js';
import { StateSampler } from './poll.js';
import { Ring } from './ring.js';
import { positive, type HubSubscriber, type InspectorHubOptions, type RawBatch, type ResyncReason } from './hub-types.js';
import { InspectorCodes, InspectorError, type InspectorSource } from './source.js';
import { ApprovalWatch, ViewTaker } from './views.js';
import { WATCH_ALL, Watches } from './watches.js';
import { runLocal } from './local-requests.js';

export type { HubSubscriber, InspectorHubOptions, RawBatch } from './hub-types.js';

/** Who holds the lease a request takes, when the request does not say (a request made in-process). */
export const LOCAL_HOLDER = 'local';
/** The hold a Stately receiver puts on every actor. */
const STATELY_HOLDER = 'stately';

export class InspectorHub {
  readonly node: string;
  readonly clock: Clock;
  readonly flushMs: number;
  readonly statsMs: number;
  readonly payloadBytes: number;
  readonly watchLeaseMs: number;
  private readonly intake: Intake;
  private readonly replay: Ring<InspectorEvent>;
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
  private readonly watches: Watches;
  private readonly sampler: StateSampler;
  private eachActor: InspectorSource['eachActor'];
  private untap: (() => void) | undefined;
  private early: (() => void) | undefined;
  private readonly redactOption: ((value: unknown) => unknown) | undefined;
  private redactor: ((value: unknown) => unknown) | undefined;
  private timer: TimerHandle | undefined;
  private running = false;
  private forwarder: ((request: ClientRequest, holder: string) => Promise<unknown>) | undefined;

  constructor(options: InspectorHubOptions) {
    this.node = options.node;
    this.clock = options.clock;
    this.flushMs = positive(options.flushMs ?? 50, 'flushMs');
    this.statsMs = positive(options.statsMs ?? 1000, 'statsMs');
    this.payloadBytes = positive(options.payloadBytes ?? DEFAULT_PAYLOAD_BYTES, 'payloadBytes');
    this.replay = new Ring(positive(options.bufferEvents ?? 10_000, 'bufferEvents'));
    this.intake = new Intake(this.clock, positive(options.inboxEvents ?? 1024, 'inboxEvents'));
    this.watchLeaseMs = positive(options.watchLeaseMs ?? 30_000, 'watchLeaseMs');
    this.watches = new Watches({ leaseMs: this.watchLeaseMs, max: positive(options.maxWatched ?? 64, 'maxWatched'), start: (actor) => this.inspect(actor) });
    this.sampler = new StateSampler(this.node, this.payloadBytes, positive(options.inboxEvents ?? 1024, 'inboxEvents'));
    this.redactOption = options.redact;
  }

  /**
   * Where system events and watched actors' inspection events arrive (inside the kernel, on the path of
   * those actors' messages): parks the event (intake.ts) and returns; never throws.
   */
  get listener(): (event: SystemEvent | InspectionEvent) => void {
    return this.intake.listener;
  }

  /** Take system events from `tap` now, before `attach` (the node taps its kernel at once, so recovery's events are kept). */
  tapEarly(tap: (listener: (event: SystemEvent) => void) => () => void): void {
    this.early?.();
    this.early = tap(this.listener);
  }

  /** The node the hub reads views from, samples, taps and runs requests on (once the node exists). */
  attach(source: InspectorSource): void {
    this.detach();
    this.source = source;
    this.viewTaker = new ViewTaker(source);
    this.approvals = new ApprovalWatch(source);
    this.filters.clear();
    this.eachActor = source.eachActor?.bind(source);
    this.untap = this.early ?? source.tap?.(this.listener);
    this.early = undefined;
    this.redactor = this.redactOption ?? source.redact?.bind(source);
    if (this.rawSubscribers > 0) this.holdAll();
  }

  /** Stop taking events from the node: the tap and every watch end (the inspector is closing). */
  detach(): void {
    this.untap?.();
    this.untap = undefined;
    this.watches.clear();
  }

  /** The node's secret redactor, if any. */
  get redact(): ((value: unknown) => unknown) | undefined {
    return this.redactor ?? this.redactOption;
  }

  /** Actors watched now (`'*'` when every actor is). */
  watched(): string[] {
    return this.watches.watched();
  }

  /** End every lease `holder` took (a page that closed). */
  release(holder: string): void {
    this.watches.release(holder);
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

  /** A subscriber with `raw` (a Stately receiver) has every actor watched while it is subscribed. */
  subscribe(subscriber: HubSubscriber): () => void {
    this.subscribers.add(subscriber);
    if (subscriber.raw && ++this.rawSubscribers === 1) {
      this.intake.keepBorn = true;
      if (this.source) this.holdAll();
    }
    return () => {
      if (!this.subscribers.delete(subscriber) || !subscriber.raw) return;
      if (--this.rawSubscribers === 0) {
        this.watches.release(STATELY_HOLDER);
        this.intake.keepBorn = false;
        this.intake.takeBorn();
      }
    };
  }

  /** Requests for another node's actors go here (the cluster link sets it); `holder` is who takes a watch lease. */
  setForwarder(forward: ((request: ClientRequest, holder: string) => Promise<unknown>) | undefined): void {
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

  /** Local actors' running root XState actors (id → ref), read from the node now. */
  liveActors(): Map<string, AnyActorRef> {
    const live = new Map<string, AnyActorRef>();
    this.eachActor?.((id, actor) => {
      if (actor && actor.getSnapshot()?.status === 'active') live.set(id, actor);
    });
    return live;
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

  /** Run a page's request: here, or on the member that runs the actor. `holder`: who a `watch` lease is for (one per page). */
  async request(req: ClientRequest, holder: string = LOCAL_HOLDER): Promise<unknown> {
    if (req.op === 'events') return this.eventsOf(req.node, req.actor, req.limit);
    if (req.node !== this.node) {
      if (!this.forwarder) throw new InspectorError(InspectorCodes.unknownNode, `no node "${req.node}" here (this is "${this.node}", not in a cluster)`, { field: 'node' });
      return this.forwarder(req, holder);
    }
    const source = this.source;
    if (!source) throw new InspectorError(InspectorCodes.unavailable, `node "${this.node}" is still starting`, { field: 'node' });
    return runLocal(req, holder, {
      node: this.node,
      source,
      watches: this.watches,
      watchLeaseMs: this.watchLeaseMs,
      now: this.clock.now(),
      approvals: this.approvals,
      viewTaker: this.viewTaker,
    });
  }

  /** Turn what came in since the last flush into events, and send them. Called by the tick; tests may call it. */
  flush(): void {
    const at = this.clock.now();
    this.watches.expire(at);
    const drafts: Draft[] = [];
    const raw: RawBatch | undefined = this.rawSubscribers > 0 ? { actors: this.intake.takeBorn(), events: [], snapshots: [] } : undefined;
    const redact = this.redact;
    this.intake.inbox.drain((ev, t) => this.map(ev, t, drafts, raw, redact));
    const dropped = this.intake.inbox.takeDropped();
    if (dropped > 0) drafts.push({ kind: 'system', node: this.node, at, type: '@agentos.inspector.dropped', data: { events: dropped, reason: 'more events between two flushes than the inbox holds' } });
    // Watched actors' exact transitions; then every other actor's, sampled.
    const pending = this.intake.takeSnapshots();
    let exact: Set<string> | undefined;
    if (pending) {
      exact = new Set();
      for (const p of pending.values()) {
        raw?.snapshots.push({ ref: p.ref, snapshot: p.snapshot, event: p.event });
        if (p.ref._parent !== undefined) continue; // a child's snapshot is not its agent's state
        const actor = this.actorIdOf(p.ref, p.rootId);
        const value = (p.snapshot as { value?: unknown }).value;
        if (actor === undefined || value === undefined) continue;
        exact.add(actor);
        drafts.push(mapTransition(actor, this.node, p.at, value, String(p.event?.type ?? ''), p.count, this.payloadBytes));
      }
    }
    // Sampled only while someone listens (a page's snapshot has every actor's state in its view).
    if (this.subscribers.size === 0) this.sampler.reset();
    else if (this.eachActor) {
      try {
        this.sampler.sample(this.eachActor, at, drafts, exact);
      } catch {
        // The node is stopping under the sample: the next flush samples again.
      }
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

  private map(ev: SystemEvent | InspectionEvent, at: number, drafts: Draft[], raw: RawBatch | undefined, redact: ((value: unknown) => unknown) | undefined): void {
    if (ev.type === '@xstate.event') {
      const e = ev as Extract<InspectionEvent, { type: '@xstate.event' }>;
      raw?.events.push(e);
      const actor = this.actorIdOf(e.actorRef as AnyActorRef, e.rootId);
      if (actor !== undefined) drafts.push(mapMessageEvent(e, this.node, at, actor, this.fieldsOf(actor), this.payloadBytes, redact));
      return;
    }
    let sys = ev as SystemEvent;
    if (redact) {
      try {
        sys = redact(sys) as SystemEvent;
      } catch {
        return; // an event the redactor cannot handle is not shown at all
      }
    }
    const draft = mapSystemEvent(sys, this.node, at, this.payloadBytes);
    if (draft.kind === 'actor.started' || draft.kind === 'actor.stopped') this.filters.delete(draft.actor); // a new incarnation may run a new contract version
    if (this.approvals && !this.approvals.noted(draft)) return;
    drafts.push(draft);
  }

  /** The agentos actor an XState actor belongs to (an invoked child belongs to its agent). */
  actorIdOf(ref: AnyActorRef, rootId: string): string | undefined {
    return this.intake.actorIdOf(ref, rootId);
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

  /** Every actor watched while a Stately receiver listens (a node that cannot watch sends it what it has). */
  private holdAll(): void {
    try {
      this.watches.hold(WATCH_ALL, STATELY_HOLDER);
    } catch {
      // no `watch` in this source: the receiver gets announcements and nothing more
    }
  }

  /** Start inspecting `actor` for the watches (the source throws for an actor the node does not run). */
  private inspect(actor: string): () => void {
    const source = this.source;
    if (!source?.watch) throw new InspectorError(InspectorCodes.unavailable, `node "${this.node}" cannot watch actors${source ? '' : ' yet (still starting)'}`, { field: 'actor' });
    return source.watch(actor, this.listener);
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
