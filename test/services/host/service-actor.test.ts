// Services are actors under the kernel's system supervisor: calls queue in
// their mailboxes (traced as turns under the caller's syscall), a service bug
// crashes the service and its supervisor restarts it while the node keeps
// serving, and the system tree stays apart from the users' tree.
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createNode, defineTool, VirtualClock, type AgentOsNode, type TreeNode } from '../../../src/index.js';
import { counterAgent, settle } from '../../support/agents.js';
import { caller } from '../../support/caller.js';
import { tempDir } from '../../support/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let node: AgentOsNode;
let spans: InMemorySpanExporter;

const echo = defineTool({ name: 'echo', description: 'returns its input', input: z.object({ text: z.string() }), execute: (a) => ({ echoed: a.text }) });

beforeEach(async () => {
  tmp = tempDir();
  spans = new InMemorySpanExporter();
  node = await createNode({ name: 'svc', dataDir: tmp.dir, clock: new VirtualClock(0), tools: [echo], telemetry: { spanProcessors: [new SimpleSpanProcessor(spans)] } });
});
afterEach(async () => {
  await node.stop();
  tmp.cleanup();
});

const until = async (pred: () => boolean) => {
  for (let i = 0; i < 200 && !pred(); i++) await settle(2);
};
const service = (id: string): TreeNode => node.systemTree().children!.find((c) => c.id === id)!;

describe('service actors', () => {
  it('run under agentos.system, apart from the users’ tree and actor count', async () => {
    expect(node.systemTree()).toMatchObject({ id: 'agentos.system', strategy: 'one_for_one' });
    expect(node.systemTree().children!.map((c) => [c.id, c.status])).toEqual([
      ['agentos.tools', 'running'],
      ['agentos.models', 'running'],
      ['agentos.memory', 'running'],
      ['agentos.blackboard', 'running'],
    ]);
    expect(node.tree().children).toEqual([]);
    expect(node.stats().actors).toBe(0);
    await node.spawn(counterAgent(), { id: 'c' });
    expect(node.stats().actors).toBe(1);
  });

  it('serve each tool call as a message in the service mailbox, traced under the caller’s syscall', async () => {
    const a = await node.spawn(caller({ capabilities: ['echo'] }), { id: 'a' });
    a.send({ type: 'call', tool: 'echo', args: { text: 'hi' } });
    await until(() => a.getSnapshot()?.context.calls === 1);
    expect(a.getSnapshot()?.context.result).toEqual({ echoed: 'hi' });
    expect(service('agentos.tools').info).toMatchObject({ delivered: 1, class: 'SRT' });
    expect(node.lookup('agentos.tools')?.getSnapshot()?.context).toEqual({ received: 1 });
    // The service keeps no per-call actors (it does not grow with the calls it served).
    for (let i = 2; i <= 4; i++) {
      a.send({ type: 'call', tool: 'echo', args: { text: `hi ${i}` } });
      await until(() => a.getSnapshot()?.context.calls === i);
    }
    expect(Object.keys((node.lookup('agentos.tools')!.getSnapshot() as { children: object }).children)).toEqual([]);
    const finished = spans.getFinishedSpans();
    const syscall = finished.find((s) => s.name === 'agentos.syscall')!;
    const served = finished.find((s) => s.name === 'agentos.deliver' && s.attributes['agentos.actor'] === 'agentos.tools' && s.spanContext().traceId === syscall.spanContext().traceId)!;
    expect(served.parentSpanContext?.spanId).toBe(syscall.spanContext().spanId);
    expect(served.spanContext().traceId).toBe(syscall.spanContext().traceId);
  });

  it('crash on a service bug and are restarted by their supervisor; the caller gets SERVICE_FAILED and the next call works', async () => {
    node.kernel.syscalls.register('tool', 'buggy', () => {
      throw new TypeError("Cannot read properties of undefined (reading 'x')");
    });
    const a = await node.spawn(caller({ capabilities: ['buggy', 'echo'] }), { id: 'a' });
    a.send({ type: 'call', tool: 'buggy', args: {} });
    await until(() => a.getSnapshot()?.context.calls === 1);
    expect(a.getSnapshot()?.context.error).toBe('SERVICE_FAILED');
    await until(() => service('agentos.tools').restarts === 1 && service('agentos.tools').status === 'running');
    expect(service('agentos.tools')).toMatchObject({ restarts: 1, status: 'running' });
    a.send({ type: 'call', tool: 'echo', args: { text: 'again' } });
    await until(() => a.getSnapshot()?.context.calls === 2);
    expect(a.getSnapshot()?.context.result).toEqual({ echoed: 'again' });
    // A typed failure is an ordinary failed call, not a crash.
    a.send({ type: 'call', tool: 'echo', args: { text: 7 } });
    await until(() => a.getSnapshot()?.context.calls === 3);
    expect(a.getSnapshot()?.context.error).toMatch(/INVALID|VALIDATION|SCHEMA/);
    expect(service('agentos.tools').restarts).toBe(1);
  });

  it('reserve the agentos. prefix: users cannot spawn, stop or pause service actors', async () => {
    await expect(node.spawn(counterAgent(), { id: 'agentos.tools' })).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'id' });
    await expect(node.spawn(counterAgent(), { id: 'agentos.mine' })).rejects.toMatchObject({ code: 'INVALID_OPTIONS', field: 'id' });
    expect(node.tree().children).toEqual([]);
    const tools = node.lookup('agentos.tools')!;
    expect(() => tools.pause()).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    await expect(tools.stop()).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    expect(service('agentos.tools').status).toBe('running');
  });

  it('audit a call refused for bad arguments before it reaches the service', async () => {
    const a = await node.spawn(caller({ capabilities: ['echo'] }), { id: 'a' });
    a.send({ type: 'call', tool: 'echo', args: { text: 7 } });
    await until(() => a.getSnapshot()?.context.calls === 1);
    const records = Array.from({ length: node.audit.size }, (_, i) => node.audit.record(i) as Record<string, unknown>);
    expect(records.filter((r) => r.decision === 'invalid-args')).toMatchObject([{ kind: 'policy', actor: 'a', subject: 'echo', data: { kind: 'tool' } }]);
    expect(service('agentos.tools').info).toMatchObject({ delivered: 0 });
  });
});
