// Small agents shared by the tests: a counter that can crash, finish and reply.
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, reply, type RuntimeContractView } from '../../src/index.js';

export const counterMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('inc'), by: z.number().int() }),
  z.object({ type: z.literal('get') }),
  z.object({ type: z.literal('crash') }),
  z.object({ type: z.literal('finish') }),
]);

export const counterMachine = setup({
  types: { context: {} as { count: number; seen: string[] }, events: {} as z.infer<typeof counterMessages> },
  actions: {
    boom: () => {
      throw new Error('counter crashed on purpose');
    },
  },
}).createMachine({
  id: 'counter',
  context: { count: 0, seen: [] },
  initial: 'counting',
  states: {
    counting: {
      on: {
        inc: { actions: assign({ count: ({ context, event }) => context.count + event.by, seen: ({ context, event }) => [...context.seen, `inc${event.by}`] }) },
        get: { actions: reply(({ context }) => context.count) },
        crash: { actions: 'boom' },
        finish: 'done',
      },
    },
    done: { type: 'final' },
  },
});

export function counterAgent(name = 'counter', contract?: RuntimeContractView) {
  return defineAgent({ name, machine: counterMachine, messages: counterMessages, ...(contract ? { contract } : {}) });
}

/** Let setImmediate-scheduled slices run until the node is idle. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Let the node work (real timers: LMDB flushes take real time) until `check` holds; fails after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise<void>((r) => setTimeout(r, 2));
  }
}
