// The crash harness's workload: persistent order takers that, for each order, pay
// through a tool that honours its idempotency key (it dedupes on its side, in a
// file), then ship through a tool that does not (running it twice ships twice),
// then tell a persistent ledger. Every real tool invocation is one JSON line in
// <dir>/effects.jsonl; a real payment is also one line in <dir>/paid.jsonl.

import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, defineTool, reply, syscall, tell, type PersistenceOptions } from '../../src/index.js';
import { ledgerAgent } from '../support/durable-agents.js';

export const LEDGER = 'ledger';
export const EFFECTS_FILE = 'effects.jsonl';
export const PAID_FILE = 'paid.jsonl';
/** How many times an order taker tries a step whose call failed before it gives the order up. */
// Ten, not three: under a kill campaign on a loaded machine one order's shipping call can be
// in doubt (killed inside the tool) several times running, and each time the operator finds
// nothing shipped and fails it — giving the order up then is the workload's choice, not a loss.
export const MAX_TRIES = 10;

/** One real invocation of a tool (a line of effects.jsonl). */
export interface Invocation {
  tool: 'pay' | 'ship';
  key: string;
  args: { order: string; amount?: number };
  attempt: number;
  pid: number;
}

/** One real payment (a line of paid.jsonl): what the key-honouring tool did, once per key. */
export interface Payment {
  key: string;
  order: string;
  amount: number;
  pid: number;
}

export const workloadMessages = z.discriminatedUnion('type', [
  // `note`: large notes (>= 1 KiB) are stored once by hash in the blob table, shared between orders.
  z.object({ type: z.literal('order'), id: z.string(), amount: z.number().int(), note: z.string().optional() }),
  z.object({ type: z.literal('get') }),
]);
type WorkloadEvent = z.infer<typeof workloadMessages>;
interface Order {
  id: string;
  amount: number;
}

interface WorkloadContext {
  queue: Order[];
  charged: string[];
  total: number;
  failed: Array<{ order: string; error: string }>;
  tries: number;
  ledger: string;
}

/** What `get` answers: the order taker's whole state (the checker reads it). */
export interface WorkloadState {
  charged: string[];
  total: number;
  failed: Array<{ order: string; error: string }>;
  queue: number;
  state: unknown;
}

const head = (c: WorkloadContext): Order => c.queue[0]!;
const errorText = (e: unknown): string => `${(e as { code?: string })?.code ?? ''} ${(e as Error)?.message ?? String(e)}`.trim();

export const workloadMachine = setup({
  types: { context: {} as WorkloadContext, events: {} as WorkloadEvent, input: {} as { ledger?: string } | undefined },
  actors: { syscall },
  guards: {
    hasWork: ({ context }) => context.queue.length > 0,
    canRetry: ({ context }) => context.tries + 1 < MAX_TRIES,
  },
  actions: {
    retry: assign({ tries: ({ context }) => context.tries + 1 }),
    giveUp: assign({
      failed: ({ context, event }) => [...context.failed, { order: head(context).id, error: errorText((event as { error?: unknown }).error) }],
      queue: ({ context }) => context.queue.slice(1),
      tries: 0,
    }),
  },
}).createMachine({
  id: 'crash-orders',
  context: ({ input }) => ({ queue: [], charged: [], total: 0, failed: [], tries: 0, ledger: input?.ledger ?? LEDGER }),
  initial: 'idle',
  on: {
    order: { actions: assign({ queue: ({ context, event }) => [...context.queue, { id: event.id, amount: event.amount }] }) },
    get: {
      actions: reply(({ context, self }): WorkloadState => ({
        charged: context.charged,
        total: context.total,
        failed: context.failed,
        queue: context.queue.length,
        state: self.getSnapshot().value,
      })),
    },
  },
  states: {
    idle: { always: { guard: 'hasWork', target: 'paying' } },
    paying: {
      invoke: {
        src: 'syscall',
        input: ({ context }) => ({ kind: 'tool' as const, name: 'pay', args: { order: head(context).id, amount: head(context).amount } }),
        onDone: { target: 'shipping', actions: assign({ tries: 0 }) },
        onError: [{ guard: 'canRetry', target: 'paying', reenter: true, actions: 'retry' }, { target: 'idle', actions: 'giveUp' }],
      },
    },
    shipping: {
      invoke: {
        src: 'syscall',
        input: ({ context }) => ({ kind: 'tool' as const, name: 'ship', args: { order: head(context).id } }),
        onDone: {
          target: 'idle',
          actions: [
            assign({
              charged: ({ context }) => [...context.charged, head(context).id],
              total: ({ context }) => context.total + head(context).amount,
              queue: ({ context }) => context.queue.slice(1),
              tries: 0,
            }),
            tell(
              ({ context }) => context.ledger,
              ({ context }) => ({ type: 'entry', order: context.charged[context.charged.length - 1]!, amount: 0 }),
            ),
          ],
        },
        // An in-doubt shipment an operator found never left comes back as a failure: ship again (a new key).
        onError: [{ guard: 'canRetry', target: 'shipping', reenter: true, actions: 'retry' }, { target: 'idle', actions: 'giveUp' }],
      },
    },
  },
});

/** Persistence settings the order takers cycle through, so every policy meets the kills. */
export const VARIANTS: Array<{ name: string; persistent: PersistenceOptions }> = [
  { name: 'orders-sync-turn', persistent: {} },
  { name: 'orders-async-every3', persistent: { durability: 'async', checkpoint: { everyMessages: 3 }, retainTurns: 8 } },
  { name: 'orders-sync-retain4', persistent: { checkpoint: 'turn', retainTurns: 4 } },
  { name: 'orders-sync-every7', persistent: { checkpoint: { everyMessages: 7 }, retainTurns: 20 } },
];

const definitions = VARIANTS.map((v) => defineAgent({ name: v.name, machine: workloadMachine, messages: workloadMessages, persistent: v.persistent, contract: { capabilities: ['pay', 'ship'] } }));
const ledger = ledgerAgent({ checkpoint: { everyMessages: 5 }, retainTurns: 10 });

/** Ids of the order takers of a workload with `n` of them. */
export const agentIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `orders-${i}`);

/** The definitions a node of this workload registers, and which one each order taker uses. */
export function workloadAgents(n: number): { definitions: typeof definitions; ledger: typeof ledger; of: (id: string) => (typeof definitions)[number] } {
  const ids = agentIds(n);
  return { definitions, ledger, of: (id) => definitions[ids.indexOf(id) % definitions.length]! };
}

/** Read a JSON-lines file (a torn last line, from a kill mid-write, is skipped). */
export function readLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  const out: T[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // torn write
    }
  }
  return out;
}

/** A crash point inside a tool: SIGKILL this process at the `nth` invocation of `tool`, before or after its effect. */
export interface DieAt {
  tool: Invocation['tool'];
  nth: number;
  after: boolean;
}

/**
 * The two side-effecting tools, recording into `dir`. Lines are single appends
 * (one write each): a SIGKILL of the process cannot lose what the OS already
 * has, so no fsync is needed for the crashes this harness makes. With `dieAt`,
 * the process kills itself at that point (the effect done or not, its outcome
 * never journaled).
 */
export function workloadTools(dir: string, dieAt?: DieAt) {
  const effects = join(dir, EFFECTS_FILE);
  const paidFile = join(dir, PAID_FILE);
  const paid = new Set(readLines<Payment>(paidFile).map((p) => p.key));
  let count = 0;
  const crashPoint = (tool: Invocation['tool'], after: boolean): void => {
    if (dieAt?.tool !== tool) return;
    if (!after) count++;
    if (dieAt.after === after && count === dieAt.nth) process.kill(process.pid, 'SIGKILL');
  };
  const invoked = (tool: Invocation['tool'], key: string | undefined, args: Invocation['args'], attempt: number | undefined): string => {
    if (key === undefined) throw new Error(`${tool}: called without an idempotency key (the caller is not persistent?)`);
    const line: Invocation = { tool, key, args, attempt: attempt ?? 1, pid: process.pid };
    appendFileSync(effects, JSON.stringify(line) + '\n');
    return key;
  };
  const pay = defineTool({
    name: 'pay',
    description: 'take a payment for an order; honours its idempotency key',
    input: z.object({ order: z.string(), amount: z.number().int() }),
    idempotent: 'key',
    execute: async (args, ctx) => {
      crashPoint('pay', false);
      const key = invoked('pay', ctx.key, args, ctx.attempt);
      await sleep(1); // a window for a kill between the invocation and the payment
      if (!paid.has(key)) {
        const p: Payment = { key, order: args.order, amount: args.amount, pid: process.pid };
        appendFileSync(paidFile, JSON.stringify(p) + '\n');
        paid.add(key);
      }
      crashPoint('pay', true);
      await sleep(1); // and one between the payment and the journaled outcome
      return { paid: args.order };
    },
  });
  const ship = defineTool({
    name: 'ship',
    description: 'ship an order; running it twice ships twice',
    input: z.object({ order: z.string() }),
    execute: async (args, ctx) => {
      await sleep(1);
      crashPoint('ship', false);
      invoked('ship', ctx.key, args, ctx.attempt);
      crashPoint('ship', true);
      await sleep(1);
      return { shipped: args.order };
    },
  });
  return [pay, ship];
}
