// Shared by the A2A tests: a node in a temp dir (virtual clock unless told
// otherwise) with its A2A bus, agents that keep every A2A message they receive,
// and a worker that does delegated tool calls for requests.
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, defineTool, reply, syscall, VirtualClock, type AgentOsNode, type SystemEvent } from '../../../src/index.js';
import type { Clock } from '../../../src/base/clock.js';
import { A2AMessageSchema, a2aCall, a2aReply, a2aSend, delegatedInput, type A2ABus, type A2ABusOptions, type A2AMessage } from '../../../src/services/a2a/index.js';
import { tempDir } from '../../support/tmp.js';

export interface TestNode {
  node: AgentOsNode;
  bus: A2ABus;
  clock: Clock;
  events: SystemEvent[];
  stop(): Promise<void>;
}

export async function testNode(name: string, options: { bus?: A2ABusOptions; realClock?: boolean } = {}): Promise<TestNode> {
  const tmp = tempDir('agentos-a2a-');
  const events: SystemEvent[] = [];
  const clock = options.realClock ? undefined : new VirtualClock(1000);
  const node = await createNode({
    name,
    dataDir: tmp.dir,
    capacity: { cpu: '4', mem: '4Gi' },
    ...(options.bus ? { a2a: options.bus } : {}),
    ...(clock ? { clock } : {}),
    inspect: (e) => void (e.type.startsWith('@agentos.') && events.push(e as SystemEvent)),
  });
  // The node's own bus, with the test's limits.
  const bus = node.a2a;
  return {
    node,
    bus,
    clock: node.clock,
    events,
    stop: async () => {
      bus!.close();
      await node.stop();
      tmp.cleanup();
    },
  };
}

/** Let the scheduler deliver what was sent (it runs on setImmediate). */
export const settle = async (rounds = 5): Promise<void> => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};

export async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const inboxMessages = z.discriminatedUnion('type', [A2AMessageSchema, z.object({ type: z.literal('noop') })]);

/** An agent that keeps every A2A message it receives (context.inbox) and answers nothing. */
export const inbox = (name: string, contract: Record<string, unknown> = {}) =>
  defineAgent({
    name,
    messages: inboxMessages,
    contract,
    machine: setup({ types: { context: {} as { inbox: A2AMessage[] }, events: {} as z.infer<typeof inboxMessages> } }).createMachine({
      context: { inbox: [] },
      on: { a2a: { actions: assign({ inbox: ({ context, event }) => [...context.inbox, event] }) } },
    }),
  });

export const inboxOf = (t: TestNode, id: string): A2AMessage[] => ((t.node.lookup(id)!.getSnapshot() as { context: { inbox: A2AMessage[] } }).context.inbox);

interface WorkerContext {
  req?: A2AMessage;
  done: number;
}

/**
 * A worker: for a request whose content is `{ tool, args }` it calls the tool — as its
 * requester when the request delegates (delegatedInput) — and informs the result, or
 * sends a failure with the error's code.
 */
export const worker = (contract: Record<string, unknown>, via: 'syscall' | 'a2aCall' = 'syscall') =>
  defineAgent({
    name: via === 'syscall' ? 'worker' : 'chain-worker',
    messages: inboxMessages,
    contract,
    machine: setup({ types: { context: {} as WorkerContext, events: {} as z.infer<typeof inboxMessages> }, actors: { syscall, a2aCall } }).createMachine({
      context: { done: 0 },
      initial: 'idle',
      states: {
        idle: { on: { a2a: { guard: ({ event }) => event.performative === 'request', target: 'working', actions: assign({ req: ({ event }) => event }) } } },
        working: {
          invoke: {
            src: via as 'syscall', // both take their input from the request; typed as one for brevity
            input: ({ context }): any => {
              const { tool, args } = context.req!.content as { tool: string; args: unknown };
              const request = { kind: 'tool' as const, name: tool, args };
              // a2aCall checks the whole delegation chain; delegatedInput gives the plain syscall its onBehalfOf.
              return via === 'a2aCall' ? { conversationId: context.req!.conversationId, request } : delegatedInput(context.req!, request);
            },
            onDone: { target: 'idle', actions: [a2aSend(({ context, event }) => a2aReply(context.req!, 'inform', { result: event.output })), assign({ done: ({ context }) => context.done + 1 })] },
            onError: {
              target: 'idle',
              actions: a2aSend(({ context, event }) => a2aReply(context.req!, 'failure', { code: (event.error as { code?: string }).code, message: (event.error as Error).message })),
            },
          },
        },
      },
    }),
  });

/** An agent that answers any A2A request with `reply` (ask-style) — a plain value, or an A2A inform — or with a2aSend (mode 'send'). */
export const replier = (name: string, mode: 'plain' | 'a2a' | 'send') =>
  defineAgent({
    name,
    messages: inboxMessages,
    machine: setup({ types: { context: {} as Record<string, never>, events: {} as z.infer<typeof inboxMessages> } }).createMachine({
      context: {},
      on: {
        a2a:
          mode === 'send'
            ? { actions: a2aSend(({ event }) => a2aReply(event as A2AMessage, 'inform', { sent: (event as A2AMessage).content })) }
            : { actions: reply(({ event }) => (mode === 'plain' ? { echoed: (event as A2AMessage).content } : a2aReply(event as A2AMessage, 'inform', { echoed: (event as A2AMessage).content }))) },
      },
    }),
  });

/** Tools the delegation tests call: they record who they ran for. */
export function registerTools(t: TestNode): { ran: { tool: string; actor: string }[] } {
  const ran: { tool: string; actor: string }[] = [];
  for (const name of ['crm.read', 'mail.send', 'db.write']) {
    t.node.tools.register(
      defineTool({
        name,
        description: `${name} (test)`,
        input: z.object({ x: z.number().optional() }),
        execute: (_args, ctx) => {
          ran.push({ tool: name, actor: ctx.actor });
          return { ok: name };
        },
      }),
    );
  }
  return { ran };
}

export const msg = (fields: Partial<A2AMessage> & Pick<A2AMessage, 'performative' | 'conversationId' | 'from' | 'to'>): A2AMessage => ({ type: 'a2a', content: null, ...fields });
