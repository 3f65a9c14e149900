// What the side-effect journal adds to a tool call: the same caller machine, one
// trivial tool call per message, as a persistent agent (sync and async durability)
// and as a plain one, in interleaved segments. Each call is timed inside the
// machine, from entering the invoking state to its onDone action, so the message
// path around it is left out. The persistent agents checkpoint only by hand
// ('manual'), so no checkpoint write lands in the window: the difference to the
// plain agent is the journal (a key, a `dispatched` entry written before the tool
// runs, the outcome written before the machine sees it; under sync each waits for
// the fsync, under async the first waits for the commit only).

import { createNode, type ActorRef } from './agentos.js';
import { callerAgent, calls, callSegments, noopTool } from './durable-machines.js';
import { fmt, interleaved, median, percentile, scratchDir, type BenchOptions, type Row } from './lib.js';

const SUITE = 'durable';

export async function runToolCalls(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const segments = opts.quick ? 3 : 8;
  const perSegment = opts.quick ? 100 : 250;
  const defs = {
    sync: callerAgent('caller-sync', { checkpoint: 'manual', durability: 'sync' }),
    async: callerAgent('caller-async', { checkpoint: 'manual', durability: 'async' }),
    plain: callerAgent('caller-plain', false),
  };
  type Key = keyof typeof defs;
  const keys = Object.keys(defs) as Key[];
  const node = await createNode({ name: 'bench-calls', dataDir: scratchDir(), agents: Object.values(defs), tools: [noopTool] });
  try {
    const refs = {} as Record<Key, ActorRef>;
    for (const k of keys) refs[k] = (await node.spawn(defs[k], { id: `caller-${k}` })) as ActorRef;
    const { samples, segment } = callSegments(refs, perSegment);
    for (const k of keys) await segment(k, false)(); // warm-up
    log(`durable: tool calls, ${segments} interleaved segments × ${perSegment} calls per agent (persistent sync, persistent async, plain)`);
    const perSeg = await interleaved(segments, Object.fromEntries(keys.map((k) => [k, segment(k, true)])) as Record<Key, () => Promise<number>>);
    if (calls.failures > 0) throw new Error(`bench: ${calls.failures} tool calls failed`);
    const total = (segments + 1) * perSegment;
    for (const k of keys) {
      const n = (refs[k].getSnapshot()?.context as { calls?: number } | undefined)?.calls;
      if (n !== total) throw new Error(`bench: caller-${k} made ${n} calls, expected ${total}`);
    }
    await node.durability.flushed();
    const verified = node.durability.verify();

    const rows: Row[] = [];
    const plain = samples.plain;
    for (const k of ['sync', 'async'] as const) {
      const ours = samples[k];
      for (const q of [0.5, 0.99]) {
        const label = q === 0.5 ? 'p50' : 'p99';
        rows.push({
          suite: SUITE,
          name: `journaled tool call ${label}, ${k}`,
          ours: percentile(ours, q),
          baseline: percentile(plain, q),
          unit: 'µs',
          better: 'lower',
          target: '–',
          met: undefined,
          note:
            q === 0.5
              ? `${ours.length.toLocaleString('en')} calls per agent (${segments} interleaved segments), timed in the machine from invoke to onDone; journal adds ${fmt(percentile(ours, q) - percentile(plain, q), 'µs')} at p50; ` +
                `per-segment p50 ${fmt(Math.min(...perSeg[k]), 'µs')}–${fmt(Math.max(...perSeg[k]), 'µs')} (plain ${fmt(median(perSeg.plain), 'µs')})`
              : `p99.9 ${fmt(percentile(ours, 0.999), 'µs')} (plain ${fmt(percentile(plain, 0.999), 'µs')}), max ${fmt(Math.max(...ours), 'µs')}; journal adds ${fmt(percentile(ours, q) - percentile(plain, q), 'µs')} at p99` +
                (k === 'async' ? `; journal chains verified: ${verified.ok ? 'ok' : 'BROKEN'}` : ''),
        });
      }
    }
    return rows;
  } finally {
    await node.stop();
  }
}
