// The main thread's side of the HRT lanes: one worker thread per lane, started
// on the first actor placed there, each with an inbound ring (messages for its
// actors) and an outbound ring (the events they emit), both SPSC on shared
// memory. Admission decides the lane (partitioned EDF); this module starts the
// actor there, feeds it, reads what it emits, and keeps the lane's last report
// (per-actor state, jitter, response time, WCET observed, misses). An actor
// with `direct` also gets a ring of its own that only the lane writes and an
// actuator thread reads: its safety output never passes through this thread.

import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Clock } from '../../base/clock.js';
import { AgentOsError, ErrorCodes, MailboxFull } from '../../base/errors.js';
import { workerEntry } from '../../base/worker-loader.js';
import { MsgpackRingCodec, RingConsumer, RingProducer, RingReceiver, RingSender, SpscRing } from '../../mailboxes/index.js';
import {
  LANE_STRUCTURES,
  type LaneActorReport, type LaneControl, type LaneGcKind, type LaneGcStats, type LaneInbound, type LaneOutbound, type LanePriority, type LaneReport, type LaneTaskSpec,
} from './lane-protocol.js';
import type { HrtEvent } from './types.js';

export interface HrtLaneOptions {
  /** Lanes (worker threads) HRT lane actors are partitioned over (default 1). */
  lanes?: number;
  /** Try SCHED_FIFO (or a raised nice) for lane threads (default true). */
  realtime?: boolean;
  /** Slots per ring (power of two, default 1024) and bytes per slot (default 1024). */
  ringSlots?: number;
  slotBytes?: number;
  /** How often a lane reports its figures to the main thread, ms (default 250). */
  reportEveryMs?: number;
  /** Extra V8 flags for lane threads, e.g. `--single-threaded-gc` (worker-safe ones only). */
  execArgv?: string[];
}

export interface LaneHooks {
  /** An event a lane actor emitted, with the lane clock's time. */
  output(id: string, event: { type: string; [key: string]: unknown }, at: number): void;
  /** A miss, overrun, skip, degrade, failure or stop on a lane. */
  event(id: string, event: HrtEvent): void;
  /** A lane thread is up, with the scheduling the OS gave it. */
  started?(lane: number, priority: LanePriority): void;
}

// Registers tsx in the thread first when running from sources (workerData.tsx), then imports the entry.
const BOOTSTRAP = `const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})();`;

interface LaneActor {
  id: string;
  lane: number;
  slot: number;
  direct?: SharedArrayBuffer;
}

/** Long GC pauses of a lane kept for `HrtLanes.gc` (the oldest half is dropped when full). */
const KEPT_GC_PAUSES = 10_000;

/** Garbage collection on a lane thread: totals, and its long pauses (≥ LONG_GC_MS) with their lane time. */
export interface LaneGc extends LaneGcStats {
  long: { at: number; durationMs: number; gc: LaneGcKind }[];
}

/** Slots of an actor's direct ring when `direct.slots` is not given. */
export const DEFAULT_DIRECT_SLOTS = 256;

/** What `HrtLanes.add` needs to start an actor on a lane. */
export interface LaneActorSpec {
  module: string;
  export: string;
  input?: unknown;
  task: LaneTaskSpec;
  safeDefault?: { type: string };
  /** Give the actor its own SPSC ring (lane → an actuator thread) carrying every event it emits. */
  direct?: { slots?: number };
}

class Lane {
  readonly worker: Worker;
  readonly sender: RingSender<LaneInbound>;
  private readonly receiver: RingReceiver<LaneOutbound>;
  readonly ready: Promise<Extract<LaneReport, { kind: 'ready' }>>;
  readonly exited: Promise<void>;
  report: Extract<LaneReport, { kind: 'stats' }> | undefined;
  readonly longGc: LaneGc['long'] = [];
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private stopping = false;
  private nextSlot = 0;

  constructor(
    readonly index: number,
    options: Required<Omit<HrtLaneOptions, 'lanes'>>,
    private readonly bySlot: Map<string, LaneActor>,
    private readonly hooks: LaneHooks,
    private readonly clock: Clock,
  ) {
    const inbound = SpscRing.allocate({ slots: options.ringSlots, slotBytes: options.slotBytes, name: `hrt-lane-${index}-in` });
    const outbound = SpscRing.allocate({ slots: options.ringSlots, slotBytes: options.slotBytes, name: `hrt-lane-${index}-out` });
    this.sender = new RingSender(new RingProducer(inbound), new MsgpackRingCodec({ structures: LANE_STRUCTURES }));
    this.receiver = new RingReceiver(new RingConsumer(outbound), new MsgpackRingCodec({ structures: LANE_STRUCTURES }));
    const entry = workerEntry(import.meta.url, 'lane-worker', options.execArgv);
    // The entry is imported by a tiny bootstrap, after the thread's loader hooks (tsx, from sources) are in place.
    this.worker = new Worker(BOOTSTRAP, {
      eval: true,
      execArgv: options.execArgv,
      workerData: { ...entry.workerData, entry: pathToFileURL(entry.filename).href, inbound, outbound, realtime: options.realtime, reportEveryMs: options.reportEveryMs },
      name: `agentos-hrt-lane-${index}`,
    });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('error', reject);
      const onReady = (r: LaneReport): void => {
        if (r.kind !== 'ready') return;
        this.worker.off('message', onReady);
        resolve(r);
      };
      this.worker.on('message', onReady);
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (r: LaneReport) => this.onReport(r));
    this.worker.on('error', (err) => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    });
    void this.readLoop();
  }

  slot(): number {
    return this.nextSlot++;
  }

  add(control: Extract<LaneControl, { op: 'add' }>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.set(control.slot, { resolve, reject });
      this.worker.postMessage(control);
    });
  }

  remove(slot: number): void {
    this.worker.postMessage({ op: 'remove', slot } satisfies LaneControl);
  }

  async stop(): Promise<void> {
    if (this.stopping) return this.exited;
    this.stopping = true;
    this.worker.postMessage({ op: 'stop' } satisfies LaneControl);
    // A lane that does not stop on its own within 2 s is terminated.
    await Promise.race([this.exited, new Promise((r) => this.clock.setTimeout(() => r(undefined), 2000))]);
    await this.worker.terminate();
    this.drainOutbound();
  }

  private onReport(r: LaneReport): void {
    if (r.kind === 'added' || r.kind === 'add-failed') {
      const w = this.waiting.get(r.slot);
      this.waiting.delete(r.slot);
      if (r.kind === 'added') w?.resolve();
      else w?.reject(new AgentOsError(ErrorCodes.invalidAgent, `HRT lane ${this.index} could not start the actor: ${r.message}`, { field: 'lane.module' }));
    } else if (r.kind === 'stats') {
      this.report = r;
    } else if (r.kind === 'gc') {
      if (this.longGc.length >= KEPT_GC_PAUSES) this.longGc.splice(0, KEPT_GC_PAUSES / 2);
      this.longGc.push({ at: r.at, durationMs: r.durationMs, gc: r.gc });
    } else if (r.kind === 'event') {
      const actor = this.bySlot.get(`${this.index}:${r.slot}`);
      if (actor) this.hooks.event(actor.id, r.event);
    }
  }

  private drainOutbound(): void {
    this.receiver.drain((m) => {
      const actor = this.bySlot.get(`${this.index}:${m.a}`);
      if (actor) this.hooks.output(actor.id, m.e, m.t);
    });
  }

  /** The main thread reads the outbound ring whenever the lane signals it (Atomics.waitAsync: the event loop keeps running). */
  private async readLoop(): Promise<void> {
    while (!this.stopping) {
      this.drainOutbound();
      await this.receiver.ring.waitAsync(100);
    }
  }
}

export class HrtLanes {
  private readonly options: Required<Omit<HrtLaneOptions, 'lanes'>>;
  readonly count: number;
  private readonly lanes: (Lane | undefined)[];
  private readonly actors = new Map<string, LaneActor>();
  private readonly bySlot = new Map<string, LaneActor>();
  private readonly started: (Extract<LaneReport, { kind: 'ready' }> | undefined)[];

  constructor(
    options: HrtLaneOptions,
    private readonly hooks: LaneHooks,
    private readonly clock: Clock,
  ) {
    this.count = options.lanes ?? 1;
    this.options = {
      realtime: options.realtime ?? true,
      ringSlots: options.ringSlots ?? 1024,
      slotBytes: options.slotBytes ?? 1024,
      reportEveryMs: options.reportEveryMs ?? 250,
      execArgv: options.execArgv ?? [],
    };
    this.lanes = Array.from({ length: this.count }, () => undefined);
    this.started = Array.from({ length: this.count }, () => undefined);
  }

  /** Start actor `id` on lane `lane` from its module (the definition's `lane.module` / `lane.export`). */
  async add(id: string, lane: number, spec: LaneActorSpec): Promise<void> {
    if (this.actors.has(id)) throw new AgentOsError(ErrorCodes.duplicateActor, `"${id}" already runs on an HRT lane`, { field: 'id' });
    if (!this.lanes[lane]) await this.startLanes();
    const l = this.lanes[lane]!;
    this.started[lane] = await l.ready;
    const slot = l.slot();
    const direct = spec.direct
      ? SpscRing.allocate({ slots: spec.direct.slots ?? DEFAULT_DIRECT_SLOTS, slotBytes: this.options.slotBytes, name: `hrt-lane-${lane}-direct-${slot}` })
      : undefined;
    const actor: LaneActor = { id, lane, slot, ...(direct ? { direct } : {}) };
    this.bySlot.set(`${lane}:${slot}`, actor);
    try {
      await l.add({
        op: 'add', slot, id, module: spec.module, export: spec.export, task: spec.task,
        ...(spec.input === undefined ? {} : { input: spec.input }),
        ...(spec.safeDefault ? { safeDefault: spec.safeDefault } : {}),
        ...(direct ? { direct } : {}),
      });
    } catch (err) {
      this.bySlot.delete(`${lane}:${slot}`);
      throw err;
    }
    this.actors.set(id, actor);
  }

  /**
   * Every lane starts with the first actor placed on any of them, so that each takes its OS priority
   * (SCHED_FIFO is a fork of `chrt`, which stalls every thread of the process while its page tables are
   * copied) before any lane runs an actor.
   */
  private async startLanes(): Promise<void> {
    for (let i = 0; i < this.count; i++) this.lanes[i] ??= new Lane(i, this.options, this.bySlot, this.hooks, this.clock);
    const ready = await Promise.all(this.lanes.map((l) => l!.ready));
    ready.forEach((r, i) => {
      this.started[i] = r;
      this.hooks.started?.(i, r.priority);
    });
  }

  /** Queue a message for a lane actor (delivered at its next release). A full ring is MailboxFull. */
  send(id: string, event: { type: string }): void {
    const a = this.actors.get(id);
    if (!a) throw new AgentOsError(ErrorCodes.unknownActor, `"${id}" does not run on an HRT lane`, { field: 'id' });
    if (!this.lanes[a.lane]!.sender.trySend({ a: a.slot, e: event as LaneInbound['e'] })) {
      throw new MailboxFull(ErrorCodes.mailboxFull, `the HRT lane ${a.lane} inbound ring is full: message "${event.type}" to "${id}" refused`, { field: 'to' });
    }
  }

  remove(id: string): void {
    const a = this.actors.get(id);
    if (!a) return;
    this.actors.delete(id);
    this.bySlot.delete(`${a.lane}:${a.slot}`);
    this.lanes[a.lane]?.remove(a.slot);
  }

  has(id: string): boolean {
    return this.actors.has(id);
  }

  /** The lane's last report on one actor: state, jitter, response time, WCET observed, misses. */
  report(id: string): LaneActorReport | undefined {
    const a = this.actors.get(id);
    return a ? this.lanes[a.lane]?.report?.actors.find((r) => r.slot === a.slot) : undefined;
  }

  /**
   * The direct ring of a lane actor started with `direct`: every event it emits, as
   * `{ a: slot, e: event, t: lane time }` records. Read it on an actuator thread with
   * `new RingReceiver(new RingConsumer(buffer), new MsgpackRingCodec({ structures: LANE_STRUCTURES }))`
   * (one consumer per ring). A restarted actor gets a new ring: ask again after a restart.
   */
  directRing(id: string): SharedArrayBuffer | undefined {
    return this.actors.get(id)?.direct;
  }

  /** What scheduling each started lane thread got from the OS. */
  priority(lane: number): LanePriority | undefined {
    return this.started[lane]?.priority;
  }

  /** GC of a started lane's own heap, as of its last report; its long pauses, in lane time, as they came. */
  gc(lane: number): LaneGc | undefined {
    const l = this.lanes[lane];
    if (!l) return undefined;
    return { ...(l.report?.gc ?? { pauses: 0, totalMs: 0, maxMs: 0, heapUsedBytes: 0 }), long: [...l.longGc] };
  }

  /**
   * The lane clock's reading minus `performance.timeOrigin + performance.now()`: subtract it from a
   * lane time (a release, a miss, an output's `at`) to line it up with that time read on any thread.
   */
  clockOffset(lane: number): number | undefined {
    return this.started[lane]?.clockOffsetMs;
  }

  async stop(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l?.stop()));
    this.actors.clear();
    this.bySlot.clear();
  }
}
