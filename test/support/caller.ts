// An agent that makes one syscall per `call` message (a tool, or a model when
// the name starts with `local/`) and remembers the result or the error code;
// `relay` forwards a message to another actor. Shared by the governance and
// telemetry tests.
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, syscall, tell, type AgentOsError } from '../../src/index.js';

export const callerMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('call'), tool: z.string(), args: z.unknown(), tokens: z.number().optional() }),
  z.object({ type: z.literal('relay'), to: z.string(), message: z.object({ type: z.string() }).passthrough() }),
]);

type CallerEvent = z.infer<typeof callerMessages>;

export const callerMachine = setup({
  types: { context: {} as { result?: unknown; error?: string; calls: number }, events: {} as CallerEvent },
  actors: { syscall },
}).createMachine({
  context: { calls: 0 },
  initial: 'idle',
  states: {
    idle: {
      on: {
        call: 'calling',
        relay: { actions: tell(({ event }) => (event as Extract<CallerEvent, { type: 'relay' }>).to, ({ event }) => (event as Extract<CallerEvent, { type: 'relay' }>).message) },
      },
    },
    calling: {
      invoke: {
        src: 'syscall',
        input: ({ event }) => {
          const e = event as Extract<CallerEvent, { type: 'call' }>;
          return e.tool.startsWith('local/') ? { kind: 'model' as const, name: e.tool, tokens: e.tokens ?? 0 } : { kind: 'tool' as const, name: e.tool, args: e.args };
        },
        onDone: { target: 'idle', actions: assign({ result: ({ event }) => event.output, error: undefined, calls: ({ context }) => context.calls + 1 }) },
        onError: { target: 'idle', actions: assign({ error: ({ event }) => (event.error as AgentOsError).code, calls: ({ context }) => context.calls + 1 }) },
      },
    },
  },
});

export const caller = (contract: Record<string, unknown>, name = 'caller') => defineAgent({ name, machine: callerMachine, messages: callerMessages, contract });
