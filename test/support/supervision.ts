// Agents and a node harness for the end-to-end supervision tests: real XState
// actors under real supervisors, on a VirtualClock, with every inspection event kept.
import { assign, fromPromise, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, reply, SHUTDOWN_EVENT, VirtualClock, type AgentOsNode, type NodeOptions } from '../../src/index.js';
import { settle } from './agents.js';
import { tempDir } from './tmp.js';

export interface SeenEvent {
  type: string;
  [key: string]: unknown;
}

export interface Harness {
  node: AgentOsNode;
  clock: VirtualClock;
  events: SeenEvent[];
  /** Events of `type` (all, or from index `from` on). */
  ofType(type: string, from?: number): SeenEvent[];
  /** `started x` / `stopped x` lines for actor lifecycle events, from index `from` on. */
  lifecycle(from?: number): string[];
  close(): Promise<void>;
}

let seq = 0;

/** A fresh node in its own temp dir, on a VirtualClock, capturing inspection events. */
export async function startNode(options: Partial<NodeOptions> = {}): Promise<Harness> {
  const tmp = tempDir();
  const clock = new VirtualClock(1000);
  const events: SeenEvent[] = [];
  const node = await createNode({
    name: `sup${++seq}`,
    dataDir: tmp.dir,
    clock,
    inspect: (e) => {
      // XState's own events are many and large; keep only ours. (The guard is needed:
      // formatting an ActorRef with chai's loupe calls Kernel#inspect(depth) — see the report.)
      if (typeof e?.type === 'string' && e.type.startsWith('@agentos.')) events.push(e as SeenEvent);
    },
    ...options,
  });
  return {
    node,
    clock,
    events,
    // The kernel's own service actors (agentos.tools, …) are not part of the users' tree.
    ofType: (type, from = 0) => events.slice(from).filter((e) => e.type === type && !String(e.id ?? '').startsWith('agentos.')),
    lifecycle: (from = 0) =>
      events
        .slice(from)
        .filter((e) => (e.type === '@agentos.actor.started' || e.type === '@agentos.actor.stopped') && !String(e.id).startsWith('agentos.'))
        .map((e) => `${e.type === '@agentos.actor.started' ? 'started' : 'stopped'} ${String(e.id)}`),
    close: async () => {
      // Graceful machines wait on the virtual clock while stopping: keep it moving.
      let stopped = false;
      const stopping = node.stop().finally(() => (stopped = true));
      for (let i = 0; i < 1000 && !stopped; i++) {
        await settle(2);
        clock.advance(1000);
      }
      await stopping;
      tmp.cleanup();
    },
  };
}

/** The count in a counter-like actor's context (undefined while it is not running). */
export function countOf(node: AgentOsNode, id: string): number | undefined {
  return (node.lookup(id)?.getSnapshot()?.context as { count?: number } | undefined)?.count;
}

/**
 * Let the scheduler and the supervisors run until every worker is running with an
 * empty mailbox and no supervisor is mid-restart (bounded).
 */
export async function settleIdle(node: AgentOsNode, maxRounds = 500): Promise<void> {
  for (let i = 0; i < maxRounds; i++) {
    await settle(4);
    if (idle(node.tree())) return;
  }
  throw new Error(`node did not settle: ${JSON.stringify(node.tree())}`);
}

function idle(n: ReturnType<AgentOsNode['tree']>): boolean {
  if (n.status === 'restarting') return false;
  // A worker whose record says running may still be a crashed cell whose exit is queued.
  if (n.kind === 'worker' && n.status === 'running' && (n.info?.status !== 'running' || (n.info?.mailbox as number) > 0)) return false;
  return (n.children ?? []).every(idle);
}

// ── agents ─────────────────────────────────────────────────────────────────

const seedMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('inc'), by: z.number().int() }),
  z.object({ type: z.literal('get') }),
  z.object({ type: z.literal('crash') }),
]);

/** A counter whose context comes from its input: `{ name, start }`. */
export const seededAgent = defineAgent({
  name: 'seeded',
  messages: seedMessages,
  machine: setup({
    types: {
      context: {} as { name: string; count: number },
      input: {} as { name: string; start: number } | undefined,
      events: {} as z.infer<typeof seedMessages>,
    },
    actions: {
      boom: () => {
        throw new Error('seeded crashed on purpose');
      },
    },
  }).createMachine({
    context: ({ input }) => ({ name: input?.name ?? 'anonymous', count: input?.start ?? 0 }),
    on: {
      inc: { actions: assign({ count: ({ context, event }) => context.count + event.by }) },
      get: { actions: reply(({ context }) => context.count) },
      crash: { actions: 'boom' },
    },
  }),
});

const pokeMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('poke') })]);

/** Crashes on every message it gets. */
export const crasherAgent = defineAgent({
  name: 'crasher',
  messages: pokeMessages,
  machine: setup({
    types: { events: {} as z.infer<typeof pokeMessages> },
    actions: {
      boom: () => {
        throw new Error('crasher crashed on purpose');
      },
    },
  }).createMachine({ on: { poke: { actions: 'boom' } } }),
});

/** Handles SHUTDOWN_EVENT: flushes for 50 ms (an `after` transition), then reaches a final state. */
export const gracefulAgent = defineAgent({
  name: 'graceful',
  messages: pokeMessages,
  machine: setup({}).createMachine({
    initial: 'working',
    states: {
      working: { on: { [SHUTDOWN_EVENT]: 'flushing' } },
      flushing: { after: { 50: 'done' } },
      done: { type: 'final' },
    },
  }),
});

/** Handles SHUTDOWN_EVENT but never finishes: only a forced stop ends it. */
export const stubbornAgent = defineAgent({
  name: 'stubborn',
  messages: pokeMessages,
  machine: setup({}).createMachine({
    initial: 'working',
    states: {
      working: { on: { [SHUTDOWN_EVENT]: 'ignoring' } },
      ignoring: {},
    },
  }),
});

const fetchMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('fetch') })]);

/** On `fetch`, invokes a promise that rejects; with `handled`, an onError catches it. */
export function invokerAgent(handled: boolean) {
  return defineAgent({
    name: handled ? 'invoker-handled' : 'invoker-unhandled',
    messages: fetchMessages,
    machine: setup({
      types: { events: {} as z.infer<typeof fetchMessages> },
      actors: {
        fetcher: fromPromise<string>(async () => {
          throw new Error('fetch failed');
        }),
      },
    }).createMachine({
      initial: 'idle',
      states: {
        idle: { on: { fetch: 'fetching' } },
        fetching: {
          invoke: { src: 'fetcher', onDone: 'idle', ...(handled ? { onError: 'failed' } : {}) },
        },
        failed: {},
      },
    }),
  });
}

/** An agent whose initial state's entry action throws: it can never start. */
export const brokenStartAgent = defineAgent({
  name: 'broken',
  messages: pokeMessages,
  machine: setup({
    actions: {
      explode: () => {
        throw new Error('entry exploded');
      },
    },
  }).createMachine({ entry: 'explode' }),
});
