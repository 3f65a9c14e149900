import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, VirtualClock, type AgentOsNode, type LatencyClass } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';

// A recorder agent per class: each delivery appends "<id>:<n>" to a shared log.
const messages = z.discriminatedUnion('type', [z.object({ type: z.literal('m'), n: z.number() })]);
const SLO = {
  HRT: { deadline_ms: 10, period_ms: 10, wcet_ms: 1 },
  SRT: { onset_ms: 200, turn_ms: 1000 },
  DT: {},
} as const;
function recorder(log: string[], latency: LatencyClass, extra: Record<string, unknown> = {}) {
  return defineAgent({
    name: `rec-${latency}`,
    messages,
    contract: { class: { latency, slo: SLO[latency] }, mailbox: { capacity: 100_000 }, ...extra },
    machine: setup({ types: { events: {} as z.infer<typeof messages> } }).createMachine({
      on: { m: { actions: ({ event, self }) => log.push(`${self.id}:${event.n}`) } },
    }),
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A node whose scheduler runs only when the test drains it, on a virtual clock. */
async function manualNode(options: { dtMinShare?: number } = {}): Promise<{ node: AgentOsNode; clock: VirtualClock; drain: () => number; events: any[] }> {
  const tmp = tempDir();
  const clock = new VirtualClock(0);
  const events: any[] = [];
  const node = await createNode({
    name: 'sched',
    dataDir: tmp.dir,
    clock,
    defer: () => {},
    inspect: (e) => events.push(e),
    scheduler: { dtMinShare: options.dtMinShare ?? 0.05 },
  });
  cleanups.push(async () => {
    await node.stop();
    tmp.cleanup();
  });
  return { node, clock, drain: () => node.kernel.scheduler.drain(), events };
}

describe('scheduler', () => {
  it('delivers HRT before SRT before DT when all are waiting', async () => {
    const log: string[] = [];
    const { node, drain } = await manualNode({ dtMinShare: 0 });
    const dt = await node.spawn(recorder(log, 'DT'), { id: 'dt' });
    const srt = await node.spawn(recorder(log, 'SRT'), { id: 'srt' });
    const hrt = await node.spawn(recorder(log, 'HRT'), { id: 'hrt' });
    dt.send({ type: 'm', n: 1 });
    srt.send({ type: 'm', n: 1 });
    hrt.send({ type: 'm', n: 1 });
    expect(drain()).toBe(3);
    expect(log).toEqual(['hrt:1', 'srt:1', 'dt:1']);
  });

  it('orders HRT messages across actors by earliest deadline', async () => {
    const log: string[] = [];
    const { node, drain } = await manualNode();
    const a = await node.spawn(recorder(log, 'HRT'), { id: 'a' });
    const b = await node.spawn(recorder(log, 'HRT'), { id: 'b' });
    a.send({ type: 'm', n: 30 }, { deadlineMs: 30 });
    b.send({ type: 'm', n: 10 }, { deadlineMs: 10 });
    a.send({ type: 'm', n: 5 }, { deadlineMs: 5 });
    b.send({ type: 'm', n: 20 }, { deadlineMs: 20 });
    drain();
    expect(log).toEqual(['a:5', 'b:10', 'b:20', 'a:30']);
  });

  it('orders SRT messages across actors by priority, FIFO within a priority', async () => {
    const log: string[] = [];
    const { node, drain } = await manualNode();
    const a = await node.spawn(recorder(log, 'SRT'), { id: 'a' });
    const b = await node.spawn(recorder(log, 'SRT'), { id: 'b' });
    a.send({ type: 'm', n: 1 }, { priority: 2 });
    b.send({ type: 'm', n: 2 }, { priority: 8 });
    a.send({ type: 'm', n: 3 }, { priority: 8 });
    b.send({ type: 'm', n: 4 }, { priority: 5 });
    drain();
    expect(log).toEqual(['b:2', 'a:3', 'b:4', 'a:1']);
  });

  it('gives DT its guaranteed minimum share under an SRT flood', async () => {
    const log: string[] = [];
    const { node, drain } = await manualNode({ dtMinShare: 0.1 });
    const s = await node.spawn(recorder(log, 'SRT'), { id: 's' });
    const d = await node.spawn(recorder(log, 'DT'), { id: 'd' });
    for (let i = 0; i < 1000; i++) s.send({ type: 'm', n: i });
    for (let i = 0; i < 50; i++) d.send({ type: 'm', n: i });
    node.kernel.scheduler.drain(200);
    const dtServed = log.filter((l) => l.startsWith('d:')).length;
    expect(dtServed).toBeGreaterThanOrEqual(18); // 10% of 200, allowing for credit rounding
    expect(dtServed).toBeLessThanOrEqual(21);
    drain();
    expect(log).toHaveLength(1050);
  });

  it('round-robins DT actors so one flooding actor cannot monopolise the loop', async () => {
    const log: string[] = [];
    const { node, drain } = await manualNode();
    const flood = await node.spawn(recorder(log, 'DT'), { id: 'flood' });
    const quiet = await node.spawn(recorder(log, 'DT'), { id: 'quiet' });
    for (let i = 0; i < 100; i++) flood.send({ type: 'm', n: i });
    quiet.send({ type: 'm', n: 0 });
    node.kernel.scheduler.drain(2);
    expect(log).toContain('quiet:0');
    drain();
  });

  it('counts and reports an HRT deadline miss, never hides it', async () => {
    const log: string[] = [];
    const { node, clock, drain, events } = await manualNode();
    const g = await node.spawn(recorder(log, 'HRT'), { id: 'guard' });
    g.send({ type: 'm', n: 1 }); // contract deadline 10 ms
    g.send({ type: 'm', n: 2 }, { deadlineMs: 50 });
    clock.advance(25);
    drain();
    expect(node.stats().scheduler.deadlineMisses).toBe(1);
    expect(events.filter((e) => e.type === '@agentos.deadline.missed')).toEqual([
      expect.objectContaining({ id: 'guard', latenessMs: 15 }),
    ]);
    expect(node.tree().children?.[0]?.info?.deadlineMisses).toBe(1);
  });

  it('property: every accepted message is delivered exactly once, HRT in deadline order, per-actor FIFO for DT', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ to: fc.integer({ min: 0, max: 5 }), deadline: fc.integer({ min: 1, max: 100 }), priority: fc.integer({ min: 0, max: 9 }) }), {
          maxLength: 200,
        }),
        fc.integer({ min: 0, max: 100 }),
        async (sends, drainFirst) => {
          const log: string[] = [];
          const { node, drain } = await manualNode();
          const classes: LatencyClass[] = ['HRT', 'HRT', 'SRT', 'SRT', 'DT', 'DT'];
          const refs: Awaited<ReturnType<typeof node.spawn>>[] = [];
          for (let i = 0; i < 6; i++) refs.push(await node.spawn(recorder(log, classes[i]!), { id: `x${i}` }));
          const deadlineOf = new Map<string, number>();
          sends.forEach((s, n) => {
            refs[s.to]!.send({ type: 'm', n }, { deadlineMs: s.deadline, priority: s.priority });
            deadlineOf.set(`x${s.to}:${n}`, s.deadline);
          });
          node.kernel.scheduler.drain(drainFirst);
          drain();
          expect([...log].sort()).toEqual([...deadlineOf.keys()].sort());
          const hrt = log.filter((l) => l.startsWith('x0:') || l.startsWith('x1:')).map((l) => deadlineOf.get(l)!);
          expect(hrt).toEqual([...hrt].sort((a, b) => a - b));
          for (const id of ['x4', 'x5']) {
            const ns = log.filter((l) => l.startsWith(`${id}:`)).map((l) => Number(l.split(':')[1]));
            expect(ns).toEqual([...ns].sort((a, b) => a - b));
          }
          await cleanups.pop()!();
        },
      ),
      { numRuns: 40 },
    );
  });
});
