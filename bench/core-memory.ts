// Memory per idle actor: heapUsed after a full GC, before and after spawning N
// actors on one node, divided by N; agentos (admission record, cell, mailbox,
// supervisor record, XState actor) against raw `createActor(machine).start()`
// of the same machine. The same fill also times `node.spawn` as the node grows.

import { createActor, type Actor } from 'xstate';
import { createNode } from './agentos.js';
import { counterAgent, counterMachine, processed } from './machines.js';
import { memory, now, scratchDir, until, type BenchOptions, type Row } from './lib.js';

const SUITE = 'memory';
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const BLOCKS = 10;

interface Footprint {
  /** Heap delta / N with the actors idle (never messaged), bytes. */
  perActor: number;
  /** The same after each actor handled one message. */
  perActorUsed: number;
  /** ArrayBuffer bytes per actor after that message (outside the JS heap). */
  buffersUsed: number;
  /** Whole heap delta with the actors idle. */
  delta: number;
  /** µs per start, for each tenth of the fill. */
  blockUs: number[];
  startMs: number;
  stopMs: number;
}

/** Start `n` actors with `start(i)`, timing each tenth of the fill; returns µs per start per block. */
async function fill(n: number, start: (i: number) => unknown): Promise<number[]> {
  const size = Math.ceil(n / BLOCKS);
  const out: number[] = [];
  for (let b = 0; b < BLOCKS; b++) {
    const t0 = now();
    for (let i = b * size; i < Math.min(n, (b + 1) * size); i++) await start(i);
    out.push(((now() - t0) / size) * 1000);
  }
  return out;
}

async function rawFootprint(n: number): Promise<Footprint> {
  const actors: Actor<typeof counterMachine>[] = [];
  const before = await memory();
  const t0 = now();
  const blockUs = await fill(n, (i) => (actors[i] = createActor(counterMachine).start()));
  const startMs = now() - t0;
  const idle = await memory();
  for (const a of actors) a.send({ type: 'inc', by: 1 });
  const used = await memory();
  if (actors.some((a) => a.getSnapshot().context.count !== 1)) throw new Error('raw actor missed its message');
  const t1 = now();
  for (const a of actors) a.stop();
  return footprint(n, before, idle, used, blockUs, startMs, now() - t1);
}

/** N agentos actors spawned one by one with `node.spawn` on one node. */
async function oursFootprint(n: number): Promise<Footprint> {
  const node = await createNode({ name: 'bench-memory', dataDir: scratchDir() });
  const def = counterAgent();
  const before = await memory(); // ids are made after this: the node keeps them
  const t0 = now();
  const blockUs = await fill(n, (i) => node.spawn(def, { id: `idle-${i}` }));
  const startMs = now() - t0;
  await node.audit.flushed(); // one admission record per actor: count what stays in the heap, not writes in flight
  const idle = await memory();
  if (node.stats().actors !== n) throw new Error(`expected ${n} actors, the node holds ${node.stats().actors}`);
  processed.n = 0;
  for (let i = 0; i < n; i++) node.lookup(`idle-${i}`)!.send({ type: 'inc', by: 1 });
  await until(() => processed.n >= n, 120_000, 'one message per actor');
  const used = await memory();
  const t1 = now();
  await node.stop();
  return footprint(n, before, idle, used, blockUs, startMs, now() - t1);
}

type Mem = { heap: number; buffers: number };

function footprint(n: number, before: Mem, idle: Mem, used: Mem, blockUs: number[], startMs: number, stopMs: number): Footprint {
  return {
    perActor: (idle.heap - before.heap) / n,
    perActorUsed: (used.heap - before.heap) / n,
    buffersUsed: (used.buffers - idle.buffers) / n,
    delta: idle.heap - before.heap,
    blockUs,
    startMs,
    stopMs,
  };
}

export async function runMemory(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const sizes = opts.quick ? [1_000, 3_000] : [10_000, 100_000];
  const rows: Row[] = [];
  await rawFootprint(500); // warm-up
  await oursFootprint(500);
  let last: { n: number; raw: Footprint; ours: Footprint } | undefined;
  for (const n of sizes) {
    log(`memory: ${n} idle actors, raw then agentos (node.spawn one by one, one node)`);
    const raw = await rawFootprint(n);
    const ours = await oursFootprint(n);
    last = { n, raw, ours };
    const isTarget = n === 100_000;
    const projected = ours.perActor * 100_000;
    rows.push({
      suite: SUITE,
      name: `heap per idle actor @ ${n.toLocaleString('en')}`,
      ours: ours.perActor,
      baseline: raw.perActor,
      unit: 'B',
      better: 'lower',
      target: isTarget ? '100k actors < 1 GiB' : '(100k < 1 GiB)',
      met: (isTarget ? ours.delta : projected) < GiB,
      note:
        `heap delta ${(ours.delta / MiB).toFixed(0)} MiB for ${n.toLocaleString('en')} actors (raw ${(raw.delta / MiB).toFixed(0)} MiB)` +
        (isTarget ? '' : `, projects to ${(projected / MiB).toFixed(0)} MiB at 100k`) +
        `; spawning took ${(ours.startMs / 1000).toFixed(1)} s (raw ${(raw.startMs / 1000).toFixed(2)} s), node.stop ${(ours.stopMs / 1000).toFixed(1)} s`,
    });
    rows.push({
      suite: SUITE,
      name: `heap per actor after 1 message @ ${n.toLocaleString('en')}`,
      ours: ours.perActorUsed,
      baseline: raw.perActorUsed,
      unit: 'B',
      better: 'lower',
      target: '–',
      met: undefined,
      note:
        `the same actors once each has handled one inc (+${(ours.perActorUsed - ours.perActor).toFixed(0)} B each; raw +${(raw.perActorUsed - raw.perActor).toFixed(0)} B): ` +
        `the mailbox allocates its priority levels and its own wait histogram on first use; the histogram's buckets are a typed array outside the JS heap, ` +
        `+${ours.buffersUsed.toFixed(0)} B of ArrayBuffer memory per actor (raw +${raw.buffersUsed.toFixed(0)} B) not counted in this column`,
    });
  }

  if (last) {
    const { n, raw, ours } = last;
    const first = ours.blockUs[0]!;
    const end = ours.blockUs[BLOCKS - 1]!;
    rows.push({
      suite: SUITE,
      name: `node.spawn, last tenth of ${n.toLocaleString('en')}`,
      ours: end,
      baseline: raw.blockUs[BLOCKS - 1]!,
      unit: 'µs',
      better: 'lower',
      target: 'flat: last ≤ 1.5 × first',
      met: opts.quick ? undefined : end / first <= 1.5, // quick N is too small to tell
      note:
        `µs per spawn by tenth of the fill: ${ours.blockUs.map((us) => us.toFixed(0)).join(' → ')} (${(end / first).toFixed(1)}× first to last); ` +
        'each includes admission (contract, audit record) and a start under the root supervisor; raw = createActor().start()',
    });
  }
  return rows;
}
