// The message path: every send and ask crosses `route`, which resolves the
// target, runs the edge checks, builds the envelope, and queues it in the
// target's mailbox for the scheduler. Refusals are typed errors and dead letters.

import type { TokenSource } from '../base/tokens.js';
import type { ActorCell } from '../actors/cell.js';
import type { AgentDefinition } from '../actors/define.js';
import { ASK_ADDRESS, publicSendOptions, type Envelope, type RouteOptions, type SendOptions } from '../actors/envelope.js';
import type { Clock } from '../base/clock.js';
import { ActorError, ErrorCodes, MailboxFull, PolicyDenied, ValidationError, isAgentOsError, type AgentOsError } from '../base/errors.js';
import { AskRegistry } from './asks.js';
import type { AuditRecordInput } from './audit/index.js';
import { askingNode, remoteAskAddress, type RemoteActor, type RemoteReply, type RemoteRouting, type RemoteSend } from './remote.js';
import type { DurableActor } from './durable/actor.js';
import { DeadLetterLog } from './deadletters.js';
import type { AskOptions } from './ref.js';
import type { Scheduler } from './scheduler.js';
import { checkMessage, type EdgeLimits } from './validate.js';

export interface RouterDeps {
  nodeId: string;
  clock: Clock;
  scheduler: Scheduler;
  limits: EdgeLimits;
  cell(id: string): ActorCell | undefined;
  emit(event: { type: `@agentos.${string}`; [k: string]: unknown }): void;
  /** Append to the audit log: refused cross-tenant sends are kernel decisions. */
  audit(record: AuditRecordInput): void;
  /** The durability of a persistent target: repeats are dropped, accepted messages journaled. */
  durable?(cell: ActorCell): DurableActor | undefined;
  /** Where ask correlation ids get their unguessable part (default: the OS CSPRNG). */
  tokens?: TokenSource;
  /** Actors on other nodes (the cluster layer); absent on a single node. */
  remote?(): RemoteRouting | undefined;
}

/** Largest ask timeout a timer can represent (Node clamps larger values to 1 ms). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export class Router {
  readonly deadLetters = new DeadLetterLog();
  readonly asks: AskRegistry;
  private msgSeq = 0;

  constructor(private readonly deps: RouterDeps) {
    this.asks = new AskRegistry(deps.clock, `${deps.nodeId}:ask:`, deps.tokens);
  }

  /** Validate and enqueue. Throws a typed error (and records a dead letter) on refusal. */
  route(to: string, message: unknown, options: RouteOptions = {}): Envelope {
    const cell = this.deps.cell(to);
    const type = typeof (message as { type?: unknown })?.type === 'string' ? (message as { type: string }).type : '?';
    if (!cell) {
      const remote = this.deps.remote?.();
      const where = remote?.locate(to);
      if (remote && where) return this.routeRemote(remote, where, to, type, message, options);
      const err = new ActorError(ErrorCodes.unknownActor, `no actor "${to}" on node "${this.deps.nodeId}"`, { field: 'to' });
      this.recordDead(to, type, message, options.from, err.code);
      throw err;
    }
    if (options.fromTenant !== undefined && options.fromTenant !== cell.tenant) {
      // From another node: its kernel checked the tenant against the directory; this one checks it again.
      const err = new PolicyDenied('CROSS_TENANT', `"${options.from ?? '(outside)'}" (tenant ${options.fromTenant}) may not message "${to}" (tenant ${cell.tenant})`, { field: 'to' });
      this.recordDead(to, type, undefined, options.from, err.code);
      this.refusedCrossTenant({ from: options.from, fromTenant: options.fromTenant, to, toTenant: cell.tenant, nodes: { fromNode: options.fromNode ?? '?', toNode: this.deps.nodeId } });
      throw err;
    }
    if (options.from !== undefined) {
      // Zero trust between tenants: an actor may only message actors of its own tenant.
      const sender = this.deps.cell(options.from);
      if (sender && sender.tenant !== cell.tenant) {
        const err = new PolicyDenied('CROSS_TENANT', `"${options.from}" (tenant ${sender.tenant}) may not message "${to}" (tenant ${cell.tenant})`, {
          field: 'to',
        });
        this.recordDead(to, type, undefined, options.from, err.code);
        this.refusedCrossTenant({ from: sender.id, fromTenant: sender.tenant, to, toTenant: cell.tenant });
        throw err;
      }
    }
    let payload: { type: string };
    try {
      payload = checkMessage(cell.def as AgentDefinition, message, to, this.deps.limits);
      checkOptions(options, to);
    } catch (err) {
      const code = (err as AgentOsError).code;
      // Never keep an oversize body alive in the dead-letter log.
      this.recordDead(to, type, code === ErrorCodes.payloadTooLarge ? undefined : message, options.from, code);
      throw err;
    }
    const env = this.envelope(cell, payload, options);
    const durable = this.deps.durable?.(cell);
    if (durable && options.origin && options.from !== undefined && durable.isDuplicate(options.from, options.origin)) {
      // A persistent sender running a turn again after a crash: this message was accepted the first time.
      this.deps.emit({ type: '@agentos.message.duplicate', to, from: options.from, messageType: env.type });
      return env;
    }
    const pushed = cell.mailbox.push(env);
    if (!pushed.ok) {
      const err = new MailboxFull(ErrorCodes.mailboxFull, `mailbox of "${to}" is full (${cell.mailbox.capacity} messages)`, {
        field: 'to',
        details: { capacity: cell.mailbox.capacity },
      });
      this.recordDead(to, env.type, payload, options.from, err.code);
      throw err;
    }
    if (durable) void durable.accept(env, options.origin).catch(() => undefined);
    if (cell.status === 'running') this.deps.scheduler.schedule(cell);
    return env;
  }

  ask(to: string, message: unknown, options: AskOptions & RouteOptions = {}): Promise<unknown> {
    const timeoutMs = options.timeoutMs ?? 5000;
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
      return Promise.reject(
        new ValidationError(ErrorCodes.invalidOptions, `ask to "${to}": timeoutMs must be a number of ms between 0 and ${MAX_TIMEOUT_MS} (got ${String(timeoutMs)})`, {
          field: 'timeoutMs',
        }),
      );
    }
    const type = (message as { type?: unknown })?.type;
    const { correlationId, reply } = this.asks.open(to, String(type), timeoutMs);
    try {
      this.route(to, message, { ...options, replyTo: ASK_ADDRESS, correlationId });
    } catch (err) {
      this.asks.reject(correlationId, err);
    }
    return reply;
  }

  /** A reply from inside a machine: settles an ask, or becomes a message to the asking actor. */
  reply(from: ActorCell, env: Pick<Envelope, 'replyTo' | 'correlationId' | 'conversationId'>, value: unknown): void {
    if (env.replyTo === ASK_ADDRESS) {
      this.asks.resolve(env.correlationId, value, from.id);
      return;
    }
    const asker = askingNode(env.replyTo);
    if (asker !== undefined) {
      // An ask from another node: the answer goes back to it (a lost link loses the answer, as a timeout there).
      if (env.correlationId !== undefined) this.remoteReply(asker, { correlationId: env.correlationId, replier: from.id, value });
      return;
    }
    if (env.replyTo === undefined) return;
    this.routeQuietly(env.replyTo, value, {
      from: from.id,
      ...(env.correlationId === undefined ? {} : { correlationId: env.correlationId }),
      ...(env.conversationId === undefined ? {} : { conversationId: env.conversationId }),
    });
  }

  /** A send from inside a machine: a refusal is a dead letter, not a crash of the sender. */
  tell(from: ActorCell, to: string, message: unknown, options?: SendOptions, origin?: [number, number]): void {
    this.routeQuietly(to, message, { ...publicSendOptions(options), from: from.id, ...(origin ? { origin } : {}) });
  }

  private routeQuietly(to: string, message: unknown, options: RouteOptions): void {
    try {
      this.route(to, message, options);
    } catch (err) {
      if (!isAgentOsError(err)) throw err;
    }
  }

  /** A queued message that will never be handled: dead letter, and fail its ask. */
  undeliverable(env: Envelope, reason: string): void {
    this.recordDead(env.to, env.type, env.payload, env.from, reason, env.id);
    const error = new ActorError(ErrorCodes.actorStopped, `"${env.to}" could not handle "${env.type}": ${reason}`, { field: 'to' });
    if (env.replyTo === ASK_ADDRESS) this.asks.reject(env.correlationId, error);
    const asker = askingNode(env.replyTo);
    if (asker !== undefined && env.correlationId !== undefined) {
      this.remoteReply(asker, { correlationId: env.correlationId, replier: env.to, error: { code: error.code, message: error.message, field: 'to' } });
    }
  }

  /** A reply that came back from another node for one of this node's asks. */
  settleRemote(reply: RemoteReply): void {
    if ('value' in reply) this.asks.resolve(reply.correlationId, reply.value, reply.replier);
    else this.asks.reject(reply.correlationId, remoteError(reply.error));
  }

  /** The audit record of a refused cross-tenant send; between nodes it names both. */
  private refusedCrossTenant(r: { from: string | undefined; fromTenant: string | undefined; to: string; toTenant: string | undefined; nodes?: { fromNode: string; toNode: string } }): void {
    this.deps.audit({
      kind: 'policy',
      decision: 'denied',
      ...(r.from === undefined ? {} : { actor: r.from }),
      ...(r.fromTenant === undefined ? {} : { tenant: r.fromTenant }),
      subject: `message:${r.to}`,
      reason: `cross-tenant message to tenant ${r.toTenant ?? '-'}${r.nodes ? ' across nodes' : ''}`,
      ...(r.nodes ? { data: r.nodes } : {}),
    });
  }

  private remoteReply(node: string, reply: RemoteReply): void {
    try {
      this.deps.remote?.()?.reply(node, reply);
    } catch {
      // The asking node is out of reach: its ask times out there.
    }
  }

  /**
   * The sending side of a message to another node: the directory's tenant against the
   * sender's, the options, then the hand-off. The receiving kernel validates the
   * message against the agent's schema and checks the tenant again.
   */
  private routeRemote(remote: RemoteRouting, where: RemoteActor, to: string, type: string, message: unknown, options: RouteOptions): Envelope {
    const from = options.from;
    const sender = from === undefined ? undefined : this.deps.cell(from);
    if (sender && sender.tenant !== where.tenant) {
      this.refusedCrossTenant({ from, fromTenant: sender.tenant, to, toTenant: where.tenant, nodes: { fromNode: this.deps.nodeId, toNode: where.node } });
      this.refuseRemote(to, type, from, new PolicyDenied('CROSS_TENANT', `"${from}" (tenant ${sender.tenant}) may not message "${to}" (tenant ${where.tenant}, on node ${where.node})`, { field: 'to' }));
    }
    if (typeof message !== 'object' || message === null || type === '?') {
      this.refuseRemote(to, type, from, new ValidationError(ErrorCodes.invalidMessage, `message to "${to}" must be an object with a string "type"`, { field: 'message' }));
    }
    checkOptions(options, to);
    const replyTo = options.replyTo === ASK_ADDRESS ? remoteAskAddress(this.deps.nodeId) : options.replyTo;
    // Built as literals, not with spreads: this runs for every message, and the objects go
    // straight into the link's encoder (see remoteOptions).
    const send: RemoteSend = sender
      ? { to, message, options: remoteOptions(options, replyTo), fromTenant: sender.tenant, fromNode: this.deps.nodeId }
      : { to, message, options: remoteOptions(options, replyTo), fromNode: this.deps.nodeId };
    try {
      remote.forward(where.node, send);
    } catch (err) {
      if (isAgentOsError(err)) this.refuseRemote(to, type, from, err);
      throw err;
    }
    return { id: `${this.deps.nodeId}:${++this.msgSeq}`, from, to, type, payload: message, class: 'SRT', sentAt: this.deps.clock.now(), tenant: where.tenant };
  }

  /** A message to another node refused on this side: a dead letter (without its body), and the error. */
  private refuseRemote(to: string, type: string, from: string | undefined, err: AgentOsError): never {
    this.recordDead(to, type, undefined, from, err.code);
    throw err;
  }

  /** An envelope for a stored message of a persistent actor (validated when it was first accepted). */
  rebuild(cell: ActorCell, stored: { payload: unknown; from?: string; priority?: number; deadline?: number; conversationId?: string; performative?: string }): Envelope {
    const payload = stored.payload as { type: string };
    const env = this.envelope(cell, payload, {
      ...(stored.from === undefined ? {} : { from: stored.from }),
      ...(stored.priority === undefined ? {} : { priority: stored.priority }),
      ...(stored.conversationId === undefined ? {} : { conversationId: stored.conversationId }),
      ...(stored.performative === undefined ? {} : { performative: stored.performative }),
    });
    if (stored.deadline !== undefined) env.deadline = stored.deadline;
    return env;
  }

  private envelope(cell: ActorCell, payload: { type: string }, options: RouteOptions): Envelope {
    const now = this.deps.clock.now();
    const env: Envelope = {
      id: `${this.deps.nodeId}:${++this.msgSeq}`,
      from: options.from,
      to: cell.id,
      type: payload.type,
      payload,
      class: cell.latency,
      sentAt: now,
      tenant: cell.tenant,
    };
    if (cell.latency === 'HRT') {
      const rel = options.deadlineMs ?? cell.deadlineMs;
      if (rel !== undefined) env.deadline = now + rel;
    } else if (cell.latency === 'SRT') {
      env.priority = options.priority ?? cell.priority ?? 5;
    }
    if (options.conversationId !== undefined) env.conversationId = options.conversationId;
    if (options.performative !== undefined) env.performative = options.performative;
    if (options.traceparent !== undefined) env.traceparent = options.traceparent;
    if (options.idempotencyKey !== undefined) env.idempotencyKey = options.idempotencyKey;
    if (options.replyTo !== undefined) env.replyTo = options.replyTo;
    if (options.correlationId !== undefined) env.correlationId = options.correlationId;
    return env;
  }

  private recordDead(to: string, type: string, payload: unknown, from: string | undefined, reason: string, id = '-'): void {
    this.deadLetters.add({ id, from, to, type, payload }, reason, this.deps.clock.now());
    this.deps.emit({ type: '@agentos.deadletter', to, from, messageType: type, reason });
  }
}

/** A failure that came back from another node, as the typed error it was there. */
function remoteError(e: { code: string; message: string; field?: string }): AgentOsError {
  return new ActorError(e.code, e.message, e.field === undefined ? {} : { field: e.field });
}

function checkOptions(options: RouteOptions, to: string): void {
  if (options.priority !== undefined && !(Number.isInteger(options.priority) && options.priority >= 0 && options.priority <= 9)) {
    badOption(to, 'priority', `must be an integer 0-9 (got ${String(options.priority)})`);
  }
  if (options.deadlineMs !== undefined && !(Number.isFinite(options.deadlineMs) && options.deadlineMs >= 0)) {
    badOption(to, 'deadlineMs', `must be a finite number >= 0 (got ${String(options.deadlineMs)})`);
  }
}

// A module function, not a closure made per call: checkOptions runs for every message.
function badOption(to: string, field: string, why: string): never {
  throw new ValidationError(ErrorCodes.invalidOptions, `send to "${to}": ${field} ${why}`, { field });
}

/**
 * The options a message to another node carries: the public send options, the
 * sender, the reply address and the correlation — never `origin`, `fromTenant` or
 * `fromNode` (the receiving side sets those itself). Copied field by field into a
 * fresh object: nothing else the caller's object holds goes along, and it is
 * cheaper than an object rest plus spreads, both to build and for the encoder.
 */
function remoteOptions(o: RouteOptions, replyTo: string | undefined): RemoteSend['options'] {
  const out: RemoteSend['options'] = {};
  if (o.from !== undefined) out.from = o.from;
  if (replyTo !== undefined) out.replyTo = replyTo;
  if (o.correlationId !== undefined) out.correlationId = o.correlationId;
  if (o.priority !== undefined) out.priority = o.priority;
  if (o.deadlineMs !== undefined) out.deadlineMs = o.deadlineMs;
  if (o.conversationId !== undefined) out.conversationId = o.conversationId;
  if (o.performative !== undefined) out.performative = o.performative;
  if (o.traceparent !== undefined) out.traceparent = o.traceparent;
  if (o.idempotencyKey !== undefined) out.idempotencyKey = o.idempotencyKey;
  return out;
}
