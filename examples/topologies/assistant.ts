// The agent the topology configs run: it answers `ask` with a model completion,
// asked for through the kernel (its contract's modelPolicy is checked, the call
// audited, then the node's model gateway routes it). Asks are answered one at a
// time, in order; the reply says which model answered, or the error's code.
// In your project, import from 'agentos' instead of the repository's sources.
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, replyHandle, respond, syscall, type Completion, type ReplyHandle, type RuntimeContractView } from '../../src/index.js';

export const askMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ask'), content: z.string().min(1).max(10_000), model: z.string().optional() }),
]);

/** What an `ask` is answered with. */
export type AssistantReply = { model: string; text: string } | { error: { code: string; message: string } };

export interface Job {
  content: string;
  model: string | undefined;
  answer: ReplyHandle | undefined;
}

export interface AssistantContext {
  /** The model asked for when an `ask` names none. */
  model: string;
  jobs: Job[];
}

/** An assistant agent named `name` with this contract, asking `model` unless an `ask` names another. */
export function assistant(name: string, model: string, contract: RuntimeContractView) {
  const machine = setup({
    types: { context: {} as AssistantContext, events: {} as z.infer<typeof askMessages> },
    actors: { syscall },
  }).createMachine({
    context: { model, jobs: [] },
    on: { ask: { actions: assign({ jobs: (args) => [...args.context.jobs, { content: args.event.content, model: args.event.model, answer: replyHandle(args) }] }) } },
    initial: 'idle',
    states: {
      idle: { always: { guard: ({ context }) => context.jobs.length > 0, target: 'asking' } },
      asking: {
        invoke: {
          src: 'syscall',
          input: ({ context }: { context: AssistantContext }) => ({
            kind: 'model' as const,
            name: context.jobs[0]!.model ?? context.model,
            args: { messages: [{ role: 'user' as const, content: context.jobs[0]!.content }], maxTokens: 256 },
          }),
          onDone: {
            target: 'idle',
            actions: [
              respond(({ context }) => context.jobs[0]!.answer, ({ event }): AssistantReply => ({ model: (event.output as Completion).model, text: (event.output as Completion).text })),
              assign({ jobs: ({ context }) => context.jobs.slice(1) }),
            ],
          },
          onError: {
            target: 'idle',
            actions: [
              respond(({ context }) => context.jobs[0]!.answer, ({ event }): AssistantReply => {
                const err = event.error as { code?: string; message?: string };
                return { error: { code: err.code ?? 'FAILED', message: err.message ?? String(event.error) } };
              }),
              assign({ jobs: ({ context }) => context.jobs.slice(1) }),
            ],
          },
        },
      },
    },
  });
  return defineAgent({ name, machine, messages: askMessages, contract });
}
