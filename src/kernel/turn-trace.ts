// What the kernel traces: one span per delivered message (a turn), one per
// syscall under the turn that made it, and the W3C traceparent that carries a
// turn's trace into every message the actor sends while handling it, so one
// trace follows a request from actor to actor (and, with the cluster, from
// node to node). With telemetry off every method is a cheap no-op.

import { context as otelContext, type Counter } from '@opentelemetry/api';
import type { ActorCell } from '../actors/cell.js';
import type { Envelope } from '../actors/envelope.js';
import type { SyscallRequest } from './governance.js';
import { NO_TELEMETRY, SpanKind, startSpan, traceparentOf, TraceSpan, type Telemetry } from './trace.js';

export class KernelTracing {
  private readonly events: Counter;

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

  /** The span of one delivered message, continuing the trace its envelope carries. */
  beginTurn(cell: ActorCell, env: Envelope): TraceSpan | undefined {
    if (!this.telemetry.enabled) return undefined;
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

  /** Run `fn` as the work of `span`: the span ends with its outcome. */
  async within<T>(span: TraceSpan, fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn();
      span.end();
      return out;
    } catch (err) {
      span.end(err);
      throw err;
    }
  }

  /** The span of one syscall, under the turn of the actor that made it. */
  syscall(cell: ActorCell | undefined, actorId: string, request: SyscallRequest, key: string | undefined): TraceSpan | undefined {
    if (!this.telemetry.enabled) return undefined;
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
