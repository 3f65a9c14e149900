// Workflow orchestration overhead per step, excluding the agents' work: a
// 10-step sequential workflow whose agent answers at once, against the raw cost
// of the same agent work (asking the same agent 10 times in a row). Each step of
// a run records `running` and then `completed` in LMDB (two committed writes)
// and, in the default `service` mode, spawns and stops the step's actor (its
// contract admitted and bound per step); `instance` mode reuses one actor per
// run and agent. The figure per step is (run time − 10 raw asks) / 10.

import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, defineWorkflow, reply, type AgentOsNode } from './agentos.js';
import { percentile, scratchDir, type BenchOptions, type Row } from './lib.js';

const SUITE = 'workflow';
const STEPS = 10;
const TARGET_P95_MS = 2;

const messages = z.object({ type: z.string(), input: z.record(z.string(), z.unknown()) }).passthrough();
const worker = defineAgent({
  name: 'worker',
  messages,
  machine: setup({ types: { context: {} as { n: number }, events: {} as z.infer<typeof messages> } }).createMachine({
    context: { n: 0 },
    initial: 'up',
    states: {
      up: { on: { step: { actions: [reply(({ event }) => ({ n: ((event.input.n as number | undefined) ?? 0) + 1 })), assign({ n: ({ context }) => context.n + 1 })] }, 'agentos.shutdown': 'down' } },
      down: { type: 'final' },
    },
  }),
});

function chain(name: string, mode: 'service' | 'instance') {
  const steps = Array.from({ length: STEPS }, (_, i) => ({
    id: `s${i}`,
    agent: 'worker',
    mode,
    ...(i === 0 ? {} : { in: { n: 'integer' } }),
    out: { n: 'integer' },
  }));
  return defineWorkflow({ name, steps, output: { n: `s${STEPS - 1}.n` } }, { agents: (n) => (n === 'worker' ? worker : undefined) });
}

async function perStep(node: AgentOsNode, workflow: string, runs: number, baselineMs: number[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const { id } = await node.workflows.start(workflow, {});
    const run = await node.workflows.wait(id);
    const ms = performance.now() - t0;
    if (run.status !== 'completed' || (run.output as { n: number }).n !== STEPS) throw new Error(`bench: run ${id} ${run.status}`);
    out.push((ms - baselineMs[i % baselineMs.length]! * STEPS) / STEPS);
  }
  return out;
}

export async function runWorkflow(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const runs = opts.quick ? 20 : 200;
  const node = await createNode({ name: 'bench-workflow', dataDir: scratchDir(), memory: false, agents: [worker], workflows: [chain('svc', 'service'), chain('inst', 'instance')] });
  try {
    const ref = await node.spawn(worker, { id: 'raw-worker' });
    // Baseline: the agent work alone, one ask after another.
    const raw: number[] = [];
    for (let i = 0; i < runs * STEPS; i++) {
      const t0 = performance.now();
      await ref.ask({ type: 'step', input: { n: i } });
      raw.push(performance.now() - t0);
    }
    const rawPerRun: number[] = [];
    for (let i = 0; i < raw.length; i += STEPS) rawPerRun.push(raw.slice(i, i + STEPS).reduce((a, b) => a + b, 0) / STEPS);
    await perStep(node, 'svc', Math.min(10, runs), rawPerRun); // warm-up
    const svc = await perStep(node, 'svc', runs, rawPerRun);
    const inst = await perStep(node, 'inst', runs, rawPerRun);
    const rawP50 = percentile(raw, 0.5);
    const rows: Row[] = [];
    for (const [label, xs] of [['service mode (actor per step)', svc], ['instance mode (actor per run)', inst]] as const) {
      const p50 = percentile(xs, 0.5);
      const p95 = percentile(xs, 0.95);
      log(`workflow ${label}: overhead per step p50 ${p50.toFixed(3)} ms, p95 ${p95.toFixed(3)} ms (raw ask ${rawP50.toFixed(3)} ms)`);
      rows.push({ suite: SUITE, name: `orchestration overhead per step p50, ${label}`, ours: p50, baseline: rawP50, unit: 'ms', better: 'lower', target: 'informational', met: undefined, note: 'baseline: one raw ask of the same agent' });
      rows.push({ suite: SUITE, name: `orchestration overhead per step p95, ${label}`, ours: p95, baseline: rawP50, unit: 'ms', better: 'lower', target: `≤ ${TARGET_P95_MS} ms`, met: p95 <= TARGET_P95_MS, note: `${runs} runs × ${STEPS} steps; one awaited LMDB commit per step (the running mark; the completion rides with the next step's)` });
    }
    return rows;
  } finally {
    await node.stop();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const rows = await runWorkflow({ quick: process.argv.includes('--quick') }, console.log);
  console.table(rows.map((r) => ({ name: r.name, ours: r.ours.toFixed(3), baseline: r.baseline?.toFixed(3), target: r.target, met: r.met })));
}
