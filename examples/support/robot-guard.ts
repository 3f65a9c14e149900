// The robot's HRT safety guard, in its own module because it runs on an HRT
// lane: the lane's worker thread imports this file (by `lane.module`, its URL)
// and takes the definition by its export name (`lane.export`). So the guard
// and the message shapes it shares with the main thread live here, and
// nothing heavier: this module is all the lane loads.
//
// Lane rules for the machine: handlers are synchronous, bounded and light (no
// await, no I/O) — each release runs them to completion within the declared WCET.
import { emit, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent } from '../../src/lane.js';

/** What the planner may ask the robot to do. Speeds in m/s, aisles numbered from 1. */
export const Action = z.discriminatedUnion('op', [
  z.object({ op: z.literal('move'), aisle: z.number().int().positive(), speed: z.number().positive() }),
  z.object({ op: z.literal('pick'), aisle: z.number().int().positive() }),
  z.object({ op: z.literal('stop') }),
  z.object({ op: z.literal('resume') }),
]);
export type Action = z.infer<typeof Action>;

/** The guard's mailbox: one command per planned action, numbered by the planner. */
export const guardMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('command'), seq: z.number().int(), action: Action })]);
type Command = z.infer<typeof guardMessages>;

/** What the guard emits for every command; it comes back to the main thread as `@agentos.hrt.output`. */
export type Decision = { type: 'allow'; seq: number; action: Action } | { type: 'veto'; seq: number; action: Action; reason: string };

/** The site's safety rules, given as the guard's input at spawn. */
export interface GuardLimits {
  maxSpeed: number;
  forbiddenAisles: number[];
}

/** At each release the lane delivers the queued commands, then this tick. */
type Tick = { type: 'hrt.tick'; index: number; releaseAt: number; deadline: number };

// Only `command` transitions use these, so the event is a Command there.
const command = (event: Command | Tick): Command => event as Command;
const aisleOf = (c: Command): number | undefined => ('aisle' in c.action ? c.action.aisle : undefined);

/** Why a command is vetoed, as the guard says it. */
const REASONS = {
  'no-go': (c: Command) => `aisle ${aisleOf(c)} is a no-go zone`,
  'too-fast': (c: Command, limits: GuardLimits) => `speed ${c.action.op === 'move' ? c.action.speed : '?'} m/s is over the limit of ${limits.maxSpeed} m/s`,
  'e-stop': () => 'emergency stop engaged (say "resume" first)',
};

const guardMachine = setup({
  types: {
    context: {} as GuardLimits,
    events: {} as Command | Tick,
    input: {} as GuardLimits,
    emitted: {} as Decision,
  },
  guards: {
    isStop: ({ event }) => command(event).action.op === 'stop',
    isResume: ({ event }) => command(event).action.op === 'resume',
    noGoAisle: ({ context, event }) => context.forbiddenAisles.includes(aisleOf(command(event)) ?? -1),
    tooFast: ({ context, event }) => {
      const { action } = command(event);
      return action.op === 'move' && action.speed > context.maxSpeed;
    },
  },
  actions: {
    allow: emit(({ event }) => ({ type: 'allow' as const, seq: command(event).seq, action: command(event).action })),
    veto: emit(({ context, event }, params: { why: keyof typeof REASONS }) => ({
      type: 'veto' as const,
      seq: command(event).seq,
      action: command(event).action,
      reason: REASONS[params.why](command(event), context),
    })),
  },
}).createMachine({
  id: 'robot-guard',
  context: ({ input }) => ({ maxSpeed: input.maxSpeed, forbiddenAisles: [...input.forbiddenAisles] }),
  initial: 'armed',
  // `hrt.tick` arrives at every release (10 ms here); this guard only reacts to commands, so it ignores it.
  states: {
    // Normal operation: stop is always allowed (and latches), unsafe moves and picks are vetoed.
    armed: {
      on: {
        command: [
          { guard: 'isStop', target: 'stopped', actions: 'allow' },
          { guard: 'noGoAisle', actions: { type: 'veto', params: { why: 'no-go' } } },
          { guard: 'tooFast', actions: { type: 'veto', params: { why: 'too-fast' } } },
          { actions: 'allow' },
        ],
      },
    },
    // Emergency stop engaged: nothing moves until an explicit resume.
    stopped: {
      on: {
        command: [
          { guard: 'isResume', target: 'armed', actions: 'allow' },
          { guard: 'isStop', actions: 'allow' },
          { actions: { type: 'veto', params: { why: 'e-stop' } } },
        ],
      },
    },
  },
});

/** 10 ms period, deadline 10 ms, WCET declared 1 ms: admission reserves 0.10 of a lane for it. */
export const robotGuard = defineAgent({
  name: 'robot-guard',
  machine: guardMachine,
  messages: guardMessages,
  contract: { class: { latency: 'HRT', slo: { period_ms: 10, deadline_ms: 10, wcet_ms: 1 } } },
  // overrun 'skip' (the default): a job that would start after its deadline is dropped and counted;
  // its commands wait for the next release, so a late guard delays a decision but never loses one.
  lane: { module: import.meta.url, export: 'robotGuard' },
});

/**
 * A vision loop that wants 9.5 ms of every 10 ms: beside the guard it would need
 * 0.10 + 0.95 = 1.05 of the lane, so admission refuses it before it starts.
 */
export const visionLoop = defineAgent({
  name: 'vision-loop',
  machine: setup({}).createMachine({ id: 'vision-loop' }),
  messages: z.object({ type: z.literal('frame') }),
  contract: { class: { latency: 'HRT', slo: { period_ms: 10, deadline_ms: 10, wcet_ms: 9.5 } } },
  lane: { module: import.meta.url, export: 'visionLoop' },
});
