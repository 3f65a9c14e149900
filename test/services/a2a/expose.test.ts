// exposeA2A: an agentos agent served over the A2A protocol to the SDK's real
// client, over real sockets on 127.0.0.1 — blocking and streaming calls, the
// agent card, v0.3 `message/send` / `message/stream`, policy as the principal,
// and hostile input (bad frames, oversize bodies) that leaves the server up.
import { Role, TaskState, type Message, type SendMessageRequest, type StreamResponse, type Task } from '@a2a-js/sdk';
import { ClientFactory, type Client } from '@a2a-js/sdk/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, reply } from '../../../src/index.js';
import { A2AMessageSchema, a2aReply, a2aSend, exposeA2A, type A2AInboundContent, type A2AMessage, type A2AServing } from '../../../src/services/a2a/index.js';
import { inbox, testNode, until, type TestNode } from './support.js';

const messages = z.discriminatedUnion('type', [A2AMessageSchema]);
type Req = A2AMessage & { content: A2AInboundContent };
const is = (text: string) => ({ event }: { event: A2AMessage }) => event.performative === 'request' && (event.content as A2AInboundContent).text === text;

/** The served agent: answers by `reply` (a plain value), or streams with a2aSend (agree, partial informs, final inform), fails, refuses, or stays silent. */
const planner = defineAgent({
  name: 'planner',
  messages,
  machine: setup({ types: { context: {} as { seen: A2AMessage[] }, events: {} as z.infer<typeof messages> }, guards: {} }).createMachine({
    context: { seen: [] },
    on: {
      a2a: [
        { guard: ({ event }) => event.performative !== 'request', actions: ({ context, event }) => void context.seen.push(event) },
        {
          guard: is('stream'),
          actions: [
            a2aSend(({ event }) => a2aReply(event, 'agree', null)),
            a2aSend(({ event }) => a2aReply(event, 'inform', 'step 1, ', { partial: true })),
            a2aSend(({ event }) => a2aReply(event, 'inform', 'step 2', { partial: true })),
            a2aSend(({ event }) => a2aReply(event, 'inform', { text: 'plan ready', data: { steps: 2 } })),
          ],
        },
        { guard: is('fail'), actions: a2aSend(({ event }) => a2aReply(event, 'failure', { code: 'PLANNER_BROKEN', message: 'no plan today' })) },
        { guard: is('refuse'), actions: a2aSend(({ event }) => a2aReply(event, 'refuse', 'not my job')) },
        { guard: is('silent'), actions: ({ context, event }) => void context.seen.push(event) },
        { guard: is('hold'), actions: a2aSend(({ event }) => a2aReply(event, 'agree', null)) },
        { actions: [({ context, event }) => void context.seen.push(event), reply(({ event }) => `plan for: ${(event as Req).content.text}${(event as Req).content.data.length ? ` with ${JSON.stringify((event as Req).content.data)}` : ''}`)] },
      ],
    },
  }),
});

const send = (text: string, extra: Partial<Message> = {}): SendMessageRequest => ({
  tenant: '',
  message: { messageId: `m-${Math.random().toString(36).slice(2)}`, contextId: '', taskId: '', role: Role.ROLE_USER, parts: [{ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' }], metadata: undefined, extensions: [], referenceTaskIds: [], ...extra },
  configuration: undefined,
  metadata: undefined,
});
const textOf = (m: Message | undefined): string => (m?.parts ?? []).map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('');
const post = (url: string, body: string, headers: Record<string, string> = {}) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('exposeA2A', () => {
  let t: TestNode;
  let serving: A2AServing;
  let client: Client;
  beforeAll(async () => {
    t = await testNode('a2a-expose', { realClock: true, bus: { maxContentBytes: 16 * 1024 } });
    await t.node.spawn(planner, { id: 'planner' });
    await t.node.spawn(inbox('gateway', { capabilities: ['a2a.serve.planner'] }), { id: 'gateway' });
    serving = await exposeA2A(t.node, { agent: 'planner', as: 'gateway', card: { name: 'Planner', description: 'Plans things.', skills: [{ id: 'plan', name: 'Plan', description: 'Make a plan', tags: ['planning'] }] }, timeoutMs: 2000, maxBodyBytes: 64 * 1024 });
    client = await new ClientFactory().createFromUrl(serving.url);
  });
  afterAll(async () => {
    await serving?.close();
    await t?.stop();
  });

  it('serves the agent card at the well-known path', async () => {
    expect(serving.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const card = await (await fetch(`${serving.url}/.well-known/agent-card.json`, { headers: { 'A2A-Version': '1.0' } })).json();
    expect(card).toMatchObject({
      name: 'Planner',
      description: 'Plans things.',
      capabilities: { streaming: true },
      supportedInterfaces: [{ url: serving.endpoint, protocolBinding: 'JSONRPC', protocolVersion: '1.0' }, { url: serving.endpoint, protocolVersion: '0.3' }],
      skills: [{ id: 'plan', name: 'Plan', tags: ['planning'] }],
    });
    expect(client.protocolVersion).toBe('1.0');
  });

  it('a blocking call: the message reaches the agent as a request from the principal, its reply comes back as an A2A message', async () => {
    const data = { content: { $case: 'data' as const, value: { priority: 1 } }, metadata: undefined, filename: '', mediaType: 'application/json' };
    const result = (await client.sendMessage(send('ship it', { parts: [send('ship it').message!.parts[0]!, data] }))) as Message;
    expect(result.role).toBe(Role.ROLE_AGENT);
    expect(textOf(result)).toBe('plan for: ship it with [{"priority":1}]');
    const conv = t.bus.conversations({ actor: 'planner' }).find((c) => c.status === 'done' && c.protocol === 'a2a');
    expect(conv).toMatchObject({ initiator: 'gateway', participants: ['gateway', 'planner'], messages: 2, pattern: 'request' });
    const seen = (t.node.lookup('planner')!.getSnapshot() as { context: { seen: Req[] } }).context.seen;
    expect(seen.at(-1)).toMatchObject({ from: 'gateway', to: 'planner', performative: 'request', content: { text: 'ship it', data: [{ priority: 1 }], contextId: result.contextId } });
  });

  it('streams: agree becomes a working task, partial informs artifact chunks, the final inform completes it', async () => {
    const events: StreamResponse[] = [];
    for await (const ev of client.sendMessageStream(send('stream'))) events.push(ev);
    expect(events.map((e) => e.payload?.$case)).toEqual(['task', 'artifactUpdate', 'artifactUpdate', 'statusUpdate']);
    const [task, a1, a2, done] = events.map((e) => e.payload!.value) as [Task, any, any, any];
    expect(task.status?.state).toBe(TaskState.TASK_STATE_WORKING);
    expect([a1.append, textOf(a1.artifact), a2.append, textOf(a2.artifact)]).toEqual([false, 'step 1, ', true, 'step 2']);
    expect(done.status.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(done.status.message.parts.map((p: any) => p.content.value)).toEqual(['plan ready', { steps: 2 }]);
    // the task is kept for GetTask
    const stored = await client.getTask({ tenant: '', id: task.id, historyLength: undefined });
    expect(stored.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(t.node.kernel.router.asks.size).toBe(0); // the ask behind the call ended with its conversation
  });

  it('a failure, a refusal and a policy denial end the task failed / rejected, with the agentos code in the status metadata', async () => {
    const failed = (await client.sendMessage(send('fail'))) as Task;
    expect(failed.status?.state).toBe(TaskState.TASK_STATE_FAILED);
    expect(textOf(failed.status?.message)).toBe('PLANNER_BROKEN: no plan today');
    expect(failed.status?.message?.metadata).toMatchObject({ 'agentos/error': { code: 'PLANNER_BROKEN' } });
    const refused = (await client.sendMessage(send('refuse'))) as Task;
    expect(refused.status?.state).toBe(TaskState.TASK_STATE_REJECTED);
    expect(textOf(refused.status?.message)).toBe('not my job');
    // a principal without a2a.serve.planner: refused before the agent sees anything, and audited
    await t.node.spawn(inbox('stranger'), { id: 'stranger' });
    const other = await exposeA2A(t.node, { agent: 'planner', as: 'stranger', card: { name: 'P2', description: 'x' } });
    try {
      const before = (t.node.lookup('planner')!.getSnapshot() as { context: { seen: unknown[] } }).context.seen.length;
      const c2 = await new ClientFactory().createFromUrl(other.url);
      const denied = (await c2.sendMessage(send('hello'))) as Task;
      expect(denied.status?.state).toBe(TaskState.TASK_STATE_REJECTED);
      expect(denied.status?.message?.metadata).toMatchObject({ 'agentos/error': { code: 'CAPABILITY_DENIED' } });
      expect((t.node.lookup('planner')!.getSnapshot() as { context: { seen: unknown[] } }).context.seen.length).toBe(before);
      const log = Array.from({ length: t.node.audit.size }, (_, i) => t.node.audit.record(i) as Record<string, any>);
      expect(log.some((r) => r.decision === 'denied' && r.actor === 'stranger' && r.subject === 'a2a.serve.planner')).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('a principal whose contract puts a2a.serve.<agent> under consent_for holds each call until a human approves it', async () => {
    await t.node.spawn(inbox('careful', { capabilities: ['a2a.serve.planner'], security: { consent_for: ['a2a.serve.planner'] } }), { id: 'careful' });
    const gated = await exposeA2A(t.node, { agent: 'planner', as: 'careful', card: { name: 'P5', description: 'x' } });
    try {
      const c5 = await new ClientFactory().createFromUrl(gated.url);
      const pending = c5.sendMessage(send('gated'));
      await until(() => t.node.approvals.list().length === 1);
      expect(t.node.approvals.list()[0]).toMatchObject({ actor: 'careful', capability: 'a2a.serve.planner' });
      t.node.approvals.approve(t.node.approvals.list()[0]!.id, { by: 'ops' });
      expect(textOf((await pending) as Message)).toBe('plan for: gated');
    } finally {
      await gated.close();
    }
  });

  it('an agent that does not answer in time ends the task failed; a cancelled task tells the agent', async () => {
    const quick = await exposeA2A(t.node, { agent: 'planner', as: 'gateway', card: { name: 'P3', description: 'x' }, timeoutMs: 200 });
    try {
      const c3 = await new ClientFactory().createFromUrl(quick.url);
      const late = (await c3.sendMessage(send('silent'))) as Task;
      expect(late.status?.state).toBe(TaskState.TASK_STATE_FAILED);
      expect(late.status?.message?.metadata?.['agentos/error']?.code).toMatch(/^(A2A_DEADLINE_PASSED|ASK_TIMEOUT)$/);
    } finally {
      await quick.close();
    }
    // a task the agent agreed to, cancelled by the caller: the agent is told (the principal cancels the conversation)
    const stream = client.sendMessageStream(send('hold'));
    const first = (await stream.next()).value!.payload!.value as Task;
    expect(first.status?.state).toBe(TaskState.TASK_STATE_WORKING);
    const cancelled = await client.cancelTask({ tenant: '', id: first.id, metadata: undefined });
    expect(cancelled.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    const rest: StreamResponse[] = [];
    for await (const ev of stream) rest.push(ev);
    expect(rest.map((e) => e.payload?.$case)).toEqual(['statusUpdate']);
    await until(() => (t.node.lookup('planner')!.getSnapshot() as { context: { seen: A2AMessage[] } }).context.seen.some((m) => m.performative === 'cancel'));
    const conv = t.bus.conversations({ status: 'cancelled' });
    expect(conv).toHaveLength(1);
    expect(conv[0]).toMatchObject({ initiator: 'gateway', lastPerformative: 'cancel' });
    expect(serving.running()).toBe(0);
  });

  it('speaks the 0.3 methods message/send and message/stream (JSON-RPC over raw HTTP)', async () => {
    const r = await post(serving.endpoint, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'message/send', params: { message: { kind: 'message', messageId: 'x1', role: 'user', parts: [{ kind: 'text', text: 'legacy' }] } } }));
    expect(await r.json()).toMatchObject({ jsonrpc: '2.0', id: 7, result: { kind: 'message', role: 'agent', parts: [{ kind: 'text', text: 'plan for: legacy' }] } });
    const s = await post(serving.endpoint, JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'message/stream', params: { message: { kind: 'message', messageId: 'x2', role: 'user', parts: [{ kind: 'text', text: 'stream' }] } } }));
    expect(s.headers.get('content-type')).toContain('text/event-stream');
    const frames = (await s.text()).split('\n\n').filter((f) => f.startsWith('data: ')).map((f) => JSON.parse(f.slice(6)));
    expect(frames.map((f) => f.result.kind)).toEqual(['task', 'artifact-update', 'artifact-update', 'status-update']);
    expect(frames.at(-1).result).toMatchObject({ final: true, status: { state: 'completed' } });
  });

  it('answers hostile input with JSON-RPC errors, never a crash: bad JSON, bad frames, unknown methods, oversize bodies and content, wrong Host', async () => {
    const rpc = async (body: string, headers: Record<string, string> = {}) => {
      const res = await post(serving.endpoint, body, headers);
      return { status: res.status, body: (await res.json().catch(() => null)) as { error?: { code: number } } | null };
    };
    const conversationsBefore = t.bus.stats().opened;
    expect((await rpc('{not json')).body?.error?.code).toBe(-32700);
    expect((await rpc('[1,2,3]')).body?.error?.code).toBe(-32600);
    expect([-32600, -32602]).toContain((await rpc('{"jsonrpc":"1.0","id":1,"method":"SendMessage"}', { 'A2A-Version': '1.0' })).body?.error?.code);
    expect((await rpc('{"jsonrpc":"2.0","id":1,"method":"rm -rf","params":{}}', { 'A2A-Version': '1.0' })).body?.error?.code).toBe(-32601);
    expect((await rpc('{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"message":{"messageId":"x","role":"ROLE_USER","parts":[]}}}', { 'A2A-Version': '1.0' })).body?.error?.code).toBe(-32602);
    expect((await rpc('{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":"nope"}', { 'A2A-Version': '1.0' })).body?.error?.code).toBeLessThan(-32000);
    // content over the bus's maxContentBytes (16 KiB) but within the body limit (64 KiB)
    const big = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'SendMessage', params: { message: { messageId: 'b', role: 'ROLE_USER', parts: [{ text: 'x'.repeat(20_000) }] } } });
    expect((await rpc(big, { 'A2A-Version': '1.0' })).body?.error?.code).toBe(-32602);
    // a body over maxBodyBytes: HTTP 413 with a JSON-RPC error
    const huge = await rpc(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'SendMessage', params: { pad: 'y'.repeat(100_000) } }));
    expect(huge).toMatchObject({ status: 413, body: { error: { code: -32600 } } });
    // not JSON at all, a wrong Host header (DNS rebinding), another path
    expect((await post(serving.endpoint, 'hello', { 'content-type': 'text/plain' })).status).toBeLessThan(500);
    const port = new URL(serving.url).port;
    const rebinding = await new Promise<number>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const req = request({ host: '127.0.0.1', port, path: '/a2a', method: 'POST', headers: { host: `evil.example:${port}`, 'content-type': 'application/json' } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end('{}');
      });
    });
    expect(rebinding).toBe(403);
    expect((await fetch(`${serving.url}/elsewhere`)).status).toBe(404);
    expect(t.bus.stats().opened).toBe(conversationsBefore); // nothing reached an agent
    // still serving
    expect(textOf((await client.sendMessage(send('after the storm'))) as Message)).toBe('plan for: after the storm');
  });

  it('with a token, requires it on the JSON-RPC endpoint (the card stays public)', async () => {
    const guarded = await exposeA2A(t.node, { agent: 'planner', as: 'gateway', card: { name: 'P4', description: 'x' }, token: 'sekret-token' });
    try {
      expect((await fetch(`${guarded.url}/.well-known/agent-card.json`)).status).toBe(200);
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'message/send', params: { message: { kind: 'message', messageId: 'x', role: 'user', parts: [{ kind: 'text', text: 'hi' }] } } });
      expect((await post(guarded.endpoint, body)).status).toBe(401);
      expect((await post(guarded.endpoint, body, { authorization: 'Bearer wrong-token!' })).status).toBe(401);
      expect(await (await post(guarded.endpoint, body, { authorization: 'Bearer sekret-token' })).json()).toMatchObject({ result: { parts: [{ text: 'plan for: hi' }] } });
    } finally {
      await guarded.close();
    }
  });

  it('refuses bad options with A2A_INVALID_OPTIONS naming the field', async () => {
    const base = { agent: 'planner', as: 'gateway', card: { name: 'P', description: 'd' } };
    await expect(exposeA2A(t.node, { ...base, agent: 'ghost' })).rejects.toMatchObject({ code: 'A2A_INVALID_OPTIONS', field: 'agent' });
    await expect(exposeA2A(t.node, { ...base, as: 'nobody' })).rejects.toMatchObject({ code: 'A2A_INVALID_OPTIONS', field: 'as' });
    await expect(exposeA2A(t.node, { ...base, card: { name: '', description: 'd' } })).rejects.toMatchObject({ field: 'card.name' });
    await expect(exposeA2A(t.node, { ...base, path: '/.well-known/x' })).rejects.toMatchObject({ field: 'path' });
    await expect(exposeA2A(t.node, { ...base, capability: 'a2a.*' })).rejects.toMatchObject({ field: 'capability' });
    await expect(exposeA2A(t.node, { ...base, maxBodyBytes: 0 })).rejects.toMatchObject({ field: 'maxBodyBytes' });
  });
});
