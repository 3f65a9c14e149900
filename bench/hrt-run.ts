// One run of `npm run bench:hrt`: a node whose main thread is flooded with DT
// work and GC pressure; on its HRT lane a 10 ms guard with a direct ring to an
// actuator thread; beside it, in the same window, the same guard on the main
// thread (setTimeout), and idle probe threads (one pinned to each CPU)
// measuring the machine's own stalls.
// Returns every figure; hrt-report.ts formats them.

import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createNode } from '../src/index.js';
import type { HrtTaskStats } from '../src/kernel/hrt/index.js';
import type { LanePriority } from '../src/kernel/hrt/lane-protocol.js';
import type { LaneGc } from '../src/kernel/hrt/lanes.js';
import { explainMisses, missRecord, shifted, type Explanation, type MissRecord } from './hrt-explain.js';
import { startFlood, type FloodOptions, type FloodStats } from './hrt-flood.js';
import { GUARD_PERIOD_MS, hrtGuard } from './hrt-guard.js';
import { startMainLoop } from './hrt-main-loop.js';
import { startActuator, startProbes, type ActuatorResult, type ProbeResult } from './hrt-threads.js';
import { scratchDir, sleep } from './lib.js';

export interface HrtRunOptions {
  seconds: number;
  realtime: boolean;
  /** V8 flags for the lane thread (hrt.execArgv). */
  execArgv: string[];
  flood: FloodOptions;
  /** How long the probes sleep at a time (ms): a stall is measured to within this. */
  probeMs: number;
  /** Oversleeps of a probe at least this long are kept as stalls (ms). */
  stallMs: number;
  log: (line: string) => void;
}

export interface HrtRunResult {
  seconds: number;
  load: string;
  lanePriority: LanePriority | undefined;
  lane: HrtTaskStats;
  laneOverruns: number;
  laneMisses: MissRecord[];
  laneExplained: Explanation;
  /** GC of the lane's own heap during the window; long pauses in absolute time. */
  laneGc: LaneGc;
  /** The warm-up guard (the lane's start and first load of the guard's module), measured apart. */
  warmUp: { seconds: number; stats: HrtTaskStats | undefined; gc: LaneGc };
  /** Unexplained lane misses whose window overlaps a long GC pause of the lane itself. */
  unexplainedInLaneGc: number;
  main: HrtTaskStats;
  mainMisses: MissRecord[];
  mainExplained: Explanation;
  probe: ProbeResult;
  actuator: ActuatorResult;
  flood: FloodStats;
  /** The lane thread's page faults and involuntary context switches during the window (Linux). */
  laneThread: { minorFaults: number; majorFaults: number; preempted: number } | undefined;
  /** CPU time the hypervisor gave to others during the window (steal), % of all CPU time; undefined off Linux. */
  stealPct: number | undefined;
}

/** Page faults and involuntary context switches of one thread of this process (Linux), for the lane thread. */
function threadCounters(tid: string | undefined): { minorFaults: number; majorFaults: number; preempted: number } | undefined {
  if (tid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
    return { minorFaults: Number(f[7]), majorFaults: Number(f[9]), preempted: Number(/nonvoluntary_ctxt_switches:\s*(\d+)/.exec(status)?.[1] ?? NaN) };
  } catch {
    return undefined;
  }
}

/** [steal, total] jiffies over all CPUs, from /proc/stat. */
function cpuTimes(): [number, number] | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return [f[7] ?? 0, f.reduce((a, b) => a + b, 0)];
  } catch {
    return undefined;
  }
}

const epochNow = (): number => performance.timeOrigin + performance.now();
const WARM_UP_MS = 3000;
const NO_GC: LaneGc = { pauses: 0, totalMs: 0, maxMs: 0, heapUsedBytes: 0, long: [] };

export async function runHrt(o: HrtRunOptions): Promise<HrtRunResult> {
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  const laneEvents: Record<string, unknown>[] = [];
  let laneOverruns = 0;
  const node = await createNode({
    name: 'bench-hrt',
    dataDir: scratchDir(),
    capacity: { cpu: '2', mem: '4Gi' },
    hrt: { realtime: o.realtime, reportEveryMs: 100, execArgv: o.execArgv },
    inspect: (e) => {
      if (typeof e.type !== 'string' || !e.type.startsWith('@agentos.hrt.') || e.type === '@agentos.hrt.output') return;
      if ((e as { id?: unknown }).id !== 'guard') return;
      if (e.type === '@agentos.hrt.overrun') laneOverruns++;
      else if (laneEvents.length < 1_000_000) laneEvents.push(e as Record<string, unknown>);
    },
  });
  try {
    o.log(`flooding the main thread: ${o.flood.agents} DT agents, ${o.flood.workUs} µs + ${o.flood.allocKiB} KiB per message, ${o.flood.retainMiB} MiB kept reachable` +
      ((globalThis as { gc?: unknown }).gc && o.flood.forceGcEveryMs > 0 ? `, gc() every ${o.flood.forceGcEveryMs} ms` : ''));
    const flood = await startFlood(node, o.flood);
    await sleep(2000); // the retained window fills: the heap is at its working size before the window opens
    // Warm-up: the lane thread starts and loads the guard's module (compiling it and what it imports, then
    // collecting that garbage: a long GC pause of the lane's heap). Measured apart; the guard measured below
    // reuses the loaded module, as every actor after the first one of its module does.
    const lanes = node.kernel.lanes;
    const warm = await node.spawn(hrtGuard, { id: 'warm-up' });
    await sleep(WARM_UP_MS);
    const warmUp = { seconds: WARM_UP_MS / 1000, stats: lanes.report('warm-up')?.stats, gc: lanes.gc(0) ?? NO_GC };
    await warm.stop();
    // Every helper thread takes its priority (a fork of chrt) before the measured guard runs.
    const probe = await startProbes({ cpus: cpus().length, periodMs: o.probeMs, stallMs: o.stallMs, realtime: o.realtime });
    const actuator = await startActuator({ deadlineMs: GUARD_PERIOD_MS, realtime: o.realtime, waitMs: 1 });
    const cpuAtStart = cpuTimes();
    const ref = await node.spawn(hrtGuard, { id: 'guard' });
    const lanePriority = lanes.priority(0);
    const offset = lanes.clockOffset(0) ?? 0;
    const laneTid = /thread (\d+)/.exec(lanePriority?.detail ?? '')?.[1];
    const laneAtStart = threadCounters(laneTid);
    const ring = lanes.directRing('guard');
    if (!ring) throw new Error('bench: the guard has no direct ring (lane.direct is not wired into the lane start: src/kernel/lane-leaf.ts)');
    // The baseline starts with the guard, so both windows cover the same time.
    const main = startMainLoop(epochNow);
    actuator.attach(ring, offset);
    o.log(`lane: ${lanePriority?.policy ?? '?'} (${lanePriority?.detail ?? ''}); window ${o.seconds} s`);

    // Commands every 100 ms, to both guards: speeds across the limit, so decisions alternate.
    let k = 0;
    const commands = setInterval(() => {
      const speed = k++ % 50 < 25 ? 0.5 : 2;
      ref.send({ type: 'command', speed });
      main.command(speed);
    }, 100);
    const windowEnd = performance.now() + o.seconds * 1000;
    let nextLog = performance.now() + Math.min(30_000, Math.max(10_000, o.seconds * 100));
    while (performance.now() < windowEnd) {
      await sleep(Math.min(1000, windowEnd - performance.now()));
      if (performance.now() >= nextLog) {
        const s = lanes.report('guard')?.stats;
        o.log(`  ${((o.seconds * 1000 - (windowEnd - performance.now())) / 1000).toFixed(0)} s: lane releases ${s?.releases ?? 0}, misses ${s?.misses ?? 0}, jitter p99 ${s?.jitterMs.p99.toFixed(3) ?? '?'} ms`);
        nextLog += Math.min(30_000, Math.max(10_000, o.seconds * 100));
      }
    }
    clearInterval(commands);
    const mainResult = main.stop();
    const cpuAtEnd = cpuTimes();
    const laneAtEnd = threadCounters(laneTid);
    const [actuatorResult, probeResult] = await Promise.all([actuator.stop(), probe.stop()]);
    // The lane reports every 100 ms: wait for a report that covers the whole window (the flood still runs).
    await sleep(300);
    const lane = lanes.report('guard')?.stats;
    const floodStats = flood.stop();
    if (!lane) throw new Error('bench: the lane never reported the guard');
    const gc = lanes.gc(0) ?? NO_GC;
    const long = gc.long.slice(warmUp.gc.long.length).map((p) => ({ ...p, at: p.at - offset }));
    const laneGc = {
      pauses: gc.pauses - warmUp.gc.pauses,
      totalMs: gc.totalMs - warmUp.gc.totalMs,
      maxMs: gc.maxMs > warmUp.gc.maxMs ? gc.maxMs : long.reduce((m, p) => Math.max(m, p.durationMs), 0),
      heapUsedBytes: gc.heapUsedBytes,
      long,
    };
    const laneMisses = laneEvents.map((e) => missRecord(e as never)).filter((m): m is MissRecord => m !== undefined).map((m) => shifted(m, offset));
    // A probe measures a stall to within its sleep: that is the tolerance.
    const laneExplained = explainMisses(laneMisses, probeResult.stalls, o.probeMs);
    const gcStalls = laneGc.long.map((p) => ({ from: p.at, to: p.at + p.durationMs, overMs: p.durationMs }));
    return {
      seconds: o.seconds,
      load,
      lanePriority,
      lane,
      laneOverruns,
      laneMisses,
      laneExplained,
      laneGc,
      warmUp,
      unexplainedInLaneGc: explainMisses(laneExplained.unexplained, gcStalls, Infinity).explained.length,
      main: mainResult.stats,
      mainMisses: mainResult.misses,
      mainExplained: explainMisses(mainResult.misses, probeResult.stalls, o.probeMs),
      probe: probeResult,
      actuator: actuatorResult,
      flood: floodStats,
      laneThread: laneAtStart && laneAtEnd
        ? { minorFaults: laneAtEnd.minorFaults - laneAtStart.minorFaults, majorFaults: laneAtEnd.majorFaults - laneAtStart.majorFaults, preempted: laneAtEnd.preempted - laneAtStart.preempted }
        : undefined,
      stealPct: cpuAtStart && cpuAtEnd && cpuAtEnd[1] > cpuAtStart[1] ? ((cpuAtEnd[0] - cpuAtStart[0]) / (cpuAtEnd[1] - cpuAtStart[1])) * 100 : undefined,
    };
  } finally {
    await node.stop();
  }
}
