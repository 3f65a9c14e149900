// An idle probe thread (see hrt-threads.ts), pinned to one CPU: sleep a period
// with Atomics.wait, see how late it woke, again. What it measures is what the
// OS and the VM do to a thread on that CPU that asks for nothing but to be woken
// on time (a stall of D ms shows as an oversleep between D − period and D).
import { parentPort, workerData } from 'node:worker_threads';
import { LatencyHistogram } from '../src/mailboxes/index.js';
import { DEFAULT_HISTOGRAM } from '../src/kernel/hrt/index.js';
import { pinThreadToCpu, raiseThreadPriority } from '../src/kernel/hrt/priority.js';
import type { Stall } from './hrt-explain.js';
import type { ThreadReport } from './hrt-threads.js';

const o = workerData as { control: SharedArrayBuffer; cpu: number; periodMs: number; stallMs: number; realtime: boolean };
const control = new Int32Array(o.control);
const post = (r: ThreadReport): void => parentPort!.postMessage(r);
const now = (): number => performance.timeOrigin + performance.now();
const PROBE_FIFO_PRIORITY = 60;

const pinned = pinThreadToCpu(o.cpu);
// Above the lane (SCHED_FIFO 50): a lane thread busy on this CPU (its own GC, a module load) must not show
// as a stall here, or the probe would "explain" the lane's misses with the lane's own work.
post({ kind: 'ready', priority: o.realtime ? raiseThreadPriority(PROBE_FIFO_PRIORITY) : { policy: 'none', detail: 'realtime: false' }, pinned });
/** A stall longer than this would make a 10 ms loop miss. */
const OVER_MS = 10;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const hist = new LatencyHistogram(DEFAULT_HISTOGRAM);
let samples = 0;
let overPeriod = 0;
let batch: Stall[] = [];
let flushAt = now() + 1000;
while (Atomics.load(control, 0) === 0) {
  const t0 = now();
  Atomics.wait(sleeper, 0, 0, o.periodMs);
  const t1 = now();
  const over = Math.max(0, t1 - t0 - o.periodMs);
  hist.record(over);
  samples++;
  if (over > OVER_MS) overPeriod++;
  if (over >= o.stallMs) batch.push({ from: t0 + o.periodMs, to: t1, overMs: over, cpu: o.cpu });
  if (t1 >= flushAt) {
    post({ kind: 'stalls', stalls: batch });
    batch = [];
    flushAt = t1 + 1000;
  }
}
post({
  kind: 'probe-done',
  oversleep: { count: hist.count, mean: hist.mean, p50: hist.quantile(0.5), p99: hist.quantile(0.99), p999: hist.quantile(0.999), max: hist.max },
  samples,
  overPeriod,
  stalls: batch,
});
