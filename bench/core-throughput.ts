// Throughput of the local message path against raw XState, in one process:
// 1. one hot counter: `ref.send` (kernel route → mailbox → scheduler → actor.send)
//    with zod validation on and off, vs raw `actor.send` on the same machine;
// 2. ping-pong between two actors answering each other with `tell`, vs two raw
//    actors calling each other's `send` in actions;
// 3. fan-out: one message to each of 1,000 actors per round, vs 1,000 raw actors.

import { createActor, setup, type AnyActorRef } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, tell, type AgentOsNode } from '../src/index.js';
import { counterAgent, counterMachine, processed } from './machines.js';
import { interleaved, now, scratchDir, until, type BenchOptions, type Row } from './lib.js';

const SUITE = 'throughput';

async function counterNode(validate: boolean): Promise<AgentOsNode> {
  return createNode({ name: 'bench-throughput', dataDir: scratchDir(), validate });
}

// ── 1. one hot actor ─────────────────────────────────────────────────────

/** Raw XState: events/s for `n` sends to one started counter. */
function rawCounter(n: number): Promise<number> {
  const actor = createActor(counterMachine).start();
  processed.n = 0;
  const t0 = now();
  for (let i = 0; i < n; i++) actor.send({ type: 'inc', by: 1 });
  const ms = now() - t0;
  if (processed.n !== n) throw new Error(`raw counter handled ${processed.n} of ${n}`);
  actor.stop();
  return Promise.resolve((n / ms) * 1000);
}

/**
 * agentos: events/s for `n` sends through `ref.send`, in chunks of `chunk`
 * (≤ the default mailbox capacity of 10,000), yielding to the event loop after
 * each chunk until the scheduler has delivered it.
 */
async function oursCounter(n: number, validate: boolean, chunk: number): Promise<number> {
  const node = await counterNode(validate);
  try {
    const ref = await node.spawn(counterAgent(), { id: 'counter' });
    processed.n = 0;
    const t0 = now();
    for (let sent = 0; sent < n; ) {
      const end = Math.min(n, sent + chunk);
      for (; sent < end; sent++) ref.send({ type: 'inc', by: 1 });
      const target = sent;
      await until(() => processed.n >= target, 60_000, 'counter to drain');
    }
    const ms = now() - t0;
    const count = await ref.ask({ type: 'get' }, { timeoutMs: 5000 });
    if (count !== n) throw new Error(`agentos counter reached ${String(count)}, expected ${n}`);
    return (n / ms) * 1000;
  } finally {
    await node.stop();
  }
}

// ── 2. ping-pong ─────────────────────────────────────────────────────────

const ppMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ping'), n: z.number().int() }),
  z.object({ type: z.literal('pong'), n: z.number().int() }),
]);
type PingPong = z.infer<typeof ppMessages>;
const pp = { limit: 0, done: false };
const ppDone = (): void => {
  pp.done = true;
};

const oursPinger = defineAgent({
  name: 'bench-pinger',
  messages: ppMessages,
  machine: setup({ types: { events: {} as PingPong } }).createMachine({
    on: {
      pong: [
        { guard: ({ event }) => event.n < pp.limit, actions: tell('pp-b', ({ event }) => ({ type: 'ping', n: (event as PingPong).n + 1 })) },
        { actions: ppDone },
      ],
    },
  }),
});
const oursPonger = defineAgent({
  name: 'bench-ponger',
  messages: ppMessages,
  machine: setup({ types: { events: {} as PingPong } }).createMachine({
    on: { ping: { actions: tell('pp-a', ({ event }) => ({ type: 'pong', n: (event as PingPong).n })) } },
  }),
});

const rawPeers: { a: AnyActorRef | undefined; b: AnyActorRef | undefined } = { a: undefined, b: undefined };
const rawPinger = setup({ types: { events: {} as PingPong } }).createMachine({
  on: {
    pong: [{ guard: ({ event }) => event.n < pp.limit, actions: ({ event }) => rawPeers.b!.send({ type: 'ping', n: event.n + 1 }) }, { actions: ppDone }],
  },
});
const rawPonger = setup({ types: { events: {} as PingPong } }).createMachine({
  on: { ping: { actions: ({ event }) => rawPeers.a!.send({ type: 'pong', n: event.n }) } },
});

/** Round trips/s between two raw actors that `send` to each other directly. */
async function rawPingPong(trips: number): Promise<number> {
  pp.limit = trips;
  pp.done = false;
  rawPeers.a = createActor(rawPinger).start();
  rawPeers.b = createActor(rawPonger).start();
  const t0 = now();
  rawPeers.a.send({ type: 'pong', n: 0 });
  await until(() => pp.done, 60_000, 'raw ping-pong');
  const ms = now() - t0;
  rawPeers.a.stop();
  rawPeers.b.stop();
  return (trips / ms) * 1000;
}

/** Round trips/s between two agentos actors answering each other with `tell`. */
async function oursPingPong(trips: number): Promise<number> {
  const node = await counterNode(true);
  try {
    const a = await node.spawn(oursPinger, { id: 'pp-a' });
    await node.spawn(oursPonger, { id: 'pp-b' });
    pp.limit = trips;
    pp.done = false;
    const t0 = now();
    a.send({ type: 'pong', n: 0 });
    await until(() => pp.done, 60_000, 'agentos ping-pong');
    const ms = now() - t0;
    if (node.stats().deadLetters > 0) throw new Error('ping-pong produced dead letters');
    return (trips / ms) * 1000;
  } finally {
    await node.stop();
  }
}

// ── 3. fan-out to 1,000 actors ───────────────────────────────────────────

/** Messages/s: one `inc` to each raw actor per round. */
function rawFanOut(actors: number, rounds: number): Promise<number> {
  const refs = Array.from({ length: actors }, () => createActor(counterMachine).start());
  processed.n = 0;
  const t0 = now();
  for (let r = 0; r < rounds; r++) {
    for (const a of refs) a.send({ type: 'inc', by: 1 });
  }
  const ms = now() - t0;
  if (processed.n !== actors * rounds) throw new Error('raw fan-out lost messages');
  for (const a of refs) a.stop();
  return Promise.resolve(((actors * rounds) / ms) * 1000);
}

/** Messages/s: one `inc` to each agentos actor per round; each round is awaited. */
async function oursFanOut(actors: number, rounds: number): Promise<number> {
  const node = await counterNode(true);
  try {
    const refs = [];
    for (let i = 0; i < actors; i++) refs.push(await node.spawn(counterAgent(), { id: `fan-${i}` }));
    processed.n = 0;
    const t0 = now();
    for (let r = 1; r <= rounds; r++) {
      for (const ref of refs) ref.send({ type: 'inc', by: 1 });
      await until(() => processed.n >= r * actors, 60_000, 'fan-out round');
    }
    const ms = now() - t0;
    return ((actors * rounds) / ms) * 1000;
  } finally {
    await node.stop();
  }
}

// ── suite ────────────────────────────────────────────────────────────────

export async function runThroughput(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const runs = 3;
  const events = opts.quick ? 100_000 : 1_000_000;
  const chunk = 10_000;
  const trips = opts.quick ? 20_000 : 100_000;
  const fanActors = 1000;
  const fanRounds = opts.quick ? 20 : 150;

  // Warm-up: JIT both paths before anything is timed.
  await rawCounter(events / 10);
  await oursCounter(events / 10, true, chunk);
  await oursCounter(events / 10, false, chunk);

  log(`throughput: ${events} events × ${runs} runs (raw, agentos no-validate, agentos validate)`);
  const hot = await interleaved(runs, {
    raw: () => rawCounter(events),
    noValidate: () => oursCounter(events, false, chunk),
    validate: () => oursCounter(events, true, chunk),
  });

  log(`ping-pong: ${trips} round trips × ${runs} runs`);
  await rawPingPong(trips / 10);
  await oursPingPong(trips / 10);
  const ping = await interleaved(runs, { raw: () => rawPingPong(trips), ours: () => oursPingPong(trips) });

  log(`fan-out: ${fanActors} actors × ${fanRounds} rounds × ${runs} runs`);
  await rawFanOut(fanActors, 5);
  await oursFanOut(fanActors, 5);
  const fan = await interleaved(runs, { raw: () => rawFanOut(fanActors, fanRounds), ours: () => oursFanOut(fanActors, fanRounds) });

  const chunkNote = `${events.toLocaleString('en')} events sent in chunks of ${chunk.toLocaleString('en')}, yielding until each chunk is delivered; default mailbox capacity (10,000), not raised`;
  return [
    {
      suite: SUITE,
      name: 'hot actor, validate off',
      ours: hot.noValidate,
      baseline: hot.raw,
      unit: 'ev/s',
      better: 'higher',
      target: '≥ 40% of raw',
      met: hot.noValidate / hot.raw >= 0.4,
      note: chunkNote,
    },
    {
      suite: SUITE,
      name: 'hot actor, validate on (zod)',
      ours: hot.validate,
      baseline: hot.raw,
      unit: 'ev/s',
      better: 'higher',
      target: '≥ 25% of raw',
      met: hot.validate / hot.raw >= 0.25,
    },
    {
      suite: SUITE,
      name: 'ping-pong via tell (round trips)',
      ours: ping.ours,
      baseline: ping.raw,
      unit: 'rt/s',
      better: 'higher',
      target: '–',
      met: undefined,
      note: `${trips.toLocaleString('en')} round trips = ${(2 * trips).toLocaleString('en')} messages through the kernel (validation on); raw: actions call each other's actor.send`,
    },
    {
      suite: SUITE,
      name: `fan-out ${fanActors.toLocaleString('en')} actors`,
      ours: fan.ours,
      baseline: fan.raw,
      unit: 'msg/s',
      better: 'higher',
      target: '–',
      met: undefined,
      note: `${fanRounds} rounds of one message to each actor; each agentos round is awaited before the next (validation on)`,
    },
  ];
}
