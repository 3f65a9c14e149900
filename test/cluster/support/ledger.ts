// A persistent agent whose every turn has a side effect, and the provider that
// carries it out, for split-brain tests across node processes. Each `charge`
// makes one call to the `charge` tool; the tool applies the charge at a provider
// that honours idempotency keys: the first call with a key creates a marker file
// for it (O_EXCL, atomic across processes); a later one with the same key and the
// same charge is a duplicate (not applied again); one with the same key for
// another charge is a conflict (two histories of the actor claiming one turn).
// Every call is appended to attempts.jsonl with the node that made it, so a
// checker can tell which side ran which turn and when.
import { appendFileSync, mkdirSync, openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, defineTool, reply, syscall } from '../../../src/index.js';

export const ledgerMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('charge'), id: z.string() }), z.object({ type: z.literal('get') })]);

type LedgerContext = { done: string[]; failed: string[]; queue: string[] };

const ledgerMachine = setup({
  types: { context: {} as LedgerContext, events: {} as z.infer<typeof ledgerMessages> },
  actors: { syscall },
  guards: { hasWork: ({ context }) => context.queue.length > 0 },
}).createMachine({
  id: 'ledger',
  context: { done: [], failed: [], queue: [] },
  initial: 'idle',
  on: {
    charge: { actions: assign({ queue: ({ context, event }) => [...context.queue, event.id] }) },
    get: { actions: reply(({ context }) => ({ done: context.done, failed: context.failed, queue: context.queue })) },
  },
  states: {
    idle: { always: { guard: 'hasWork', target: 'charging' } },
    charging: {
      invoke: {
        src: 'syscall',
        input: ({ context }) => ({ kind: 'tool' as const, name: 'charge', args: { id: context.queue[0]! } }),
        onDone: { target: 'idle', actions: assign({ done: ({ context }) => [...context.done, context.queue[0]!], queue: ({ context }) => context.queue.slice(1) }) },
        onError: { target: 'idle', actions: assign({ failed: ({ context }) => [...context.failed, context.queue[0]!], queue: ({ context }) => context.queue.slice(1) }) },
      },
    },
  },
});

export function ledgerAgent() {
  return defineAgent({ name: 'ledger', machine: ledgerMachine, messages: ledgerMessages, persistent: true, contract: { capabilities: ['charge'] } });
}

export type Outcome = 'applied' | 'duplicate' | 'conflict';

export interface Attempt {
  id: string;
  key: string;
  node: string;
  /** Wall-clock ms (the same clock in every process on the machine). */
  at: number;
  outcome: Outcome;
}

/** Apply `id` under `key` at most once across processes. */
function applyOnce(dir: string, key: string, id: string): Outcome {
  const marker = join(dir, 'keys', createHash('sha256').update(key).digest('hex'));
  try {
    const fd = openSync(marker, 'wx');
    writeSync(fd, id);
    closeSync(fd);
    return 'applied';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readFileSync(marker, 'utf8') === id ? 'duplicate' : 'conflict';
  }
}

/** The `charge` tool of `node`: applies at once, then takes `ms` to answer. */
export function chargeTool(dir: string, node: string, ms: number) {
  mkdirSync(join(dir, 'keys'), { recursive: true });
  return defineTool({
    name: 'charge',
    description: 'charge an order at a provider that honours idempotency keys',
    input: z.object({ id: z.string() }),
    idempotent: 'key',
    execute: async (args, ctx) => {
      const key = ctx.key ?? `no-key:${args.id}`;
      const outcome = applyOnce(dir, key, args.id);
      const attempt: Attempt = { id: args.id, key, node, at: Date.now(), outcome };
      appendFileSync(join(dir, 'attempts.jsonl'), `${JSON.stringify(attempt)}\n`);
      await new Promise((r) => setTimeout(r, ms));
      return { outcome };
    },
  });
}

export function readAttempts(dir: string): Attempt[] {
  try {
    return readFileSync(join(dir, 'attempts.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Attempt);
  } catch {
    return [];
  }
}
