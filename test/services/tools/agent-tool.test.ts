// Agent-as-tool: calling the tool asks the agent; the kernel checks the caller's
// capability first, the router keeps tenants apart, and an agent acting for its
// caller gets only what both may do (delegation = intersection).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import {
  callTool,
  createNode,
  defineAgent,
  defineTool,
  reply,
  replyHandle,
  respond,
  syscall,
  VirtualClock,
  type AgentOsNode,
  type ReplyHandle,
} from '../../../src/index.js';
import { counterAgent, settle } from '../../support/agents.js';
import { tempDir } from '../../support/tmp.js';

const helperMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('summarize'), text: z.string(), words: z.number().int().positive() }),
  z.object({ type: z.literal('send'), to: z.string(), body: z.string(), onBehalfOf: z.string() }),
]);
type HelperEvent = z.infer<typeof helperMessages>;

/** Summarises on request; sends mail for its caller, on the caller's behalf. */
const helperMachine = setup({
  types: { context: {} as { asked: number; handle?: ReplyHandle }, events: {} as HelperEvent },
  actors: { syscall },
}).createMachine({
  context: { asked: 0 },
  initial: 'idle',
  states: {
    idle: {
      on: {
        summarize: {
          actions: [
            assign({ asked: ({ context }) => context.asked + 1 }),
            reply(({ event }) => ({ summary: (event as Extract<HelperEvent, { type: 'summarize' }>).text.split(' ').slice(0, (event as Extract<HelperEvent, { type: 'summarize' }>).words).join(' ') })),
          ],
        },
        send: { target: 'sending', actions: assign({ asked: ({ context }) => context.asked + 1, handle: (args) => replyHandle(args) }) },
      },
    },
    sending: {
      invoke: {
        src: 'syscall',
        input: ({ event }) => {
          const e = event as Extract<HelperEvent, { type: 'send' }>;
          return { kind: 'tool' as const, name: 'mail.send', args: { to: e.to, body: e.body }, onBehalfOf: e.onBehalfOf };
        },
        onDone: { target: 'idle', actions: respond(({ context }) => context.handle, () => ({ sent: true })) },
        onError: { target: 'idle', actions: respond(({ context }) => context.handle, ({ event }) => ({ sent: false, code: (event.error as { code: string }).code })) },
      },
    },
  },
});
const helper = defineAgent({ name: 'helper', machine: helperMachine, messages: helperMessages, contract: { capabilities: ['mail.send'] } });

/** An agent that calls the summariser tool from its statechart (function-calling semantics). */
const askerMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('go'), text: z.string() })]);
const askerMachine = setup({
  types: { context: {} as { result?: unknown; error?: string }, events: {} as z.infer<typeof askerMessages> },
  actors: { summarize: callTool('agents.summarize') },
}).createMachine({
  context: {},
  initial: 'idle',
  states: {
    idle: { on: { go: 'asking' } },
    asking: {
      invoke: {
        src: 'summarize',
        input: ({ event }: { event: { type: string; text?: string } }) => ({ text: event.text ?? '', words: 2 }),
        onDone: { target: 'idle', actions: assign({ result: ({ event }) => event.output }) },
        onError: { target: 'idle', actions: assign({ error: ({ event }) => (event.error as { code: string }).code }) },
      },
    },
  },
});

let tmp: ReturnType<typeof tempDir>;
let node: AgentOsNode;
let mailed: unknown[];

beforeEach(async () => {
  tmp = tempDir();
  node = await createNode({ name: 'agent-tools', dataDir: tmp.dir, clock: new VirtualClock(0) });
  mailed = [];
  node.tools.register(defineTool({ name: 'mail.send', description: 'sends mail', input: z.object({ to: z.string(), body: z.string() }), execute: (a) => (mailed.push(a), 'ok') }));
  const ref = await node.spawn(helper, { id: 'helper' });
  node.tools.registerAgent(ref, {
    name: 'agents.summarize',
    description: 'summarises a text in a few words',
    type: 'summarize',
    input: z.object({ text: z.string(), words: z.number().int().positive() }),
    output: z.object({ summary: z.string() }),
  });
  node.tools.registerAgent('helper', {
    name: 'agents.mail',
    description: 'sends mail for the caller',
    type: 'send',
    callerField: 'onBehalfOf',
    input: z.object({ to: z.string(), body: z.string() }),
    output: z.object({ sent: z.boolean(), code: z.string().optional() }),
  });
});

afterEach(async () => {
  await node.stop();
  tmp.cleanup();
});

const failure = (p: Promise<unknown>) => p.then(() => undefined, (err: { code: string }) => err);

describe('agent as tool', () => {
  it('asks the agent for a caller holding the capability, and refuses one without it before the agent hears anything', async () => {
    await node.spawn(counterAgent('allowed', { capabilities: ['agents.summarize'] }), { id: 'allowed' });
    await node.spawn(counterAgent('denied', { capabilities: ['agents.other'] }), { id: 'denied' });
    await expect(node.tools.call('allowed', 'agents.summarize', { text: 'one two three four', words: 2 })).resolves.toEqual({ summary: 'one two' });
    expect(await failure(node.tools.call('denied', 'agents.summarize', { text: 'x', words: 1 }))).toMatchObject({ code: 'CAPABILITY_DENIED' });
    expect(node.lookup('helper')!.getSnapshot()?.context.asked).toBe(1);
  });

  it('is called from a statechart like any tool', async () => {
    const asker = await node.spawn(defineAgent({ name: 'asker', machine: askerMachine, messages: askerMessages, contract: { capabilities: ['agents.summarize'] } }), { id: 'asker' });
    asker.send({ type: 'go', text: 'alpha beta gamma' });
    for (let i = 0; i < 50 && asker.getSnapshot()?.context.result === undefined; i++) await settle(2);
    expect(asker.getSnapshot()?.context.result).toEqual({ summary: 'alpha beta' });
  });

  it('lets the agent act only within the intersection of its and its caller’s capabilities', async () => {
    await node.spawn(counterAgent('clerk', { capabilities: ['agents.mail', 'mail.send'] }), { id: 'clerk' });
    await node.spawn(counterAgent('intern', { capabilities: ['agents.mail'] }), { id: 'intern' });
    await expect(node.tools.call('clerk', 'agents.mail', { to: 'a@example.org', body: 'hi' })).resolves.toEqual({ sent: true });
    // The helper may send mail, but not for a caller who may not.
    await expect(node.tools.call('intern', 'agents.mail', { to: 'a@example.org', body: 'hi' })).resolves.toEqual({ sent: false, code: 'CAPABILITY_DENIED' });
    expect(mailed).toHaveLength(1);
  });

  it('never lets the arguments forge the caller field', async () => {
    await node.spawn(counterAgent('intern', { capabilities: ['agents.mail'] }), { id: 'intern' });
    await node.spawn(counterAgent('clerk', { capabilities: ['mail.send'] }), { id: 'clerk' });
    await expect(node.tools.call('intern', 'agents.mail', { to: 'a@example.org', body: 'hi', onBehalfOf: 'clerk' })).resolves.toEqual({ sent: false, code: 'CAPABILITY_DENIED' });
    expect(mailed).toHaveLength(0);
  });

  it('refuses a caller from another tenant, and an agent calling itself', async () => {
    await node.spawn(counterAgent('outsider', { capabilities: ['agents.summarize'] }), { id: 'outsider', tenant: 'other' });
    expect(await failure(node.tools.call('outsider', 'agents.summarize', { text: 'x', words: 1 }))).toMatchObject({ code: 'CROSS_TENANT' });
    const self = await node.spawn(counterAgent('self', { capabilities: ['agents.self'] }), { id: 'self' });
    node.tools.registerAgent(self, { name: 'agents.self', description: 'itself', type: 'get', input: z.object({}) });
    expect(await failure(node.tools.call('self', 'agents.self', {}))).toMatchObject({ code: 'TOOL_SELF_CALL' });
  });

  it('checks the agent’s reply against the output schema', async () => {
    const counter = await node.spawn(counterAgent('counter'), { id: 'counter' });
    node.tools.registerAgent(counter, { name: 'agents.count', description: 'the count', type: 'get', input: z.object({}), output: z.object({ count: z.number() }) });
    await node.spawn(counterAgent('reader', { capabilities: ['agents.count'] }), { id: 'reader' });
    expect(await failure(node.tools.call('reader', 'agents.count', {}))).toMatchObject({ code: 'INVALID_TOOL_OUTPUT' });
  });
});
