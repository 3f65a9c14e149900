// Memory per idle actor: heapUsed after a full GC, before and after starting N
// actors, divided by N; agentos (cell + mailbox + supervisor record + XState
// actor) against raw `createActor(machine).start()` of the same machine.
// Also the cost of spawning, since that bounds how fast a node fills up.

import { createActor, type AnyActor } from 'xstate';
import { createNode, supervisor, type AgentOsNode } from './agentos.js';
import { counterAgent, counterMachine } from './machines.js';
import { fullGc, heapUsed, median, now, scratchDir, type BenchOptions, type Row } from './lib.js';

const SUITE = 'memory';
const GiB = 1024 ** 3;

interface Footprint {
  /** heapUsed delta / N, bytes. */
  perActor: number;
  /** heapUsed with the actors alive, bytes. */
  heapTotalUsed: number;
  /** Time to start them all, ms. */
  startMs: number;
}

async function rawFootprint(n: number): Promise<Footprint> {
  const before = await heapUsed();
  const t0 = now();
  const actors: AnyActor[] = new Array(n);
  for (let i = 0; i < n; i++) actors[i] = createActor(counterMachine).start();
  const startMs = now() - t0;
  const after = await heapUsed();
  if (actors.some((a) => a.getSnapshot().status !== 'active')) throw new Error('raw actor not active');
  for (const a of actors) a.stop();
  return { perActor: (after - before) / n, heapTotalUsed: after, startMs };
}

/**
 * N idle agentos actors, started as the static children of one supervisor
 * (one `node.spawn`). Spawning them one by one with `node.spawn` is quadratic
 * today (see the spawn row), which makes 100k impractical that way.
 */
async function oursFootprint(n: number): Promise<Footprint & { stopMs: number }> {
  const node = await createNode({ name: 'bench-memory', dataDir: scratchDir() });
  const def = counterAgent();
  const before = await heapUsed(); // ids and specs are made after this: the node keeps them
  const children = Array.from({ length: n }, (_, i) => ({ id: `idle-${i}`, start: def, restart: 'transient' as const }));
  const t0 = now();
  await node.spawn(supervisor({ id: 'idle', strategy: 'one_for_one', children }), { id: 'idle' });
  const startMs = now() - t0;
  children.length = 0; // the supervisor keeps its own normalized copy; count that, not ours
  const after = await heapUsed();
  if (node.stats().actors !== n) throw new Error(`expected ${n} actors, node has ${node.stats().actors}`);
  const t1 = now();
  await node.stop();
  return { perActor: (after - before) / n, heapTotalUsed: after, startMs, stopMs: now() - t1 };
}

/** µs per `node.spawn` when spawning `n` actors one by one under the root supervisor. */
async function spawnOneByOne(n: number): Promise<number> {
  const node: AgentOsNode = await createNode({ name: 'bench-spawn', dataDir: scratchDir() });
  try {
    const def = counterAgent();
    const t0 = now();
    for (let i = 0; i < n; i++) await node.spawn(def, { id: `s-${i}` });
    return ((now() - t0) / n) * 1000;
  } finally {
    await node.stop();
  }
}

function rawStartUs(n: number): number {
  const t0 = now();
  const actors: AnyActor[] = [];
  for (let i = 0; i < n; i++) actors.push(createActor(counterMachine).start());
  const us = ((now() - t0) / n) * 1000;
  for (const a of actors) a.stop();
  return us;
}

export async function runMemory(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const sizes = opts.quick ? [1_000, 5_000] : [10_000, 100_000];
  const rows: Row[] = [];
  await rawFootprint(1000); // warm-up
  await oursFootprint(1000);
  for (const n of sizes) {
    log(`memory: ${n} idle actors (raw, then agentos)`);
    const runs = opts.quick || n >= 50_000 ? 1 : 3;
    const raw: Footprint[] = [];
    const ours: (Footprint & { stopMs: number })[] = [];
    for (let r = 0; r < runs; r++) {
      raw.push(await rawFootprint(n));
      await fullGc();
      ours.push(await oursFootprint(n));
      await fullGc();
    }
    const rawPer = median(raw.map((f) => f.perActor));
    const oursPer = median(ours.map((f) => f.perActor));
    const heap = median(ours.map((f) => f.heapTotalUsed));
    const projected100k = oursPer * 100_000;
    const isTarget = n === 100_000;
    rows.push({
      suite: SUITE,
      name: `heap per idle actor @ ${n.toLocaleString('en')}`,
      ours: oursPer,
      baseline: rawPer,
      unit: 'B',
      better: 'lower',
      target: isTarget ? '100k actors < 1 GiB' : '(100k < 1 GiB)',
      met: projected100k < GiB,
      note:
        `${runs === 1 ? 'one run' : `median of ${runs}`}; agentos actors are the static children of one supervisor; ` +
        `heapUsed with them alive ${(heap / 2 ** 20).toFixed(0)} MiB; ` +
        (isTarget ? `100k actors take ${((oursPer * n) / 2 ** 20).toFixed(0)} MiB of heap; ` : `projects to ${(projected100k / 2 ** 20).toFixed(0)} MiB at 100k; `) +
        `start ${median(ours.map((f) => f.startMs)).toFixed(0)} ms (raw ${median(raw.map((f) => f.startMs)).toFixed(0)} ms), node.stop ${median(ours.map((f) => f.stopMs)).toFixed(0)} ms`,
    });
  }

  const [small, large] = opts.quick ? [200, 800] : [1000, 4000];
  log(`spawn: node.spawn one by one, ${small} and ${large} actors`);
  await spawnOneByOne(100); // warm-up
  const usSmall = await spawnOneByOne(small);
  const usLarge = await spawnOneByOne(large);
  const rawUs = rawStartUs(large);
  const growth = usLarge / usSmall;
  rows.push({
    suite: SUITE,
    name: `node.spawn one by one @ ${large.toLocaleString('en')}`,
    ours: usLarge,
    baseline: rawUs,
    unit: 'µs',
    better: 'lower',
    target: 'µs/spawn flat as N ×4',
    // A linear total cost keeps µs/spawn flat as N grows ×4; allow 1.5× for noise.
    met: growth < 1.5,
    note: `µs per spawn grows ${growth.toFixed(1)}× from ${small.toLocaleString('en')} to ${large.toLocaleString('en')} actors (${usSmall.toFixed(0)} → ${usLarge.toFixed(0)} µs): total spawn time is quadratic in the number of root children; raw = createActor().start()`,
  });
  return rows;
}
