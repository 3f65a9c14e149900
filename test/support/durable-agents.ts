// Persistent agents shared by the durability tests and the crash harness: an order
// taker that charges each order through a side-effecting tool and tells a ledger.
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, defineTool, reply, syscall, tell, type PersistenceOptions } from '../../src/index.js';

export const orderMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('order'), id: z.string(), amount: z.number().int() }),
  z.object({ type: z.literal('get') }),
  z.object({ type: z.literal('crash') }),
]);
type OrderEvent = z.infer<typeof orderMessages>;

interface OrderContext {
  queue: Array<{ id: string; amount: number }>;
  charged: string[];
  total: number;
  ledger: string | undefined;
}

export const orderMachine = setup({
  types: { context: {} as OrderContext, events: {} as OrderEvent, input: {} as { ledger?: string } | undefined },
  actors: { syscall },
  actions: {
    boom: () => {
      throw new Error('order taker crashed on purpose');
    },
  },
  guards: { hasWork: ({ context }) => context.queue.length > 0 },
}).createMachine({
  id: 'orders',
  context: ({ input }) => ({ queue: [], charged: [], total: 0, ledger: input?.ledger }),
  initial: 'idle',
  on: {
    order: { actions: assign({ queue: ({ context, event }) => [...context.queue, { id: event.id, amount: event.amount }] }) },
    get: { actions: reply(({ context }) => ({ charged: context.charged, total: context.total })) },
    crash: { actions: 'boom' },
  },
  states: {
    idle: { always: { guard: 'hasWork', target: 'charging' } },
    charging: {
      invoke: {
        src: 'syscall',
        input: ({ context }) => ({ kind: 'tool' as const, name: 'charge', args: { order: context.queue[0]!.id, amount: context.queue[0]!.amount } }),
        onDone: {
          target: 'idle',
          actions: [
            assign({
              charged: ({ context }) => [...context.charged, context.queue[0]!.id],
              total: ({ context }) => context.total + context.queue[0]!.amount,
              queue: ({ context }) => context.queue.slice(1),
            }),
            tell(
              ({ context }) => context.ledger ?? '-',
              ({ context }) => ({ type: 'entry', order: context.charged[context.charged.length - 1]!, amount: 0 }),
            ),
          ],
        },
        onError: { target: 'idle', actions: assign({ queue: ({ context }) => context.queue.slice(1) }) },
      },
    },
  },
});

export function orderAgent(persistent: boolean | PersistenceOptions = true, name = 'orders') {
  return defineAgent({ name, machine: orderMachine, messages: orderMessages, persistent, contract: { capabilities: ['charge'] } });
}

export const ledgerMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('entry'), order: z.string(), amount: z.number() }),
  z.object({ type: z.literal('get') }),
]);

export const ledgerMachine = setup({ types: { context: {} as { entries: string[] }, events: {} as z.infer<typeof ledgerMessages> } }).createMachine({
  id: 'ledger',
  context: { entries: [] },
  on: {
    entry: { actions: assign({ entries: ({ context, event }) => [...context.entries, event.order] }) },
    get: { actions: reply(({ context }) => context.entries) },
  },
});

export function ledgerAgent(persistent: boolean | PersistenceOptions = true) {
  return defineAgent({ name: 'ledger', machine: ledgerMachine, messages: ledgerMessages, persistent });
}

/** The charge tool: `effects` receives every real invocation. */
export function chargeTool(effects: (call: { order: string; amount: number; key: string | undefined }) => void, idempotent: boolean | 'key' = false) {
  return defineTool({
    name: 'charge',
    description: 'charge an order (a side effect)',
    input: z.object({ order: z.string(), amount: z.number().int() }),
    idempotent,
    execute: async (args, ctx) => {
      effects({ ...args, key: ctx.key });
      return { ok: true, order: args.order };
    },
  });
}
