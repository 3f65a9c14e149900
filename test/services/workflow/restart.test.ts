import { afterEach, describe, expect, it } from 'vitest';
import { createNode, VirtualClock, type AgentDefinition, type AgentOsNode } from '../../../src/index.js';
import type { WorkflowDefinition } from '../../../src/services/workflow/types.js';
import { until } from '../../support/agents.js';
import { tempDir } from '../../support/tmp.js';
import { cond, heldAgent, ir, stepAgent, type StepCall } from '../../support/workflow.js';

// A node stopped and started again on the same data dir: what the engine resumes.
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});


function dir(): string {
  const t = tempDir('agentos-wf-restart-');
  cleanups.push(t.cleanup);
  return t.dir;
}

async function start(dataDir: string, agents: AgentDefinition<any, any>[], workflows: WorkflowDefinition[], clock?: VirtualClock): Promise<AgentOsNode> {
  const n = await createNode({ name: 'n1', dataDir, memory: false, agents, workflows, ...(clock ? { clock } : {}) });
  cleanups.push(() => n.stop());
  return n;
}

describe('workflow runs across a node restart', () => {
  it('an approval wait survives a restart under the same id and deadline; steps before it are not run again', async () => {
    const calls: string[] = [];
    const worker = stepAgent('worker', (c) => {
      calls.push(c.step);
      return c.step === 'draft' ? { text: 'draft 1' } : { sent: true };
    });
    const wf = ir({
      name: 'gated', output: { sent: 'send.sent' },
      steps: [{ id: 'draft', out: ['text'] }, { id: 'approve', type: 'HITL_approval', in: ['text'], timeoutMs: 60_000 }, { id: 'send', in: ['text'], out: ['sent'] }],
    });
    const d = dir();
    const first = await start(d, [worker], [wf], new VirtualClock(1000));
    await first.workflows.start('gated', {}, { runId: 'g1' });
    await until(() => first.approvals.list().length === 1);
    const before = first.approvals.list()[0]!;
    await first.stop();

    const second = await start(d, [worker], [wf], new VirtualClock(5000));
    await until(() => second.approvals.list().length === 1);
    const after = second.approvals.list()[0]!;
    expect(after).toMatchObject({ id: 'wf-g1-approve', deadline: before.deadline, argsHash: before.argsHash });
    expect(second.workflows.get('g1').status).toBe('waiting');
    second.approvals.approve('wf-g1-approve', { by: 'alice' });
    const run = await second.workflows.wait('g1');
    expect(run.status).toBe('completed');
    expect(calls).toEqual(['draft', 'send']);
  });

  it('a deadline that passed while the node was down escalates (or expires) at once on restart', async () => {
    const worker = stepAgent('worker', () => ({ text: 'x' }));
    const wf = ir({ name: 'esc', steps: [{ id: 'draft', out: ['text'] }, { id: 'approve', type: 'HITL_approval', in: ['text'], timeoutMs: 1000, escalateTo: 'lead', escalationTimeoutMs: 4000 }] });
    const d = dir();
    const first = await start(d, [worker], [wf], new VirtualClock(0));
    await first.workflows.start('esc', {}, { runId: 'e1' });
    await until(() => first.approvals.list().length === 1);
    await first.stop();
    // Down from t=0 to t=2000: past the first deadline (1000), inside the escalation window (until 5000).
    const second = await start(d, [worker], [wf], new VirtualClock(2000));
    await until(() => second.approvals.list().length === 1);
    expect(second.approvals.list()[0]).toMatchObject({ id: 'wf-e1-approve', escalationLevel: 1, deadline: 5000 });
    await second.stop();
    // Down past every deadline: the gate expires as the node starts.
    const third = await start(d, [worker], [wf], new VirtualClock(9000));
    const run = await third.workflows.wait('e1');
    expect(run.error).toMatchObject({ code: 'WORKFLOW_APPROVAL_EXPIRED' });
    expect(third.approvals.list()).toEqual([]);
  });

  it('a step in flight at the stop: idempotent → asked again with the same key; otherwise in doubt until a person resolves it', async () => {
    const seen: StepCall[] = [];
    const slow = heldAgent('slow', (c) => {
      seen.push(c);
      return { done: true };
    });
    const quick = stepAgent('slow', (c) => {
      seen.push(c);
      return { done: true };
    });
    const wf = ir({ name: 'flight', steps: [{ id: 'safe', agent: 'slow', out: ['done'], idempotent: true }, { id: 'risky', agent: 'slow', out: ['done'] }] });
    const d = dir();
    const first = await start(d, [slow], [wf]);
    await first.workflows.start('flight', {}, { runId: 'f1' });
    await until(() => seen.length === 1);
    await first.stop(); // `safe` was asked, never answered

    const second = await start(d, [quick], [wf]);
    await until(() => seen.length === 2);
    expect(seen[1]).toMatchObject({ step: 'safe', key: 'wf/f1/safe', attempt: 2 });
    await until(() => seen.length === 3); // then `risky` runs (quick agent answers at once)
    expect((await second.workflows.wait('f1')).status).toBe('completed');
    await second.stop();

    // Now the non-idempotent step is the one in flight.
    seen.length = 0;
    const wf2 = ir({ name: 'flight2', steps: [{ id: 'risky', agent: 'slow', out: ['done'] }, { id: 'after', agent: 'slow', out: ['done'] }] });
    const third = await start(d, [slow], [wf2]);
    await third.workflows.start('flight2', {}, { runId: 'f2' });
    await until(() => seen.length === 1);
    await third.stop();
    const fourth = await start(d, [quick], [wf2]);
    await until(() => fourth.workflows.get('f2').status === 'in-doubt');
    expect(fourth.workflows.get('f2').steps.risky).toMatchObject({ status: 'in-doubt', error: { code: 'WORKFLOW_IN_DOUBT' } });
    expect(seen).toHaveLength(1); // not asked again
    await expect(fourth.workflows.resolve('f2', 'after', { output: { done: true } }, 'ops')).rejects.toMatchObject({ code: 'WORKFLOW_BAD_STATE' });
    await fourth.workflows.resolve('f2', 'risky', { output: { done: true } }, 'ops');
    expect((await fourth.workflows.wait('f2')).status).toBe('completed');
    expect(seen.map((c) => c.step)).toEqual(['risky', 'after']);
  });

  it('a nested workflow waiting on an approval resumes the inner step: one approval, the outer steps not run again', async () => {
    const calls: string[] = [];
    const worker = stepAgent('worker', (c) => {
      calls.push(`${c.run}:${c.step}`);
      return c.step === 'prepare' ? { doc: 'd' } : c.step === 'inner' ? { ok: true } : { filed: true };
    });
    const sub = ir({ name: 'review', input: ['doc'], output: { ok: 'inner.ok' }, steps: [{ id: 'check', type: 'HITL_approval', in: ['doc'] }, { id: 'inner', in: ['doc'], out: ['ok'] }] });
    const outer = ir({
      name: 'filing', output: { filed: 'file.filed' },
      steps: [{ id: 'prepare', out: ['doc'] }, { id: 'review', type: 'workflow', workflow: 'review', in: ['doc'], out: ['ok'] }, { id: 'file', in: ['ok'], out: ['filed'] }],
    });
    const d = dir();
    const first = await start(d, [worker], [sub, outer]);
    await first.workflows.start('filing', {}, { runId: 'o1' });
    await until(() => first.approvals.list().length === 1);
    await first.stop();

    const second = await start(d, [worker], [sub, outer]);
    await until(() => second.approvals.list().length === 1);
    expect(second.approvals.list().map((a) => a.id)).toEqual(['wf-o1.review-check']);
    second.approvals.approve('wf-o1.review-check', { by: 'alice' });
    const run = await second.workflows.wait('o1');
    expect(run.status).toBe('completed');
    expect(calls).toEqual(['o1:prepare', 'o1.review:inner', 'o1:file']);
  });

  it('a run whose workflow changed while the node was down is held, not run under the new definition', async () => {
    const worker = stepAgent('worker', () => ({ text: 'x' }));
    const v1 = ir({ name: 'doc', steps: [{ id: 'draft', out: ['text'] }, { id: 'approve', type: 'HITL_approval', in: ['text'] }] });
    const v2 = ir({ name: 'doc', version: '2', steps: [{ id: 'draft', out: ['text'] }, { id: 'approve', type: 'HITL_approval', in: ['text'], timeoutMs: 5 }] });
    const d = dir();
    const first = await start(d, [worker], [v1]);
    await first.workflows.start('doc', {}, { runId: 'h1' });
    await until(() => first.approvals.list().length === 1);
    await first.stop();
    const second = await start(d, [worker], [v2]);
    expect(second.workflows.get('h1')).toMatchObject({ status: 'held', error: { code: 'WORKFLOW_UNKNOWN_WORKFLOW' } });
    expect(second.approvals.list()).toEqual([]);
  });

  it('on_failure: pause leaves a failed step for an operator to retry with the same key', async () => {
    let fail = true;
    const keys: string[] = [];
    const worker = stepAgent('worker', (c) => {
      keys.push(`${c.key}#${c.attempt}`);
      if (fail) throw new Error('downstream API down');
      return { ok: true };
    });
    const wf = { ...ir({ name: 'ops', steps: [{ id: 'call', out: ['ok'] }] }), onFailure: 'pause' as const };
    const n = await start(dir(), [worker], [wf]);
    await n.workflows.start('ops', {}, { runId: 'p1' });
    await until(() => n.workflows.get('p1').status === 'paused');
    await expect(n.workflows.retry('p1', 'nope')).rejects.toMatchObject({ code: 'WORKFLOW_UNKNOWN_STEP' });
    fail = false;
    await n.workflows.retry('p1', 'call');
    expect((await n.workflows.wait('p1')).status).toBe('completed');
    expect(keys).toEqual(['wf/p1/call#1', 'wf/p1/call#2']);
    await expect(n.workflows.retry('p1', 'call')).rejects.toMatchObject({ code: 'WORKFLOW_BAD_STATE' });
  });
});

describe('parallel branches and loops across a restart', () => {
  it('a completed branch stays completed while the other branch waits on an approval; only the waiting branch continues', async () => {
    const calls: string[] = [];
    const worker = stepAgent('worker', (c) => {
      calls.push(c.step);
      return { [`${c.step}Out`]: c.step };
    });
    const wf = ir({
      name: 'branches', output: { joined: 'join.joinOut' },
      steps: [
        { id: 'root', out: ['rootOut'] },
        { id: 'left', needs: ['root'], out: ['leftOut'] },
        { id: 'gate', type: 'HITL_approval', needs: ['root'] },
        { id: 'right', needs: ['gate'], out: ['rightOut'] },
        { id: 'join', needs: ['left', 'right'], in: ['leftOut', 'rightOut'], out: ['joinOut'] },
      ],
    });
    const d = dir();
    const first = await start(d, [worker], [wf]);
    await first.workflows.start('branches', {}, { runId: 'b1' });
    await until(() => first.approvals.list().length === 1 && first.workflows.get('b1').steps.left!.status === 'completed');
    await first.stop();
    const second = await start(d, [worker], [wf]);
    await until(() => second.approvals.list().length === 1);
    expect(second.workflows.get('b1').steps.left!.status).toBe('completed');
    second.approvals.approve('wf-b1-gate', { by: 'alice' });
    expect((await second.workflows.wait('b1')).status).toBe('completed');
    expect(calls).toEqual(['root', 'left', 'right', 'join']);
  });

  it('a loop waiting on an approval inside its body continues the same iteration after a restart', async () => {
    const calls: string[] = [];
    const worker = stepAgent('worker', (c) => {
      calls.push(`${c.run}:${c.step}`);
      return { score: ((c.input.iteration as number) + 1) * 10 };
    });
    const body = ir({ name: 'draft', input: ['iteration'], output: { score: 'write.score' }, steps: [{ id: 'write', in: ['iteration'], out: ['score'] }, { id: 'review', type: 'HITL_approval', in: ['score'] }] });
    const wf = ir({ name: 'revise', output: { score: 'loop.score' }, steps: [{ id: 'loop', type: 'loop', body, until: cond('score >= 20'), maxIterations: 3, out: ['score'] }] });
    const d = dir();
    const first = await start(d, [worker], [wf]);
    await first.workflows.start('revise', {}, { runId: 'v1' });
    await until(() => first.approvals.list().length === 1);
    first.approvals.approve('wf-v1.loop.0-review', { by: 'alice' });
    await until(() => first.approvals.list()[0]?.id === 'wf-v1.loop.1-review');
    await first.stop();
    const second = await start(d, [worker], [wf]);
    await until(() => second.approvals.list().length === 1);
    expect(second.approvals.list().map((a) => a.id)).toEqual(['wf-v1.loop.1-review']);
    second.approvals.approve('wf-v1.loop.1-review', { by: 'alice' });
    const run = await second.workflows.wait('v1');
    expect(run).toMatchObject({ status: 'completed', output: { score: 20 } });
    expect(calls).toEqual(['v1.loop.0:write', 'v1.loop.1:write']);
  });
});
