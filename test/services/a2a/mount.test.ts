// mountA2AAgent: a remote A2A agent (the SDK's real server on 127.0.0.1, and an
// agentos agent served by exposeA2A on another node) becomes a tool of the
// node's registry, called through the kernel like any tool: capability,
// consent, argument schema, audit; blocking and streamed; remote failures,
// oversize answers, timeouts and dead peers as typed errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, reply } from '../../../src/index.js';
import { A2AMessageSchema, a2aReply, a2aSend, exposeA2A, mountA2AAgent, type A2AInboundContent, type A2AMessage, type A2AMount, type A2AServing } from '../../../src/services/a2a/index.js';
import { startRemote, type Remote } from './remote.js';
import { inbox, testNode, until, type TestNode } from './support.js';

const records = (t: TestNode) => Array.from({ length: t.node.audit.size }, (_, i) => t.node.audit.record(i) as Record<string, any>);

describe('mountA2AAgent', () => {
  let t: TestNode;
  let remote: Remote;
  let streaming: Remote;
  let mount: A2AMount;
  beforeAll(async () => {
    remote = await startRemote();
    streaming = await startRemote({ streaming: true });
    t = await testNode('a2a-mount', { realClock: true });
    await t.node.spawn(inbox('assistant', { capabilities: ['remote.*'] }), { id: 'assistant' });
    await t.node.spawn(inbox('intern', { capabilities: ['crm.read'] }), { id: 'intern' });
    await t.node.spawn(inbox('careful', { capabilities: ['remote.helper'], security: { consent_for: ['remote.helper'] } }), { id: 'careful' });
    mount = await mountA2AAgent(t.node, { url: remote.url, name: 'remote.helper', token: 'a2a-test-token' });
  });
  afterAll(async () => {
    mount?.close();
    await t?.stop();
    await remote?.close();
    await streaming?.close();
  });

  it('registers the remote agent as a versioned tool described by its card, and audits the mount with the card hash', () => {
    expect(t.node.tools.has('remote.helper')).toBe(true);
    expect(mount.card.name).toBe('Remote helper');
    expect(t.node.tools.manifest('remote.helper')).toMatchObject({ name: 'remote.helper', description: 'Remote helper: Answers questions from afar.', risk: 'medium' });
    const mounted = records(t).find((r) => r.kind === 'a2a' && r.decision === 'mounted');
    expect(mounted).toMatchObject({ subject: 'remote.helper', hashes: { agentCard: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), toolManifest: mount.manifest.hash } });
  });

  it('a call by an actor holding the capability reaches the remote agent and returns its answer', async () => {
    const out = await t.node.tools.call('assistant', 'remote.helper', { text: 'hello there' });
    expect(out).toMatchObject({ state: 'completed', text: 'echo hello there', data: [], artifacts: [], contextId: expect.any(String), taskId: expect.any(String) });
    expect(remote.received).toEqual(['hello there']);
    expect(remote.auth.at(-1)).toBe('Bearer a2a-test-token');
    expect(records(t).some((r) => r.kind === 'policy' && r.decision === 'allowed' && r.actor === 'assistant' && r.subject === 'remote.helper')).toBe(true);
  });

  it('is policy-checked like any tool: no capability, bad arguments → refused before anything is sent; consent waits for a human', async () => {
    const before = remote.received.length;
    await expect(t.node.tools.call('intern', 'remote.helper', { text: 'x' })).rejects.toMatchObject({ code: 'CAPABILITY_DENIED' });
    await expect(t.node.tools.call('assistant', 'remote.helper', { prompt: 'x' })).rejects.toMatchObject({ code: 'INVALID_TOOL_ARGS' });
    expect(remote.received.length).toBe(before);
    const pending = t.node.tools.call('careful', 'remote.helper', { text: 'with consent' });
    await until(() => t.node.approvals.list().length === 1);
    expect(remote.received.length).toBe(before);
    t.node.approvals.approve(t.node.approvals.list()[0]!.id, { by: 'alice' });
    await expect(pending).resolves.toMatchObject({ text: 'echo with consent' });
  });

  it('maps remote outcomes to typed errors: failed, rejected, a JSON-RPC error', async () => {
    await expect(t.node.tools.call('assistant', 'remote.helper', { text: 'fail' })).rejects.toMatchObject({ code: 'A2A_REMOTE_FAILED', details: { state: 'failed' }, message: expect.stringContaining('the remote broke') });
    await expect(t.node.tools.call('assistant', 'remote.helper', { text: 'reject' })).rejects.toMatchObject({ code: 'A2A_REMOTE_REJECTED', details: { state: 'rejected' } });
    await expect(t.node.tools.call('assistant', 'remote.helper', { text: 'more', taskId: 'no-such-task' })).rejects.toMatchObject({ code: 'A2A_REMOTE_ERROR' });
    expect(records(t).filter((r) => r.kind === 'tool' && r.decision === 'failed' && r.subject === 'remote.helper').map((r) => r.data.code)).toEqual(['A2A_REMOTE_FAILED', 'A2A_REMOTE_REJECTED', 'A2A_REMOTE_ERROR']);
  });

  it('streams when the card offers it: artifact chunks are joined, progress is reported as events', async () => {
    const m = await mountA2AAgent(t.node, { url: streaming.url, name: 'remote.stream' });
    try {
      const out = await t.node.tools.call('assistant', 'remote.stream', { text: 'stream' });
      expect(out).toMatchObject({ state: 'completed', text: 'streamed', artifacts: [{ name: 'report', text: 'alpha beta', data: [] }] });
      const updates = t.events.filter((e) => e.type === '@agentos.a2a.remote.update' && e.tool === 'remote.stream');
      expect(updates.map((e) => e.kind)).toEqual(['task', 'artifactUpdate', 'artifactUpdate', 'statusUpdate']);
      expect(updates.at(-1)).toMatchObject({ actor: 'assistant', state: 'completed' });
    } finally {
      m.close();
    }
  });

  it('bounds what a remote may send, and how long it may take', async () => {
    const bounded = await mountA2AAgent(t.node, { url: remote.url, name: 'remote.bounded', maxResponseBytes: 50_000 });
    const slow = await mountA2AAgent(t.node, { url: remote.url, name: 'remote.slow', timeoutMs: 300 });
    try {
      await expect(t.node.tools.call('assistant', 'remote.bounded', { text: 'huge' })).rejects.toMatchObject({ code: 'A2A_RESPONSE_TOO_LARGE' });
      await expect(t.node.tools.call('assistant', 'remote.slow', { text: 'hang' })).rejects.toMatchObject({ code: 'TOOL_TIMEOUT' });
      // the node is fine afterwards
      await expect(t.node.tools.call('assistant', 'remote.bounded', { text: 'small' })).resolves.toMatchObject({ text: 'echo small' });
    } finally {
      bounded.close();
      slow.close();
    }
  });

  it('a dead peer is A2A_UNAVAILABLE, at mount and at call; bad options are refused before any network', async () => {
    const gone = await startRemote();
    const m = await mountA2AAgent(t.node, { url: gone.url, name: 'remote.gone' });
    await gone.close();
    await expect(t.node.tools.call('assistant', 'remote.gone', { text: 'anyone?' })).rejects.toMatchObject({ code: 'A2A_UNAVAILABLE' });
    m.close();
    expect(t.node.tools.has('remote.gone')).toBe(false);
    await expect(mountA2AAgent(t.node, { url: gone.url, name: 'remote.gone' })).rejects.toMatchObject({ code: 'A2A_UNAVAILABLE' });
    await expect(mountA2AAgent(t.node, { url: 'ftp://example.com', name: 'remote.x' })).rejects.toMatchObject({ code: 'A2A_INVALID_OPTIONS', field: 'url' });
    await expect(mountA2AAgent(t.node, { url: remote.url, name: 'Not A Name' })).rejects.toMatchObject({ code: 'A2A_INVALID_OPTIONS', field: 'name' });
    await expect(mountA2AAgent(t.node, { url: remote.url, name: 'remote.helper' })).rejects.toMatchObject({ code: 'A2A_INVALID_OPTIONS', field: 'name' });
    await expect(mountA2AAgent(t.node, { url: remote.url, name: 'remote.y', timeoutMs: 0 })).rejects.toMatchObject({ field: 'timeoutMs' });
  });
});

describe('agentos to agentos over A2A', () => {
  const messages = z.discriminatedUnion('type', [A2AMessageSchema]);
  const planner = defineAgent({
    name: 'planner',
    messages,
    machine: setup({ types: { context: {}, events: {} as z.infer<typeof messages> } }).createMachine({
      on: {
        a2a: [
          {
            guard: ({ event }) => (event.content as A2AInboundContent)?.text === 'stream',
            actions: [a2aSend(({ event }) => a2aReply(event, 'inform', 'part one; ', { partial: true })), a2aSend(({ event }) => a2aReply(event, 'inform', 'part two', { partial: true })), a2aSend(({ event }) => a2aReply(event, 'inform', { text: 'all planned', data: { steps: 2 } }))],
          },
          { actions: reply(({ event }) => ({ plan: `do ${(event as A2AMessage & { content: A2AInboundContent }).content.text}` })) },
        ],
      },
    }),
  });
  let a: TestNode;
  let b: TestNode;
  let serving: A2AServing;
  beforeAll(async () => {
    a = await testNode('a2a-peer-a', { realClock: true });
    b = await testNode('a2a-peer-b', { realClock: true });
    await a.node.spawn(planner, { id: 'planner' });
    await a.node.spawn(inbox('front-door', { capabilities: ['a2a.serve.planner'] }), { id: 'front-door' });
    serving = await exposeA2A(a.node, { agent: 'planner', as: 'front-door', card: { name: 'Planner', description: 'Plans.' } });
    await b.node.spawn(inbox('assistant', { capabilities: ['peers.*'] }), { id: 'assistant' });
  });
  afterAll(async () => {
    await serving?.close();
    await a?.stop();
    await b?.stop();
  });

  it('an agent of node B calls an agent of node A as a tool, blocking and streamed', async () => {
    const blocking = await mountA2AAgent(b.node, { url: serving.url, name: 'peers.planner', stream: false });
    const streamed = await mountA2AAgent(b.node, { url: serving.url, name: 'peers.planner-live', stream: true });
    await expect(b.node.tools.call('assistant', 'peers.planner', { text: 'the launch' })).resolves.toMatchObject({ state: 'completed', data: [{ plan: 'do the launch' }] });
    await expect(b.node.tools.call('assistant', 'peers.planner-live', { text: 'stream' })).resolves.toMatchObject({
      state: 'completed',
      text: 'all planned',
      data: [{ steps: 2 }],
      artifacts: [{ name: 'output', text: 'part one; part two' }],
    });
    // node A saw both as conversations opened by its front door
    expect(a.bus.conversations().map((c) => [c.initiator, c.status])).toEqual([
      ['front-door', 'done'],
      ['front-door', 'done'],
    ]);
    blocking.close();
    streamed.close();
  });
});
