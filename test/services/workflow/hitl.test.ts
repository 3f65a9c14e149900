import { assign, setup } from 'xstate';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, defineAgent, defineTool, replyHandle, respond, syscall, VirtualClock, type AgentDefinition, type AgentOsNode, type ReplyHandle } from '../../../src/index.js';
import type { WorkflowDefinition } from '../../../src/services/workflow/types.js';
import { until } from '../../support/agents.js';
import { tempDir } from '../../support/tmp.js';
import { ir, stepAgent, type StepCall } from '../../support/workflow.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});


const sent: { to: string; body: string }[] = [];
const emailSend = defineTool({
  name: 'email.send',
  description: 'send an email (records it)',
  input: z.object({ to: z.string(), body: z.string() }),
  output: z.object({ id: z.string() }),
  execute: async (args) => {
    sent.push(args);
    return { id: `m${sent.length}` };
  },
});

/** Sends the step's summary by email through the kernel (a `consent_for` tool in its contract). */
function mailer(): AgentDefinition {
  type Ctx = { h: ReplyHandle | undefined; input: Record<string, unknown> };
  const machine = setup({
    types: { context: {} as Ctx, events: {} as StepCall },
    actors: { syscall },
    actions: {
      boom: () => {
        throw new Error('send failed');
      },
    },
  }).createMachine({
    context: { h: undefined, input: {} },
    initial: 'idle',
    states: {
      idle: { on: { step: { target: 'sending', actions: assign({ h: (a) => replyHandle(a), input: ({ event }) => event.input }) }, 'agentos.shutdown': 'down' } },
      sending: {
        invoke: {
          src: 'syscall',
          input: ({ context }) => ({ kind: 'tool' as const, name: 'email.send', args: { to: String(context.input.email), body: String(context.input.summary) } }),
          onDone: { target: 'idle', actions: respond(({ context }) => (context as Ctx).h, ({ event }) => ({ messageId: (event.output as { id: string }).id })) },
          onError: { actions: 'boom' },
        },
        on: { 'agentos.shutdown': 'down' },
      },
      down: { type: 'final' },
    },
  });
  return defineAgent({
    name: 'mailer',
    machine,
    messages: z.object({ type: z.string(), input: z.record(z.string(), z.unknown()).optional() }).passthrough(),
    contract: { capabilities: ['email.send'], security: { consent_for: ['email.send'] } },
  });
}

const writer = stepAgent('worker', (c) => (c.type === 'undo' ? { undone: true } : { summary: `permit summary for ${c.input.project}` }));

function permit(timeoutMs = 60_000, extra: { escalateTo?: string; escalationTimeoutMs?: number } = {}): WorkflowDefinition {
  return ir({
    name: 'permit', input: ['project', 'email'], output: { messageId: 'notify.messageId' },
    steps: [
      { id: 'summarise', in: ['project'], out: ['summary'], compensate: 'undo' },
      { id: 'approve', type: 'HITL_approval', in: ['summary', 'email'], consentFor: ['email.send'], timeoutMs, ...extra },
      { id: 'notify', agent: 'mailer', in: ['summary', 'email'], out: ['messageId'] },
    ],
  });
}

async function node(opts: { dir?: string; clock?: VirtualClock; workflows?: WorkflowDefinition[] } = {}): Promise<AgentOsNode> {
  let dir = opts.dir;
  if (!dir) {
    const t = tempDir('agentos-hitl-');
    cleanups.push(t.cleanup);
    dir = t.dir;
  }
  const n = await createNode({ name: 'n1', dataDir: dir, memory: false, agents: [writer, mailer()], tools: [emailSend], workflows: opts.workflows ?? [permit()], ...(opts.clock ? { clock: opts.clock } : {}) });
  cleanups.push(() => n.stop());
  return n;
}

describe('HITL approval gates', () => {
  it('wait for a person with the full context, count as the consent of the steps after them, and report their latency', async () => {
    sent.length = 0;
    const clock = new VirtualClock(0);
    const n = await node({ clock });
    const { id } = await n.workflows.start('permit', { project: 'deck', email: 'a@example.com' }, { runId: 'r1' });
    await until(() => n.approvals.list().length === 1);
    const [pending] = n.approvals.list();
    expect(pending).toMatchObject({
      id: 'wf-r1-approve',
      capability: 'email.send',
      actor: 'wf.r1',
      args: {
        workflow: 'permit', run: 'r1', step: 'approve', consentFor: ['email.send'],
        context: { summary: 'permit summary for deck', email: 'a@example.com' },
        willRun: [{ step: 'notify', agent: 'mailer', needs: ['approve'] }],
      },
    });
    expect(n.workflows.get(id).status).toBe('waiting');
    clock.advance(30_000);
    n.approvals.approve('wf-r1-approve', { by: 'alice' });
    const run = await n.workflows.wait(id);
    expect(run.status).toBe('completed');
    expect(run.output).toEqual({ messageId: 'm1' });
    // The gate was the consent: the mailer's own consent_for call did not queue a second approval.
    expect(sent).toEqual([{ to: 'a@example.com', body: 'permit summary for deck' }]);
    expect(n.approvals.list()).toEqual([]);
    expect(run.steps.approve!.approval).toMatchObject({ id: 'wf-r1-approve', by: 'alice', requestedAt: 0, decidedAt: 30_000 });
    expect(n.workflows.stats().hitl).toMatchObject({ decided: 1, p50Ms: 30_000, p95Ms: 30_000 });
  });

  it('a rejection fails the run and compensates what was done before the gate', async () => {
    sent.length = 0;
    const n = await node();
    const { id } = await n.workflows.start('permit', { project: 'deck', email: 'a@example.com' }, { runId: 'r2' });
    await until(() => n.approvals.list().length === 1);
    n.approvals.reject('wf-r2-approve', { by: 'alice', reason: 'wrong address' });
    const run = await n.workflows.wait(id);
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'WORKFLOW_APPROVAL_REJECTED', step: 'approve' });
    expect(run.steps.summarise!.status).toBe('compensated');
    expect(sent).toEqual([]);
  });

  it('a gate times out, escalates, then expires on the node clock', async () => {
    const clock = new VirtualClock(0);
    const n = await node({ clock, workflows: [permit(1000, { escalateTo: 'supervisor', escalationTimeoutMs: 500 })] });
    const { id } = await n.workflows.start('permit', { project: 'p', email: 'e@x.org' }, { runId: 'r3' });
    await until(() => n.approvals.list().length === 1);
    clock.advance(1000);
    expect(n.approvals.list()[0]).toMatchObject({ escalationLevel: 1, deadline: 1500 });
    clock.advance(500);
    const run = await n.workflows.wait(id);
    expect(run.error).toMatchObject({ code: 'WORKFLOW_APPROVAL_EXPIRED' });
    // Approving it now is a typed refusal; nothing changes.
    expect(() => n.approvals.approve('wf-r3-approve', { by: 'alice' })).toThrow(expect.objectContaining({ code: 'APPROVAL_DECIDED' }));
    expect(n.workflows.get(id).status).toBe('failed');
  });

  it('an approval of arguments other than those the gate now asks about is refused', async () => {
    const n = await node();
    await n.workflows.start('permit', { project: 'deck', email: 'a@example.com' }, { runId: 'r4' });
    await until(() => n.approvals.list().length === 1);
    expect(() => n.workflows.approve('r4', 'approve', { by: 'alice', argsHash: 'f'.repeat(64) })).toThrow(expect.objectContaining({ code: 'WORKFLOW_CONSENT_MISMATCH', field: 'argsHash' }));
    expect(() => n.workflows.approve('r4', 'summarise', { by: 'alice' })).toThrow(expect.objectContaining({ code: 'WORKFLOW_BAD_STATE' }));
    expect(() => n.workflows.approve('r4', 'approve', { by: 'wf.r4' })).toThrow(expect.objectContaining({ code: 'SOD_VIOLATION' }));
    const audited = Array.from({ length: n.audit.size }, (_, i) => n.audit.record(i) as { kind: string; decision: string; subject?: string });
    expect(audited.filter((r) => r.kind === 'workflow' && r.decision === 'consent-mismatch').map((r) => r.subject)).toEqual(['permit/approve']);
    n.workflows.approve('r4', 'approve', { by: 'alice', argsHash: n.approvals.list()[0]!.argsHash });
    expect((await n.workflows.wait('r4')).status).toBe('completed');
  });

  it('cancelling a run waiting at a gate withdraws the approval and compensates', async () => {
    const n = await node();
    await n.workflows.start('permit', { project: 'deck', email: 'a@example.com' }, { runId: 'r5' });
    await until(() => n.approvals.list().length === 1);
    await n.workflows.cancel('r5', 'customer withdrew');
    const run = await n.workflows.wait('r5');
    expect(run.status).toBe('cancelled');
    expect(run.steps.summarise!.status).toBe('compensated');
    expect(n.approvals.list()).toEqual([]);
  });
});
