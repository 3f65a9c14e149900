// Tracing and metrics of model calls: one `agentos.model` span per completion
// (under the syscall's span, or a new trace for an in-process caller) with the
// gen_ai / agentos attributes, ended with the error on failure or barge-in; the
// agentos.model.tokens counter and the agentos.model.ttft histogram.
import { SpanStatusCode } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type HistogramMetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSpan, type Telemetry } from '../../../src/kernel/trace.js';
import { ModelError, ModelGateway, type Completion } from '../../../src/services/models/index.js';
import { asker, entry, RecordingProvider, startNode, until, type Started } from './support/books.js';

let s: Started | undefined;
let spans: InMemorySpanExporter;
let metrics: InMemoryMetricExporter;
let reader: PeriodicExportingMetricReader;
let meters: MeterProvider;

/** Telemetry for the gateway alone, stamping spans with the node's virtual clock. */
function gatewayTelemetry(now: () => number): Telemetry {
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer('t');
  return { tracer, meter: meters.getMeter('t'), enabled: true, time: now };
}

beforeEach(() => {
  spans = new InMemorySpanExporter();
  metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 });
  meters = new MeterProvider({ readers: [reader] });
});
afterEach(async () => {
  await s?.close();
  s = undefined;
  await meters.shutdown();
});

const modelSpans = (): ReadableSpan[] => spans.getFinishedSpans().filter((x) => x.name === 'agentos.model');
const ms = (t: [number, number]): number => t[0] * 1000 + t[1] / 1e6;

async function metric<T>(name: string): Promise<T | undefined> {
  await reader.forceFlush();
  return metrics.getMetrics().at(-1)?.scopeMetrics.flatMap((m) => m.metrics).find((m) => m.descriptor.name === name) as T | undefined;
}

/** A paced local model: first token after 100 ms, then 20 tokens/s. The gateway's telemetry is set once the clock exists. */
async function pacedGateway(): Promise<ModelGateway> {
  let now = (): number => 0;
  const telemetry = gatewayTelemetry(() => now());
  const gateway = new ModelGateway({ local: { tokensPerSecond: 20, firstTokenDelayMs: 100 }, telemetry });
  s = await startNode(gateway);
  now = () => s!.clock.now();
  return gateway;
}

async function drive(read: Promise<unknown>, done: () => boolean): Promise<void> {
  while (!done()) {
    await new Promise((r) => setImmediate(r));
    s!.clock.runAll();
  }
  await read.catch(() => undefined);
}

describe('agentos.model spans', () => {
  it('an in-process stream() gets a root span with the model, provider, placement, TTFT, usage, tokens/s, cost and the route’s reason', async () => {
    const gateway = await pacedGateway();
    await s!.node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }), { id: 't1' });
    const stream = await gateway.stream('t1', { model: 'local/echo', messages: [{ role: 'user', content: 'stream me please' }], maxTokens: 16 });
    let ended = false;
    const read = (async () => {
      for await (const c of stream) if (c.type === 'end') ended = true;
    })();
    await drive(read, () => ended && stream.completion !== undefined);
    const done = stream.completion!;
    const [span] = modelSpans();
    expect(modelSpans()).toHaveLength(1);
    expect(span!.parentSpanContext).toBeUndefined();
    expect(span!.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'local/echo',
      'gen_ai.response.model': 'local/echo',
      'agentos.actor': 't1',
      'agentos.model.provider': 'local',
      'agentos.model.placement': 'edge',
      'agentos.model.deidentified': false,
      'agentos.model.ttft_ms': 100,
      'gen_ai.usage.input_tokens': done.usage.promptTokens,
      'gen_ai.usage.output_tokens': 5,
      'agentos.model.tokens_per_s': 25,
      'agentos.model.cost': 0,
      'agentos.model.cost_currency': 'USD',
      'agentos.model.reserved_tokens': done.usage.promptTokens + 16,
      'agentos.model.outcome': 'done',
      'agentos.route.reason': done.route.reason,
    });
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    expect(ms(span!.endTime) - ms(span!.startTime)).toBe(300);
  });

  it('as a syscall, the span is a child of the syscall’s span, in its trace', async () => {
    let now = (): number => 0;
    const telemetry = gatewayTelemetry(() => now());
    const gateway = new ModelGateway({ telemetry });
    s = await startNode(gateway);
    now = () => s!.clock.now();
    await s.node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }), { id: 't2' });
    const entry = s.node.kernel.syscalls.resolve('model', 'local/rules');
    const parent = startSpan(telemetry, 'agentos.syscall', undefined);
    const out = (await entry.handler(entry.validate!({ messages: [{ role: 'user', content: 'hello' }] }), { actor: 't2', tenant: 'default', kernel: s.node.kernel, span: parent })) as Completion;
    parent.end();
    const syscallSpan = spans.getFinishedSpans().find((x) => x.name === 'agentos.syscall')!;
    const [span] = modelSpans();
    expect(span!.parentSpanContext?.spanId).toBe(syscallSpan.spanContext().spanId);
    expect(span!.spanContext().traceId).toBe(syscallSpan.spanContext().traceId);
    expect(span!.attributes).toMatchObject({ 'gen_ai.request.model': 'local/rules', 'gen_ai.usage.output_tokens': out.usage.completionTokens });
  });

  it('an agent’s model syscall on a node with telemetry: the model span hangs under the kernel’s syscall span', async () => {
    const gateway = new ModelGateway();
    s = await startNode(gateway, { telemetry: { spanProcessors: [new SimpleSpanProcessor(spans)] } });
    const ref = await s.node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }), { id: 't3' });
    ref.send({ type: 'ask', model: 'local/echo', content: 'hi there' });
    await until(() => ref.getSnapshot()?.context.calls === 1);
    await until(() => spans.getFinishedSpans().some((x) => x.name === 'agentos.syscall'));
    const syscallSpan = spans.getFinishedSpans().find((x) => x.name === 'agentos.syscall' && x.attributes['agentos.syscall.kind'] === 'model')!;
    const [span] = modelSpans();
    expect(span!.parentSpanContext?.spanId).toBe(syscallSpan.spanContext().spanId);
    expect(span!.attributes['agentos.model.outcome']).toBe('done');
  });

  it('barge-in ends the span with MODEL_ABORTED and the partial usage', async () => {
    const gateway = await pacedGateway();
    await s!.node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }), { id: 't4' });
    const controller = new AbortController();
    const stream = await gateway.stream('t4', { model: 'local/echo', messages: [{ role: 'user', content: 'a b c d e f' }] }, controller.signal);
    const seen: string[] = [];
    const read = (async () => {
      for await (const c of stream) if (c.type === 'text') seen.push(c.text);
    })();
    await drive(Promise.resolve(), () => seen.length >= 2);
    controller.abort();
    await expect(read).rejects.toMatchObject({ code: 'MODEL_ABORTED' });
    const [cancelled] = modelSpans();
    expect(cancelled!.status.code).toBe(SpanStatusCode.ERROR);
    // Each piece of 'a b c d e f' is one token: the span counts what streamed before the abort.
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.length).toBeLessThan(6);
    expect(cancelled!.attributes).toMatchObject({ 'agentos.error.code': 'MODEL_ABORTED', 'agentos.model.outcome': 'cancelled', 'gen_ai.usage.output_tokens': seen.length, 'agentos.model.ttft_ms': 100 });
  });

  it('a failed call ends its span with the error code; a call refused before it began has none', async () => {
    let now = (): number => 0;
    const down = new RecordingProvider('ollama', 'loopback');
    down.failWith = new ModelError('MODEL_UNAVAILABLE', 'down', { field: 'model' });
    const gateway = new ModelGateway({ providers: [down], catalog: [entry('ollama/m', 'on_prem')], telemetry: gatewayTelemetry(() => now()) });
    s = await startNode(gateway);
    now = () => s!.clock.now();
    await s.node.spawn(asker({ allow: ['ollama/*'], max_context_tokens: 4000 }), { id: 't5' });
    await expect(gateway.complete('t5', { model: 'ollama/nothing', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ code: 'MODEL_UNKNOWN' });
    expect(modelSpans()).toEqual([]);
    await expect(gateway.complete('t5', { model: 'ollama/m', messages: [{ role: 'user', content: 'x' }], fallbacks: false })).rejects.toMatchObject({ code: 'MODEL_UNAVAILABLE' });
    const [failed] = modelSpans();
    expect(failed!.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed!.attributes).toMatchObject({ 'agentos.error.code': 'MODEL_UNAVAILABLE', 'agentos.model.outcome': 'failed', 'gen_ai.usage.input_tokens': 0, 'gen_ai.usage.output_tokens': 0 });
  });
});

describe('model metrics', () => {
  it('agentos.model.tokens counts input and output tokens by model; agentos.model.ttft records time to first token', async () => {
    const gateway = await pacedGateway();
    await s!.node.spawn(asker({ allow: ['local/*'], max_context_tokens: 8000 }), { id: 'm1' });
    const answers: Completion[] = [];
    for (const content of ['one two', 'three four five']) {
      const stream = await gateway.stream('m1', { model: 'local/echo', messages: [{ role: 'user', content }] });
      const read = stream.collect().then((c) => answers.push(c));
      await drive(read, () => answers.length === (content === 'one two' ? 1 : 2));
    }
    const tokens = await metric<SumMetricData>('agentos.model.tokens');
    const of = (direction: string) => tokens!.dataPoints.find((p) => p.attributes.model === 'local/echo' && p.attributes.direction === direction)?.value;
    expect(of('input')).toBe(answers[0]!.usage.promptTokens + answers[1]!.usage.promptTokens);
    expect(of('output')).toBe(answers[0]!.usage.completionTokens + answers[1]!.usage.completionTokens);
    const ttft = await metric<HistogramMetricData>('agentos.model.ttft');
    expect(ttft!.descriptor.unit).toBe('ms');
    expect(ttft!.dataPoints[0]!.attributes).toEqual({ model: 'local/echo' });
    expect(ttft!.dataPoints[0]!.value).toMatchObject({ count: 2, sum: 200 });
  });
});
