// The guard `npm run bench:hrt` runs: a 10 ms safety guard that, at every
// release, checks the last commanded speed against its limit over a small
// window of sensor samples (preallocated: no allocation but the decision it
// emits) and emits allow or veto, carrying the release it decided at. The same
// machine runs on the HRT lane (`hrtGuard`, with a direct ring to an actuator
// thread) and, for the baseline, on the main thread. The lane loads this module,
// so it imports defineAgent alone, not the agentos index: the lane heap (what a
// full collection walks) is the module graph its actors pull in — about 20 MiB
// this way against ~40 MiB through the index, and its major GC pauses follow.
import { assign, emit, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent } from '../src/actors/define.js';

export const GUARD_PERIOD_MS = 10;
export const GUARD_WCET_MS = 2;

export const guardMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('command'), speed: z.number() })]);

export type GuardTick = { type: 'hrt.tick'; index: number; releaseAt: number; deadline: number };
export type GuardDecision = { type: 'allow' | 'veto'; index: number; releaseAt: number };

const WINDOW = 256;
const samples = new Float64Array(WINDOW);

/** The highest of the last WINDOW speed samples, the new one included: a fixed, bounded amount of work. */
function peak(index: number, speed: number): number {
  samples[index % WINDOW] = speed;
  let max = 0;
  for (let i = 0; i < WINDOW; i++) if (samples[i]! > max) max = samples[i]!;
  return max;
}

export const guardMachine = setup({
  types: {
    context: {} as { limit: number; speed: number },
    events: {} as z.infer<typeof guardMessages> | GuardTick,
    emitted: {} as GuardDecision,
  },
}).createMachine({
  id: 'bench-guard',
  context: { limit: 1, speed: 0 },
  initial: 'guarding',
  states: {
    guarding: {
      on: {
        command: { actions: assign({ speed: ({ event }) => event.speed }) },
        'hrt.tick': {
          actions: emit(({ context, event }) => ({
            type: peak(event.index, context.speed) > context.limit ? ('veto' as const) : ('allow' as const),
            index: event.index,
            releaseAt: event.releaseAt,
          })),
        },
      },
    },
  },
});

export const hrtGuard = defineAgent({
  name: 'bench-hrt-guard',
  machine: guardMachine,
  messages: guardMessages,
  contract: { class: { latency: 'HRT', slo: { period_ms: GUARD_PERIOD_MS, deadline_ms: GUARD_PERIOD_MS, wcet_ms: GUARD_WCET_MS } } },
  lane: { module: import.meta.url, export: 'hrtGuard', direct: { slots: 1024 } },
});
