// Agents for the migration and failover tests: a recorder that keeps every
// numbered message per sender (so loss, duplication and reordering show), with a
// counter and optional padding (state size), persistent or not; a payer whose
// turn makes one slow side-effecting tool call that honours its idempotency key.
import { appendFileSync } from 'node:fs';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, defineTool, reply, syscall, type RuntimeContractView } from '../../../../src/index.js';

export const recorderMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('rec'), n: z.number().int(), by: z.string() }),
  z.object({ type: z.literal('inc'), by: z.number().int() }),
  z.object({ type: z.literal('pad'), kb: z.number().int().min(0).max(4096) }),
  z.object({ type: z.literal('get') }),
]);

export interface RecorderState {
  count: number;
  log: Record<string, number[]>;
  pad: string;
}

export const recorderMachine = setup({
  types: { context: {} as RecorderState, events: {} as z.infer<typeof recorderMessages> },
}).createMachine({
  id: 'recorder',
  context: { count: 0, log: {}, pad: '' },
  on: {
    rec: { actions: assign({ log: ({ context, event }) => ({ ...context.log, [event.by]: [...(context.log[event.by] ?? []), event.n] }) }) },
    inc: { actions: assign({ count: ({ context, event }) => context.count + event.by }) },
    pad: { actions: assign({ pad: ({ event }) => 'x'.repeat(event.kb * 1024) }) },
    get: { actions: reply(({ context }) => ({ count: context.count, log: context.log, padKb: context.pad.length / 1024 })) },
  },
});

/** `persistent`: checkpoint after every turn. `contract`: extra contract fields (migratable, placement, class). */
export function recorderAgent(options: { persistent?: boolean; name?: string; contract?: RuntimeContractView } = {}) {
  return defineAgent({
    name: options.name ?? (options.persistent ? 'precorder' : 'recorder'),
    machine: recorderMachine,
    messages: recorderMessages,
    ...(options.persistent ? { persistent: true } : {}),
    ...(options.contract ? { contract: options.contract } : {}),
  });
}

export const payerMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('pay'), order: z.string() }), z.object({ type: z.literal('get') })]);

export const payerMachine = setup({
  types: { context: {} as { paid: string[]; queue: string[] }, events: {} as z.infer<typeof payerMessages> },
  actors: { syscall },
  guards: { hasWork: ({ context }) => context.queue.length > 0 },
}).createMachine({
  id: 'payer',
  context: { paid: [], queue: [] },
  initial: 'idle',
  on: {
    pay: { actions: assign({ queue: ({ context, event }) => [...context.queue, event.order] }) },
    get: { actions: reply(({ context }) => ({ paid: context.paid, queue: context.queue })) },
  },
  states: {
    idle: { always: { guard: 'hasWork', target: 'paying' } },
    paying: {
      invoke: {
        src: 'syscall',
        input: ({ context }) => ({ kind: 'tool' as const, name: 'pay', args: { order: context.queue[0]! } }),
        onDone: { target: 'idle', actions: assign({ paid: ({ context }) => [...context.paid, context.queue[0]!], queue: ({ context }) => context.queue.slice(1) }) },
        onError: { target: 'idle', actions: assign({ queue: ({ context }) => context.queue.slice(1) }) },
      },
    },
  },
});

export function payerAgent() {
  return defineAgent({ name: 'payer', machine: payerMachine, messages: payerMessages, persistent: true, contract: { capabilities: ['pay'] } });
}

/** A side effect that takes `ms` and (by default) honours its key; every real invocation is appended to `file` as JSON. */
export function payTool(file: string, node: string, ms: number, idempotent: 'key' | false = 'key') {
  return defineTool({
    name: 'pay',
    description: 'pay an order (slow side effect)',
    input: z.object({ order: z.string() }),
    idempotent,
    execute: async (args, ctx) => {
      appendFileSync(file, `${JSON.stringify({ order: args.order, key: ctx.key, node, phase: 'start' })}\n`);
      await new Promise((r) => setTimeout(r, ms));
      appendFileSync(file, `${JSON.stringify({ order: args.order, key: ctx.key, node, phase: 'done' })}\n`);
      return { ok: true };
    },
  });
}
