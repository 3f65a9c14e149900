// The persistent agent of the demo, in its own module so `agentos replay` can
// load it (`--agents dist/cli/demo-agents.js`, the default): a bookkeeper that
// books each order through a side-effecting tool, one at a time, and keeps the
// running total. Its state, inbox and tool calls survive a crash or a restart.
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, defineTool, reply, syscall } from '../index.js';

const bookMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('order'), id: z.string(), amount: z.number().int() }),
  z.object({ type: z.literal('summary') }),
]);

interface Books {
  pending: Array<{ id: string; amount: number }>;
  booked: string[];
  total: number;
}

export const bookkeeper = defineAgent({
  name: 'bookkeeper',
  version: '1',
  messages: bookMessages,
  persistent: true,
  contract: { capabilities: ['ledger.book'] },
  machine: setup({
    types: { context: {} as Books, events: {} as z.infer<typeof bookMessages> },
    actors: { syscall },
    guards: { hasWork: ({ context }) => context.pending.length > 0 },
  }).createMachine({
    id: 'bookkeeper',
    context: { pending: [], booked: [], total: 0 },
    initial: 'idle',
    on: {
      order: { actions: assign({ pending: ({ context, event }) => [...context.pending, { id: event.id, amount: event.amount }] }) },
      summary: { actions: reply(({ context }) => ({ booked: context.booked.length, total: context.total, pending: context.pending.length })) },
    },
    states: {
      idle: { always: { guard: 'hasWork', target: 'booking' } },
      booking: {
        invoke: {
          src: 'syscall',
          input: ({ context }) => ({ kind: 'tool' as const, name: 'ledger.book', args: context.pending[0]! }),
          onDone: {
            target: 'idle',
            actions: assign({
              booked: ({ context }) => [...context.booked, context.pending[0]!.id],
              total: ({ context }) => context.total + context.pending[0]!.amount,
              pending: ({ context }) => context.pending.slice(1),
            }),
          },
          onError: { target: 'idle', actions: assign({ pending: ({ context }) => context.pending.slice(1) }) },
        },
      },
    },
  }),
});

/** The demo's side effect: "books" an order (counts real invocations). Honours the idempotency key. */
export function ledgerBook(invocations: { count: number } = { count: 0 }) {
  return defineTool({
    name: 'ledger.book',
    description: 'book an order in the (demo) ledger',
    input: z.object({ id: z.string(), amount: z.number().int() }),
    idempotent: 'key',
    execute: (args) => {
      invocations.count++;
      return { booked: args.id };
    },
  });
}
