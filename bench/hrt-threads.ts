// The bench's helper threads, started from sources like an HRT lane (tsx
// registered in the thread first): idle probes, one pinned to each CPU at a
// real-time priority above the lane's, which sleep one period at a time with
// Atomics.wait and record how late they wake (the machine's own stalls, on
// whichever CPU the lane runs), and the actuator, at the lane's priority, which
// reads the guard's direct ring and times each decision from its release.
// Results come back when stopped.

import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../src/base/worker-loader.js';
import type { HrtLatencyStats } from '../src/kernel/hrt/index.js';
import type { LanePriority } from '../src/kernel/hrt/lane-protocol.js';
import type { Stall } from './hrt-explain.js';

const BOOTSTRAP = `const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})();`;

export type ThreadReport =
  | { kind: 'ready'; priority: LanePriority; pinned?: boolean }
  | { kind: 'stalls'; stalls: Stall[] }
  | { kind: 'probe-done'; oversleep: HrtLatencyStats; samples: number; overPeriod: number; stalls: Stall[] }
  | { kind: 'actuator-done'; latency: HrtLatencyStats; decisions: number; backlog: number; late: number; vetoes: number; gaps: number; ringWakeups: number };

export interface CpuProbe {
  cpu: number;
  pinned: boolean;
  priority: LanePriority;
  /** Wake-up lateness of every sleep, ms. */
  oversleep: HrtLatencyStats;
  samples: number;
  /** Sleeps that overran by more than 10 ms: a 10 ms loop on this CPU would have missed. */
  overPeriod: number;
}

export interface ProbeResult {
  periodMs: number;
  cpus: CpuProbe[];
  /** Oversleeps of at least the recording threshold, every CPU's, in time order. */
  stalls: Stall[];
}

export interface ActuatorResult {
  priority: LanePriority;
  /** Release → decision received on the actuator thread, ms. */
  latency: HrtLatencyStats;
  /** Decisions timed (released after the actuator was up). */
  decisions: number;
  /** Decisions released before the actuator was up: read, not timed. */
  backlog: number;
  /** Decisions received after their release's deadline. */
  late: number;
  vetoes: number;
  /** Releases with no decision (jobs skipped or lost). */
  gaps: number;
  /** Times the lane's write woke the actuator (Atomics.notify) rather than its wait timing out. */
  ringWakeups: number;
}

class Thread<R> {
  readonly worker: Worker;
  readonly ready: Promise<{ priority: LanePriority; pinned: boolean }>;
  private readonly done: Promise<R>;
  private readonly control = new Int32Array(new SharedArrayBuffer(4));

  constructor(name: string, data: Record<string, unknown>, doneKind: ThreadReport['kind'], onStalls?: (s: Stall[]) => void) {
    const entry = workerEntry(import.meta.url, name);
    this.worker = new Worker(BOOTSTRAP, {
      eval: true,
      execArgv: entry.execArgv,
      workerData: { ...entry.workerData, entry: pathToFileURL(entry.filename).href, control: this.control.buffer, ...data },
      name: `bench-${name}`,
    });
    const failed = new Promise<never>((_, reject) => {
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`bench: ${name} exited with code ${code} before reporting`)));
    });
    failed.catch(() => undefined);
    let readyResolve!: (r: { priority: LanePriority; pinned: boolean }) => void;
    let doneResolve!: (r: R) => void;
    this.ready = Promise.race([new Promise<{ priority: LanePriority; pinned: boolean }>((r) => (readyResolve = r)), failed]);
    this.done = Promise.race([new Promise<R>((r) => (doneResolve = r)), failed]);
    this.worker.on('message', (m: ThreadReport) => {
      if (m.kind === 'ready') readyResolve({ priority: m.priority, pinned: m.pinned ?? false });
      else if (m.kind === 'stalls') onStalls?.(m.stalls);
      else if (m.kind === doneKind) doneResolve(m as R);
    });
  }

  async stop(): Promise<R> {
    Atomics.store(this.control, 0, 1);
    const r = await this.done;
    await this.worker.terminate();
    return r;
  }
}

/** Idle probes, one pinned to each CPU: each sleeps `periodMs` at a time and reports oversleeps ≥ `stallMs` as stalls (batched every second). */
export async function startProbes(o: { cpus: number; periodMs: number; stallMs: number; realtime: boolean }): Promise<{ stop(): Promise<ProbeResult> }> {
  const stalls: Stall[] = [];
  const threads = Array.from({ length: o.cpus }, (_, cpu) =>
    new Thread<Extract<ThreadReport, { kind: 'probe-done' }>>('hrt-probe-worker', { cpu, periodMs: o.periodMs, stallMs: o.stallMs, realtime: o.realtime }, 'probe-done', (s) => stalls.push(...s)),
  );
  const ready = await Promise.all(threads.map((t) => t.ready));
  return {
    stop: async () => {
      const done = await Promise.all(threads.map((t) => t.stop()));
      for (const r of done) stalls.push(...r.stalls);
      stalls.sort((a, b) => a.from - b.from);
      const cpus = done.map((r, cpu) => ({ cpu, pinned: ready[cpu]!.pinned, priority: ready[cpu]!.priority, oversleep: r.oversleep, samples: r.samples, overPeriod: r.overPeriod }));
      return { periodMs: o.periodMs, cpus, stalls };
    },
  };
}

/**
 * The actuator thread starts (and takes its priority: a fork of `chrt`, which stalls every thread of a
 * process with a large heap while its page tables are copied) before the guard runs; `attach` hands it
 * the guard's ring.
 */
export async function startActuator(o: { deadlineMs: number; realtime: boolean; waitMs: number }): Promise<{
  attach(ring: SharedArrayBuffer, clockOffsetMs: number): void;
  stop(): Promise<ActuatorResult>;
}> {
  const t = new Thread<Extract<ThreadReport, { kind: 'actuator-done' }>>('hrt-actuator-worker', o, 'actuator-done');
  const { priority } = await t.ready;
  return {
    attach: (ring, clockOffsetMs) => t.worker.postMessage({ ring, clockOffsetMs }),
    stop: async () => {
      const { kind: _kind, ...r } = await t.stop();
      return { priority, ...r };
    },
  };
}
