// Throughput of the local message path against raw XState, in one process:
// 1. one hot counter: `ref.send` (kernel route → mailbox → scheduler → actor.send)
//    with zod validation on and off, vs raw `actor.send` on the same machine;
// 2. ping-pong between two actors answering each other with `tell`, vs two raw
//    actors calling each other's `send` in actions;
// 3. fan-out: one message to each of 1,000 actors per round, vs 1,000 raw actors.

import { createActor, setup, type AnyActorRef } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, tell, type ActorRef, type AgentOsNode } from './agentos.js';
import { counterAgent, counterMachine, processed, type CounterMessage } from './machines.js';
import { interleaved, median, now, ratioRange, scratchDir, until, type BenchOptions, type Row } from './lib.js';

const SUITE = 'throughput';

async function counterNode(validate: boolean): Promise<AgentOsNode> {
  return createNode({ name: 'bench-throughput', dataDir: scratchDir(), validate });
}

// ── 1. one hot actor ─────────────────────────────────────────────────────

/** A measurement that can be repeated on the same (persistent) actors; returns a rate per second. */
interface Bench {
  segment(): Promise<number>;
  close(): Promise<void>;
}

/** Raw XState: `n` sends per segment to one started counter. */
function rawCounter(n: number): Bench {
  const actor = createActor(counterMachine).start();
  return {
    segment() {
      processed.n = 0;
      const t0 = now();
      for (let i = 0; i < n; i++) actor.send({ type: 'inc', by: 1 });
      const ms = now() - t0;
      if (processed.n !== n) throw new Error(`raw counter handled ${processed.n} of ${n}`);
      return Promise.resolve((n / ms) * 1000);
    },
    close() {
      actor.stop();
      return Promise.resolve();
    },
  };
}

/**
 * agentos: `n` sends per segment through `ref.send`, in chunks of `chunk` (≤ the
 * default mailbox capacity of 10,000), yielding to the event loop after each
 * chunk until the scheduler has delivered it.
 */
async function oursCounter(n: number, validate: boolean, chunk: number): Promise<Bench> {
  const node = await counterNode(validate);
  const ref = await node.spawn(counterAgent(), { id: 'counter' });
  let total = 0;
  return {
    async segment() {
      processed.n = 0;
      const t0 = now();
      for (let sent = 0; sent < n; ) {
        const end = Math.min(n, sent + chunk);
        for (; sent < end; sent++) ref.send({ type: 'inc', by: 1 });
        const target = sent;
        await until(() => processed.n >= target, 60_000, 'counter to drain');
      }
      const ms = now() - t0;
      total += n;
      return (n / ms) * 1000;
    },
    async close() {
      const count = await ref.ask({ type: 'get' }, { timeoutMs: 5000 });
      await node.stop();
      if (count !== total) throw new Error(`agentos counter reached ${String(count)}, expected ${total}`);
    },
  };
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

/** Round trips between two raw actors that `send` to each other directly. */
function rawPingPong(trips: number): Bench {
  rawPeers.a = createActor(rawPinger).start();
  rawPeers.b = createActor(rawPonger).start();
  const a = rawPeers.a;
  return {
    async segment() {
      pp.limit = trips;
      pp.done = false;
      const t0 = now();
      a.send({ type: 'pong', n: 0 });
      await until(() => pp.done, 60_000, 'raw ping-pong');
      return (trips / (now() - t0)) * 1000;
    },
    close() {
      rawPeers.a?.stop();
      rawPeers.b?.stop();
      return Promise.resolve();
    },
  };
}

/** Round trips between two agentos actors answering each other with `tell`. */
async function oursPingPong(trips: number): Promise<Bench> {
  const node = await counterNode(true);
  const a = await node.spawn(oursPinger, { id: 'pp-a' });
  await node.spawn(oursPonger, { id: 'pp-b' });
  return {
    async segment() {
      pp.limit = trips;
      pp.done = false;
      const t0 = now();
      a.send({ type: 'pong', n: 0 });
      await until(() => pp.done, 60_000, 'agentos ping-pong');
      return (trips / (now() - t0)) * 1000;
    },
    async close() {
      const dead = node.stats().deadLetters;
      await node.stop();
      if (dead > 0) throw new Error('ping-pong produced dead letters');
    },
  };
}

// ── 3. fan-out to 1,000 actors ───────────────────────────────────────────

/** One `inc` to each raw actor per round. */
function rawFanOut(actors: number, rounds: number): Bench {
  const refs = Array.from({ length: actors }, () => createActor(counterMachine).start());
  return {
    segment() {
      processed.n = 0;
      const t0 = now();
      for (let r = 0; r < rounds; r++) {
        for (const a of refs) a.send({ type: 'inc', by: 1 });
      }
      const ms = now() - t0;
      if (processed.n !== actors * rounds) throw new Error('raw fan-out lost messages');
      return Promise.resolve(((actors * rounds) / ms) * 1000);
    },
    close() {
      for (const a of refs) a.stop();
      return Promise.resolve();
    },
  };
}

/** One `inc` to each agentos actor per round; each round is awaited before the next. */
async function oursFanOut(actors: number, rounds: number): Promise<Bench> {
  const node = await counterNode(true);
  const refs: ActorRef<CounterMessage>[] = [];
  for (let i = 0; i < actors; i++) refs.push(await node.spawn(counterAgent(), { id: `fan-${i}` }));
  return {
    async segment() {
      processed.n = 0;
      const t0 = now();
      for (let r = 1; r <= rounds; r++) {
        for (const ref of refs) ref.send({ type: 'inc', by: 1 });
        await until(() => processed.n >= r * actors, 60_000, 'fan-out round');
      }
      return ((actors * rounds) / (now() - t0)) * 1000;
    },
    close: () => node.stop(),
  };
}

/**
 * Run `segments` segments of each bench, interleaved and rotated so drift on a
 * shared machine hits every side alike, after one warm-up segment each;
 * returns every segment's rate, by round.
 */
async function compare<K extends string>(segments: number, benches: Record<K, Bench>): Promise<Record<K, number[]>> {
  const keys = Object.keys(benches) as K[];
  try {
    for (const k of keys) await benches[k].segment(); // warm-up (JIT), not counted
    return await interleaved(
      segments,
      Object.fromEntries(keys.map((k) => [k, () => benches[k].segment()])) as Record<K, () => Promise<number>>,
    );
  } finally {
    for (const k of keys) await benches[k].close();
  }
}

// ── suite ────────────────────────────────────────────────────────────────

export async function runThroughput(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const segments = opts.quick ? 3 : 10;
  const perSegment = opts.quick ? 10_000 : 100_000;
  const events = segments * perSegment;
  const chunk = 10_000;
  const ppSegments = opts.quick ? 3 : 9;
  const trips = opts.quick ? 3_000 : 20_000;
  const fanActors = 1000;
  const fanSegments = opts.quick ? 3 : 9;
  const fanRounds = opts.quick ? 5 : 20;

  log(`throughput: ${segments} interleaved segments × ${perSegment} events (raw, agentos validate off, agentos validate on)`);
  const hot = await compare(segments, {
    raw: rawCounter(perSegment),
    noValidate: await oursCounter(perSegment, false, chunk),
    validate: await oursCounter(perSegment, true, chunk),
  });

  log(`ping-pong: ${ppSegments} segments × ${trips} round trips`);
  const ping = await compare(ppSegments, { raw: rawPingPong(trips), ours: await oursPingPong(trips) });

  log(`fan-out: ${fanActors} actors, ${fanSegments} segments × ${fanRounds} rounds`);
  const fan = await compare(fanSegments, { raw: rawFanOut(fanActors, fanRounds), ours: await oursFanOut(fanActors, fanRounds) });

  const raw = median(hot.raw);
  const off = median(hot.noValidate);
  const on = median(hot.validate);
  const spread = (ours: number[], base: number[]): string => `per-segment ratio ${ratioRange(ours, base)}`;
  return [
    {
      suite: SUITE,
      name: 'hot actor, validate off',
      ours: off,
      baseline: raw,
      unit: 'ev/s',
      better: 'higher',
      target: '≥ 40% of raw',
      met: off / raw >= 0.4,
      note:
        `${events.toLocaleString('en')} events per side (${segments} interleaved segments, median segment rate; ${spread(hot.noValidate, hot.raw)}), ` +
        `sent in chunks of ${chunk.toLocaleString('en')}, yielding until each chunk is delivered; default mailbox capacity (10,000), not raised`,
    },
    {
      suite: SUITE,
      name: 'hot actor, validate on (zod)',
      ours: on,
      baseline: raw,
      unit: 'ev/s',
      better: 'higher',
      target: '≥ 25% of raw',
      met: on / raw >= 0.25,
      note: `${spread(hot.validate, hot.raw)}; on/off per segment ${ratioRange(hot.validate, hot.noValidate)}`,
    },
    {
      suite: SUITE,
      name: 'ping-pong via tell (round trips)',
      ours: median(ping.ours),
      baseline: median(ping.raw),
      unit: 'rt/s',
      better: 'higher',
      target: '–',
      met: undefined,
      note: `${ppSegments} segments of ${trips.toLocaleString('en')} round trips (${spread(ping.ours, ping.raw)}); each round trip = 2 messages through the kernel (validation on); raw: actions call each other's actor.send`,
    },
    {
      suite: SUITE,
      name: `fan-out ${fanActors.toLocaleString('en')} actors`,
      ours: median(fan.ours),
      baseline: median(fan.raw),
      unit: 'msg/s',
      better: 'higher',
      target: '–',
      met: undefined,
      note: `${fanSegments * fanRounds} rounds (${fanSegments} segments, ${spread(fan.ours, fan.raw)}) of one message to each actor; each agentos round is awaited before the next (validation on)`,
    },
  ];
}
