// defineStepAgent: an agent for workflow steps, written as data. Each message type
// it serves (`step`, or a step's `message`, and a compensation message) is a list
// of calls through the kernel — tools, models, memory, each built from the step's
// input and the results so far — and an `answer` built from them. The machine it
// generates shows where the agent waits (`calling` with the syscall invoked), and
// a call that fails crashes the actor, which fails the step (the engine retries an
// idempotent step, or compensates).

import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, type AgentDefinition, type RuntimeContractView } from '../../actors/define.js';
import { replyHandle, respond, type ReplyHandle } from '../../actors/reply.js';
import { syscall, type SyscallInput } from '../../actors/syscall.js';
import type { StepMessage } from './agents.js';

/** What a handler sees: the step message (input, key, run, step, attempt; `output` for compensations). */
export type StepRequest = StepMessage;

export interface StepHandler {
  /** Calls made in order; each may use the results of those before it. */
  calls?: ((request: StepRequest, results: unknown[]) => SyscallInput)[];
  /** The answer (the step's output). */
  answer: (request: StepRequest, results: unknown[]) => unknown;
}

export interface StepAgentConfig {
  name: string;
  version?: string;
  contract?: RuntimeContractView | string;
  /** Handlers by message type: `step` (the default step message), and e.g. `retract` for compensation. */
  handlers: Record<string, StepHandler>;
}

const request = z.object({
  type: z.string(),
  input: z.record(z.string(), z.unknown()),
  key: z.string(),
  run: z.string(),
  step: z.string(),
  attempt: z.number(),
  output: z.unknown().optional(),
});

interface Ctx {
  handle: ReplyHandle | undefined;
  request: StepRequest | undefined;
  results: unknown[];
}

export function defineStepAgent(config: StepAgentConfig): AgentDefinition {
  const handlers = config.handlers;
  const types = Object.keys(handlers);
  const handlerOf = (ctx: Ctx): StepHandler => handlers[ctx.request!.type]!;
  const machine = setup({
    types: { context: {} as Ctx, events: {} as StepRequest },
    actors: { syscall },
    actions: {
      fail: ({ event }) => {
        // Let it crash: the ask fails and the engine decides (retry, compensate).
        throw (event as { error?: unknown }).error ?? new Error('step call failed');
      },
    },
    guards: { moreCalls: ({ context }) => context.results.length < (handlerOf(context).calls?.length ?? 0) },
  }).createMachine({
    id: config.name,
    context: { handle: undefined, request: undefined, results: [] },
    initial: 'idle',
    states: {
      idle: {
        on: Object.fromEntries(types.map((t) => [t, { target: 'working', actions: assign({ handle: (args) => replyHandle(args), request: ({ event }) => event as StepRequest, results: [] }) }])),
      },
      working: {
        always: [
          { guard: 'moreCalls', target: 'calling' },
          { target: 'idle', actions: respond(({ context }) => (context as Ctx).handle, ({ context }) => handlerOf(context as Ctx).answer((context as Ctx).request!, (context as Ctx).results)) },
        ],
      },
      calling: {
        invoke: {
          src: 'syscall',
          input: ({ context }) => handlerOf(context).calls![context.results.length]!(context.request!, context.results),
          onDone: { target: 'working', actions: assign({ results: ({ context, event }) => [...context.results, event.output] }) },
          onError: { actions: 'fail' },
        },
      },
    },
  });
  const messages = z.discriminatedUnion('type', types.map((t) => request.extend({ type: z.literal(t) })) as unknown as [z.ZodObject<{ type: z.ZodLiteral<string> }>]);
  return defineAgent({ name: config.name, ...(config.version ? { version: config.version } : {}), machine, messages, ...(config.contract ? { contract: config.contract } : {}) });
}
