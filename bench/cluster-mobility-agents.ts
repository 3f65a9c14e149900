// The agent the mobility benchmark moves: a counter with a padding string in its
// context (the state that travels), persistent or not.

import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, reply } from './agentos.js';

export const stateMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('inc'), by: z.number().int() }),
  z.object({ type: z.literal('pad'), kb: z.number().int().min(0).max(8192) }),
  z.object({ type: z.literal('get') }),
]);

export const stateMachine = setup({
  types: { context: {} as { count: number; pad: string }, events: {} as z.infer<typeof stateMessages> },
}).createMachine({
  id: 'state',
  context: { count: 0, pad: '' },
  on: {
    inc: { actions: assign({ count: ({ context, event }) => context.count + event.by }) },
    pad: { actions: assign({ pad: ({ event }) => 'x'.repeat(event.kb * 1024) }) },
    get: { actions: reply(({ context }) => context.count) },
  },
});

/**
 * Persistent: a checkpoint every 100 messages (~1.5 MB to LMDB, 1 MB shipped to its replica),
 * and the one a move carries (stored on the target only). Each turn also digests the whole
 * state for the turn log (~1.5 ms for 1 MB): under 1 msg/ms that is most of the event loop.
 */
export function stateAgent(persistent: boolean) {
  return defineAgent({ name: persistent ? 'bench-pstate' : 'bench-state', machine: stateMachine, messages: stateMessages, ...(persistent ? { persistent: { checkpoint: { everyMessages: 100 } } } : {}) });
}

/** Failure detection the failover rows run with (also what the victim processes use). */
export const FAST_DETECTOR = {
  heartbeatIntervalMs: 100,
  membership: { checkIntervalMs: 50, failureDetector: { acceptableHeartbeatPauseMs: 300, minStdDeviationMs: 50, firstHeartbeatEstimateMs: 100 }, stableAfterMs: 300, downRemovalMarginMs: 200 },
} as const;

export const BENCH_SECRET = 'bench cluster secret, 32 bytes..';
