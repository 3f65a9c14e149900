// One trace across two nodes of a cluster (both in this process, real links on
// loopback, each node with its own OpenTelemetry exporter): an actor on node A
// relays a message to an actor on node B, which calls a tool. B's
// `agentos.deliver` span continues A's trace with A's turn as its parent, the
// tool call's syscall span hangs under B's turn, and B's lineage record of
// that turn names A's trace and A's span.
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createNode, defineTool, type AgentOsNode } from '../../src/index.js';
import { lineageOf, startLineage, type LineageRecorder } from '../../src/services/telemetry/lineage.js';
import { until } from '../support/agents.js';
import { caller } from '../support/caller.js';
import { tempDir } from '../support/tmp.js';

const SECRET = 'trace test cluster secret, 32 b.';
const echo = defineTool({ name: 'echo', description: 'returns its input', input: z.object({ text: z.string() }), execute: (a) => ({ echoed: a.text }) });
const front = caller({}, 'front');
const worker = caller({ capabilities: ['echo'] }, 'worker');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function clusterNode(name: string, seeds: string[]): Promise<{ node: AgentOsNode; spans: InMemorySpanExporter; lineage: LineageRecorder }> {
  const t = tempDir(`agentos-trace-${name}-`);
  cleanups.push(t.cleanup);
  const spans = new InMemorySpanExporter();
  const node = await createNode({
    name,
    dataDir: t.dir,
    memory: false,
    blackboard: false,
    tools: [echo],
    agents: [front, worker],
    telemetry: { spanProcessors: [new SimpleSpanProcessor(spans)] },
    cluster: { secret: SECRET, seeds },
  });
  const lineage = lineageOf(node.kernel) ?? startLineage(node.kernel);
  cleanups.push(async () => {
    await lineage.close();
    await node.stop();
  });
  return { node, spans, lineage };
}

const named = (spans: InMemorySpanExporter, name: string, actor: string): ReadableSpan[] =>
  spans.getFinishedSpans().filter((s) => s.name === name && s.attributes['agentos.actor'] === actor);

describe('a trace across nodes', () => {
  it('continues from a turn on node A into the turn on node B and the tool call B makes, in spans and in B’s lineage', async () => {
    const a = await clusterNode('ta', []);
    const b = await clusterNode('tb', [a.node.cluster!.url]);
    await until(() => [a, b].every((n) => n.node.cluster!.members().filter((m) => m.status === 'up').length === 2), 10_000);
    await b.node.spawn(worker, { id: 'worker' });
    const relay = await a.node.spawn(front, { id: 'front' });
    await until(() => a.node.cluster!.remote.locate('worker')?.node === 'tb', 10_000);

    relay.send({ type: 'relay', to: 'worker', message: { type: 'call', tool: 'echo', args: { text: 'across' } } });
    await until(() => (b.node.lookup('worker')!.getSnapshot()?.context as { calls: number }).calls === 1, 10_000);
    await until(() => named(b.spans, 'agentos.syscall', 'worker').length === 1);

    const [sent] = named(a.spans, 'agentos.deliver', 'front');
    const [received] = named(b.spans, 'agentos.deliver', 'worker');
    const [syscall] = named(b.spans, 'agentos.syscall', 'worker');
    expect(received!.attributes).toMatchObject({ 'agentos.node': 'tb', 'agentos.from': 'front', 'agentos.message.type': 'call' });
    expect(received!.spanContext().traceId).toBe(sent!.spanContext().traceId);
    expect(received!.parentSpanContext?.spanId).toBe(sent!.spanContext().spanId);
    expect(syscall!.spanContext().traceId).toBe(sent!.spanContext().traceId);
    expect(syscall!.parentSpanContext?.spanId).toBe(received!.spanContext().spanId);
    expect((b.node.lookup('worker')!.getSnapshot()?.context as { result: unknown }).result).toEqual({ echoed: 'across' });

    // B's lineage: the worker's turn, in A's trace, under A's turn; A recorded nothing (its turn made no call).
    const [turn] = b.lineage.find(sent!.spanContext().traceId);
    expect(turn).toMatchObject({
      node: 'tb',
      actor: 'worker',
      traceId: sent!.spanContext().traceId,
      spanId: received!.spanContext().spanId,
      parentSpanId: sent!.spanContext().spanId,
      message: { type: 'call', from: 'front' },
      calls: [{ kind: 'tool', name: 'echo', outcome: 'ok', spanId: syscall!.spanContext().spanId }],
    });
    expect(a.lineage.byTrace(sent!.spanContext().traceId)).toEqual([]);
  });

  it('records a live migration as an agentos.migrate span on the source: actor, both nodes, its time; a refused move as an error span with its code', async () => {
    const a = await clusterNode('ma', []);
    const b = await clusterNode('mb', [a.node.cluster!.url]);
    await until(() => [a, b].every((n) => n.node.cluster!.members().filter((m) => m.status === 'up').length === 2), 10_000);
    await a.node.spawn(worker, { id: 'mover' });
    const result = await a.node.migrate('mover', 'mb');
    const [span] = a.spans.getFinishedSpans().filter((s) => s.name === 'agentos.migrate');
    expect(span!.attributes).toMatchObject({ 'agentos.actor': 'mover', 'agentos.node.from': 'ma', 'agentos.node.to': 'mb', 'agentos.migrate.ms': result.ms, 'agentos.incarnation': result.incarnation });
    expect(span!.status.code).not.toBe(2);
    // A move refused on the source (its contract says migratable: false) is an error span with the code.
    await a.node.spawn(caller({ migratable: false }, 'pinned'), { id: 'pinned' });
    await expect(a.node.migrate('pinned', 'mb')).rejects.toMatchObject({ code: 'CLUSTER_NOT_MIGRATABLE' });
    const refused = a.spans.getFinishedSpans().find((s) => s.name === 'agentos.migrate' && s.attributes['agentos.actor'] === 'pinned');
    expect(refused!.status.code).toBe(2);
    expect(refused!.attributes['agentos.error.code']).toBe('CLUSTER_NOT_MIGRATABLE');
  });
});
