// Memory per idle actor: heapUsed after a full GC, before and after starting N
// actors, divided by N; agentos (admission record, cell, mailbox, supervisor
// record, XState actor) against raw `createActor(machine).start()` of the same
// machine. Also the cost of spawning, since that bounds how fast a node fills up.

import { createActor, type AnyActor } from 'xstate';
import { createNode, supervisor, type AgentOsNode } from './agentos.js';
import { counterAgent, counterMachine } from './machines.js';
import { heapUsed, now, scratchDir, type BenchOptions, type Row } from './lib.js';

const SUITE = 'memory';
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

async function rawFootprint(n: number): Promise<{ perActor: number; startMs: number }> {
  const before = await heapUsed();
  const t0 = now();
  const actors: AnyActor[] = new Array(n);
  for (let i = 0; i < n; i++) actors[i] = createActor(counterMachine).start();
  const startMs = now() - t0;
  const after = await heapUsed();
  if (actors.some((a) => a.getSnapshot().status !== 'active')) throw new Error('raw actor not active');
  for (const a of actors) a.stop();
  return { perActor: (after - before) / n, startMs };
}

/** Heap held by one node with no actors (kernel, governance, audit log, LMDB handles). */
async function emptyNodeBytes(count: number): Promise<number> {
  const before = await heapUsed();
  const nodes: AgentOsNode[] = [];
  for (let i = 0; i < count; i++) nodes.push(await createNode({ name: `bench-empty-${i}`, dataDir: scratchDir() }));
  for (const node of nodes) await node.audit.flushed();
  const after = await heapUsed();
  for (const node of nodes) await node.stop();
  return Math.max(0, (after - before) / count); // small enough to read as noise-negative now and then
}

interface OursFootprint {
  /** (heap delta − node overhead) / N. */
  perActor: number;
  /** Whole heap delta, nodes included. */
  delta: number;
  startMs: number;
  stopMs: number;
}

/**
 * N idle agentos actors on `nodes` nodes in this process, each node starting
 * its share as the static children of one supervisor (one `node.spawn`).
 * Admission and the supervisor's child lookup are O(actors) per spawn today,
 * so filling one node is quadratic (see the spawn row); sharding keeps 100k
 * within the bench's time budget and still holds 100k actors in one heap.
 */
async function oursFootprint(n: number, nodeCount: number, nodeBytes: number): Promise<OursFootprint> {
  const def = counterAgent();
  const perNode = Math.ceil(n / nodeCount);
  const before = await heapUsed(); // ids and specs are made after this: the nodes keep them
  const t0 = now();
  const nodes: AgentOsNode[] = [];
  for (let k = 0; k < nodeCount; k++) {
    const node = await createNode({ name: `bench-memory-${k}`, dataDir: scratchDir() });
    const children = Array.from({ length: perNode }, (_, i) => ({ id: `idle-${i}`, start: def, restart: 'transient' as const }));
    await node.spawn(supervisor({ id: 'idle', strategy: 'one_for_one', children }), { id: 'idle' });
    await node.audit.flushed(); // one admission record per actor: count what stays in the heap, not writes in flight
    nodes.push(node);
  }
  const startMs = now() - t0;
  const after = await heapUsed();
  const actors = nodes.reduce((s, node) => s + node.stats().actors, 0);
  if (actors !== perNode * nodeCount) throw new Error(`expected ${perNode * nodeCount} actors, nodes hold ${actors}`);
  const t1 = now();
  for (const node of nodes) await node.stop();
  const delta = after - before;
  return { perActor: (delta - nodeCount * nodeBytes) / actors, delta, startMs, stopMs: now() - t1 };
}

/** µs per `node.spawn` when spawning `n` actors one by one under the root supervisor. */
async function spawnOneByOne(n: number): Promise<number> {
  const node = await createNode({ name: 'bench-spawn', dataDir: scratchDir() });
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
  // [actors, nodes]: the small point on one node, the large one sharded.
  const points: [number, number][] = opts.quick
    ? [
        [1_000, 1],
        [4_000, 4],
      ]
    : [
        [10_000, 1],
        [100_000, 50],
      ];
  const rows: Row[] = [];
  await rawFootprint(1000); // warm-up
  await oursFootprint(500, 1, 0); // warm-up: code paths, lazily built shapes and caches
  const nodeBytes = await emptyNodeBytes(opts.quick ? 2 : 4);
  for (const [n, nodeCount] of points) {
    log(`memory: ${n} idle actors (raw, then agentos on ${nodeCount} node${nodeCount > 1 ? 's' : ''})`);
    const raw = await rawFootprint(n);
    const ours = await oursFootprint(n, nodeCount, nodeBytes);
    const isTarget = n === 100_000;
    const projected = ours.perActor * 100_000 + nodeCount * nodeBytes;
    rows.push({
      suite: SUITE,
      name: `heap per idle actor @ ${n.toLocaleString('en')}${nodeCount > 1 ? ` (${nodeCount} nodes)` : ''}`,
      ours: ours.perActor,
      baseline: raw.perActor,
      unit: 'B',
      better: 'lower',
      target: isTarget ? '100k actors < 1 GiB' : '(100k < 1 GiB)',
      met: (isTarget ? ours.delta : projected) < GiB,
      note:
        `heap delta ${(ours.delta / MiB).toFixed(0)} MiB for ${n.toLocaleString('en')} actors on ${nodeCount} node(s) in one process, ` +
        `minus ${(nodeBytes / 1024).toFixed(0)} KiB per empty node; ` +
        (isTarget ? '' : `projects to ${(projected / MiB).toFixed(0)} MiB at 100k; `) +
        `start ${(ours.startMs / 1000).toFixed(1)} s (raw ${(raw.startMs / 1000).toFixed(2)} s), stop ${(ours.stopMs / 1000).toFixed(1)} s`,
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
    note:
      `µs per spawn grows ${growth.toFixed(1)}× from ${small.toLocaleString('en')} to ${large.toLocaleString('en')} actors (${usSmall.toFixed(0)} → ${usLarge.toFixed(0)} µs): ` +
      'each spawn scans every admitted actor and every root child, so filling a node is quadratic; raw = createActor().start()',
  });
  return rows;
}
