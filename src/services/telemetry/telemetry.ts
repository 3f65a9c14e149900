// The node's OpenTelemetry setup. Nothing leaves the machine by default: with
// no exporter configured the kernel gets no-op instruments and pays nothing.
// `console` prints finished spans; `otlp` sends spans and metrics over
// OTLP/HTTP to a collector the user runs. Providers are per node (never the
// process-global ones), so several nodes in one process keep their traces
// apart and a user's own global OpenTelemetry setup is left alone.

import { type Meter } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader, type MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { RealClock, type Clock } from '../../base/clock.js';
import { ErrorCodes, ValidationError } from '../../base/errors.js';
import { NO_TELEMETRY, type Telemetry } from '../../kernel/trace.js';

export type TelemetryExporter = 'none' | 'console' | 'otlp';

export interface TelemetryOptions {
  /** Where spans and metrics go: nowhere (default), the console, or an OTLP/HTTP collector. */
  exporter?: TelemetryExporter;
  /** OTLP/HTTP endpoints (defaults: the collector's standard `http://127.0.0.1:4318/v1/traces` and `/v1/metrics`). */
  otlp?: { tracesUrl?: string; metricsUrl?: string; headers?: Record<string, string> };
  /** More span processors, e.g. `new SimpleSpanProcessor(new InMemorySpanExporter())` in tests. */
  spanProcessors?: SpanProcessor[];
  /** More metric readers, e.g. an `InMemoryMetricExporter` behind a `PeriodicExportingMetricReader`. */
  metricReaders?: MetricReader[];
  /** Share of new traces recorded, 0–1 (default 1); a sampled parent's children are always recorded. */
  sampleRatio?: number;
  /** How often metrics are exported by the console/OTLP exporters, in ms (default 60000). */
  metricIntervalMs?: number;
}

/** The node's telemetry: what the kernel traces with, and how to flush and close it. */
export interface NodeTelemetry {
  readonly telemetry: Telemetry;
  /** Export everything recorded so far. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

const EXPORTERS: readonly TelemetryExporter[] = ['none', 'console', 'otlp'];

export function checkTelemetryOptions(options: unknown): void {
  if (options === undefined) return;
  const bad = (field: string, why: string): never => {
    throw new ValidationError(ErrorCodes.invalidOptions, `createNode: telemetry.${field} ${why}`, { field: `telemetry.${field}` });
  };
  if (typeof options !== 'object' || options === null) bad('', 'must be an object');
  const o = options as Record<string, unknown>;
  if (o.exporter !== undefined && !EXPORTERS.includes(o.exporter as TelemetryExporter)) bad('exporter', `must be one of ${EXPORTERS.join(', ')} (got ${JSON.stringify(o.exporter)})`);
  if (o.sampleRatio !== undefined && !(typeof o.sampleRatio === 'number' && o.sampleRatio >= 0 && o.sampleRatio <= 1)) bad('sampleRatio', 'must be a number from 0 to 1');
  if (o.metricIntervalMs !== undefined && !(Number.isInteger(o.metricIntervalMs) && (o.metricIntervalMs as number) >= 100)) bad('metricIntervalMs', 'must be an integer >= 100');
  for (const list of ['spanProcessors', 'metricReaders'] as const) {
    if (o[list] !== undefined && !Array.isArray(o[list])) bad(list, 'must be an array');
  }
  const otlp = o.otlp as Record<string, unknown> | undefined;
  if (otlp !== undefined) {
    if (typeof otlp !== 'object' || otlp === null) bad('otlp', 'must be an object');
    for (const k of ['tracesUrl', 'metricsUrl'] as const) {
      const url = otlp[k];
      if (url !== undefined && (typeof url !== 'string' || !/^https?:\/\//.test(url))) bad(`otlp.${k}`, 'must be an http(s) URL');
    }
  }
}

export function createTelemetry(node: { name: string; clock: Clock }, options: TelemetryOptions = {}): NodeTelemetry {
  const exporter = options.exporter ?? 'none';
  const spanProcessors = [...(options.spanProcessors ?? [])];
  const metricReaders = [...(options.metricReaders ?? [])];
  const interval = options.metricIntervalMs ?? 60_000;
  if (exporter === 'console') {
    spanProcessors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
    metricReaders.push(new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis: interval }));
  } else if (exporter === 'otlp') {
    const headers = options.otlp?.headers ?? {};
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: options.otlp?.tracesUrl ?? 'http://127.0.0.1:4318/v1/traces', headers })));
    metricReaders.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: options.otlp?.metricsUrl ?? 'http://127.0.0.1:4318/v1/metrics', headers }),
        exportIntervalMillis: interval,
      }),
    );
  }
  if (spanProcessors.length === 0 && metricReaders.length === 0) {
    return { telemetry: NO_TELEMETRY, flush: async () => {}, shutdown: async () => {} };
  }
  const resource = resourceFromAttributes({ 'service.name': 'agentos', 'service.instance.id': node.name, 'agentos.node': node.name });
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors,
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio ?? 1) }),
  });
  const meterProvider = metricReaders.length > 0 ? new MeterProvider({ resource, readers: metricReaders }) : undefined;
  // Span times come from the node clock when it is virtual (deterministic traces); real time uses OpenTelemetry's high-resolution clock.
  const virtual = !(node.clock instanceof RealClock);
  const meter: Meter = meterProvider ? meterProvider.getMeter('agentos') : NO_TELEMETRY.meter;
  const telemetry: Telemetry = {
    tracer: tracerProvider.getTracer('agentos'),
    meter,
    enabled: spanProcessors.length > 0,
    time: virtual ? () => node.clock.now() : () => undefined,
  };
  return {
    telemetry,
    flush: async () => {
      await tracerProvider.forceFlush();
      await meterProvider?.forceFlush();
    },
    shutdown: async () => {
      await tracerProvider.shutdown();
      await meterProvider?.shutdown();
    },
  };
}
