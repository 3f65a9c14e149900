// Per-sender order for an actor that moves. Links keep order per pair of nodes;
// a move breaks it: a sender on C whose earlier messages are still on their way
// to a former owner (or queued there) must not have its later ones, sent straight
// to the new owner, handled first. So:
// - a node that switches the node it sends an actor's messages to sends a `fence`
//   down the old route and starts a new epoch; its messages carry their epoch
//   (`ep`) and, until its fences have arrived, the list of them (`hold`);
// - a former owner forwards what arrives for a moved actor, fences included, to
//   the new one in arrival order, behind what had queued there during the move;
//   at the move it hands over the fences it has seen and the messages it held;
// - the owner delivers a sender's message only once every fence it lists has
//   arrived (or its first hop went down, or `holdMs` passed); a sender's waiting
//   messages go by epoch, and within one, those forwarded (they reached its first
//   hop before the actor did) before those sent here directly, in arrival order;
// - the node that consumes a fence acknowledges it, so its sender stops listing it.
// An actor arriving at a node that had sent or forwarded it messages elsewhere
// waits the same way: until this node's own fence has come back along that route,
// local messages to it are held, and messages sent to it here directly wait too
// (they reached this node after those it had passed on).

import type { Clock, TimerHandle } from '../../base/clock.js';
import type { RemoteSend } from '../../kernel/remote.js';
import { CLUSTER_MESSAGE, type ClusterMessage } from '../remote-actors.js';

/** An actor message between nodes, with what this layer adds to it. */
export type SendOp = Extract<ClusterMessage, { op: 'send' }> & {
  /** The sender's route epoch for this actor (how many times it changed the node it sends to). */
  ep?: number;
  /** The sender's fences for this actor still travelling when it was sent: [n, first hop]. */
  hold?: Array<[number, string]>;
  /** Forwarded by a former owner; the node that first sent it. */
  fw?: string;
};

export interface Fence {
  id: string;
  origin: string;
  n: number;
}

/** What a former owner hands over at a move: fences seen per sender, and messages it was holding. */
export interface OrderHandover {
  fences: Array<[string, number[]]>;
  held: SendOp[];
}

export interface OrderDeps {
  self: string;
  clock: Clock;
  /** Longest a sender's messages wait for its fences. */
  holdMs: number;
  /** How long a moved actor's forwarding pointer (and fences seen) are kept. */
  keepMs: number;
  sendFence(node: string, fence: Fence): boolean;
  /** Tell `origin` its fence `n` for `id` has arrived. */
  ackFence(origin: string, id: string, n: number): void;
  /** Forward an actor message to another node; false when it could not be sent. */
  forward(node: string, message: SendOp): boolean;
  /** Hand a message to this node's remote actors (and its kernel). */
  deliver(from: string, message: SendOp): void;
  isUp(node: string): boolean;
  /** A wait gave up (for metrics and tests). */
  onHoldExpired?(id: string, origin: string): void;
}

interface Entry {
  from: string;
  message: SendOp;
}

/** Where this node sends an actor's messages; `at`: the route count when the entry last moved to the end. */
interface Route {
  node: string;
  at: number;
}

/**
 * Routes are kept for the actors this node sent to most recently: an entry is dropped
 * only once MAX_ROUTES other actors have been routed since its last use. The map holds
 * up to twice that, so a route in use moves to the end only once per MAX_ROUTES (not
 * on every message): see `route`.
 */
export const MAX_ROUTES = 100_000;

export class MessageOrder {
  // ── this node as a sender ──
  private readonly routes = new Map<string, Route>();
  private routeCount = 0;
  private readonly fenceSeq = new Map<string, number>();
  /** Per actor: this node's fences still travelling, n → first hop and when sent. */
  private readonly pending = new Map<string, Map<number, { via: string; at: number }>>();
  /** Arrived actors hidden from local senders until this node's fences are back. */
  private readonly detours = new Map<string, { done: () => void; local: RemoteSend[]; timer: TimerHandle; settled: Array<() => void> }>();
  // ── this node as an owner ──
  private readonly queues = new Map<string, { entries: Entry[]; timer: TimerHandle }>();
  private readonly seen = new Map<string, { ns: Set<number>; at: number }>();
  private readonly moved = new Map<string, { node: string; at: number }>();
  /** Actors being captured here: fences for them wait for the move's outcome. */
  private readonly moving = new Map<string, Fence[]>();

  constructor(private readonly deps: OrderDeps) {}

  // ── sending ────────────────────────────────────────────────────────────

  /** An actor message leaving this node: a changed route sends a fence down the old one; pending fences are listed. */
  outgoing(node: string, message: SendOp): SendOp {
    const id = message.send.to;
    const prev = this.routes.get(id)?.node;
    this.route(id, node);
    if (prev !== undefined && prev !== node && prev !== this.deps.self) this.sendFence(id, prev);
    const hold = this.pending.has(id) ? this.pendingOf(id) : undefined;
    const ep = this.fenceSeq.get(id) ?? 0;
    // Field by field, not `{ ...message, ep }`: this runs per message, and V8 gives each such
    // spread-and-extend its own hidden class, which also slows the link's encoder down.
    const out: SendOp = { k: message.k, op: message.op, send: message.send, ep };
    if (hold !== undefined && hold.length > 0) out.hold = hold;
    else if (message.hold !== undefined) out.hold = message.hold;
    if (message.fw !== undefined) out.fw = message.fw;
    return out;
  }

  /** Our fence `n` for `id` arrived where it was going. */
  fenceAcked(id: string, n: number): void {
    this.pending.get(id)?.delete(n);
    this.checkDetour(id);
  }

  // ── receiving ──────────────────────────────────────────────────────────

  incoming(from: string, message: SendOp): void {
    // Nothing moved away from here, nothing waiting, no detour, and this message waits for no
    // fence: the checks below would deliver it at once (this skips their keys and lookups).
    if (this.moved.size === 0 && this.queues.size === 0 && this.detours.size === 0 && (message.hold === undefined || message.hold.length === 0)) {
      return this.deps.deliver(from, message);
    }
    const id = message.send.to;
    const moved = this.moved.get(id);
    if (moved) return this.forwardMoved(moved.node, from, message);
    const key = keyOf(message.fw ?? from, id);
    let q = this.queues.get(key);
    if (!q && this.ready(key, message)) return this.deps.deliver(from, message);
    if (!q) this.queues.set(key, (q = { entries: [], timer: this.deps.clock.setTimeout(() => this.expire(key), this.deps.holdMs) }));
    const rank = rankOf(message);
    const at = q.entries.findIndex((e) => rankOf(e.message) > rank);
    if (at >= 0) q.entries.splice(at, 0, { from, message });
    else q.entries.push({ from, message });
    this.release(key);
  }

  fence(f: Fence): void {
    const moved = this.moved.get(f.id);
    if (moved) return void this.deps.sendFence(moved.node, f);
    const waiting = this.moving.get(f.id);
    if (waiting) return void waiting.push(f);
    const key = keyOf(f.origin, f.id);
    this.markArrived(key, [f.n]);
    this.release(key);
    if (f.origin === this.deps.self) this.fenceAcked(f.id, f.n);
    else this.deps.ackFence(f.origin, f.id, f.n);
  }

  /** A node went down or left: nothing more comes through it. */
  nodeGone(node: string): void {
    for (const key of [...this.queues.keys()]) this.release(key);
    for (const [id, p] of this.pending) {
      for (const [n, s] of p) if (s.via === node) p.delete(n);
      this.checkDetour(id);
    }
    for (const [id, m] of this.moved) if (m.node === node) this.moved.delete(id);
    for (const [id, r] of this.routes) if (r.node === node) this.routes.delete(id);
  }

  // ── moves ──────────────────────────────────────────────────────────────

  /** `id` is being captured here: fences for it wait. */
  beginMove(id: string): void {
    this.moving.set(id, []);
  }

  /** The move failed: the actor stays here; waiting fences apply here. */
  abortMove(id: string): void {
    const waiting = this.moving.get(id) ?? [];
    this.moving.delete(id);
    for (const f of waiting) this.fence(f);
  }

  /** The target took it: what this node knows and holds of its senders goes with it (send before `moveDone`). */
  handover(id: string): OrderHandover {
    const fences: Array<[string, number[]]> = [];
    const held: SendOp[] = [];
    for (const [key, a] of this.seen) if (idOf(key) === id) fences.push([originOf(key), [...a.ns]]);
    for (const [key, q] of [...this.queues]) {
      if (idOf(key) !== id) continue;
      this.deps.clock.clearTimeout(q.timer);
      this.queues.delete(key);
      const origin = originOf(key);
      for (const e of q.entries) held.push({ ...e.message, send: { ...e.message.send, fromNode: this.deps.self }, fw: e.message.fw ?? origin });
    }
    return { fences, held };
  }

  /** Forward from now on (the queued messages and the handover went first), then the fences that waited. */
  moveDone(id: string, node: string): void {
    const waiting = this.moving.get(id) ?? [];
    this.moving.delete(id);
    this.moved.set(id, { node, at: this.deps.clock.now() });
    this.route(id, node);
    for (const f of waiting) this.deps.sendFence(node, f);
  }

  /** The fences a former owner had seen, arriving with the actor. */
  adopt(id: string, fences: ReadonlyArray<[string, number[]]>): void {
    for (const [origin, ns] of fences) this.markArrived(keyOf(origin, id), ns);
  }

  movedTo(id: string): string | undefined {
    return this.moved.get(id)?.node;
  }

  /** Whether an actor arriving here must wait for this node's own older messages (sent to it elsewhere). */
  needsDetour(id: string): boolean {
    const prev = this.routes.get(id)?.node;
    return (prev !== undefined && prev !== this.deps.self) || this.pendingOf(id).length > 0;
  }

  /**
   * `id` arrived here. Messages this node sent it elsewhere come back through the old
   * routes: local messages to it are held (`holdLocal`) until this node's fences are
   * back too; then `done` (unhide it) runs and they are delivered.
   */
  arrived(id: string, done: () => void): void {
    this.moved.delete(id);
    const prev = this.routes.get(id)?.node;
    this.route(id, this.deps.self);
    if (prev !== undefined && prev !== this.deps.self) this.sendFence(id, prev);
    if (this.pendingOf(id).length === 0) return done();
    this.detours.set(id, { done, local: [], settled: [], timer: this.deps.clock.setTimeout(() => this.endDetour(id), this.deps.holdMs) });
  }

  /** Resolves once `id` is not waiting for this node's fences (a move away waits for that). */
  settled(id: string): Promise<void> {
    const d = this.detours.get(id);
    return d ? new Promise<void>((resolve) => d.settled.push(resolve)) : Promise.resolve();
  }

  holdsLocal(id: string): boolean {
    return this.detours.has(id);
  }

  /** A local message to an actor whose local senders wait for their fences. */
  holdLocal(send: RemoteSend): void {
    const d = this.detours.get(send.to);
    if (d) d.local.push(send);
    else this.deps.deliver(this.deps.self, { k: CLUSTER_MESSAGE, op: 'send', send });
  }

  /** Drop pointers and marks past their time (call now and then). */
  sweep(): void {
    const old = this.deps.clock.now() - this.deps.keepMs;
    for (const [id, m] of this.moved) if (m.at < old) this.moved.delete(id);
    for (const [key, a] of this.seen) if (a.at < old) this.seen.delete(key);
  }

  close(): void {
    for (const key of [...this.queues.keys()]) this.expire(key, false);
    for (const id of [...this.detours.keys()]) this.endDetour(id);
  }

  // ── internals ──────────────────────────────────────────────────────────

  private sendFence(id: string, via: string): void {
    const n = (this.fenceSeq.get(id) ?? 0) + 1;
    this.fenceSeq.set(id, n);
    if (!this.deps.sendFence(via, { id, origin: this.deps.self, n })) return;
    let p = this.pending.get(id);
    if (!p) this.pending.set(id, (p = new Map()));
    p.set(n, { via, at: this.deps.clock.now() });
  }

  /** This node's fences for `id` still travelling (those older than `holdMs` no longer hold anyone). */
  private pendingOf(id: string): Array<[number, string]> {
    const p = this.pending.get(id);
    if (!p) return [];
    const old = this.deps.clock.now() - this.deps.holdMs;
    for (const [n, s] of p) if (s.at < old) p.delete(n);
    if (p.size === 0) this.pending.delete(id);
    return [...p].map(([n, s]) => [n, s.via]);
  }

  private ready(key: string, message: SendOp): boolean {
    if (message.fw === undefined && this.detours.has(idOf(key))) return false;
    const seen = this.seen.get(key)?.ns;
    return (message.hold ?? []).every(([n, via]) => seen?.has(n) === true || !this.deps.isUp(via));
  }

  private release(key: string): void {
    const q = this.queues.get(key);
    if (!q) return;
    while (q.entries.length > 0 && this.ready(key, q.entries[0]!.message)) {
      const e = q.entries.shift()!;
      this.deps.deliver(e.from, e.message);
    }
    if (q.entries.length > 0) return;
    this.deps.clock.clearTimeout(q.timer);
    this.queues.delete(key);
  }

  /** The wait is over (time, or shutting down): deliver in order, and take the fences waited on as seen. */
  private expire(key: string, report = true): void {
    const q = this.queues.get(key);
    if (!q) return;
    this.queues.delete(key);
    this.deps.clock.clearTimeout(q.timer);
    if (report) this.deps.onHoldExpired?.(idOf(key), originOf(key));
    for (const e of q.entries) {
      this.markArrived(key, (e.message.hold ?? []).map(([n]) => n));
      this.deps.deliver(e.from, e.message);
    }
  }

  private markArrived(key: string, ns: readonly number[]): void {
    let a = this.seen.get(key);
    if (!a) this.seen.set(key, (a = { ns: new Set(), at: 0 }));
    for (const n of ns) a.ns.add(n);
    a.at = this.deps.clock.now();
  }

  private checkDetour(id: string): void {
    if (this.detours.has(id) && this.pendingOf(id).length === 0) this.endDetour(id);
  }

  private endDetour(id: string): void {
    const d = this.detours.get(id);
    if (!d) return;
    this.detours.delete(id);
    this.deps.clock.clearTimeout(d.timer);
    d.done();
    // What this node sent it through other nodes and still waits here goes first.
    this.expire(keyOf(this.deps.self, id), false);
    for (const key of [...this.queues.keys()]) if (idOf(key) === id) this.release(key);
    for (const send of d.local) this.deps.deliver(this.deps.self, { k: CLUSTER_MESSAGE, op: 'send', send });
    for (const resolve of d.settled) resolve();
  }

  private forwardMoved(node: string, from: string, message: SendOp): void {
    const forwarded: SendOp = { ...message, send: { ...message.send, fromNode: this.deps.self }, fw: message.fw ?? from };
    if (!this.deps.forward(node, forwarded)) this.deps.deliver(from, message);
  }

  /**
   * Record that `id`'s messages go to `node`. An entry moves to the end of the map (behind
   * every other) only when MAX_ROUTES routes have moved there since it last did, and the map
   * drops its first entries past 2 × MAX_ROUTES. So an entry is dropped only after 2 × MAX_ROUTES
   * moves since its own last one, more than MAX_ROUTES of them since its last use; and in any
   * MAX_ROUTES moves an actor moves at most once: those are MAX_ROUTES other actors.
   */
  private route(id: string, node: string): void {
    const r = this.routes.get(id);
    if (r !== undefined && this.routeCount - r.at < MAX_ROUTES) {
      r.node = node;
      return;
    }
    if (r !== undefined) this.routes.delete(id);
    this.routes.set(id, { node, at: ++this.routeCount });
    if (this.routes.size > 2 * MAX_ROUTES) this.routes.delete(this.routes.keys().next().value as string);
  }
}

/**
 * Where a waiting message goes in its sender's queue: by epoch (an earlier one was sent
 * earlier, whatever path brought it), then forwarded before direct (within one epoch the
 * forwarded ones reached its first hop before the actor did).
 */
function rankOf(m: SendOp): number {
  return (m.ep ?? Number.MAX_SAFE_INTEGER / 2) * 2 + (m.fw === undefined ? 1 : 0);
}

const SEP = '\u0000';

function keyOf(origin: string, id: string): string {
  return `${origin}${SEP}${id}`;
}

function originOf(key: string): string {
  return key.slice(0, key.indexOf(SEP));
}

function idOf(key: string): string {
  return key.slice(key.indexOf(SEP) + 1);
}
