// The HRT lane thread. It hosts the lane's HRT actors (XState machines loaded
// from their modules) and runs them under the periodic EDF dispatcher: at each
// release, a job delivers the actor's queued messages (bounded) and an
// `hrt.tick`, and whatever the machine `emit`s goes straight onto the outbound
// ring, and first onto the actor's direct ring when it has one (`lane.direct`:
// read by an actuator thread, so a veto never waits for the main thread's event
// loop, stalled or not). Between jobs the
// thread sleeps on Atomics: asynchronously while the next release is far (so
// control messages from the main thread are handled), synchronously near it,
// spinning the last fraction of a millisecond.

import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { createActor, type AnyActor } from 'xstate';
import { RealClock } from '../../base/clock.js';
import { AgentOsError } from '../../base/errors.js';
import { registerSourceLoader } from '../../base/worker-loader.js';
import { MsgpackRingCodec, RingConsumer, RingProducer, RingReceiver, RingSender } from '../../mailboxes/index.js';
import { HrtDispatcher } from './dispatcher.js';
import {
  LANE_STRUCTURES, LONG_GC_MS, type LaneControl, type LaneGcKind, type LaneGcStats, type LaneInbound, type LaneOutbound, type LaneReport,
} from './lane-protocol.js';
import { raiseThreadPriority } from './priority.js';
import type { HrtRelease } from './types.js';

interface LaneData {
  tsx?: string;
  inbound: SharedArrayBuffer;
  outbound: SharedArrayBuffer;
  /** Raise the thread's scheduling priority if the OS allows (default true). */
  realtime: boolean;
  reportEveryMs: number;
}

interface Hosted {
  id: string;
  actor: AnyActor;
  queue: LaneInbound['e'][];
  maxMessages: number;
  tick: { type: 'hrt.tick'; index: number; releaseAt: number; deadline: number };
  /** The actor's direct ring to an actuator thread, if it asked for one. */
  direct: RingSender<LaneOutbound> | undefined;
}

const data = workerData as LaneData;
const port = parentPort!;
const clock = new RealClock();
const report = (r: LaneReport): void => port.postMessage(r);
const inbound = new RingReceiver<LaneInbound>(new RingConsumer(data.inbound), new MsgpackRingCodec({ structures: LANE_STRUCTURES }));
const outbound = new RingSender<LaneOutbound>(new RingProducer(data.outbound), new MsgpackRingCodec({ structures: LANE_STRUCTURES }));
const hosted = new Map<number, Hosted>();
let inboundDropped = 0;
/** Ends the main loop's event-loop sleep early: an actor was added (its first release is now) or the lane stops. */
let wake: (() => void) | undefined;
const wakeLoop = (): void => {
  wake?.();
  wake = undefined;
};
const gc: LaneGcStats = { pauses: 0, totalMs: 0, maxMs: 0, heapUsedBytes: 0 };
// The lane's own GC pauses (its heap is separate from the main thread's): counted, and the long ones reported with their time.
const GC_KINDS: Record<number, LaneGcKind> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
const gcKind = (e: PerformanceEntry): LaneGcKind => GC_KINDS[(e as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.pauses++;
    gc.totalMs += e.duration;
    if (e.duration > gc.maxMs) gc.maxMs = e.duration;
    if (e.duration >= LONG_GC_MS) report({ kind: 'gc', at: clock.now() - (performance.now() - e.startTime), durationMs: e.duration, gc: gcKind(e) });
  }
});
let running = true;
const out: LaneOutbound = { a: 0, e: { type: '' }, t: 0 };

function send(slot: number, h: Hosted | undefined, event: LaneOutbound['e']): void {
  out.a = slot;
  out.e = event;
  out.t = clock.now();
  // The safety path first. A full ring is counted by the ring (stats.fullRefusals); the lane never blocks on a reader.
  h?.direct?.trySend(out);
  outbound.trySend(out);
}

const dispatcher = new HrtDispatcher<LaneOutbound['e'] | undefined>({
  clock,
  sleepUntil: (t) => sleepUntilSync(t),
  emit: (taskId, output) => {
    if (output === undefined) return;
    const slot = Number(taskId);
    send(slot, hosted.get(slot), output);
  },
  onEvent: (event) => report({ kind: 'event', slot: Number(event.taskId), event: { ...event, ...('error' in event ? { error: plainError(event.error) } : {}) } as never }),
});

function plainError(err: unknown): { code: string; message: string } {
  return { code: err instanceof AgentOsError ? err.code : 'ERROR', message: err instanceof Error ? err.message : String(err) };
}

function job(h: Hosted, release: HrtRelease): undefined {
  let n = 0;
  while (n < h.maxMessages && h.queue.length > 0) {
    h.actor.send(h.queue.shift()!);
    n++;
  }
  h.tick.index = release.index;
  h.tick.releaseAt = release.releaseAt;
  h.tick.deadline = release.deadline;
  h.actor.send(h.tick);
  return undefined;
}

async function add(c: Extract<LaneControl, { op: 'add' }>): Promise<void> {
  try {
    const mod = (await import(c.module)) as Record<string, unknown>;
    const def = mod[c.export] as { kind?: string; machine?: unknown } | undefined;
    if (!def || def.kind !== 'agent' || !def.machine) throw new Error(`"${c.export}" of ${c.module} is not a defineAgent(...) definition`);
    const actor = createActor(def.machine as never, { input: c.input } as never) as AnyActor;
    const direct = c.direct ? new RingSender<LaneOutbound>(new RingProducer(c.direct), new MsgpackRingCodec({ structures: LANE_STRUCTURES })) : undefined;
    const h: Hosted = { id: c.id, actor, queue: [], maxMessages: c.task.maxMessages, tick: { type: 'hrt.tick', index: 0, releaseAt: 0, deadline: 0 }, direct };
    actor.on('*', (event) => send(c.slot, h, event as LaneOutbound['e']));
    actor.start();
    hosted.set(c.slot, h);
    const safe = c.safeDefault;
    dispatcher.add({
      id: String(c.slot),
      periodMs: c.task.periodMs,
      deadlineMs: c.task.deadlineMs,
      wcetMs: c.task.wcetMs,
      overrun: c.task.overrun,
      offsetMs: clock.now() - dispatcher.epochMs,
      job: (release) => job(h, release),
      ...(safe ? { safeDefault: () => safe } : {}),
    });
    report({ kind: 'added', slot: c.slot });
    wakeLoop();
  } catch (err) {
    report({ kind: 'add-failed', slot: c.slot, ...plainError(err) });
  }
}

function remove(slot: number): void {
  const h = hosted.get(slot);
  if (!h) return;
  dispatcher.remove(String(slot));
  h.actor.stop();
  h.direct?.ring.close();
  hosted.delete(slot);
}

port.on('message', (c: LaneControl) => {
  if (c.op === 'add') void add(c);
  else if (c.op === 'remove') remove(c.slot);
  else if (c.op === 'stop') {
    running = false;
    wakeLoop();
  }
});

/** Messages go to their actor's queue, delivered at its next release. */
function drainInbound(): void {
  inbound.drain((m) => {
    const h = hosted.get(m.a);
    if (h) h.queue.push(m.e);
    else inboundDropped++;
  });
}

const SPIN_MS = 0.2;
const SYNC_MS = 2;

function sleepUntilSync(t: number): void {
  for (;;) {
    const left = t - clock.now();
    if (left <= 0) return;
    if (left > SPIN_MS) inbound.ring.wait(left - SPIN_MS);
    else while (clock.now() < t); // spin the last fraction of a millisecond
    drainInbound();
  }
}

function sendReport(): void {
  report({
    kind: 'stats',
    inboundDropped,
    gc: { ...gc, heapUsedBytes: getHeapStatistics().used_heap_size },
    actors: [...hosted].map(([slot, h]) => ({ slot, id: h.id, state: h.actor.getSnapshot().value, stats: dispatcher.stats(String(slot)) as never, queued: h.queue.length })),
  });
}

async function main(): Promise<void> {
  await registerSourceLoader(data);
  const priority = data.realtime ? raiseThreadPriority() : { policy: 'none' as const, detail: 'realtime: false' };
  report({ kind: 'ready', priority, clockOffsetMs: clock.now() - (performance.timeOrigin + performance.now()) });
  gcObserver.observe({ entryTypes: ['gc'] });
  let nextReport = clock.now() + data.reportEveryMs;
  while (running) {
    drainInbound();
    const next = dispatcher.step();
    let now = clock.now();
    if (now >= nextReport) {
      sendReport();
      nextReport = now + data.reportEveryMs;
    }
    if (next <= now) continue;
    const until = Math.min(next, nextReport);
    now = clock.now();
    if (until - now > SYNC_MS) {
      // Far from the next release: sleep without blocking the event loop (control messages get through).
      await Promise.race([inbound.ring.waitAsync(until - now - SYNC_MS), new Promise<void>((r) => (wake = r))]);
      wake = undefined;
    } else {
      sleepUntilSync(until);
    }
  }
  for (const slot of [...hosted.keys()]) remove(slot);
  gcObserver.disconnect();
  sendReport();
  report({ kind: 'stopped' });
  port.close();
}

void main();
