// What the inspector costs the node: messages/s through N counters spread
// round-robin, on a node with the inspector attached as a user gets it
// (`createNode({ inspector })`: system events tapped, every actor's state
// sampled per flush, XState inspection only for watched actors; the page server
// up and one WebSocket client reading every frame and watching ONE actor, as a
// page with an actor selected does) against the same workload on a node without
// it, in the same run, segments interleaved. The issue's target: ≤ 10% drop.
// A third node with a no-op `inspect` listener shows what node-wide XState
// inspection costs (every actor inspected, every `@xstate.event` scrubbed by the
// node's event relay): the old wiring's floor, and about what watching '*'
// (trace everything) costs. During the other nodes' segments the inspector's
// flush tick is paused, so each side pays only its own.
// Run alone: npx tsx bench/inspector.ts [--quick] (re-runs itself under
// --expose-gc, for a full GC between segments); `npm run bench` runs it in a
// fresh process too (runInspectorIsolated). Measures the sources (src via tsx).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import type { InspectorHandle } from '../src/node/inspector.js';
import type { InspectorHub } from '../src/services/inspector/hub.js';
import { createNode, RealClock, type ActorRef, type AgentOsNode } from './agentos.js';
import { cleanupScratch, interleaved, median, printTable, ratioRange, scratchDir, until, type BenchOptions, type Row } from './lib.js';
import { counterAgent, processed, type CounterMessage } from './machines.js';

const SUITE = 'inspector';

interface Rig {
  node: AgentOsNode;
  refs: ActorRef<CounterMessage>[];
  hub?: InspectorHub;
  inspector?: InspectorHandle;
  page?: { ws: WebSocket; frames: number; bytes: number };
  close(): Promise<void>;
}

async function rig(actors: number, kind: 'plain' | 'floor' | 'inspected'): Promise<Rig> {
  const clock = new RealClock();
  const name = `bench-${kind}`;
  const node = await createNode({
    name,
    dataDir: scratchDir(),
    clock,
    memory: false,
    blackboard: false,
    ...(kind === 'floor' ? { inspect: () => {} } : {}),
    ...(kind === 'inspected' ? { inspector: { port: 0 } } : {}),
  });
  const refs: ActorRef<CounterMessage>[] = [];
  for (let i = 0; i < actors; i++) refs.push(await node.spawn(counterAgent(), { id: `c${i}` }));
  const inspector: InspectorHandle | undefined = node.inspector;
  const hub = inspector?.hub;
  let page: Rig['page'];
  if (inspector) {
    const ws = new WebSocket(`${inspector.url!.replace(/^http/, 'ws')}ws`);
    const p = { ws, frames: 0, bytes: 0 };
    // A page that keeps up: it takes every frame (the browser would parse it in its own process).
    ws.on('message', (data: Buffer) => {
      p.frames++;
      p.bytes += data.length;
    });
    await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
    // One actor selected: watched (its messages and exact transitions stream), the rest sampled.
    ws.send(JSON.stringify({ id: 1, op: 'watch', node: name, actor: 'c0' }));
    await until(() => node.kernel.inspection.watched().length === 1, 5000, 'the page to watch c0');
    page = p;
  }
  return {
    node,
    refs,
    ...(hub ? { hub } : {}),
    ...(inspector ? { inspector } : {}),
    ...(page ? { page } : {}),
    async close() {
      page?.ws.close();
      await node.stop();
    },
  };
}

/** Messages/s for `total` sends spread over the rig's actors, in chunks the mailboxes hold. */
async function segment(r: Rig, others: Rig[], total: number): Promise<number> {
  for (const o of others) o.hub?.stop();
  r.hub?.start();
  processed.n = 0;
  const n = r.refs.length;
  const chunk = Math.min(10_000, n * 50);
  const t0 = performance.now();
  for (let sent = 0; sent < total; ) {
    const end = Math.min(total, sent + chunk);
    for (; sent < end; sent++) r.refs[sent % n]!.send({ type: 'inc', by: 1 });
    const target = sent;
    await until(() => processed.n >= target, 60_000, 'counters to drain');
  }
  return (total / (performance.now() - t0)) * 1000;
}

/**
 * The issue's load: `rate` messages/s spread over the rig's actors for `seconds` (paced every 10 ms),
 * returning this process's CPU time per second of it (ms/s): what the node spends to carry that load.
 */
async function paced(r: Rig, others: Rig[], rate: number, seconds: number): Promise<number> {
  for (const o of others) o.hub?.stop();
  r.hub?.start();
  const n = r.refs.length;
  let sent = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      // Catch up to where the schedule says we should be (timers fire late under load).
      const due = Math.min(rate * seconds, Math.floor(((performance.now() - t0) / 1000) * rate));
      for (; sent < due; sent++) r.refs[sent % n]!.send({ type: 'inc', by: 1 });
      if (sent >= rate * seconds) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
  await until(() => processed.n >= sent, 60_000, 'counters to drain');
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - t0) / 1000;
  processed.n = 0;
  return (cpu.user + cpu.system) / 1000 / wall;
}

export async function runInspector(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const actors = opts.quick ? 200 : 1000;
  const total = opts.quick ? 20_000 : 100_000;
  const runs = opts.quick ? 3 : 7;
  log(`inspector: ${total} messages over ${actors} counters × ${runs} rounds, with the inspector (page connected) and without …`);
  const plain = await rig(actors, 'plain');
  const floor = await rig(actors, 'floor');
  const inspected = await rig(actors, 'inspected');
  const all = [plain, floor, inspected];
  const others = (r: Rig): Rig[] => all.filter((o) => o !== r);
  try {
    for (const r of all) await segment(r, others(r), total / 4); // warm-up
    const framesBefore = inspected.page!.frames;
    const bytesBefore = inspected.page!.bytes;
    const rates = await interleaved(runs, {
      with: () => segment(inspected, others(inspected), total),
      floor: () => segment(floor, others(floor), total),
      without: () => segment(plain, others(plain), total),
    });
    const rate = 5000;
    const seconds = opts.quick ? 2 : 10;
    log(`inspector: ${rate} msgs/s over ${actors} counters for ${seconds} s, CPU time per second, × ${opts.quick ? 2 : 3} rounds …`);
    processed.n = 0;
    const cpu = await interleaved(opts.quick ? 2 : 3, {
      with: () => paced(inspected, others(inspected), rate, seconds),
      floor: () => paced(floor, others(floor), rate, seconds),
      without: () => paced(plain, others(plain), rate, seconds),
    });
    const ours = median(rates.with);
    const base = median(rates.without);
    const page = inspected.page!;
    const stats = inspected.inspector!.server!.stats().pages[0];
    return [
      {
        suite: SUITE,
        name: `msgs/s, ${actors} actors, inspector attached + page reading, 1 actor watched`,
        ours,
        baseline: base,
        unit: 'msgs/s',
        better: 'higher',
        target: '≥ 90% of without',
        met: ours / base >= 0.9,
        note:
          `baseline: the same node without the inspector; per-round ratio ${ratioRange(rates.with, rates.without)}; ` +
          `the page got ${page.frames - framesBefore} frames, ${((page.bytes - bytesBefore) / 2 ** 20).toFixed(1)} MiB during the measured rounds` +
          (stats ? `, ${stats.overflows} resyncs` : '') +
          `; ${((ours / median(rates.floor)) * 100).toFixed(0)}% of the node-wide no-op inspect listener's rate`,
      },
      {
        suite: SUITE,
        name: `msgs/s, ${actors} actors, node-wide no-op inspect listener (≈ watching '*')`,
        ours: median(rates.floor),
        baseline: base,
        unit: 'msgs/s',
        better: 'higher',
        target: '–',
        met: undefined,
        note: `createNode({ inspect }) with a listener doing nothing, no inspector: XState inspection on for every actor, each @xstate.event scrubbed by the node's event relay; the old inspector wiring's floor, and about what tracing every actor costs; per-round ratio ${ratioRange(rates.floor, rates.without)}`,
      },
      {
        suite: SUITE,
        name: `CPU ms/s at ${rate} msgs/s, ${actors} actors, inspector attached + page reading, 1 actor watched`,
        ours: median(cpu.with),
        baseline: median(cpu.without),
        unit: 'ms/s',
        better: 'lower',
        target: '–',
        met: undefined,
        note: `the issue's load, paced; CPU of this whole process (the page's socket reads included) per wall second; with a node-wide no-op inspect listener ${median(cpu.floor).toFixed(0)} ms/s; ${median(cpu.with) - median(cpu.without) > 0 ? `the inspector takes ${((median(cpu.with) - median(cpu.without)) / 10).toFixed(1)}% of one core more` : 'no measurable difference'}`,
      },
    ];
  } finally {
    for (const r of all.reverse()) await r.close();
  }
}

/**
 * The suite as `npm run bench` runs it: in a fresh child process, so the heap and timers the suites before it
 * left behind (the cluster's nodes and child processes) are not measured against either side.
 */
export async function runInspectorIsolated(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const out = join(mkdtempSync(join(tmpdir(), 'agentos-bench-inspector-')), 'rows.json');
  log('inspector: in a fresh process …');
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), ...(opts.quick ? ['--quick'] : []), '--rows-json', out], {
    stdio: 'inherit',
    env: { ...process.env, AGENTOS_BENCH_CHILD: '1' },
  });
  if (child.status !== 0) throw new Error(`bench inspector: the child process failed (status ${String(child.status)})`);
  const rows = JSON.parse(readFileSync(out, 'utf8')) as Row[];
  rmSync(dirname(out), { recursive: true, force: true });
  return rows;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  // The three nodes share this process: without a full GC between segments the garbage of one (the node-wide
  // listener makes a lot) is collected in the next one's time. Re-run under --expose-gc, as bench/run.ts does.
  if (typeof gc !== 'function' && process.env.AGENTOS_BENCH_CHILD !== '1') {
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, AGENTOS_BENCH_CHILD: '1' },
    });
    process.exit(child.status ?? 1);
  }
  const quick = process.argv.includes('--quick');
  const rowsJson = process.argv.indexOf('--rows-json');
  try {
    const rows = await runInspector({ quick }, (s) => console.log(s));
    if (rowsJson > 0) writeFileSync(process.argv[rowsJson + 1]!, JSON.stringify(rows));
    else {
      console.log('');
      printTable(rows);
    }
  } finally {
    cleanupScratch();
  }
}
