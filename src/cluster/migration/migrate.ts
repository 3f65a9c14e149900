// Live migration, both ends. Source: check the actor may move, capture it (paused,
// drained, checkpointed), send the transfer; on the target's `done`, forward what
// queued since the capture, point stragglers at the target, tell the members, and
// retire the actor here; on a refusal, a timeout or a lost link, resume it here
// with every message it had. Target: check the definition (by name and version)
// and the placement, start the actor from the transfer (admission runs again in
// the kernel), answer with the incarnation it publishes.

import type { AgentDefinition } from '../../actors/define.js';
import { ActorError, ErrorCodes, isAgentOsError } from '../../base/errors.js';
import { contractOf } from '../../kernel/agent-contract.js';
import { sourceSettled } from '../../kernel/durable/transfer.js';
import { inSpan } from '../../kernel/trace.js';
import type { ActorTransfer, Captured } from '../../kernel/handoff.js';
import type { Kernel } from '../../kernel/kernel.js';
import { ClusterCodes, ClusterError } from '../errors.js';
import type { Exchange, Reply } from './exchange.js';
import type { ResolvedMobility } from './options.js';
import type { MessageOrder, SendOp } from './order.js';
import { placementRefusal } from './placement.js';
import { HANDOFF_MESSAGE, type HandoffMessage, type LateBody, type MigrationResult, type WireError } from './protocol.js';

export interface MigrateOptions {
  /** Longest wait for the actor's in-flight calls to finish (default: the node's `cluster.migration.drainMs`). */
  drainMs?: number;
  /** Longest wait for the target to take it (default: `cluster.migration.timeoutMs`). */
  timeoutMs?: number;
}

export interface MigrationDeps {
  kernel: Kernel;
  self: string;
  options: ResolvedMobility;
  exchange: Exchange;
  order: MessageOrder;
  /** Up members, this node included. */
  upMembers(): string[];
  /** Whether this node's side of any partition keeps running (moves need it at both ends). */
  quorate(): boolean;
  definition(name: string, version: string): AgentDefinition | undefined;
  /** The node the directory says hosts `id` (not this one). */
  locate(id: string): string | undefined;
  send(node: string, message: HandoffMessage): void;
  /** Forward an actor message (one held here for its sender's fences) to another node. */
  forward(node: string, message: SendOp): void;
  /** `id` now runs on `node`: tell the members (senders route there before the directory says so). */
  moved(id: string, node: string, incarnation: number, tenant: string): void;
  /** `id` is about to move: its checkpoints stop being replicated from here (`staying` undoes it). */
  leaving(id: string): void;
  staying(id: string): void;
  /** `id` left this node for good (its replicas go). */
  left(id: string): void;
  /** `id` arrived here (it is replicated from here on). */
  arrived(id: string): void;
}

export class Migrations {
  private readonly moving = new Set<string>();
  /** Actors started here by a move still in progress, by source: an `abort` from it stops them. */
  private readonly arriving = new Map<string, string>();
  /** Arrived actors whose source has not yet sent what queued there after the capture: a move away waits for it. */
  private readonly awaitingLate = new Map<string, { from: string; done: Promise<void>; resolve: () => void }>();
  private rid = 0;
  private readonly asked = new Map<number, { resolve: (r: MigrationResult) => void; reject: (e: unknown) => void; timer: unknown }>();

  constructor(private readonly deps: MigrationDeps) {}

  isMoving(id: string): boolean {
    return this.moving.has(id);
  }

  /** Move `id` to `target`; the owner does it, wherever this is called. */
  async migrate(id: unknown, target: unknown, options: MigrateOptions = {}): Promise<MigrationResult> {
    const { kernel, self } = this.deps;
    if (typeof id !== 'string' || id.length === 0) throw new ClusterError(ClusterCodes.invalidOptions, 'migrate: actorId must be a non-empty string', { field: 'actorId' });
    if (id.startsWith('agentos.')) throw new ClusterError(ClusterCodes.notMigratable, `"${id}" is a kernel service actor; only agents migrate`, { field: 'actorId' });
    if (typeof target !== 'string' || target.length === 0) throw new ClusterError(ClusterCodes.invalidOptions, 'migrate: targetNode must be a node id', { field: 'targetNode' });
    if (!this.deps.upMembers().includes(target)) throw new ClusterError(ClusterCodes.unknownNode, `no up member of the cluster is named "${target}"`, { field: 'targetNode' });
    for (const [field, v] of [['drainMs', options.drainMs], ['timeoutMs', options.timeoutMs]] as const) {
      if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new ClusterError(ClusterCodes.invalidOptions, `migrate: ${field} must be a positive number of ms`, { field });
    }
    if (kernel.describe(id) || kernel.lookup(id)) {
      if (target === self) throw new ClusterError(ClusterCodes.invalidOptions, `"${id}" is already on node "${self}"`, { field: 'targetNode' });
      // One span per move on its source: actor, both nodes, the time it took or the error's code.
      return inSpan(kernel.telemetry, 'agentos.migrate', undefined, { 'agentos.actor': id, 'agentos.node.from': self, 'agentos.node.to': target }, async (span) => {
        const result = await this.migrateHere(id, target, options);
        span.set({ 'agentos.migrate.ms': result.ms, 'agentos.incarnation': result.incarnation });
        return result;
      });
    }
    const owner = this.deps.locate(id);
    if (owner === undefined) throw new ActorError(ErrorCodes.unknownActor, `no actor "${id}" is known in the cluster`, { field: 'actorId' });
    // The directory here may lag a move: the node it names passes the request on if the actor left it.
    return this.askOwner(owner, id, target, options, 0);
  }

  // ── source ─────────────────────────────────────────────────────────────

  private async migrateHere(id: string, target: string, options: MigrateOptions): Promise<MigrationResult> {
    const { kernel, self, order } = this.deps;
    if (this.moving.has(id)) throw new ClusterError(ClusterCodes.migrationFailed, `"${id}" is already moving`, { field: 'actorId' });
    const refusal = kernel.handoff.refusal(id);
    if (refusal) throw new ClusterError(ClusterCodes.notMigratable, `"${id}" cannot migrate: ${refusal.reason}`, { field: refusal.field });
    if (!this.deps.quorate()) throw new ClusterError(ClusterCodes.migrationFailed, `node "${self}" is on a side of the cluster without quorum; "${id}" stays`, { field: 'targetNode' });
    const started = kernel.clock.now();
    this.moving.add(id);
    // It arrived here a moment ago: what queued at its previous node, and what this node had passed on, come first.
    await this.lateArrived(id, options.timeoutMs ?? this.deps.options.timeoutMs);
    await order.settled(id);
    order.beginMove(id);
    this.deps.leaving(id);
    let captured;
    try {
      captured = await kernel.handoff.capture(id, options.drainMs ?? this.deps.options.drainMs);
    } catch (err) {
      order.abortMove(id);
      this.moving.delete(id);
      this.deps.staying(id);
      throw new ClusterError(ClusterCodes.migrationFailed, `"${id}" did not move to "${target}": ${(err as Error).message}; it carries on here`, { field: 'actorId', cause: err });
    }
    let reply: Reply;
    try {
      reply = await this.deps.exchange.request(target, 'import', captured.transfer, options.timeoutMs ?? this.deps.options.timeoutMs);
    } catch (err) {
      this.tryAbort(target, id);
      this.restore(id, captured);
      throw new ClusterError(ClusterCodes.migrationFailed, `"${id}" did not move to "${target}": ${(err as Error).message}; it carries on here, nothing lost`, { field: 'targetNode', cause: err });
    }
    if (!reply.ok) {
      this.restore(id, captured);
      throw new ClusterError(ClusterCodes.migrationRefused, `node "${target}" refused "${id}": ${reply.error.message}`, {
        field: reply.error.field ?? 'targetNode',
        details: { code: reply.error.code, ...(reply.error.details === undefined ? {} : { cause: reply.error.details }) },
      });
    }
    // The target has the state on disk and runs it. A checkpoint this node was writing when the
    // move began settles before the actor leaves (its replication must not run after `left`).
    await sourceSettled(captured.transfer.durable);
    // What queued here since the capture goes after it, with the fences this node saw and the
    // messages it held for them; then stragglers are forwarded.
    const late = kernel.handoff.seal(id);
    const { fences, held } = order.handover(id);
    try {
      this.deps.exchange.post(target, 'late', { id, messages: late, fences } satisfies LateBody);
      for (const m of held) this.deps.forward(target, m);
    } catch {
      // the target went down in this instant: these messages fail like any sent to a node that died
    }
    order.moveDone(id, target);
    const incarnation = reply.incarnation ?? 0;
    this.deps.moved(id, target, incarnation, captured.transfer.tenant);
    this.deps.left(id);
    try {
      await kernel.handoff.retire(id);
    } finally {
      this.moving.delete(id);
    }
    const ms = kernel.clock.now() - started;
    kernel.emit('@agentos.actor.migrated', { id, from: self, to: target, incarnation, ms });
    kernel.governance.record({ kind: 'cluster', decision: 'migrated', actor: id, tenant: captured.transfer.tenant, subject: target, reason: `moved from "${self}" to "${target}" as incarnation ${incarnation}` });
    return { id, from: self, to: target, incarnation, ms };
  }

  private restore(id: string, captured: Captured): void {
    this.deps.kernel.handoff.resume(captured);
    this.deps.order.abortMove(id);
    this.moving.delete(id);
    this.deps.staying(id);
  }

  // ── target ─────────────────────────────────────────────────────────────

  /** A transfer arrived: start the actor here or say why not. */
  async imported(from: string, t: ActorTransfer, reply: (r: Reply) => void): Promise<void> {
    const { kernel, order } = this.deps;
    const refuse = (error: WireError): void => reply({ ok: false, error });
    if (!this.deps.quorate()) return refuse({ code: ClusterCodes.migrationRefused, message: `node "${this.deps.self}" is on a side of the cluster without quorum`, field: 'targetNode' });
    const def = this.deps.definition(t.agent, t.version);
    if (!def || def.version !== t.version) {
      return refuse({ code: ClusterCodes.migrationRefused, message: `node "${this.deps.self}" has no agent ${t.agent}@${t.version} registered`, field: 'definition' });
    }
    let placement: string | undefined;
    try {
      placement = placementRefusal(contractOf(def).placement, this.deps.options.placement);
    } catch (err) {
      placement = (err as Error).message;
    }
    if (placement) return refuse({ code: ClusterCodes.migrationRefused, message: placement, field: 'placement', details: { placement: this.deps.options.placement } });
    try {
      this.arriving.set(t.id, from);
      const hidden = order.needsDetour(t.id);
      const incarnation = await kernel.handoff.arrive(def, t, { hidden });
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      this.awaitingLate.set(t.id, { from, done, resolve });
      reply({ ok: true, incarnation });
      order.arrived(t.id, () => kernel.handoff.unhide(t.id));
      this.deps.arrived(t.id);
    } catch (err) {
      const e = isAgentOsError(err) ? err : undefined;
      refuse({ code: e?.code ?? 'IMPORT_FAILED', message: (err as Error)?.message ?? String(err), ...(e?.field === undefined ? {} : { field: e.field }), ...(e?.details === undefined ? {} : { details: e.details }) });
    } finally {
      // The source's abort can only come before it has our answer; after that the actor is ours.
      this.deps.kernel.clock.setTimeout(() => this.arriving.delete(t.id), this.deps.options.timeoutMs);
    }
  }

  /** Messages the source had queued after the capture: ahead of anything routed to the actor later. */
  late(from: string, body: LateBody): void {
    const waiting = this.awaitingLate.get(body.id);
    if (waiting?.from === from) {
      this.awaitingLate.delete(body.id);
      waiting.resolve();
    }
    const onward = this.deps.order.movedTo(body.id);
    // It moved on before these came (its wait for them timed out): they follow it.
    if (onward !== undefined) return void this.trySend(onward, body);
    this.deps.order.adopt(body.id, body.fences);
    if (body.messages.length > 0) this.deps.kernel.handoff.deliverLate(body.id, body.messages).catch(() => undefined);
  }

  /** The source of an actor that arrived here went down: nothing more comes from it. */
  nodeGone(node: string): void {
    for (const [id, w] of this.awaitingLate) {
      if (w.from !== node) continue;
      this.awaitingLate.delete(id);
      w.resolve();
    }
  }

  private async lateArrived(id: string, timeoutMs: number): Promise<void> {
    const w = this.awaitingLate.get(id);
    if (!w) return;
    let timer: unknown;
    await Promise.race([w.done, new Promise<void>((r) => (timer = this.deps.kernel.clock.setTimeout(r, timeoutMs)))]);
    this.deps.kernel.clock.clearTimeout(timer);
    this.awaitingLate.delete(id);
  }

  /** The source gave up (it resumed the actor): a copy started here goes. */
  async aborted(from: string, id: string): Promise<void> {
    if (this.arriving.get(id) !== from || !this.deps.kernel.describe(id)) return;
    this.arriving.delete(id);
    this.deps.left(id);
    await this.deps.kernel.handoff.retire(id).catch(() => undefined);
  }

  // ── asking the owner ───────────────────────────────────────────────────

  private askOwner(owner: string, id: string, target: string, options: MigrateOptions, hops: number): Promise<MigrationResult> {
    const rid = ++this.rid;
    const clock = this.deps.kernel.clock;
    const waitMs = (options.drainMs ?? this.deps.options.drainMs) + 2 * (options.timeoutMs ?? this.deps.options.timeoutMs);
    return new Promise<MigrationResult>((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        this.asked.delete(rid);
        reject(new ClusterError(ClusterCodes.migrationFailed, `node "${owner}" (owner of "${id}") did not answer within ${waitMs} ms`, { field: 'actorId' }));
      }, waitMs);
      this.asked.set(rid, { resolve, reject, timer });
      try {
        this.deps.send(owner, { k: HANDOFF_MESSAGE, op: 'migrate', rid, id, target, hops });
      } catch (err) {
        clock.clearTimeout(timer);
        this.asked.delete(rid);
        reject(err);
      }
    });
  }

  /** Another node asks this one to move an actor it owns. */
  async migrateRequest(from: string, m: Extract<HandoffMessage, { op: 'migrate' }>): Promise<void> {
    let answer: HandoffMessage;
    try {
      let result: MigrationResult;
      if (this.deps.kernel.describe(m.id)) {
        if (m.target === this.deps.self) throw new ClusterError(ClusterCodes.invalidOptions, `"${m.id}" is already on node "${m.target}"`, { field: 'targetNode' });
        result = await this.migrateHere(m.id, m.target, {});
      } else {
        // It left: ask where it went (a few hops at most).
        const owner = this.deps.locate(m.id);
        if (owner === undefined || owner === from || m.hops >= 4) throw new ActorError(ErrorCodes.unknownActor, `"${m.id}" is not on node "${this.deps.self}", nor known elsewhere`, { field: 'actorId' });
        result = await this.askOwner(owner, m.id, m.target, {}, m.hops + 1);
      }
      answer = { k: HANDOFF_MESSAGE, op: 'migrated', rid: m.rid, result };
    } catch (err) {
      const e = isAgentOsError(err) ? err : undefined;
      answer = { k: HANDOFF_MESSAGE, op: 'migrated', rid: m.rid, error: { code: e?.code ?? ClusterCodes.migrationFailed, message: (err as Error)?.message ?? String(err), ...(e?.field === undefined ? {} : { field: e.field }), ...(e?.details === undefined ? {} : { details: e.details }) } };
    }
    this.trySend(from, answer);
  }

  migrateAnswer(m: Extract<HandoffMessage, { op: 'migrated' }>): void {
    const p = this.asked.get(m.rid);
    if (!p) return;
    this.asked.delete(m.rid);
    this.deps.kernel.clock.clearTimeout(p.timer);
    if (m.result) p.resolve(m.result);
    else p.reject(new ClusterError(m.error?.code ?? ClusterCodes.migrationFailed, m.error?.message ?? 'migration failed', { ...(m.error?.field === undefined ? {} : { field: m.error.field }), ...(m.error?.details === undefined ? {} : { details: m.error.details as Record<string, unknown> }) }));
  }

  close(): void {
    for (const [rid, p] of this.asked) {
      this.deps.kernel.clock.clearTimeout(p.timer);
      p.reject(new ClusterError(ClusterCodes.closed, 'the cluster stopped before the owner answered', { field: 'actorId' }));
      this.asked.delete(rid);
    }
  }

  private tryAbort(target: string, id: string): void {
    this.trySend(target, { k: HANDOFF_MESSAGE, op: 'abort', id });
  }

  private trySend(node: string, m: HandoffMessage | LateBody): void {
    try {
      if ('k' in m) this.deps.send(node, m);
      else this.deps.exchange.post(node, 'late', m);
    } catch {
      // out of reach: nothing to tell it
    }
  }
}
