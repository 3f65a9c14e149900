// The quickstart demo: a node, a small supervision tree, a crash and its
// restart, an ask, and the live tree printed. Run: npm start
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, reply, supervisor, tell } from '../index.js';
import { renderTree } from './render.js';

const counterMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('inc'), by: z.number().int() }),
  z.object({ type: z.literal('get') }),
  z.object({ type: z.literal('crash') }),
]);

export const counter = defineAgent({
  name: 'counter',
  messages: counterMessages,
  machine: setup({
    types: { context: {} as { count: number }, events: {} as z.infer<typeof counterMessages> },
  }).createMachine({
    context: { count: 0 },
    on: {
      inc: { actions: [assign({ count: ({ context, event }) => context.count + event.by }), tell('audit', ({ event }) => ({ type: 'log', line: `inc ${event.by}` }))] },
      get: { actions: reply(({ context }) => context.count) },
      crash: {
        actions: () => {
          throw new Error('simulated fault');
        },
      },
    },
  }),
});

const logMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('log'), line: z.string() }), z.object({ type: z.literal('lines') })]);

export const auditor = defineAgent({
  name: 'auditor',
  messages: logMessages,
  contract: { class: { latency: 'DT' } },
  machine: setup({ types: { context: {} as { lines: string[] }, events: {} as z.infer<typeof logMessages> } }).createMachine({
    context: { lines: [] },
    on: {
      log: { actions: assign({ lines: ({ context, event }) => [...context.lines, event.line] }) },
      lines: { actions: reply(({ context }) => context.lines) },
    },
  }),
});

export async function runDemo(log: (line: string) => void = console.log, dataDir = '.agentos'): Promise<{ count: number; restarts: number }> {
  const events: string[] = [];
  const node = await createNode({ name: 'demo', dataDir, inspect: (e) => e.type.startsWith('@agentos.') && events.push(e.type) });
  await node.spawn(
    supervisor({
      id: 'app',
      strategy: 'one_for_one',
      intensity: 3,
      periodMs: 5000,
      children: [
        { id: 'audit', start: auditor },
        { id: 'counter', start: counter, restart: 'permanent' },
      ],
    }),
    { id: 'app' },
  );
  const ref = node.lookup('counter')!;
  ref.send({ type: 'inc', by: 2 });
  ref.send({ type: 'inc', by: 3 });
  log(`counter after two incs: ${await ref.ask<number>({ type: 'get' })}`);
  ref.send({ type: 'crash' });
  ref.send({ type: 'inc', by: 1 });
  const count = await ref.ask<number>({ type: 'get' });
  log(`counter after a crash and a restart from its initial state: ${count}`);
  const lines = await node.lookup('audit')!.ask<string[]>({ type: 'lines' });
  log(`audit actor saw: ${lines.join(', ')}`);
  log('\nsupervision tree:\n' + renderTree(node.tree()));
  const restarts = events.filter((t) => t === '@agentos.supervisor.restart').length;
  log(`\nsystem events: ${events.length} (${restarts} restart)`);
  await node.stop();
  return { count, restarts };
}
