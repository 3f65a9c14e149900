// Persistent agents for the restore tests: a parent that spawns and invokes
// child machines, a timer that waits with `after`, and tools whose every real
// invocation is counted (one can be held open to catch an actor mid-call).
import { assign, raise, sendTo, setup, spawnChild } from 'xstate';
import { z } from 'zod';
import { defineAgent, defineTool, reply, syscall, type PersistenceOptions } from '../../../src/index.js';

// ── parent with spawned and invoked children ─────────────────────────────

const workerMachine = setup({ types: { context: {} as { count: number }, events: {} as { type: 'inc' } } }).createMachine({
  id: 'worker',
  context: { count: 0 },
  on: { inc: { actions: assign({ count: ({ context }) => context.count + 1 }) } },
});

export const parentMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('spawn'), id: z.string() }),
  z.object({ type: z.literal('poke'), id: z.string() }),
  z.object({ type: z.literal('work') }),
  z.object({ type: z.literal('rest') }),
]);

const parentMachine = setup({
  types: { events: {} as z.infer<typeof parentMessages>, context: {} as { spawned: string[] } },
  actors: { worker: workerMachine },
}).createMachine({
  id: 'parent',
  context: { spawned: [] },
  initial: 'resting',
  on: {
    spawn: { actions: [spawnChild('worker', { id: ({ event }) => event.id }), assign({ spawned: ({ context, event }) => [...context.spawned, event.id] })] },
    poke: { actions: sendTo(({ event }) => event.id, { type: 'inc' }) },
  },
  states: {
    resting: { on: { work: 'working' } },
    working: { invoke: { src: 'worker', id: 'inv' }, on: { rest: 'resting' } },
  },
});

export function parentAgent(persistent: boolean | PersistenceOptions = true) {
  return defineAgent({ name: 'parent', machine: parentMachine, messages: parentMessages, persistent });
}

/** The count of the machine's child `id`, read from the live actor. */
export function childCount(snapshot: unknown, id: string): number | undefined {
  const child = (snapshot as { children?: Record<string, { getSnapshot(): { context: { count: number }; status: string } } | undefined> })?.children?.[id];
  return child?.getSnapshot().status === 'active' ? child.getSnapshot().context.count : undefined;
}

// ── a timer ──────────────────────────────────────────────────────────────

export const timerMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('arm') }), z.object({ type: z.literal('get') })]);

const timerMachine = setup({ types: { events: {} as z.infer<typeof timerMessages>, context: {} as { fired: number } } }).createMachine({
  id: 'timer',
  context: { fired: 0 },
  initial: 'idle',
  on: { get: { actions: reply(({ context }) => context.fired) } },
  states: {
    idle: { on: { arm: 'waiting' } },
    waiting: { after: { 100: { target: 'idle', actions: assign({ fired: ({ context }) => context.fired + 1 }) } } },
  },
});

export function timerAgent(persistent: boolean | PersistenceOptions = true) {
  return defineAgent({ name: 'timer', machine: timerMachine, messages: timerMessages, persistent });
}

// ── tools that count their invocations ───────────────────────────────────

export interface Invocation {
  order: string;
  amount: number;
  key: string | undefined;
  attempt: number | undefined;
}

/**
 * A `charge` tool whose calls can be held open: while `gate.holding`, each call waits
 * until `gate.release()` (or forever, if the node stops first: a call left in doubt).
 */
export class ChargeGate {
  readonly calls: Invocation[] = [];
  readonly compensated: Array<{ key: string; args: unknown }> = [];
  holding = false;
  private waiters: Array<() => void> = [];

  release(): void {
    this.holding = false;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Forget the calls held open (their node stopped): they never finish, as in a crash. Later calls are not held unless `keepHolding`. */
  abandon(keepHolding = false): void {
    this.holding = keepHolding && this.holding;
    this.waiters = [];
  }

  /** Calls held open right now. */
  get waiting(): number {
    return this.waiters.length;
  }

  tool(options: { idempotent?: boolean | 'key'; compensate?: boolean; name?: string } = {}) {
    return defineTool({
      name: options.name ?? 'charge',
      description: 'charge an order (a side effect); counts every real invocation',
      input: z.object({ order: z.string(), amount: z.number().int() }),
      ...(options.idempotent === undefined ? {} : { idempotent: options.idempotent }),
      ...(options.compensate
        ? {
            compensate: (call: { key: string }, args: unknown) => {
              this.compensated.push({ key: call.key, args });
            },
          }
        : {}),
      execute: async (args, ctx) => {
        this.calls.push({ ...args, key: ctx.key, attempt: ctx.attempt });
        if (this.holding) await new Promise<void>((resolve) => this.waiters.push(resolve));
        return { ok: true, order: args.order };
      },
    });
  }
}

// ── an order taker that records how each call ended ──────────────────────

export const payMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('pay'), id: z.string(), amount: z.number().int() }),
  z.object({ type: z.literal('get') }),
]);

interface PayContext {
  pending: { id: string; amount: number } | undefined;
  outcomes: Array<{ id: string; ok: boolean; result?: unknown; code?: string }>;
}

const payMachine = setup({
  types: { context: {} as PayContext, events: {} as z.infer<typeof payMessages> },
  actors: { syscall },
}).createMachine({
  id: 'payer',
  context: { pending: undefined, outcomes: [] },
  initial: 'idle',
  on: { get: { actions: reply(({ context }) => context.outcomes) } },
  states: {
    idle: { on: { pay: { target: 'paying', actions: assign({ pending: ({ event }) => ({ id: event.id, amount: event.amount }) }) } } },
    paying: {
      invoke: {
        src: 'syscall',
        input: ({ context }) => ({ kind: 'tool' as const, name: 'charge', args: { order: context.pending!.id, amount: context.pending!.amount } }),
        onDone: { target: 'idle', actions: assign({ outcomes: ({ context, event }) => [...context.outcomes, { id: context.pending!.id, ok: true, result: event.output }], pending: undefined }) },
        onError: {
          target: 'idle',
          actions: assign({
            outcomes: ({ context, event }) => [...context.outcomes, { id: context.pending!.id, ok: false, code: String((event.error as { code?: unknown })?.code) }],
            pending: undefined,
          }),
        },
      },
    },
  },
});

/** One call at a time; `get` replies with how each call ended (`code` of the error, for a failure). */
export function payAgent(persistent: boolean | PersistenceOptions = true) {
  return defineAgent({ name: 'payer', machine: payMachine, messages: payMessages, persistent, contract: { capabilities: ['charge'] } });
}

// ── a shop: a counter, orders charged one at a time with a cooldown, and ticks ─

export const shopMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('add'), by: z.number().int() }),
  z.object({ type: z.literal('order'), id: z.string(), amount: z.number().int() }),
  z.object({ type: z.literal('arm'), ms: z.number().int().min(1) }),
  z.object({ type: z.literal('get') }),
]);

export interface ShopContext {
  count: number;
  ticks: number;
  queue: Array<{ id: string; amount: number }>;
  charged: string[];
  total: number;
}

type ShopEvent = z.infer<typeof shopMessages> | { type: 'tick' };

const shopMachine = setup({
  types: { context: {} as ShopContext, events: {} as ShopEvent },
  actors: { syscall },
  guards: { hasWork: ({ context }) => context.queue.length > 0 },
  actions: {
    charged: assign({
      charged: ({ context }) => [...context.charged, context.queue[0]!.id],
      total: ({ context }) => context.total + context.queue[0]!.amount,
      queue: ({ context }) => context.queue.slice(1),
    }),
  },
}).createMachine({
  id: 'shop',
  context: { count: 0, ticks: 0, queue: [], charged: [], total: 0 },
  initial: 'idle',
  on: {
    add: { actions: assign({ count: ({ context, event }) => context.count + event.by }) },
    order: { actions: assign({ queue: ({ context, event }) => [...context.queue, { id: event.id, amount: event.amount }] }) },
    // a delayed event to itself; when it comes, a tick, and an order of its own
    arm: { actions: raise({ type: 'tick' }, { delay: ({ event }) => event.ms }) },
    tick: {
      actions: assign({
        ticks: ({ context }) => context.ticks + 1,
        queue: ({ context }) => [...context.queue, { id: `tick${context.ticks + 1}`, amount: 0 }],
      }),
    },
    get: { actions: reply(({ context }) => context) },
  },
  states: {
    idle: { always: { guard: 'hasWork', target: 'charging' } },
    charging: {
      invoke: {
        src: 'syscall',
        input: ({ context }) => ({ kind: 'tool' as const, name: 'charge', args: { order: context.queue[0]!.id, amount: context.queue[0]!.amount } }),
        onDone: [
          // a large order gets a receipt: a second call, made as soon as the charge is back
          { guard: ({ context }) => context.queue[0]!.amount >= 5, target: 'receipt' },
          { target: 'cooldown', actions: 'charged' },
        ],
        onError: { target: 'idle', actions: assign({ queue: ({ context }) => context.queue.slice(1) }) },
      },
    },
    receipt: {
      invoke: {
        src: 'syscall',
        input: ({ context }) => ({ kind: 'tool' as const, name: 'charge', args: { order: `${context.queue[0]!.id}/receipt`, amount: 0 } }),
        onDone: { target: 'cooldown', actions: 'charged' },
        onError: { target: 'cooldown', actions: 'charged' },
      },
    },
    cooldown: { after: { 20: 'idle' } },
  },
});

export function shopAgent(persistent: boolean | PersistenceOptions = true) {
  return defineAgent({ name: 'shop', machine: shopMachine, messages: shopMessages, persistent, contract: { capabilities: ['charge'] } });
}
