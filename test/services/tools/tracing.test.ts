// Tracing and metrics of tool calls at the registry: the kernel hands the handler
// its syscall span, and the registry hangs an `agentos.tool` span under it with
// the tool's name, version, manifest hash, sandbox, dry-run flag and the number of
// redactions the call caused; a failure ends the span with its code. Counters:
// agentos.tool.calls (tool, outcome), agentos.tool.schema.invalid, agentos.redactions.
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createNode, defineTool, VirtualClock, type AgentOsNode } from '../../../src/index.js';
import { startSpan, type Telemetry } from '../../../src/kernel/trace.js';
import { SecretStore, ToolRegistry } from '../../../src/services/tools/tool.js';
import { tempDir } from '../../support/tmp.js';

const SECRET = 'tok-9f8e7d6c5b4a';

let tmp: ReturnType<typeof tempDir>;
let node: AgentOsNode;
let tools: ToolRegistry;
let spans: InMemorySpanExporter;
let metrics: InMemoryMetricExporter;
let reader: PeriodicExportingMetricReader;
let telemetry: Telemetry;

const echo = defineTool({ name: 'tr.echo', description: 'echoes, with the service token', input: z.object({ text: z.string() }), execute: ({ text }) => ({ text, note: `signed with ${SECRET}` }) });
const boom = defineTool({
  name: 'tr.boom',
  description: 'throws with the token in its message',
  input: z.object({}),
  execute: () => {
    throw new Error(`upstream refused ${SECRET}`);
  },
});

beforeAll(async () => {
  tmp = tempDir();
  node = await createNode({ name: 'tool-trace', dataDir: tmp.dir, clock: new VirtualClock(0) });
  spans = new InMemorySpanExporter();
  metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 });
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer('t');
  const meter = new MeterProvider({ readers: [reader] }).getMeter('t');
  telemetry = { tracer, meter, enabled: true, time: () => undefined };
  tools = new ToolRegistry(node.kernel, { telemetry, secrets: new SecretStore({ 'svc.token': SECRET }) });
  tools.register(echo);
  tools.register(boom);
});
afterAll(async () => {
  await tools.close();
  await node.stop();
  tmp.cleanup();
});
beforeEach(() => {
  spans.reset();
  tools.setDryRun(false);
});

/** Call a tool the way the kernel does: validate, then the handler with the syscall's span. */
async function callTraced(name: string, args: unknown): Promise<{ parent: ReadableSpan; tool: ReadableSpan | undefined; result?: unknown; error?: unknown }> {
  const entry = node.kernel.syscalls.resolve('tool', name);
  const parent = startSpan(telemetry, 'agentos.syscall', undefined, { 'agentos.syscall.name': name });
  let result: unknown;
  let error: unknown;
  try {
    result = await entry.handler(entry.validate ? entry.validate(args) : args, { actor: 'a1', tenant: 'default', kernel: node.kernel, span: parent });
  } catch (err) {
    error = err;
  }
  parent.end();
  const finished = spans.getFinishedSpans();
  return { parent: finished.find((s) => s.name === 'agentos.syscall')!, tool: finished.find((s) => s.name === 'agentos.tool'), result, error };
}

async function counter(name: string): Promise<{ attributes: Record<string, unknown>; value: number }[]> {
  await reader.forceFlush();
  const all = metrics.getMetrics().at(-1)?.scopeMetrics.flatMap((s) => s.metrics) ?? [];
  const found = all.find((m) => m.descriptor.name === name) as SumMetricData | undefined;
  return (found?.dataPoints ?? []).map((p) => ({ attributes: p.attributes, value: p.value }));
}

describe('tool call spans', () => {
  it('hangs an agentos.tool span under the syscall span, with version, manifest hash, sandbox, dry run and this call’s redactions', async () => {
    const { parent, tool, result } = await callTraced('tr.echo', { text: 'hi' });
    expect(result).toEqual({ text: 'hi', note: 'signed with [REDACTED:secret]' });
    expect(tool).toBeDefined();
    expect(tool!.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(tool!.spanContext().traceId).toBe(parent.spanContext().traceId);
    const manifest = tools.manifest('tr.echo')!;
    expect(tool!.attributes).toEqual({
      'agentos.tool.name': 'tr.echo',
      'agentos.tool.version': manifest.version,
      'agentos.tool.hash': manifest.hash,
      'agentos.tool.sandbox': 'none',
      'agentos.tool.dry_run': false,
      'agentos.tool.redactions': 1,
    });
    expect(tool!.status.code).toBe(0); // UNSET: no error
  });

  it('ends the span of a failed call with its error code and status ERROR, counting the redacted message', async () => {
    const { tool, error } = await callTraced('tr.boom', {});
    expect(error).toMatchObject({ code: 'TOOL_FAILED' });
    expect((error as Error).message).not.toContain(SECRET);
    expect(tool!.attributes).toMatchObject({ 'agentos.tool.name': 'tr.boom', 'agentos.error.code': 'TOOL_FAILED', 'agentos.tool.redactions': 1 });
    expect(tool!.status).toMatchObject({ code: 2 }); // ERROR
    expect(tool!.status.message).not.toContain(SECRET);
  });

  it('marks a dry run, and a refused (suspended) call ends its span with the refusal', async () => {
    tools.setDryRun(true);
    const dry = await callTraced('tr.echo', { text: 'x' });
    expect(dry.result).toMatchObject({ dryRun: true, tool: 'tr.echo' });
    expect(dry.tool!.attributes).toMatchObject({ 'agentos.tool.dry_run': true, 'agentos.tool.redactions': 0 });
    tools.setDryRun(false);
    const entry = node.kernel.syscalls.resolve('tool', 'tr.echo');
    tools.suspend('tr.echo', 'under review');
    spans.reset();
    const parent = startSpan(telemetry, 'agentos.syscall', undefined);
    await expect(entry.handler({ text: 'x' }, { actor: 'a1', tenant: 'default', kernel: node.kernel, span: parent })).rejects.toMatchObject({ code: 'TOOL_SUSPENDED' });
    tools.resume('tr.echo');
    expect(spans.getFinishedSpans().find((s) => s.name === 'agentos.tool')!.attributes).toMatchObject({ 'agentos.error.code': 'TOOL_SUSPENDED' });
  });

  it('makes no span when the kernel gives none, and the call works the same', async () => {
    const entry = node.kernel.syscalls.resolve('tool', 'tr.echo');
    expect(await entry.handler({ text: 'plain' }, { actor: 'a1', tenant: 'default', kernel: node.kernel })).toMatchObject({ text: 'plain' });
    expect(spans.getFinishedSpans()).toEqual([]);
  });
});

describe('tool call counters', () => {
  it('counts calls by tool and outcome, schema refusals and redactions', async () => {
    const entry = node.kernel.syscalls.resolve('tool', 'tr.echo');
    expect(() => entry.validate!({ text: 42 })).toThrow(expect.objectContaining({ code: 'INVALID_TOOL_ARGS' }));
    await callTraced('tr.echo', { text: 'again' });
    const calls = await counter('agentos.tool.calls');
    const of = (tool: string, outcome: string) => calls.find((p) => p.attributes.tool === tool && p.attributes.outcome === outcome)?.value ?? 0;
    expect(of('tr.echo', 'ok')).toBe(3); // the first test's call, the one without a span, and this one
    expect(of('tr.echo', 'dry_run')).toBe(1);
    expect(of('tr.echo', 'invalid_args')).toBe(1);
    expect(of('tr.echo', 'refused')).toBe(1);
    expect(of('tr.boom', 'error')).toBe(1);
    expect(await counter('agentos.tool.schema.invalid')).toEqual([{ attributes: { tool: 'tr.echo', what: 'arguments' }, value: 1 }]);
    const redactions = await counter('agentos.redactions');
    expect(redactions.find((p) => p.attributes.tool === 'tr.echo')?.value).toBe(3);
    expect(redactions.find((p) => p.attributes.tool === 'tr.boom')?.value).toBe(1);
  });
});
