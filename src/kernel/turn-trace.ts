// What the kernel traces: one span per delivered message (a turn), one per
// syscall under the turn that made it, and the W3C traceparent that carries a
// turn's trace into every message the actor sends while handling it, so one
// trace follows a request from actor to actor (and, with the cluster, from
// node to node). With telemetry off every method is a cheap no-op. A lineage
// recorder, when one is set, is told of each turn and of each syscall's start
// and end (with or without telemetry).

import { context as otelContext, INVALID_SPAN_CONTEXT, ROOT_CONTEXT, trace, type Counter } from '@opentelemetry/api';
import type { ActorCell } from '../actors/cell.js';
import type { Envelope } from '../actors/envelope.js';
import type { SyscallRequest } from './governance.js';
import { NO_TELEMETRY, SpanKind, startSpan, traceparentOf, TraceSpan, type Attributes, type Telemetry } from './trace.js';

/** What a lineage recorder (services/telemetry/lineage.ts) is told: each turn as it begins, each syscall as it starts. */
export interface LineageHook {
  turn(cell: ActorCell, env: Envelope, span: TraceSpan | undefined): void;
  /** A syscall starts (`span`: its recording span, if any; `key`: a persistent caller's idempotency key); undefined when the actor's turns are not recorded. */
  call(actorId: string, request: SyscallRequest, span: TraceSpan | undefined, key: string | undefined): LineageCallHook | undefined;
}

/** One recorded syscall, told how it goes. */
export interface LineageCallHook {
  /** Attributes to put on the syscall span, linking it to the record (the prompt hash, …). */
  readonly attributes?: Attributes;
  /** Attributes set on the syscall span and on the spans under it (the tool's version and manifest hash). */
  note?(attributes: Attributes): void;
  /** The call ended: with `error`, or with `result`. Must not throw. */
  end(error: unknown, result?: unknown): void;
}

export class KernelTracing {
  private readonly events: Counter;
  private lineage: LineageHook | undefined;
  /** Inside `external`: syscalls made for an actor by someone else, not by one of its turns. */
  private externalDepth = 0;
  private readonly recorded = new WeakMap<TraceSpan, LineageCallHook>();

  constructor(
    readonly telemetry: Telemetry,
    private readonly nodeId: string,
    private readonly now: () => number,
  ) {
    this.events = telemetry.meter.createCounter('agentos.events', { description: 'system events (restarts, escalations, deadline misses, dead letters, …) by type' });
  }

  /** Count one system event (a no-op without a metric reader). */
  count(type: string): void {
    // No attribute object per event when nothing reads the meter.
    if (this.telemetry.meter !== NO_TELEMETRY.meter) this.events.add(1, { 'agentos.event': type, 'agentos.node': this.nodeId });
  }

  get enabled(): boolean {
    return this.telemetry.enabled;
  }

  /** Record the lineage of turns from now on (undefined: stop). */
  setLineage(hook: LineageHook | undefined): void {
    this.lineage = hook;
  }

  /**
   * Run `fn`, which makes a syscall on an actor's behalf from outside it
   * (`node.syscall`): the syscall starts synchronously inside, and is not
   * recorded as part of the actor's turns.
   */
  external<T>(fn: () => T): T {
    this.externalDepth++;
    try {
      return fn();
    } finally {
      this.externalDepth--;
    }
  }

  /** The span of one delivered message, continuing the trace its envelope carries. */
  beginTurn(cell: ActorCell, env: Envelope): TraceSpan | undefined {
    const span = this.telemetry.enabled ? this.turnSpan(cell, env) : undefined;
    this.lineage?.turn(cell, env, span);
    return span;
  }

  private turnSpan(cell: ActorCell, env: Envelope): TraceSpan {
    const attributes: Record<string, string | number | boolean> = {
      'agentos.node': this.nodeId,
      'agentos.actor': cell.id,
      'agentos.message.type': env.type,
      'agentos.message.id': env.id,
      'agentos.class': env.class,
      'agentos.mailbox.depth': cell.mailbox.size,
    };
    if (env.from !== undefined) attributes['agentos.from'] = env.from;
    if (env.tenant !== undefined) attributes['agentos.tenant'] = env.tenant;
    if (env.conversationId !== undefined) attributes['agentos.conversation'] = env.conversationId;
    if (cell.durable) attributes['agentos.turn'] = cell.turn;
    if (env.enqueuedAt !== undefined) attributes['agentos.wait_ms'] = Math.max(0, this.now() - env.enqueuedAt);
    if (env.deadline !== undefined) {
      attributes['agentos.deadline'] = env.deadline;
      attributes['agentos.deadline.missed'] = this.now() > env.deadline;
    }
    return startSpan(this.telemetry, 'agentos.deliver', env.traceparent, attributes, SpanKind.CONSUMER);
  }

  endTurn(cell: ActorCell, trace: unknown, crashed: boolean): void {
    if (!(trace instanceof TraceSpan)) return;
    trace.end(crashed && cell.lastExit?.kind === 'error' ? cell.lastExit.error : undefined);
  }

  /** The traceparent a message sent by `cell` carries: its latest turn's. */
  fromActor(cell: ActorCell): string | undefined {
    return cell.trace instanceof TraceSpan ? cell.trace.traceparent : undefined;
  }

  /** A send from outside any actor continues the caller's active OpenTelemetry trace, if it has one and named none. */
  outside<O extends { traceparent?: string }>(options: O): O {
    if (options.traceparent !== undefined || !this.telemetry.enabled) return options;
    const traceparent = traceparentOf(otelContext.active());
    return traceparent === undefined ? options : { ...options, traceparent };
  }

  /** Run `fn` as the work of `span`: the span ends with its outcome (and so does the call's lineage record). */
  async within<T>(span: TraceSpan, fn: () => Promise<T>): Promise<T> {
    const recorded = this.recorded.get(span);
    try {
      const out = await fn();
      span.end();
      recorded?.end(undefined, out);
      return out;
    } catch (err) {
      span.end(err);
      recorded?.end(err);
      throw err;
    }
  }

  /**
   * The span of one syscall, under the turn of the actor that made it. With a
   * lineage recorder and no telemetry, a recorded call still gets a span (one
   * that records nothing), so the kernel reports its end and services' spans
   * under it can be observed.
   */
  syscall(cell: ActorCell | undefined, actorId: string, request: SyscallRequest, key: string | undefined): TraceSpan | undefined {
    let span = this.telemetry.enabled ? this.syscallSpan(cell, actorId, request, key) : undefined;
    const recorded = this.externalDepth > 0 ? undefined : this.lineage?.call(actorId, request, span, key);
    if (recorded === undefined) return span;
    span ??= new TraceSpan(NO_TELEMETRY, trace.wrapSpanContext(INVALID_SPAN_CONTEXT), ROOT_CONTEXT);
    if (recorded.attributes) span.set(recorded.attributes);
    if (recorded.note) span.observer = recorded.note.bind(recorded);
    this.recorded.set(span, recorded);
    return span;
  }

  private syscallSpan(cell: ActorCell | undefined, actorId: string, request: SyscallRequest, key: string | undefined): TraceSpan {
    const parent = cell?.trace instanceof TraceSpan ? cell.trace.context : otelContext.active();
    const attributes: Record<string, string | number> = {
      'agentos.node': this.nodeId,
      'agentos.actor': actorId,
      'agentos.syscall.kind': request.kind,
      'agentos.syscall.name': request.name,
    };
    if (key !== undefined) attributes['agentos.idempotency_key'] = key;
    if (request.onBehalfOf !== undefined) attributes['agentos.on_behalf_of'] = request.onBehalfOf;
    if (request.tokens !== undefined) attributes['agentos.tokens.requested'] = request.tokens;
    return startSpan(this.telemetry, 'agentos.syscall', parent, attributes, SpanKind.CLIENT);
  }
}
