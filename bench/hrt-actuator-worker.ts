// The actuator thread (see hrt-threads.ts): reads the guard's direct ring and
// times each decision from its release (lane time shifted onto this thread's
// clock); decisions released before it was up (the backlog of its start) are
// counted, not timed. It blocks on the ring with Atomics.wait, woken by the lane's write,
// or by its own timeout (`waitMs`) at the latest.
import { parentPort, workerData } from 'node:worker_threads';
import { LANE_STRUCTURES, type LaneOutbound } from '../src/kernel/hrt/lane-protocol.js';
import { DEFAULT_HISTOGRAM } from '../src/kernel/hrt/index.js';
import { raiseThreadPriority } from '../src/kernel/hrt/priority.js';
import { LatencyHistogram, MsgpackRingCodec, RingConsumer, RingReceiver, SpscRing } from '../src/mailboxes/index.js';
import type { GuardDecision } from './hrt-guard.js';
import type { ThreadReport } from './hrt-threads.js';

const o = workerData as { control: SharedArrayBuffer; deadlineMs: number; realtime: boolean; waitMs: number };
const control = new Int32Array(o.control);
const post = (r: ThreadReport): void => parentPort!.postMessage(r);

post({ kind: 'ready', priority: o.realtime ? raiseThreadPriority() : { policy: 'none', detail: 'realtime: false' } });
// The guard's ring and the lane's clock offset come once the guard runs.
const { ring, clockOffsetMs } = await new Promise<{ ring: SharedArrayBuffer; clockOffsetMs: number }>((r) => parentPort!.once('message', r));
const rx = new RingReceiver<LaneOutbound>(new RingConsumer(ring), new MsgpackRingCodec({ structures: LANE_STRUCTURES }));
const hist = new LatencyHistogram(DEFAULT_HISTOGRAM);
const wakeupsAtStart = SpscRing.stats(ring).wakeups;
const readyAt = performance.timeOrigin + performance.now();
let backlog = 0;
let decisions = 0;
let late = 0;
let vetoes = 0;
let gaps = 0;
let lastIndex = -1;
const take = (m: LaneOutbound): void => {
  const at = performance.timeOrigin + performance.now();
  const d = m.e as GuardDecision;
  const releasedAt = d.releaseAt - clockOffsetMs;
  if (lastIndex >= 0 && d.index > lastIndex + 1 && releasedAt >= readyAt) gaps += d.index - lastIndex - 1;
  lastIndex = d.index;
  if (releasedAt < readyAt) {
    backlog++;
    return;
  }
  const latency = at - releasedAt;
  hist.record(Math.max(0, latency));
  decisions++;
  if (latency > o.deadlineMs) late++;
  if (d.type === 'veto') vetoes++;
};
while (Atomics.load(control, 0) === 0) {
  rx.drain(take);
  rx.ring.wait(o.waitMs);
}
rx.drain(take);
rx.ring.close();
post({
  kind: 'actuator-done',
  latency: { count: hist.count, mean: hist.mean, p50: hist.quantile(0.5), p99: hist.quantile(0.99), p999: hist.quantile(0.999), max: hist.max },
  decisions,
  backlog,
  late,
  vetoes,
  gaps,
  ringWakeups: SpscRing.stats(ring).wakeups - wakeupsAtStart,
});
