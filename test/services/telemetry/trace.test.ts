// Tracing end to end on a node: a span per delivered message continuing the
// envelope's traceparent, sends carrying the turn's trace to the next actor,
// syscall spans under the turn that made them, errors recorded with their
// code; metrics through a reader; nothing recorded or carried with telemetry off.
import { InMemoryMetricExporter, AggregationTemporality, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createNode, defineTool, VirtualClock, type AgentOsNode } from '../../../src/index.js';
import { counterAgent, settle } from '../../support/agents.js';
import { caller } from '../../support/caller.js';
import { tempDir } from '../../support/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let node: AgentOsNode;
let spans: InMemorySpanExporter;
let clock: VirtualClock;

const echo = defineTool({
  name: 'echo',
  description: 'returns its input',
  input: z.object({ text: z.string() }),
  execute: (args) => ({ echoed: args.text }),
});

beforeEach(async () => {
  tmp = tempDir();
  spans = new InMemorySpanExporter();
  clock = new VirtualClock(1_000);
  node = await createNode({ name: 'tr', dataDir: tmp.dir, clock, tools: [echo], telemetry: { spanProcessors: [new SimpleSpanProcessor(spans)] } });
});
afterEach(async () => {
  await node.stop();
  tmp.cleanup();
});

const until = async (pred: () => boolean) => {
  for (let i = 0; i < 100 && !pred(); i++) await settle(2);
};
const named = (name: string) => spans.getFinishedSpans().filter((s) => s.name === name);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('tracing', () => {
  it('follows one message from actor to actor in one trace, each turn a child of the turn that sent it', async () => {
    const a = await node.spawn(caller({}, 'relay-a'), { id: 'a' });
    const c = await node.spawn(counterAgent(), { id: 'c' });
    a.send({ type: 'relay', to: 'c', message: { type: 'inc', by: 2 } });
    await until(() => named('agentos.deliver').length === 2);
    const [first, second] = named('agentos.deliver');
    expect(first!.attributes).toMatchObject({ 'agentos.actor': 'a', 'agentos.message.type': 'relay', 'agentos.node': 'tr', 'agentos.class': 'SRT' });
    expect(second!.attributes).toMatchObject({ 'agentos.actor': 'c', 'agentos.message.type': 'inc', 'agentos.from': 'a' });
    expect(second!.spanContext().traceId).toBe(first!.spanContext().traceId);
    expect(parentOf(second!)).toBe(first!.spanContext().spanId);
    // Span times come from the node's virtual clock.
    expect(first!.startTime[0]).toBe(1);
    expect(await c.ask({ type: 'get' })).toBe(2);
  });

  it('continues a trace named by the sender (W3C traceparent), and starts a new one for a malformed parent', async () => {
    const c = await node.spawn(counterAgent(), { id: 'c' });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    c.send({ type: 'inc', by: 1 }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    c.send({ type: 'inc', by: 1 }, { traceparent: 'not-a-traceparent' });
    await until(() => named('agentos.deliver').length === 2);
    const [named1, bad] = named('agentos.deliver');
    expect(named1!.spanContext().traceId).toBe(traceId);
    expect(parentOf(named1!)).toBe('00f067aa0ba902b7');
    expect(bad!.spanContext().traceId).not.toBe(traceId);
    expect(parentOf(bad!)).toBeUndefined();
  });

  it('puts each syscall under the turn that made it, and records a refusal with its error code', async () => {
    const ok = await node.spawn(caller({ capabilities: ['echo'] }), { id: 'ok' });
    ok.send({ type: 'call', tool: 'echo', args: { text: 'hi' } });
    await until(() => ok.getSnapshot()?.context.calls === 1);
    const no = await node.spawn(caller({ capabilities: [] }), { id: 'no' });
    no.send({ type: 'call', tool: 'echo', args: { text: 'hi' } });
    await until(() => no.getSnapshot()?.context.calls === 1);
    const calls = named('agentos.syscall');
    expect(calls.map((s) => [s.attributes['agentos.actor'], s.attributes['agentos.syscall.kind'], s.attributes['agentos.syscall.name'], s.attributes['agentos.error.code']])).toEqual([
      ['ok', 'tool', 'echo', undefined],
      ['no', 'tool', 'echo', 'CAPABILITY_DENIED'],
    ]);
    const turns = named('agentos.deliver');
    for (const call of calls) {
      const turn = turns.find((t) => t.attributes['agentos.actor'] === call.attributes['agentos.actor'])!;
      expect(parentOf(call)).toBe(turn.spanContext().spanId);
      expect(call.spanContext().traceId).toBe(turn.spanContext().traceId);
    }
    expect(calls[1]!.status.code).toBe(2); // ERROR
  });

  it('marks the turn that crashed the actor as an error', async () => {
    const c = await node.spawn(counterAgent(), { id: 'c', restart: 'permanent' });
    c.send({ type: 'crash' });
    await until(() => named('agentos.deliver').length === 1);
    const [turn] = named('agentos.deliver');
    expect(turn!.status.code).toBe(2);
    expect(turn!.status.message).toContain('counter crashed on purpose');
  });
});

describe('metrics and defaults', () => {
  it('exports kernel gauges and counts system events through a metric reader', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const tmp2 = tempDir();
    const n = await createNode({ name: 'mx', dataDir: tmp2.dir, clock: new VirtualClock(0), telemetry: { metricReaders: [reader] } });
    try {
      const c = await n.spawn(counterAgent(), { id: 'c', restart: 'permanent' });
      c.send({ type: 'inc', by: 1 });
      c.send({ type: 'crash' });
      await until(() => (n.tree().children?.[0]?.info as { incarnation?: number } | undefined)?.incarnation === 2);
      await n.telemetry.flush();
      const metrics = exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
      const byName = (name: string) => metrics.filter((m) => m.descriptor.name === name).at(-1);
      expect(byName('agentos.actors')!.dataPoints[0]!.value).toBe(1);
      const delivered = byName('agentos.messages.delivered')!.dataPoints.find((p) => p.attributes['agentos.class'] === 'SRT');
      expect(delivered!.value).toBe(2);
      const events = byName('agentos.events')!.dataPoints;
      expect(events.find((p) => p.attributes['agentos.event'] === '@agentos.supervisor.restart')?.value).toBe(1);
      // An admission refusal is counted too (compute beyond the node's capacity).
      await expect(n.spawn(counterAgent('huge', { compute: { cpu: '512', mem: '1Mi' } }), { id: 'huge' })).rejects.toMatchObject({ code: 'ADMISSION_REFUSED' });
      await n.telemetry.flush();
      const after = exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics)).filter((m) => m.descriptor.name === 'agentos.events').at(-1)!.dataPoints;
      expect(after.find((p) => p.attributes['agentos.event'] === '@agentos.admission.refused')?.value).toBe(1);
    } finally {
      await n.stop();
      tmp2.cleanup();
    }
  });

  it('runs with telemetry off: nothing recorded, messages flow as before', async () => {
    const tmp2 = tempDir();
    const seen: unknown[] = [];
    const n = await createNode({ name: 'off', dataDir: tmp2.dir, clock: new VirtualClock(0), inspect: (e) => seen.push(e) });
    try {
      const a = await n.spawn(caller({}, 'relay-a'), { id: 'a' });
      await n.spawn(counterAgent(), { id: 'c' });
      a.send({ type: 'relay', to: 'c', message: { type: 'inc', by: 1 } });
      await until(() => (n.lookup('c')?.getSnapshot()?.context as { count: number }).count === 1);
      const received = seen.filter((e) => (e as { type?: string }).type === '@xstate.event' && (e as { actorRef?: { id?: string } }).actorRef !== undefined);
      expect(received.length).toBeGreaterThan(0);
      expect(n.kernel.telemetry.enabled).toBe(false);
    } finally {
      await n.stop();
      tmp2.cleanup();
    }
  });

  it('refuses bad telemetry options by name', async () => {
    const tmp2 = tempDir();
    try {
      await expect(createNode({ name: 'bad', dataDir: tmp2.dir, telemetry: { exporter: 'jaeger' as never } })).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'telemetry.exporter' });
      await expect(createNode({ name: 'bad', dataDir: tmp2.dir, telemetry: { sampleRatio: 2 } })).rejects.toMatchObject({ field: 'telemetry.sampleRatio' });
      await expect(createNode({ name: 'bad', dataDir: tmp2.dir, telemetry: { otlp: { tracesUrl: 'ftp://x' } } })).rejects.toMatchObject({ field: 'telemetry.otlp.tracesUrl' });
      await expect(createNode({ name: 'bad', dataDir: tmp2.dir, telemetry: { colour: true } as never })).rejects.toMatchObject({ field: 'telemetry.colour' });
    } finally {
      tmp2.cleanup();
    }
  });
});
