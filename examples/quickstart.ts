// The README's first example: a typed counter agent, supervised, with send and ask.
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, reply } from '../src/index.js';

const messages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('inc'), by: z.number().int() }),
  z.object({ type: z.literal('get') }),
]);

const counter = defineAgent({
  name: 'counter',
  messages,
  machine: setup({ types: { context: {} as { count: number }, events: {} as z.infer<typeof messages> } }).createMachine({
    context: { count: 0 },
    on: {
      inc: { actions: assign({ count: ({ context, event }) => context.count + event.by }) },
      get: { actions: reply(({ context }) => context.count) },
    },
  }),
});

export async function main(dataDir = '.agentos'): Promise<number> {
  const node = await createNode({ name: 'n1', dataDir });
  const ref = await node.spawn(counter, { id: 'c1' });
  ref.send({ type: 'inc', by: 2 });
  ref.send({ type: 'inc', by: 3 });
  const count = await ref.ask<number>({ type: 'get' }, { timeoutMs: 500 });
  console.log('count =', count); // 5
  await node.stop();
  return count;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();
