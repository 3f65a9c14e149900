// The A2A bus of one node: agents' FIPA-ACL messages go through it. Each message
// is checked at the edge (schema, content size, its deadline), stepped through
// its conversation's state machine (protocol.ts), and only then routed by the
// kernel — as the sending actor, so tenancy and the target's schema apply. A
// refused message changes nothing. Conversations are visible as plain JSON,
// expire on the node clock, and are forgotten after a bound once closed.
// Events: @agentos.a2a.opened | message | closed | expired | refused | delegated.

import type { ActorCell } from '../../actors/cell.js';
import { ASK_ADDRESS, type RouteOptions } from '../../actors/envelope.js';
import { AgentOsError, isAgentOsError } from '../../base/errors.js';
import type { SyscallRequest } from '../../kernel/governance.js';
import type { Kernel } from '../../kernel/kernel.js';
import { ConversationTable } from './conversations.js';
import { auditDelegation, delegatedRequest, principalsOf } from './delegation.js';
import { A2ACodes, A2AError } from './errors.js';
import { DEFAULT_MAX_CONTENT_BYTES, looksLikeA2A, parseA2AMessage, type A2AMessage } from './message.js';
import { step, TERMINAL, view, type ConversationState, type ConversationStatus, type ConversationView, type StepLimits } from './protocol.js';

export interface A2ABusOptions {
  /** Largest `content`, estimated as UTF-8 JSON (default 256 KiB). */
  maxContentBytes?: number;
  /** Most open conversations; opening more is refused with A2A_TOO_MANY_CONVERSATIONS (default 10,000). */
  maxOpen?: number;
  /** Closed conversations remembered (then forgotten, oldest first; default 1,000). */
  retainClosed?: number;
  /** Reply tokens remembered per conversation (default 256). */
  maxTokens?: number;
  /** Most participants of one conversation (cfp fan-out; default 64). */
  maxParticipants?: number;
}

export interface A2AAskOptions {
  /** Default 5000. */
  timeoutMs?: number;
}

export interface A2ABusStats {
  open: number;
  closed: number;
  opened: number;
  messages: number;
  refused: number;
  expired: number;
  delegated: number;
  forgotten: number;
}

/** Where the bus hands messages addressed to `actor` in one conversation instead of routing them (an external A2A caller). */
export interface A2AEndpoint {
  actor: string;
  message(msg: A2AMessage): void;
  /** The conversation closed (by a message or by expiry). */
  closed?(state: ConversationView): void;
}

interface Prepared {
  msg: A2AMessage;
  next: ConversationState;
  opened: boolean;
  principals: string[] | undefined;
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** An ask settled because its conversation closed: with the closing message when it was addressed to the asker. */
class ClosedBy {
  constructor(readonly msg: A2AMessage | undefined) {}
}
const buses = new WeakMap<Kernel, A2ABus>();

/** The bus of a kernel, created once per node (createNode does it). */
export function createA2ABus(kernel: Kernel, options: A2ABusOptions = {}): A2ABus {
  return new A2ABus(kernel, options);
}

/** The bus created for this kernel, if any. */
export function a2aBusOf(kernel: Kernel): A2ABus | undefined {
  return buses.get(kernel);
}

export class A2ABus {
  private readonly table: ConversationTable;
  private readonly limits: StepLimits;
  /** Largest `content` the bus accepts (estimated UTF-8 JSON bytes). */
  readonly maxContentBytes: number;
  private readonly endpoints = new Map<string, A2AEndpoint>();
  /** Asks waiting on a conversation: settled when it closes, so no ask outlives its conversation. */
  private readonly asks = new Map<string, { correlationId: string; asker: string }>();
  private readonly counts = { opened: 0, messages: 0, refused: 0, expired: 0, delegated: 0 };
  private isClosed = false;

  constructor(
    readonly kernel: Kernel,
    options: A2ABusOptions = {},
  ) {
    const o = options ?? {};
    this.maxContentBytes = positive(o.maxContentBytes, 'maxContentBytes', DEFAULT_MAX_CONTENT_BYTES);
    this.limits = { maxTokens: positive(o.maxTokens, 'maxTokens', 256), maxParticipants: positive(o.maxParticipants, 'maxParticipants', 64) };
    const limits = { maxOpen: positive(o.maxOpen, 'maxOpen', 10_000), retainClosed: positive(o.retainClosed, 'retainClosed', 1000, true) };
    if (buses.has(kernel)) throw new A2AError(A2ACodes.invalidOptions, `node "${kernel.nodeId}" already has an A2A bus (a2aBusOf(kernel) returns it)`, { field: 'kernel' });
    this.table = new ConversationTable(kernel.clock, limits, (s) => this.expired(s));
    buses.set(kernel, this);
  }

  /** Send `message` as actor `from` (checked, stepped, routed); returns the message as delivered. Throws a typed error on refusal. */
  send(from: string, message: unknown): A2AMessage {
    let p: Prepared | undefined;
    try {
      p = this.prepare(from, message);
      this.deliver(p, (msg) => this.kernel.router.route(msg.to, msg, this.kernel.tracing.outside(routeOptions(msg))));
      return p.msg;
    } catch (err) {
      this.refused(err, p?.msg ?? message, from);
      throw err;
    }
  }

  /**
   * Send and wait for the receiver's answer (it answers with `reply(...)`). An A2A answer is stepped
   * through the conversation too (a violation rejects); a plain answer to a request closes it as its inform.
   * If the conversation closes first (the receiver answered with a2aSend, or someone cancelled), the ask
   * resolves then — with the closing message if it was addressed to the asker, else undefined; if it
   * expires, the ask fails with A2A_DEADLINE_PASSED.
   */
  ask(from: string, message: unknown, options: A2AAskOptions = {}): Promise<unknown> {
    const timeoutMs = options?.timeoutMs ?? 5000;
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
      return Promise.reject(new A2AError(A2ACodes.invalidOptions, `ask: timeoutMs must be a number of ms between 0 and ${MAX_TIMEOUT_MS}`, { field: 'timeoutMs' }));
    }
    let p: Prepared;
    try {
      p = this.prepare(from, message);
    } catch (err) {
      this.refused(err, message, from);
      return Promise.reject(err);
    }
    const { router } = this.kernel;
    const { correlationId, reply } = router.asks.open(p.msg.to, 'a2a', timeoutMs);
    try {
      router.route(p.msg.to, p.msg, this.kernel.tracing.outside({ ...routeOptions(p.msg), replyTo: ASK_ADDRESS, correlationId }));
    } catch (err) {
      this.refused(err, p.msg, from);
      router.asks.reject(correlationId, err);
      return reply;
    }
    const request = p.msg;
    const waiting = { correlationId, asker: from };
    this.asks.set(request.conversationId, waiting);
    this.commit(p);
    return reply
      .then((value) => this.answered(request, value))
      .finally(() => {
        if (this.asks.get(request.conversationId) === waiting) this.asks.delete(request.conversationId);
      });
  }

  /** A delegate's sensitive call for conversation `conversationId`: with the intersection of its contract and every principal's. */
  call(actor: string, conversationId: string, request: SyscallRequest, signal?: AbortSignal): Promise<unknown> {
    try {
      return this.kernel.syscall(actor, this.delegated(actor, conversationId, request), signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The request a delegate sends to the kernel for a conversation (see delegation.ts). */
  delegated(actor: string, conversationId: string, request: SyscallRequest): SyscallRequest {
    return delegatedRequest(this.kernel, actor, this.table.current(conversationId, this.kernel.clock.now()), conversationId, request);
  }

  /** Every remembered conversation (open first), as plain JSON; filter by status or participant. */
  conversations(filter: { status?: ConversationStatus; actor?: string } = {}): ConversationView[] {
    return this.table
      .all()
      .filter((s) => (filter.status === undefined || s.status === filter.status) && (filter.actor === undefined || s.participants.includes(filter.actor)))
      .map(view);
  }

  conversation(id: string): ConversationView | undefined {
    const s = this.table.current(id, this.kernel.clock.now());
    return s && view(s);
  }

  stats(): A2ABusStats {
    return { open: this.table.openCount, closed: this.table.closedCount, ...this.counts, forgotten: this.table.forgotten };
  }

  /** Messages to `endpoint.actor` in conversation `conversationId` go to the endpoint instead of a mailbox. Returns the detach. */
  attach(conversationId: string, endpoint: A2AEndpoint): () => void {
    this.endpoints.set(conversationId, endpoint);
    return () => {
      if (this.endpoints.get(conversationId) === endpoint) this.endpoints.delete(conversationId);
    };
  }

  /** Stop the deadline timers; later sends fail with A2A_CLOSED. The node calls this on stop. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.table.clear();
    this.endpoints.clear();
    this.asks.clear(); // their own timeouts (or the node's stop) settle them
    if (buses.get(this.kernel) === this) buses.delete(this.kernel);
  }

  /** A send from inside a machine (the a2aSend action): a refusal is a dead letter and an event, not a crash of the sender. */
  sendFromCell(cell: ActorCell, message: unknown): void {
    // Claimed even when refused, so a persistent actor's turn replays with the same positions.
    const origin = cell.durable ? cell.claimEffect() : undefined;
    const input = typeof message === 'object' && message !== null && !Array.isArray(message) ? { type: 'a2a', from: cell.id, ...message } : message;
    let p: Prepared | undefined;
    try {
      p = this.prepare(cell.id, input);
      const traceparent = this.kernel.tracing.fromActor(cell);
      this.deliver(p, (msg) => this.kernel.router.route(msg.to, msg, { ...routeOptions(msg), ...(traceparent === undefined ? {} : { traceparent }), ...(origin ? { origin } : {}) }));
    } catch (err) {
      if (!isAgentOsError(err)) throw err;
      this.refused(err, p?.msg ?? input, cell.id);
    }
  }

  // ── internals ──────────────────────────────────────────────────────────

  /** Check and step a message; nothing is stored yet. */
  private prepare(from: string, raw: unknown): Prepared {
    if (this.isClosed) throw new A2AError(A2ACodes.closed, `the A2A bus of node "${this.kernel.nodeId}" is closed`);
    if (typeof from !== 'string' || this.kernel.governance.admittedActor(from) === undefined) {
      throw new A2AError(A2ACodes.unknownActor, `A2A sender ${JSON.stringify(from)} is not an admitted actor of node "${this.kernel.nodeId}"`, { field: 'from' });
    }
    const msg = parseA2AMessage(raw, this.maxContentBytes);
    if (msg.from !== from) throw new A2AError(A2ACodes.invalidMessage, `A2A message: from must be the sending actor "${from}" (got "${msg.from}")`, { field: 'from' });
    const now = this.kernel.clock.now();
    if (msg.deadline !== undefined && now >= msg.deadline) {
      throw new A2AError(A2ACodes.deadlinePassed, `A2A ${msg.performative} in conversation "${msg.conversationId}": its deadline ${msg.deadline} has passed (now ${now})`, {
        field: 'deadline',
        details: { deadline: msg.deadline, now },
      });
    }
    const state = this.table.current(msg.conversationId, now);
    if (state?.status === 'expired') {
      throw new A2AError(A2ACodes.deadlinePassed, `A2A conversation "${msg.conversationId}" expired at ${state.closedAt} (deadline ${state.deadline})`, {
        field: 'conversationId',
        details: { deadline: state.deadline, now },
      });
    }
    const principals = msg.delegate === true || msg.onBehalfOf !== undefined ? principalsOf(this.kernel, msg, this.table.openStates()) : undefined;
    const r = step(state, msg, now, this.limits, principals);
    if (!r.ok) {
      throw new A2AError(A2ACodes.protocolViolation, r.reason, {
        field: state === undefined ? 'conversationId' : 'performative',
        details: { conversationId: msg.conversationId, performative: msg.performative, status: state?.status ?? 'unknown' },
      });
    }
    if (state === undefined && !TERMINAL.has(r.state.status) && this.table.isFull()) {
      throw new A2AError(A2ACodes.tooManyConversations, `node "${this.kernel.nodeId}" has ${this.table.openCount} open A2A conversations (maxOpen)`, { field: 'conversationId' });
    }
    const delivered = principals ? { ...msg, delegate: true, onBehalfOf: principals[principals.length - 1]! } : msg;
    return { msg: delivered, next: r.state, opened: state === undefined, principals };
  }

  /** Route (or leave to an endpoint), then store: a route the kernel refuses leaves the conversation as it was. */
  private deliver(p: Prepared, route: (msg: A2AMessage) => void): void {
    if (this.endpoints.get(p.msg.conversationId)?.actor !== p.msg.to) route(p.msg);
    this.commit(p);
  }

  /** Store the step, report it, hand the message to an endpoint standing for its receiver, then close if it ended the conversation. */
  private commit(p: Prepared): void {
    const { msg, next } = p;
    this.table.commit(next);
    this.counts.messages++;
    const base = { conversationId: msg.conversationId, from: msg.from, to: msg.to, performative: msg.performative };
    if (p.opened) {
      this.counts.opened++;
      this.kernel.emit('@agentos.a2a.opened', { ...base, pattern: next.pattern, ...(msg.protocol === undefined ? {} : { protocol: msg.protocol }) });
      if (p.principals) {
        this.counts.delegated++;
        auditDelegation(this.kernel, msg, p.principals);
        this.kernel.emit('@agentos.a2a.delegated', { ...base, principals: [...p.principals] });
      }
    }
    this.kernel.emit('@agentos.a2a.message', { ...base, status: next.status });
    const endpoint = this.endpoints.get(msg.conversationId);
    if (endpoint && endpoint.actor === msg.to) endpoint.message(msg);
    if (TERMINAL.has(next.status)) this.closedNow(next, msg);
  }

  /** The answer to an ask: an A2A message is stepped as the receiver's reply; a plain value closes an open request. */
  private answered(request: A2AMessage, value: unknown): unknown {
    if (value instanceof ClosedBy) return value.msg;
    if (looksLikeA2A(value)) {
      let p: Prepared | undefined;
      try {
        p = this.prepare(request.to, value);
        if (p.msg.to !== request.from || p.msg.conversationId !== request.conversationId) {
          throw new A2AError(A2ACodes.protocolViolation, `the answer of "${request.to}" to an ask in conversation "${request.conversationId}" is addressed to "${p.msg.to}" in "${p.msg.conversationId}"`, { field: 'to' });
        }
      } catch (err) {
        this.refused(err, p?.msg ?? value, request.to);
        throw err;
      }
      this.commit(p);
      return p.msg;
    }
    const now = this.kernel.clock.now();
    const s = this.table.current(request.conversationId, now);
    if (s && s.pattern === 'request' && !TERMINAL.has(s.status) && s.participants.includes(request.to)) {
      // The answer rides along as content for an endpoint; the conversation's state never keeps content.
      const inform: A2AMessage = { type: 'a2a', performative: 'inform', conversationId: s.id, from: request.to, to: request.from, content: value };
      const r = step(s, inform, now, this.limits);
      if (r.ok) this.commit({ msg: inform, next: r.state, opened: false, principals: undefined });
    }
    return value;
  }

  private expired(s: ConversationState): void {
    this.counts.expired++;
    this.kernel.emit('@agentos.a2a.expired', { conversationId: s.id, deadline: s.deadline, participants: [...s.participants] });
    this.closedNow(s);
  }

  private closedNow(s: ConversationState, by?: A2AMessage): void {
    this.kernel.emit('@agentos.a2a.closed', { conversationId: s.id, status: s.status, messages: s.messages });
    const ask = this.asks.get(s.id);
    if (ask) {
      this.asks.delete(s.id);
      if (s.status === 'expired') {
        this.kernel.router.asks.reject(ask.correlationId, new A2AError(A2ACodes.deadlinePassed, `A2A conversation "${s.id}" expired before it was answered`, { field: 'deadline', details: { deadline: s.deadline } }));
      } else {
        this.kernel.router.asks.resolve(ask.correlationId, new ClosedBy(by?.to === ask.asker ? by : undefined));
      }
    }
    const endpoint = this.endpoints.get(s.id);
    if (!endpoint) return;
    this.endpoints.delete(s.id);
    endpoint.closed?.(view(s));
  }

  /** Count and report a refused message (never its content: it may be large or sensitive). */
  private refused(err: unknown, message: unknown, from: unknown): void {
    if (!(err instanceof AgentOsError)) return;
    this.counts.refused++;
    const m = (typeof message === 'object' && message !== null ? message : {}) as Record<string, unknown>;
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v.slice(0, 256) : undefined);
    const to = str(m.to) ?? '?';
    const sender = str(from);
    this.kernel.emit('@agentos.a2a.refused', { from: sender, to, conversationId: str(m.conversationId), performative: str(m.performative), code: err.code, reason: err.message });
    // The kernel's own refusals are already dead letters; the bus's become dead letters here.
    if (err instanceof A2AError) this.kernel.router.deadLetters.add({ id: '-', from: sender, to, type: 'a2a', payload: undefined }, err.code, this.kernel.clock.now());
  }
}

function routeOptions(msg: A2AMessage): RouteOptions {
  return { from: msg.from, conversationId: msg.conversationId, performative: msg.performative };
}

function positive(value: unknown, field: string, fallback: number, zeroOk = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (zeroOk ? 0 : 1)) {
    throw new A2AError(A2ACodes.invalidOptions, `A2A bus: ${field} must be a whole number ${zeroOk ? '>= 0' : '> 0'} (got ${String(value)})`, { field });
  }
  return value;
}
