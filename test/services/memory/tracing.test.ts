// Retrieval and ingest leave spans under the syscall's span: `agentos.retrieve`
// with k, hits, source ids, chunk hashes, latency and whether the answer is
// grounded; `agentos.ingest` with the chunk count. A refused query ends its span
// with the typed error. Recorded with the OpenTelemetry SDK's in-memory exporter.

import { metrics, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, VirtualClock, type AgentOsNode } from '../../../src/index.js';
import type { SyscallContext } from '../../../src/kernel/syscalls.js';
import { startSpan, type Telemetry, type TraceSpan } from '../../../src/kernel/trace.js';
import { nodePaths } from '../../../src/node/storage.js';
import { nodeKeyring } from '../../../src/services/memory/keyring.js';
import type { IngestReport, RagAnswer } from '../../../src/services/memory/rag.js';
import { MemoryService } from '../../../src/services/memory/service.js';
import { tempDir } from '../../support/tmp.js';

const idle = setup({}).createMachine({});
const librarian = (grounding: boolean) =>
  defineAgent({ name: 'librarian', machine: idle, messages: z.object({ type: z.literal('noop') }), contract: { capabilities: ['rag.*'], memory: { namespace: 'support/kb', retention_days: 30, rag: { top_k: 3, require_grounding: grounding } } } });

let tmp: ReturnType<typeof tempDir>;
let node: AgentOsNode;
let service: MemoryService;
let spans: InMemorySpanExporter;
let telemetry: Telemetry;

beforeEach(async () => {
  tmp = tempDir();
  const clock = new VirtualClock(0);
  node = await createNode({ name: 'mem', dataDir: tmp.dir, clock, capacity: { cpu: '4', mem: '2Gi' }, memory: false });
  service = new MemoryService({ db: node.kernel.durability!.store.root, clock, keyring: nodeKeyring(nodePaths(tmp.dir, 'mem').root) });
  service.register(node.kernel);
  spans = new InMemorySpanExporter();
  telemetry = { tracer: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer('t'), meter: metrics.getMeter('t'), enabled: true, time: () => undefined };
});
afterEach(async () => {
  await service.close();
  await node.stop();
  tmp.cleanup();
});

/** Run a memory syscall's handler as the kernel does, under `span` (the kernel's span for the syscall). */
async function call<T>(actor: string, name: string, args: unknown, span?: TraceSpan): Promise<T> {
  const entry = node.kernel.syscalls.resolve('memory', name);
  const ctx: SyscallContext = { actor, tenant: 'acme', kernel: node.kernel, ...(span ? { span } : {}) };
  return (await entry.handler(entry.validate ? entry.validate(args) : args, ctx)) as T;
}

const named = (name: string): ReadableSpan[] => spans.getFinishedSpans().filter((s) => s.name === name);

describe('memory spans', () => {
  it('agentos.ingest and agentos.retrieve hang under the syscall span with chunk count, k, hits, sources, chunk hashes, latency and grounding', async () => {
    await node.spawn(librarian(true), { id: 'lib', tenant: 'acme' });
    const syscall = startSpan(telemetry, 'agentos.syscall', undefined);
    const text = 'Acme accepts returns of unopened toasters within 30 days. '.repeat(40);
    const report = await call<IngestReport>('lib', 'rag.ingest', { sourceId: 'returns.md', text }, syscall);
    await call('lib', 'rag.ingest', { sourceId: 'kettles.md', text: 'Kettles descale with vinegar every month.' }, syscall);
    const answer = await call<RagAnswer>('lib', 'rag.query', { query: 'returns of unopened toasters' }, syscall);
    syscall.end();

    const parent = syscall.span.spanContext().spanId;
    const [ingest] = named('agentos.ingest');
    expect(ingest!.parentSpanContext?.spanId).toBe(parent);
    expect(report.chunks.length).toBeGreaterThan(1);
    expect(ingest!.attributes).toMatchObject({ 'agentos.rag.chunks': report.chunks.length, 'agentos.rag.source': 'returns.md', 'agentos.rag.source_hash': report.sourceHash, 'agentos.rag.unchanged': false });
    expect(named('agentos.ingest')).toHaveLength(2);

    const [retrieve] = named('agentos.retrieve');
    expect(retrieve!.parentSpanContext?.spanId).toBe(parent);
    expect(answer.passages.length).toBe(3);
    expect(retrieve!.attributes).toMatchObject({
      'agentos.rag.k': 3,
      'agentos.rag.hits': 3,
      'agentos.rag.sources': ['returns.md'],
      'agentos.rag.source_hashes': answer.citations.map((c) => c.hash),
      'agentos.rag.latency_ms': answer.diagnostics.latencyMs,
      'agentos.rag.grounded': true,
    });
    expect(retrieve!.status.code).not.toBe(SpanStatusCode.ERROR);
    // Hashes and ids only: no passage text on the span.
    expect(JSON.stringify(retrieve!.attributes)).not.toContain('unopened');
  });

  it('a query refused for want of grounding ends its span with MEMORY_UNGROUNDED', async () => {
    await node.spawn(librarian(true), { id: 'lib', tenant: 'acme' });
    const syscall = startSpan(telemetry, 'agentos.syscall', undefined);
    await call('lib', 'rag.ingest', { sourceId: 'kettles.md', text: 'Kettles descale with vinegar every month.' }, syscall);
    await expect(call('lib', 'rag.query', { query: 'quarterly revenue of the bakery' }, syscall)).rejects.toMatchObject({ code: 'MEMORY_UNGROUNDED' });
    syscall.end();
    const [retrieve] = named('agentos.retrieve');
    expect(retrieve!.status.code).toBe(SpanStatusCode.ERROR);
    expect(retrieve!.attributes).toMatchObject({ 'agentos.rag.k': 3, 'agentos.error.code': 'MEMORY_UNGROUNDED' });
    expect(retrieve!.attributes['agentos.rag.hits']).toBeUndefined();
  });

  it('without a syscall span nothing is recorded and the call still answers', async () => {
    await node.spawn(librarian(false), { id: 'lib', tenant: 'acme' });
    await call('lib', 'rag.ingest', { sourceId: 'kettles.md', text: 'Kettles descale with vinegar every month.' });
    const answer = await call<RagAnswer>('lib', 'rag.query', { query: 'descale kettles' });
    expect(answer.grounded).toBe(true);
    expect(spans.getFinishedSpans()).toEqual([]);
  });
});
