// The machines the suites run. Each baseline runs the very same machine
// definition as agentos (same object), so the difference is our message path.

import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, reply, type RuntimeContractView } from './agentos.js';

/** Deliveries handled by any counter, across actors (reset by each measurement). */
export const processed = { n: 0 };

export const counterMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('inc'), by: z.number().int() }),
  z.object({ type: z.literal('get') }),
]);

export type CounterMessage = z.infer<typeof counterMessages>;

/** A counter: `inc` adds to context (an XState `assign`) and bumps `processed.n`. */
export const counterMachine = setup({
  types: { context: {} as { count: number }, events: {} as CounterMessage },
  actions: {
    tick: () => {
      processed.n++;
    },
  },
}).createMachine({
  id: 'counter',
  context: { count: 0 },
  on: {
    inc: { actions: [assign({ count: ({ context, event }) => context.count + event.by }), 'tick'] },
    get: { actions: reply(({ context }) => context.count) },
  },
});

export function counterAgent(contract?: RuntimeContractView) {
  return defineAgent({ name: 'bench-counter', machine: counterMachine, messages: counterMessages, ...(contract ? { contract } : {}) });
}
