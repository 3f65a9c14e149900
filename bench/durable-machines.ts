// The machines the durability suites run: a note taker whose context keeps the
// last notes (a small conversation), and a caller that makes one trivial tool
// call per message. Each is defined persistent (with the options a series
// measures) and plain, on the very same machine object.

import { pathToFileURL } from 'node:url';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import type * as Api from '../src/index.js';
import { defineAgent, defineTool, reply } from './agentos.js';
import { now, percentile } from './lib.js';

// `syscall` (the invoke logic) must come from the same module graph as the node
// under test: the build in --built mode, the source otherwise (see agentos.ts).
const build = process.env.AGENTOS_BENCH_BUILD;
const { syscall } = (build ? await import(pathToFileURL(build).href) : await import('../src/index.js')) as typeof Api;

type PersistenceOptions = Api.PersistenceOptions;

/** Notes handled by any note taker (reset by each measurement). */
export const handled = { n: 0 };

/** Text of one note: ~100 B, so a turn's inbox and turn records stay inline. */
export const NOTE = 'a note about the order: ship to the usual address, gift wrap, call before delivery; ref ';
/** Notes the context keeps. */
const KEEP = 8;

export const noteMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('note'), text: z.string() }),
  z.object({ type: z.literal('get') }),
]);

export const noteMachine = setup({
  types: { context: {} as { turns: number; notes: string[] }, events: {} as z.infer<typeof noteMessages> },
  actions: {
    tick: () => {
      handled.n++;
    },
  },
}).createMachine({
  id: 'notes',
  context: { turns: 0, notes: [] },
  on: {
    note: {
      actions: [assign({ turns: ({ context }) => context.turns + 1, notes: ({ context, event }) => [...context.notes, event.text].slice(-KEEP) }), 'tick'],
    },
    get: { actions: reply(({ context }) => context.turns) },
  },
});

export function noteAgent(name: string, persistent: false | PersistenceOptions) {
  return defineAgent({ name, machine: noteMachine, messages: noteMessages, persistent });
}

// ── one tool call per message ───────────────────────────────────────────

export const TOOL = 'bench.noop';

/** The trivial tool: validates `{ n }`, returns `{ ok: true }`. */
export const noopTool = defineTool({
  name: TOOL,
  description: 'does nothing (a trivial side effect)',
  input: z.object({ n: z.number().int() }),
  execute: () => ({ ok: true }),
});

/**
 * Per-call timing, taken inside the machine: from entering `calling` (the invoke's
 * input is computed) to its `onDone` action. `done` wakes the driver.
 */
export const calls = {
  start: 0,
  us: [] as number[],
  failures: 0,
  done: undefined as (() => void) | undefined,
};

const callMessages = z.object({ type: z.literal('call') });

export const callerMachine = setup({
  types: { context: {} as { calls: number }, events: {} as z.infer<typeof callMessages> },
  actors: { syscall },
}).createMachine({
  id: 'caller',
  context: { calls: 0 },
  initial: 'idle',
  states: {
    idle: { on: { call: 'calling' } },
    calling: {
      invoke: {
        src: 'syscall',
        input: ({ context }) => {
          calls.start = now();
          return { kind: 'tool' as const, name: TOOL, args: { n: context.calls } };
        },
        onDone: {
          target: 'idle',
          actions: [
            assign({ calls: ({ context }) => context.calls + 1 }),
            () => {
              calls.us.push((now() - calls.start) * 1000);
              calls.done?.();
            },
          ],
        },
        onError: {
          target: 'idle',
          actions: () => {
            calls.failures++;
            calls.done?.();
          },
        },
      },
    },
  },
});

export function callerAgent(name: string, persistent: false | PersistenceOptions) {
  return defineAgent({ name, machine: callerMachine, messages: callMessages, persistent, contract: { capabilities: [TOOL] } });
}

/**
 * Timed segments of calls through caller agents: `segment(k, keep)` is a segment that makes `n`
 * calls through `refs[k]`, one at a time, and returns their p50 (µs); a kept segment's times go
 * to `samples[k]`.
 */
export function callSegments<K extends string>(refs: Record<K, Api.ActorRef>, n: number): { samples: Record<K, number[]>; segment: (k: K, keep: boolean) => () => Promise<number> } {
  const samples = Object.fromEntries(Object.keys(refs).map((k) => [k, [] as number[]])) as Record<K, number[]>;
  const one = (ref: Api.ActorRef): Promise<void> =>
    new Promise<void>((resolve) => {
      calls.done = resolve;
      ref.send({ type: 'call' });
    });
  const segment = (k: K, keep: boolean) => async (): Promise<number> => {
    calls.us = [];
    for (let i = 0; i < n; i++) await one(refs[k]);
    if (keep) samples[k].push(...calls.us);
    return percentile(calls.us, 0.5);
  };
  return { samples, segment };
}
