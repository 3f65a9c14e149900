// A node with a blackboard service, and small agents that use it: a `client`
// that runs one blackboard request per `do` message (remembering results,
// error codes and the `board.changed` messages it got).
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, VirtualClock, type AgentOsNode } from '../../../src/index.js';
import { blackboard, boardChangedMessage, BlackboardService, type BlackboardOptions, type BoardChangedMessage } from '../../../src/services/blackboard/index.js';

export interface BoardNode {
  node: AgentOsNode;
  board: BlackboardService;
  clock: VirtualClock;
  stop(): Promise<void>;
}

/**
 * A node on a virtual clock with a started blackboard: the node's own
 * (`createNode({ blackboard })`, once the node wires the service), or else one
 * started here on an LMDB of its own under `dir`.
 */
export async function boardNode(dir: string, options: Omit<BlackboardOptions, 'db' | 'kernel'> = {}, name = 'bb'): Promise<BoardNode> {
  const clock = new VirtualClock(0);
  let node: AgentOsNode;
  try {
    node = await createNode({ name, dataDir: dir, clock, blackboard: options } as Parameters<typeof createNode>[0]);
  } catch (err) {
    if ((err as { field?: string }).field !== 'blackboard') throw err;
    node = await createNode({ name, dataDir: dir, clock });
  }
  const wired = (node as { blackboard?: BlackboardService }).blackboard;
  if (wired) return { node, board: wired, clock, stop: () => node.stop() };
  const db: RootDatabase = open({ path: join(dir, `${name}-board`), maxDbs: 4 });
  const board = new BlackboardService({ db, kernel: node.kernel, ...options });
  await board.start();
  return {
    node,
    board,
    clock,
    async stop() {
      await node.stop();
      await board.close();
      await db.close();
    },
  };
}

export const clientMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('do'), request: z.record(z.string(), z.unknown()) }), boardChangedMessage]);

export interface ClientContext {
  results: unknown[];
  errors: { code: string; field?: string; details?: Record<string, unknown> }[];
  changes: BoardChangedMessage[];
}

const clientMachine = setup({
  types: { context: {} as ClientContext, events: {} as z.infer<typeof clientMessages> },
  actors: { blackboard },
}).createMachine({
  context: { results: [], errors: [], changes: [] },
  initial: 'idle',
  on: { 'board.changed': { actions: assign({ changes: ({ context, event }) => [...context.changes, event as BoardChangedMessage] }) } },
  states: {
    idle: { on: { do: 'calling' } },
    calling: {
      invoke: {
        src: 'blackboard',
        input: ({ event }) => (event as unknown as { request: never }).request,
        onDone: { target: 'idle', actions: assign({ results: ({ context, event }) => [...context.results, event.output] }) },
        onError: {
          target: 'idle',
          actions: assign({
            errors: ({ context, event }) => {
              const e = event.error as { code: string; field?: string; details?: Record<string, unknown> };
              return [...context.errors, { code: e.code, ...(e.field === undefined ? {} : { field: e.field }), ...(e.details === undefined ? {} : { details: e.details }) }];
            },
          }),
        },
      },
    },
  },
});

export const client = (capabilities: string[], name = 'client') => defineAgent({ name, machine: clientMachine, messages: clientMessages, contract: { capabilities } });

/** Let the node work (LMDB flushes take real time) until `check` holds. */
export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise<void>((r) => setTimeout(r, 1));
  }
}

export const ctx = (node: AgentOsNode, id: string): ClientContext => node.lookup(id)!.getSnapshot()!.context as ClientContext;
