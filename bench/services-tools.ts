// Tool call round-trip through the kernel against calling the tool's `execute`
// directly, in one process and one run:
// - in process: `node.syscall(actor, { kind: 'tool', name, args })` (request
//   checks, capability check, argument hash, zod input check, audit append,
//   execute, zod output check, redaction) vs `await tool.execute(args, ctx)`;
// - sandboxed: the same tool marked to run in a worker thread (the registry's
//   piscina pool, default limits), vs the same `execute` called directly, and
//   vs a raw piscina pool running the same function (the thread hop alone).
// The worker side is bench/services-worker.mjs.
// Every call is timed on its own; the series run in interleaved, rotated segments.

import { Piscina } from 'piscina';
import { z } from 'zod';
import { createNode, defineTool, type AgentOsNode } from './agentos.js';
import { counterAgent } from './machines.js';
import { fmt, scratchDir, type BenchOptions, type Row } from './lib.js';
import { fmtU, p, percentileRows, SUITE, timeSeries } from './services-common.js';

/** The module a worker imports (plain JS: it loads from sources and from the build alike). */
const WORKER_MODULE = new URL('./services-worker.mjs', import.meta.url);

const input = z.object({ to: z.string().email(), body: z.string() });
const output = z.object({ sent: z.boolean(), chars: z.number() });
/** The same work as `send` in services-worker.mjs. */
const send = (args: { to: string; body: string }) => ({ sent: true, chars: args.to.length + args.body.length });

const inProcessTool = defineTool({ name: 'bench.send', description: 'pretends to send a message (in the node thread)', input, output, execute: send });

/** The same tool in a worker thread: the worker runs the module's `send` export. */
const sandboxedTool = defineTool({
  name: 'bench.send-sandboxed',
  description: 'pretends to send a message (in a worker thread)',
  input,
  output,
  sandbox: { module: WORKER_MODULE, export: 'send' },
  execute: send,
});

const ARGS = { to: 'a@example.org', body: 'the quarterly report is attached' };
const EXPECTED = { sent: true, chars: ARGS.to.length + ARGS.body.length };

export async function runServiceTools(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const segments = opts.quick ? 3 : 10;
  const perIn = opts.quick ? 1_000 : 3_000;
  const perSbx = opts.quick ? 300 : 1_000;
  const warmIn = opts.quick ? 1_000 : 5_000;
  const warmSbx = opts.quick ? 300 : 1_000;

  // WorkerSandbox (from sources) starts its threads with `[...process.execArgv, '--import', tsx]`, and
  // worker threads refuse `--expose-gc` (which run.ts adds for gc()): every worker tool call would end
  // in TOOL_CRASHED. Hide the flag while the pools are made (reported as a bug; gc() stays available).
  const execArgv = process.execArgv;
  process.execArgv = execArgv.filter((a) => a !== '--expose-gc');
  const node: AgentOsNode = await createNode({ name: 'bench-services-tools', dataDir: scratchDir(), tools: [inProcessTool, sandboxedTool] });
  // The registry's defaults for a worker tool: 2 threads, 256 MiB heap, idle threads exit after 10 s.
  const pool = new Piscina<typeof ARGS, typeof EXPECTED>({
    filename: WORKER_MODULE.href,
    minThreads: 0,
    maxThreads: 2,
    idleTimeout: 10_000,
    resourceLimits: { maxOldGenerationSizeMb: 256 },
  });
  try {
    await node.spawn(counterAgent({ capabilities: ['bench.*'] }), { id: 'tool-caller' });
    const ctx = { actor: 'tool-caller', tenant: 'default' };
    const fns = {
      bare: () => inProcessTool.execute(ARGS, ctx),
      kernel: () => node.syscall('tool-caller', { kind: 'tool', name: inProcessTool.name, args: ARGS }),
      sandboxed: () => node.syscall('tool-caller', { kind: 'tool', name: sandboxedTool.name, args: ARGS }),
      piscina: () => pool.run(ARGS),
    };
    for (const [k, fn] of Object.entries(fns)) {
      const got = await (fn as () => Promise<unknown>)();
      if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) throw new Error(`bench: ${k} returned ${JSON.stringify(got)}`);
    }
    const auditBefore = node.audit.size;
    log(`services/tools: ${segments} interleaved segments × ${perIn.toLocaleString('en')} in-process and ${perSbx.toLocaleString('en')} sandboxed calls, each timed (bare execute, kernel, kernel+worker, raw piscina)`);
    const per = { bare: perIn, kernel: perIn, sandboxed: perSbx, piscina: perSbx };
    const warm = { bare: warmIn, kernel: warmIn, sandboxed: warmSbx, piscina: warmSbx };
    const { samples: s, gcPauses, gcMs } = await timeSeries(fns, { segments, perSegment: per, warmup: warm, unit: 'µs' });
    const kernelCalls = segments * (perIn + perSbx) + warmIn + warmSbx;
    if (node.audit.size - auditBefore !== kernelCalls) throw new Error(`bench: ${node.audit.size - auditBefore} audit records for ${kernelCalls} tool calls`);

    const overIn = p(s.kernel, 0.99) - p(s.bare, 0.99);
    const rows: Row[] = [
      ...percentileRows('tool call in-process', s.kernel, s.bare, 'µs', [0.5, 0.99], {
        0.5: `kernel: \`node.syscall(actor, { kind: "tool", … })\` on a real LMDB (capability check, args hash, zod in/out, audit append, redaction, execute); bare: \`await tool.execute(args, ctx)\`; ${(segments * perIn).toLocaleString('en')} calls per side in ${segments} interleaved segments after ${warmIn.toLocaleString('en')} warm-up; added at p50 ${fmtU(p(s.kernel, 0.5) - p(s.bare, 0.5), 'µs')}`,
        0.99: `added at p99 ${fmtU(overIn, 'µs')}; p99.9 ${fmtU(p(s.kernel, 0.999), 'µs')} (bare ${fmtU(p(s.bare, 0.999), 'µs')}); ${gcPauses} GC pauses (${gcMs.toFixed(0)} ms) during the series, counting the forced one before each segment`,
      }),
      ...percentileRows('tool call sandboxed (worker)', s.sandboxed, s.bare, 'µs', [0.5, 0.99], {
        0.5: `the same tool with \`sandbox: { module, export }\`: the kernel path above plus a piscina task (structured clone both ways, a 30 s time-limit timer, a JSON-data check of the result) on the registry's pool (2 threads, 256 MiB); ${(segments * perSbx).toLocaleString('en')} calls; bare = the same execute in the node thread`,
        0.99: `p99.9 ${fmtU(p(s.sandboxed, 0.999), 'µs')}; max ${fmtU(Math.max(...s.sandboxed), 'µs')}`,
      }),
      {
        suite: SUITE,
        name: 'tool call sandboxed p50, vs raw piscina.run',
        ours: p(s.sandboxed, 0.5),
        baseline: p(s.piscina, 0.5),
        unit: 'µs',
        better: 'lower',
        target: '–',
        met: undefined,
        note:
          `raw: a bare piscina pool (2 threads, 256 MiB, idle timeout 10 s, as the registry's) running the same function, no registry or kernel; p99 ${fmtU(p(s.sandboxed, 0.99), 'µs')} vs ${fmtU(p(s.piscina, 0.99), 'µs')}; ` +
          `over the raw hop the sandboxed call adds ${fmtU(p(s.sandboxed, 0.5) - p(s.piscina, 0.5), 'µs')} at p50, the in-process kernel path alone ${fmtU(p(s.kernel, 0.5) - p(s.bare, 0.5), 'µs')}`,
      },
    ];
    log(`services/tools: in-process p50 ${fmt(p(s.kernel, 0.5), 'µs')}, sandboxed p50 ${fmt(p(s.sandboxed, 0.5), 'µs')}, raw piscina p50 ${fmt(p(s.piscina, 0.5), 'µs')}`);
    return rows;
  } finally {
    process.execArgv = execArgv;
    await pool.destroy();
    await node.stop();
  }
}
