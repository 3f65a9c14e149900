// One inspector for a whole cluster. A member that serves the page subscribes to
// every other member (again every `resubscribeMs`, so a subscription lost while
// links come up is made good); a subscribed member streams its own events per
// flush and its NodeView per stats window to each subscriber, views cut into
// parts so no message outgrows the cluster transport's frame bound. Requests for
// another member's actors (`machine`, `watch`, `approve`, …) are forwarded to it and
// answered, or fail with INSPECTOR_REMOTE_TIMEOUT / INSPECTOR_UNKNOWN_NODE.
// The transport is any `send(node, body)` (the node layer gives it a cluster
// channel); messages from it are checked before use.

import { randomUUID } from 'node:crypto';
import type { TimerHandle } from '../../base/clock.js';
import type { InspectorHub } from './hub.js';
import type { ActorRow, ClientRequest, InspectorEvent, NodeView } from './protocol.js';
import { checkRequest, errorOf } from './requests.js';
import { InspectorCodes, InspectorError } from './source.js';

export interface LinkTransport {
  /** Throws (e.g. CLUSTER_PEER_UNKNOWN) when `node` cannot be reached. */
  send(node: string, body: unknown): void;
}

export interface InspectorLinkOptions {
  /** This member serves the page: it subscribes to the others. */
  serve: boolean;
  /** How long a forwarded request waits for its answer (default 5000 ms, node clock). */
  requestTimeoutMs?: number;
  /** How often a serving member renews its subscriptions (default 5000 ms). */
  resubscribeMs?: number;
  /** Events per message (default 200) and actor rows per view part (default 400). */
  eventsPerMessage?: number;
  rowsPerPart?: number;
}

type LinkMessage =
  | { t: 'subscribe'; session: string }
  | { t: 'unsubscribe' }
  | { t: 'events'; events: InspectorEvent[] }
  | { t: 'view'; view: NodeView; part: number; parts: number }
  /** `holder`: who on the serving member a `watch` lease is for (the member keeps it apart per serving member). */
  | { t: 'req'; id: number; request: ClientRequest; holder?: string }
  | { t: 'res'; id: number; ok: true; result: unknown }
  | { t: 'res'; id: number; ok: false; error: { code: string; message: string } };

interface Waiting {
  node: string;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: TimerHandle;
}

const obj = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

export class InspectorLink {
  private readonly session = randomUUID();
  /** Members streaming to us (serving side): who we subscribed to. */
  private readonly upstream = new Set<string>();
  /** Members we stream to, with the session they subscribed from. */
  private readonly subscribers = new Map<string, string>();
  private readonly parts = new Map<string, { view: NodeView; rows: ActorRow[]; next: number }>();
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private renew: TimerHandle | undefined;
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    private readonly hub: InspectorHub,
    private readonly transport: LinkTransport,
    private readonly options: InspectorLinkOptions,
  ) {
    this.unsubscribe = hub.subscribe({ batch: (events, nodes) => this.stream(events, nodes) });
    hub.setForwarder((req, holder) => this.forward(req, holder));
    if (options.serve) this.armRenew();
  }

  /** A member is up: subscribe to it if we serve. */
  memberUp(node: string): void {
    if (node === this.hub.node || !this.options.serve || this.closed) return;
    this.upstream.add(node);
    this.post(node, { t: 'subscribe', session: this.session });
  }

  /** A member left or is down: its view goes, requests waiting on it fail, it gets no more of our events. */
  memberGone(node: string): void {
    this.upstream.delete(node);
    this.subscribers.delete(node);
    this.parts.delete(node);
    this.hub.dropNode(node);
    for (const [id, w] of this.waiting) {
      if (w.node !== node) continue;
      this.waiting.delete(id);
      this.hub.clock.clearTimeout(w.timer);
      w.reject(new InspectorError(InspectorCodes.unknownNode, `node "${node}" left the cluster before it answered`, { field: 'node' }));
    }
  }

  /** What arrives on the channel from `from`. */
  onMessage(from: string, body: unknown): void {
    const m = obj(body);
    if (!m || this.closed) return;
    switch (m.t) {
      case 'subscribe':
        if (typeof m.session === 'string') this.subscribed(from, m.session);
        return;
      case 'unsubscribe':
        this.subscribers.delete(from);
        return;
      case 'events':
        if (Array.isArray(m.events)) this.hub.ingestRemote(from, { events: (m.events as unknown[]).filter(isEvent) });
        return;
      case 'view':
        this.viewPart(from, m);
        return;
      case 'req':
        void this.answer(from, m);
        return;
      case 'res':
        this.settle(m);
        return;
    }
  }

  close(): void {
    if (this.closed) return;
    for (const node of this.upstream) this.post(node, { t: 'unsubscribe' });
    this.closed = true;
    this.unsubscribe();
    this.hub.setForwarder(undefined);
    if (this.renew !== undefined) this.hub.clock.clearTimeout(this.renew);
    for (const w of this.waiting.values()) {
      this.hub.clock.clearTimeout(w.timer);
      w.reject(new InspectorError(InspectorCodes.unavailable, 'the inspector is closing', { field: 'node' }));
    }
    this.waiting.clear();
  }

  // ── streaming (member side) ─────────────────────────────────────────────

  private subscribed(from: string, session: string): void {
    const fresh = this.subscribers.get(from) !== session;
    this.subscribers.set(from, session);
    if (!fresh) return;
    // A new subscriber (or one that restarted) gets our view and our recent events first.
    const view = this.hub.localView();
    if (view) this.sendView(from, view);
    const own = this.hub.snapshot().events.filter((e) => e.node === this.hub.node);
    this.sendEvents(from, own);
  }

  private stream(events: InspectorEvent[], nodes: NodeView[] | undefined): void {
    if (this.subscribers.size === 0) return;
    const own = events.filter((e) => e.node === this.hub.node);
    const view = nodes?.find((v) => v.node === this.hub.node);
    for (const to of [...this.subscribers.keys()]) {
      if (own.length > 0) this.sendEvents(to, own);
      if (view) this.sendView(to, view);
    }
  }

  private sendEvents(to: string, events: InspectorEvent[]): void {
    const n = this.options.eventsPerMessage ?? 200;
    for (let i = 0; i < events.length; i += n) this.post(to, { t: 'events', events: events.slice(i, i + n) });
  }

  private sendView(to: string, view: NodeView): void {
    const n = this.options.rowsPerPart ?? 400;
    const parts = Math.max(1, Math.ceil(view.actors.length / n));
    for (let part = 0; part < parts; part++) {
      // The first part carries the whole view but its rows; every part carries its slice of the rows.
      const shell = part === 0 ? { ...view, actors: view.actors.slice(0, n) } : ({ node: view.node, now: view.now, actors: view.actors.slice(part * n, (part + 1) * n) } as NodeView);
      this.post(to, { t: 'view', view: shell, part, parts });
    }
  }

  private viewPart(from: string, m: Record<string, unknown>): void {
    const view = obj(m.view) as NodeView | undefined;
    const { part, parts } = m as { part?: unknown; parts?: unknown };
    if (!view || view.node !== from || !Array.isArray(view.actors) || typeof part !== 'number' || typeof parts !== 'number' || parts < 1 || parts > 10_000) return;
    if (part === 0) this.parts.set(from, { view, rows: [...view.actors], next: 1 });
    else {
      const p = this.parts.get(from);
      if (!p || p.next !== part || p.view.now !== view.now) {
        this.parts.delete(from); // a part went missing: wait for the next whole view
        return;
      }
      p.rows.push(...view.actors);
      p.next++;
    }
    const p = this.parts.get(from)!;
    if (p.next < parts) return;
    this.parts.delete(from);
    this.hub.ingestRemote(from, { view: { ...p.view, actors: p.rows } });
  }

  // ── requests ────────────────────────────────────────────────────────────

  private forward(request: ClientRequest, holder: string): Promise<unknown> {
    if (this.closed) return Promise.reject(new InspectorError(InspectorCodes.unavailable, 'the inspector is closing', { field: 'node' }));
    const node = request.node;
    const id = ++this.nextId;
    const ms = this.options.requestTimeoutMs ?? 5000;
    return new Promise<unknown>((resolve, reject) => {
      const timer = this.hub.clock.setTimeout(() => {
        if (!this.waiting.delete(id)) return;
        reject(new InspectorError(InspectorCodes.remoteTimeout, `node "${node}" did not answer the ${request.op} request within ${ms} ms`, { field: 'node' }));
      }, ms);
      this.waiting.set(id, { node, resolve, reject, timer });
      try {
        this.transport.send(node, { t: 'req', id, request, holder });
      } catch (err) {
        this.waiting.delete(id);
        this.hub.clock.clearTimeout(timer);
        reject(new InspectorError(InspectorCodes.unknownNode, `node "${node}" cannot be reached: ${(err as Error).message}`, { field: 'node', cause: err }));
      }
    });
  }

  private async answer(from: string, m: Record<string, unknown>): Promise<void> {
    const id = m.id;
    if (typeof id !== 'number') return;
    let reply: LinkMessage;
    try {
      const request = checkRequest(m.request);
      if (request.node !== this.hub.node) throw new InspectorError(InspectorCodes.unknownNode, `this is node "${this.hub.node}", not "${request.node}"`, { field: 'node' });
      // A lease taken for a page on another member is that member's page's: kept apart from this node's own.
      const holder = typeof m.holder === 'string' && m.holder.length <= 200 ? m.holder : 'remote';
      const result = await this.hub.request(request, `${from}/${holder}`);
      reply = { t: 'res', id, ok: true, result: result ?? null };
    } catch (err) {
      reply = { t: 'res', id, ok: false, error: errorOf(err) };
    }
    this.post(from, reply);
  }

  private settle(m: Record<string, unknown>): void {
    const w = typeof m.id === 'number' ? this.waiting.get(m.id) : undefined;
    if (!w) return;
    this.waiting.delete(m.id as number);
    this.hub.clock.clearTimeout(w.timer);
    if (m.ok === true) return w.resolve(m.result);
    const e = obj(m.error);
    w.reject(new InspectorError(typeof e?.code === 'string' ? e.code : InspectorCodes.internal, typeof e?.message === 'string' ? e.message : 'the remote request failed'));
  }

  private post(to: string, message: LinkMessage): void {
    try {
      this.transport.send(to, message);
    } catch {
      // Not reachable now: a subscriber is dropped (it subscribes again), a subscription renewed later.
      this.subscribers.delete(to);
    }
  }

  private armRenew(): void {
    this.renew = this.hub.clock.setTimeout(() => {
      if (this.closed) return;
      for (const node of this.upstream) this.post(node, { t: 'subscribe', session: this.session });
      this.armRenew();
    }, this.options.resubscribeMs ?? 5000);
  }
}

function isEvent(v: unknown): v is InspectorEvent {
  const e = obj(v);
  return e !== undefined && typeof e.kind === 'string' && typeof e.node === 'string' && typeof e.seq === 'number' && typeof e.at === 'number';
}
