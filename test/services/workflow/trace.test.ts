// Every workflow step is a span of the run's trace, and the step's agent turn continues it.
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, type AgentOsNode } from '../../../src/index.js';
import { tempDir } from '../../support/tmp.js';
import { ir, stepAgent } from '../../support/workflow.js';

let node: AgentOsNode | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await node?.stop();
  tmp?.cleanup();
});

describe('workflow tracing', () => {
  it('every step of every run has an agentos.workflow.step span in the run trace, parent of the agent turn', async () => {
    tmp = tempDir('agentos-wf-trace-');
    const spans = new InMemorySpanExporter();
    const worker = stepAgent('worker', (c) => ({ v: c.step }));
    const wf = ir({
      name: 'traced',
      steps: [{ id: 'a', out: ['v'] }, { id: 'b', needs: ['a'], out: ['v'] }, { id: 'c', needs: ['a'], out: ['v'] }, { id: 'gate', type: 'HITL_approval', needs: ['b', 'c'] }, { id: 'd', out: ['v'] }],
    });
    node = await createNode({ name: 'tr', dataDir: tmp.dir, memory: false, agents: [worker], workflows: [wf], telemetry: { spanProcessors: [new SimpleSpanProcessor(spans)] } });
    const runs = 20;
    for (let i = 0; i < runs; i++) await node.workflows.start('traced', {}, { runId: `t${i}` });
    for (let i = 0; i < runs; i++) {
      while (!node.approvals.list().some((a) => a.id === `wf-t${i}-gate`)) await new Promise((r) => setTimeout(r, 2));
      node.approvals.approve(`wf-t${i}-gate`, { by: 'alice' });
    }
    for (let i = 0; i < runs; i++) expect((await node.workflows.wait(`t${i}`)).status).toBe('completed');
    const all = spans.getFinishedSpans();
    const runSpans = new Map(all.filter((s) => s.name === 'agentos.workflow.run').map((s) => [s.attributes['agentos.workflow.run'], s]));
    const steps = all.filter((s) => s.name === 'agentos.workflow.step');
    // 5 steps × 20 runs, each once, each in its run's trace.
    expect(steps).toHaveLength(runs * 5);
    for (const s of steps) {
      const run = runSpans.get(s.attributes['agentos.workflow.run']);
      expect(s.spanContext().traceId).toBe(run!.spanContext().traceId);
    }
    // Each agent step's delivered message is a child of its step span.
    const delivers = all.filter((s) => s.name === 'agentos.deliver' && String(s.attributes['agentos.actor'] ?? '').startsWith('wf.'));
    const agentSteps = steps.filter((s) => s.attributes['agentos.workflow.step.type'] === 'agent');
    const parents = new Set(delivers.map((d) => d.parentSpanContext?.spanId));
    expect(agentSteps.filter((s) => parents.has(s.spanContext().spanId))).toHaveLength(agentSteps.length);
  });
});
