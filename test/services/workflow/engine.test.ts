import { afterEach, describe, expect, it } from 'vitest';
import { createNode, VirtualClock, type AgentDefinition, type AgentOsNode } from '../../../src/index.js';
import type { WorkflowDefinition } from '../../../src/services/workflow/types.js';
import { until } from '../../support/agents.js';
import { tempDir } from '../../support/tmp.js';
import { cond, heldAgent, ir, stepAgent, type StepCall } from '../../support/workflow.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function node(agents: AgentDefinition<any, any>[], workflows: WorkflowDefinition[], opts: { dir?: string; clock?: VirtualClock } = {}): Promise<AgentOsNode> {
  let dir = opts.dir;
  if (!dir) {
    const t = tempDir('agentos-wf-');
    cleanups.push(t.cleanup);
    dir = t.dir;
  }
  const n = await createNode({ name: 'n1', dataDir: dir, memory: false, agents, workflows, ...(opts.clock ? { clock: opts.clock } : {}) });
  cleanups.push(() => n.stop());
  return n;
}


describe('workflow engine', () => {
  it('runs a sequence, binding each step input from upstream outputs and the run input, and returns the output', async () => {
    const calls: StepCall[] = [];
    const worker = stepAgent('worker', (c) => {
      calls.push(c);
      if (c.step === 'plan') return { queries: [`permits ${c.input.project}`] };
      if (c.step === 'browse') return { pages: (c.input.queries as string[]).map((q) => `page for ${q}`) };
      return { summary: `${(c.input.pages as string[]).length} page(s) for ${c.input.project}` };
    });
    const wf = ir({
      name: 'seq', input: ['project'], output: { summary: 'summarise.summary' },
      steps: [
        { id: 'plan', in: ['project'], out: ['queries'] },
        { id: 'browse', in: ['queries'], out: ['pages'] },
        { id: 'summarise', in: ['pages', 'project'], out: ['summary'] },
      ],
    });
    const n = await node([worker], [wf]);
    const { id } = await n.workflows.start('seq', { project: 'deck' });
    const run = await n.workflows.wait(id);
    expect(run.status).toBe('completed');
    expect(run.output).toEqual({ summary: '1 page(s) for deck' });
    expect(calls.map((c) => [c.step, c.key, c.attempt])).toEqual([
      ['plan', `wf/${id}/plan`, 1],
      ['browse', `wf/${id}/browse`, 1],
      ['summarise', `wf/${id}/summarise`, 1],
    ]);
    expect(run.completed).toEqual(['plan', 'browse', 'summarise']);
    // Every step was audited, and the service actors are gone.
    const records = Array.from({ length: n.audit.size }, (_, i) => n.audit.record(i) as { kind: string; decision: string; subject?: string });
    expect(records.filter((r) => r.kind === 'workflow').map((r) => r.decision)).toEqual(['started', 'step-completed', 'step-completed', 'step-completed', 'completed']);
    expect(n.lookup(`wf.${id}.plan.1`)).toBeUndefined();
  });

  it('runs parallel branches at the same time and joins them', async () => {
    const held = heldAgent('slow', (c) => ({ [c.step === 'b' ? 'left' : 'right']: c.step }));
    const worker = stepAgent('worker', (c) => (c.step === 'a' ? { seed: 1 } : { joined: `${c.input.left}+${c.input.right}` }));
    const wf = ir({
      name: 'fan', output: { joined: 'd.joined' },
      steps: [
        { id: 'a', out: ['seed'] },
        { id: 'b', agent: 'slow', needs: ['a'], in: ['seed'], out: ['left'] },
        { id: 'c', agent: 'slow', needs: ['a'], in: ['seed'], out: ['right'] },
        { id: 'd', needs: ['b', 'c'], in: ['left', 'right'], out: ['joined'] },
      ],
    });
    const n = await node([worker, held], [wf]);
    const { id } = await n.workflows.start('fan', {}, { runId: 'r1' });
    await until(() => n.lookup('wf.r1.b.1') !== undefined && n.lookup('wf.r1.c.1') !== undefined);
    const mid = n.workflows.get(id);
    expect([mid.steps.b!.status, mid.steps.c!.status, mid.steps.d!.status]).toEqual(['running', 'running', 'pending']);
    n.lookup('wf.r1.c.1')!.send({ type: 'release' });
    n.lookup('wf.r1.b.1')!.send({ type: 'release' });
    const run = await n.workflows.wait(id);
    expect(run.output).toEqual({ joined: 'b+c' });
    expect(run.completed.slice(0, 1)).toEqual(['a']);
    expect(run.completed.at(-1)).toBe('d');
  });

  it('retries an idempotent step with backoff on the node clock, with the same key each attempt', async () => {
    const clock = new VirtualClock(0);
    const seen: [string, number, number][] = [];
    const flaky = stepAgent('flaky', (c) => {
      seen.push([c.key, c.attempt, clock.now()]);
      if (c.attempt < 3) throw new Error(`flaky attempt ${c.attempt}`);
      return { ok: true };
    });
    const wf = ir({ name: 'retry', steps: [{ id: 'fetch', agent: 'flaky', out: ['ok'], idempotent: true, attempts: 3, backoffMs: 100 }] });
    const n = await node([flaky], [wf], { clock });
    const { id } = await n.workflows.start('retry', {});
    await until(() => seen.length === 1);
    await until(() => n.workflows.get(id).steps.fetch!.retryAt !== undefined);
    clock.advance(100);
    await until(() => seen.length === 2);
    await until(() => n.workflows.get(id).steps.fetch!.retryAt === 200 + 100);
    clock.advance(200);
    const run = await n.workflows.wait(id);
    expect(run.status).toBe('completed');
    expect(seen).toEqual([[`wf/${id}/fetch`, 1, 0], [`wf/${id}/fetch`, 2, 100], [`wf/${id}/fetch`, 3, 300]]);
  });

  it('compensates completed steps in reverse order when a later step fails for good (SAGA)', async () => {
    const log: string[] = [];
    const worker = stepAgent('worker', (c) => {
      log.push(`${c.type}:${c.step}`);
      if (c.type === 'undo') return { undone: true };
      if (c.step === 'charge') throw new Error('card declined');
      return { [`${c.step}Id`]: `${c.step}-1` };
    });
    const wf = ir({
      name: 'trip',
      steps: [
        { id: 'flight', out: ['flightId'], compensate: 'undo' },
        { id: 'hotel', out: ['hotelId'], compensate: 'undo' },
        { id: 'note', out: ['noteId'] },
        { id: 'charge', out: ['chargeId'] },
      ],
    });
    const n = await node([worker], [wf]);
    const { id } = await n.workflows.start('trip', {});
    const run = await n.workflows.wait(id);
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'ACTOR_STOPPED', step: 'charge' });
    expect(log).toEqual(['step:flight', 'step:hotel', 'step:note', 'step:charge', 'undo:hotel', 'undo:flight']);
    expect(run.steps.flight!.status).toBe('compensated');
    expect(run.steps.note!.status).toBe('completed'); // nothing to undo
    expect(run.compensated).toEqual(['note', 'hotel', 'flight']);
  });

  it('skips a step whose condition does not hold', async () => {
    const worker = stepAgent('worker', (c) => (c.step === 'score' ? { score: 3 } : { sent: true }));
    const wf = ir({ name: 'cond', steps: [{ id: 'score', out: ['score'] }, { id: 'send', in: ['score'], out: ['sent'], when: cond('score >= 5') }] });
    const n = await node([worker], [wf]);
    const run = await n.workflows.wait((await n.workflows.start('cond', {})).id);
    expect(run.status).toBe('completed');
    expect(run.steps.send!.status).toBe('skipped');
  });

  it('loops a body until its condition holds, and fails a loop that never gets there', async () => {
    const worker = stepAgent('worker', (c) => ({ count: (c.input.iteration as number) + 1 }));
    const body = ir({ name: 'body', input: ['iteration'], output: { count: 'inc.count' }, steps: [{ id: 'inc', in: ['iteration'], out: ['count'] }] });
    const wf = ir({ name: 'loop', steps: [{ id: 'repeat', type: 'loop', body, until: cond('count >= 3'), maxIterations: 5, out: ['count'] }] });
    const never = ir({ name: 'never', steps: [{ id: 'repeat', type: 'loop', body, until: cond('count >= 9'), maxIterations: 2, out: ['count'] }] });
    const n = await node([worker], [wf, never]);
    const run = await n.workflows.wait((await n.workflows.start('loop', {}, { runId: 'l1' })).id);
    expect(run.status).toBe('completed');
    expect(run.steps.repeat).toMatchObject({ status: 'completed', iteration: 3, output: { count: 3 } });
    expect(n.workflows.get('l1.repeat.2').input).toEqual({ iteration: 2 });
    const failed = await n.workflows.wait((await n.workflows.start('never', {})).id);
    expect(failed.status).toBe('failed');
    expect(failed.error!.message).toMatch(/ran 2 iterations without reaching until \(count >= 9\)/);
  });

  it('runs a sub-workflow as a step and takes its output', async () => {
    const worker = stepAgent('worker', (c) => (c.step === 'inner' ? { answer: `${c.input.q}!` } : { q: 'why' }));
    const sub = ir({ name: 'sub', input: ['q'], output: { answer: 'inner.answer' }, steps: [{ id: 'inner', in: ['q'], out: ['answer'] }] });
    const outer = ir({ name: 'outer', output: { answer: 'nested.answer' }, steps: [{ id: 'ask', out: ['q'] }, { id: 'nested', type: 'workflow', workflow: 'sub', in: ['q'], out: ['answer'] }] });
    const n = await node([worker], [sub, outer]);
    const run = await n.workflows.wait((await n.workflows.start('outer', {}, { runId: 'o1' })).id);
    expect(run.output).toEqual({ answer: 'why!' });
    expect(n.workflows.get('o1.nested').parent).toEqual({ run: 'o1', step: 'nested' });
    expect(n.workflows.list({ topLevel: true }).map((r) => r.id)).toEqual(['o1']);
  });

  it('fails a step whose agent answers outside its out schema, and refuses bad run input before anything is stored', async () => {
    const worker = stepAgent('worker', () => ({ wrong: 1 }));
    const wf = ir({ name: 'typed', input: ['x'], steps: [{ id: 's', in: ['x'], out: ['y'] }] });
    const n = await node([worker], [wf]);
    await expect(n.workflows.start('typed', {})).rejects.toMatchObject({ code: 'WORKFLOW_BAD_INPUT', field: 'input.x' });
    expect(n.workflows.list()).toEqual([]);
    await expect(n.workflows.start('nope', {})).rejects.toMatchObject({ code: 'WORKFLOW_UNKNOWN_WORKFLOW', field: 'workflow' });
    await expect(n.workflows.start('typed', { x: 1 }, { runId: '../etc' })).rejects.toMatchObject({ code: 'WORKFLOW_INVALID', field: 'runId' });
    const run = await n.workflows.wait((await n.workflows.start('typed', { x: 1 })).id);
    expect(run.error).toMatchObject({ code: 'WORKFLOW_BAD_OUTPUT', step: 's' });
    expect(() => n.workflows.get('missing')).toThrow(expect.objectContaining({ code: 'WORKFLOW_RUN_NOT_FOUND' }));
  });

  it('starting a run id again returns the existing run instead of running it twice', async () => {
    let calls = 0;
    const worker = stepAgent('worker', () => ({ n: ++calls }));
    const wf = ir({ name: 'once', steps: [{ id: 's', out: ['n'] }] });
    const n = await node([worker], [wf]);
    expect(await n.workflows.start('once', {}, { runId: 'x' })).toEqual({ id: 'x', existing: false });
    expect(await n.workflows.start('once', {}, { runId: 'x' })).toEqual({ id: 'x', existing: true });
    await n.workflows.wait('x');
    expect(calls).toBe(1);
  });

  it('replay checks a recorded run against its definition and names a divergence', async () => {
    const worker = stepAgent('worker', (c) => (c.step === 'a' ? { v: 1 } : { w: (c.input.v as number) + 1 }));
    const wf = ir({ name: 'rp', steps: [{ id: 'a', out: ['v'] }, { id: 'b', in: ['v'], out: ['w'] }] });
    const n = await node([worker], [wf]);
    const { id } = await n.workflows.start('rp', {});
    await n.workflows.wait(id);
    expect(n.workflows.replay(id)).toEqual({ ok: true, run: id, stepsChecked: 2, divergences: [] });
    // The workflow changed under the recorded run: b now takes its v from the input.
    const changed = ir({ name: 'rp', input: [], steps: [{ id: 'a', out: ['v'] }, { id: 'b', in: ['v'], from: { v: { value: 7 } }, out: ['w'] }] });
    n.workflows.register(changed);
    const report = n.workflows.replay(id);
    expect(report.ok).toBe(false);
    expect(report.divergences.map((d) => d.step ?? 'definition')).toEqual(['definition', 'b']);
  });
});
