// What the call barrier costs a persistent agent in a cluster: one trivial tool
// call per message, timed inside the machine (invoke → onDone, as in the durable
// suite), by a persistent agent on a node of a two-node cluster that keeps one
// replica of it (`replicas: 1`: each call waits until a checkpoint holding it in
// flight is stored by the other node) against the same agent on a two-node
// cluster that keeps none (`replicas: 0`: the journal alone), segments
// interleaved. Both agents checkpoint only by hand, so the difference is the
// barrier: a checkpoint taken after the turn, shipped over the link, written to
// the holder's LMDB and acknowledged.

import { createNode, type ActorRef, type AgentOsNode } from './agentos.js';
import { BENCH_SECRET, FAST_DETECTOR } from './cluster-mobility-agents.js';
import { callerAgent, calls, callSegments, noopTool } from './durable-machines.js';
import { fmt, interleaved, median, percentile, scratchDir, type BenchOptions, type Row } from './lib.js';

const SUITE = 'cluster';
const caller = callerAgent('caller-replicated', { checkpoint: 'manual', durability: 'async' });

async function pair(prefix: string, replicas: number): Promise<[AgentOsNode, AgentOsNode]> {
  const make = (name: string, seeds: string[]): Promise<AgentOsNode> =>
    createNode({ name, dataDir: scratchDir(), memory: false, blackboard: false, agents: [caller], tools: [noopTool], cluster: { secret: BENCH_SECRET, seeds, replicas, ...FAST_DETECTOR } });
  const a = await make(`${prefix}-a`, []);
  const b = await make(`${prefix}-b`, [a.cluster!.url]);
  const end = performance.now() + 10_000;
  while (a.cluster!.members().filter((m) => m.status === 'up').length < 2 || b.cluster!.members().filter((m) => m.status === 'up').length < 2) {
    if (performance.now() > end) throw new Error('bench cluster-calls: the pair did not form');
    await new Promise((r) => setTimeout(r, 10));
  }
  return [a, b];
}

export async function runClusterCalls(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const segments = opts.quick ? 3 : 8;
  const perSegment = opts.quick ? 50 : 200;
  const replicated = await pair('calls-r1', 1);
  const journalOnly = await pair('calls-r0', 0);
  try {
    const refs = {
      barrier: (await replicated[0].spawn(caller, { id: 'caller' })) as ActorRef,
      journal: (await journalOnly[0].spawn(caller, { id: 'caller' })) as ActorRef,
    };
    const { samples, segment } = callSegments(refs, perSegment);
    await segment('barrier', false)();
    await segment('journal', false)();
    log(`cluster: tool calls of a persistent agent, replicas 1 (call barrier) vs 0, ${segments} interleaved segments × ${perSegment} calls`);
    const perSeg = await interleaved(segments, { barrier: segment('barrier', true), journal: segment('journal', true) });
    if (calls.failures > 0) throw new Error(`bench: ${calls.failures} tool calls failed`);
    return [0.5, 0.99].map((q) => ({
      suite: SUITE,
      name: `persistent agent's tool call ${q === 0.5 ? 'p50' : 'p99'}, 2-node cluster, replicas 1 (call barrier)`,
      ours: percentile(samples.barrier, q),
      baseline: percentile(samples.journal, q),
      unit: 'µs',
      better: 'lower',
      target: '–',
      met: undefined,
      note:
        q === 0.5
          ? `baseline: the same agent in a 2-node cluster with replicas 0 (the journal alone); ${samples.barrier.length} calls each, timed in the machine; the barrier adds ${fmt(percentile(samples.barrier, q) - percentile(samples.journal, q), 'µs')} at p50 (a checkpoint, a shipment over the link, the holder's LMDB write, the ack); per-segment p50 ${fmt(Math.min(...perSeg.barrier), 'µs')}–${fmt(Math.max(...perSeg.barrier), 'µs')} (replicas 0: ${fmt(median(perSeg.journal), 'µs')})`
          : `p99.9 ${fmt(percentile(samples.barrier, 0.999), 'µs')} (replicas 0: ${fmt(percentile(samples.journal, 0.999), 'µs')})`,
    }));
  } finally {
    for (const n of [...replicated, ...journalOnly].reverse()) await n.stop();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const { printTable, cleanupScratch } = await import('./lib.js');
  try {
    printTable(await runClusterCalls({ quick: process.argv.includes('--quick') }, (s) => console.log(s)));
  } finally {
    cleanupScratch();
  }
}
