// Tracing and metrics as the kernel sees them: an OpenTelemetry tracer and
// meter injected by the node (no-ops unless telemetry is configured), W3C
// `traceparent` in and out of envelopes, and `TraceSpan`, a small wrapper
// that stamps spans with the node clock when it is virtual (so traces taken
// on a VirtualClock are deterministic) and records typed errors the same way
// everywhere. Services get the span of the syscall they serve and hang their
// own spans under it.

import {
  context as otelContext,
  metrics,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type HrTime,
  type Meter,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AgentOsError } from '../base/errors.js';

export { SpanKind };
export type { Attributes, Context };

/** What the kernel and services trace and measure with. */
export interface Telemetry {
  readonly tracer: Tracer;
  readonly meter: Meter;
  /** False when nothing is recorded: callers may skip building attributes. */
  readonly enabled: boolean;
  /** Span timestamps in epoch ms from the node clock, or undefined for OpenTelemetry's own high-resolution time. */
  time(): number | undefined;
}

/** Nothing recorded (the default: no telemetry configured). */
export const NO_TELEMETRY: Telemetry = {
  tracer: trace.getTracerProvider().getTracer('agentos-noop'),
  meter: metrics.getMeterProvider().getMeter('agentos-noop'),
  enabled: false,
  time: () => undefined,
};

/** Epoch ms as OpenTelemetry's [seconds, nanoseconds] (a bare number would be read as relative to process start when small). */
function hr(ms: number | undefined): HrTime | undefined {
  if (ms === undefined) return undefined;
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

const propagator = new W3CTraceContextPropagator();
const getter = {
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
  get: (carrier: Record<string, string>, key: string) => carrier[key],
};
const setter = {
  set: (carrier: Record<string, string>, key: string, value: string) => {
    carrier[key] = value;
  },
};

/** The parent context a W3C `traceparent` names (a malformed one is ignored: the span starts a new trace). */
export function contextOf(traceparent: string | undefined): Context {
  if (typeof traceparent !== 'string' || traceparent.length > 128) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, { traceparent }, getter);
}

/** The W3C `traceparent` of a span's context, if it is recording or sampled. */
export function traceparentOf(ctx: Context): string | undefined {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, setter);
  return carrier['traceparent'];
}

/** A live span with the node's clock and error conventions. `end` is idempotent. */
export class TraceSpan {
  readonly context: Context;
  /**
   * Sees every attribute set on this span and on the spans started under it,
   * recording or not: the lineage recorder learns a call's tool version this way.
   */
  observer: ((attributes: Attributes) => void) | undefined;
  private ended = false;

  constructor(
    private readonly telemetry: Telemetry,
    readonly span: Span,
    parent: Context,
  ) {
    this.context = trace.setSpan(parent, span);
  }

  /** The W3C traceparent naming this span (for envelopes and outgoing requests). */
  get traceparent(): string | undefined {
    return this.telemetry.enabled ? traceparentOf(this.context) : undefined;
  }

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  set(attributes: Attributes): this {
    this.observer?.(attributes);
    if (this.telemetry.enabled) this.span.setAttributes(attributes);
    return this;
  }

  event(name: string, attributes?: Attributes): this {
    if (this.telemetry.enabled) this.span.addEvent(name, attributes, hr(this.telemetry.time()));
    return this;
  }

  child(name: string, attributes?: Attributes, kind: SpanKind = SpanKind.INTERNAL): TraceSpan {
    const child = startSpan(this.telemetry, name, this.context, attributes, kind);
    if (this.observer) {
      child.observer = this.observer;
      if (attributes) this.observer(attributes);
    }
    return child;
  }

  /** End the span; an error sets status ERROR and `agentos.error.code` (the AgentOsError code, or its name). */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.telemetry.enabled) return;
    if (error !== undefined) {
      const code = error instanceof AgentOsError ? error.code : error instanceof Error ? error.name : 'ERROR';
      const message = error instanceof Error ? error.message : String(error);
      this.span.setAttribute('agentos.error.code', code);
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: `${code}: ${message}`.slice(0, 500) });
    }
    this.span.end(hr(this.telemetry.time()));
  }
}

/** Start a span under `parent` (a context, a traceparent, or nothing for a new trace). */
export function startSpan(telemetry: Telemetry, name: string, parent: Context | string | undefined, attributes?: Attributes, kind: SpanKind = SpanKind.INTERNAL): TraceSpan {
  const parentContext = typeof parent === 'string' || parent === undefined ? contextOf(parent) : parent;
  const startTime = hr(telemetry.time());
  const span = telemetry.tracer.startSpan(
    name,
    { kind, ...(attributes && telemetry.enabled ? { attributes } : {}), ...(startTime === undefined ? {} : { startTime }) },
    parentContext,
  );
  return new TraceSpan(telemetry, span, parentContext);
}

/** Run `fn` inside a span that ends with its outcome. */
export async function inSpan<T>(
  telemetry: Telemetry,
  name: string,
  parent: Context | string | undefined,
  attributes: Attributes | undefined,
  fn: (span: TraceSpan) => T | Promise<T>,
): Promise<T> {
  const span = startSpan(telemetry, name, parent, attributes);
  try {
    const out = await otelContext.with(span.context, () => fn(span));
    span.end();
    return out;
  } catch (err) {
    span.end(err);
    throw err;
  }
}
