// The README's model example: an agent asks the deterministic local model through
// the kernel (policy-checked, audited), and an in-process caller streams a reply.
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, syscall } from '../src/index.js';

const messages = z.discriminatedUnion('type', [z.object({ type: z.literal('say'), text: z.string() })]);

const assistant = defineAgent({
  name: 'assistant',
  messages,
  contract: { modelPolicy: { allow: ['local/*'], max_context_tokens: 4000 } },
  machine: setup({
    types: { context: {} as { answer?: string }, events: {} as z.infer<typeof messages> },
    actors: { syscall },
  }).createMachine({
    context: {},
    initial: 'idle',
    states: {
      idle: { on: { say: 'thinking' } },
      thinking: {
        invoke: {
          src: 'syscall',
          input: ({ event }) => ({ kind: 'model' as const, name: 'local/rules', args: { messages: [{ role: 'user' as const, content: (event as { text: string }).text }] } }),
          onDone: { target: 'idle', actions: assign({ answer: ({ event }) => (event.output as { text: string }).text }) },
        },
      },
    },
  }),
});

export async function main(dataDir = '.agentos'): Promise<{ answer: string | undefined; streamed: string }> {
  const node = await createNode({ name: 'models-example', dataDir });
  const ref = await node.spawn(assistant, { id: 'assistant' });
  ref.send({ type: 'say', text: 'hello there' });
  while (ref.getSnapshot()?.context.answer === undefined) await new Promise((r) => setTimeout(r, 1));
  const answer = ref.getSnapshot()?.context.answer as string | undefined;
  console.log('assistant:', answer);

  // Streaming, for in-process callers: the same policy check, then chunks as they come.
  let streamed = '';
  const stream = await node.models.stream('assistant', { model: 'local/echo', messages: [{ role: 'user', content: 'stream me back' }] });
  for await (const chunk of stream) if (chunk.type === 'text') streamed += chunk.text;
  console.log('streamed:', streamed);
  await node.stop();
  return { answer, streamed };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) await main();
