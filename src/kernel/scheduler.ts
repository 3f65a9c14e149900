// One cooperative scheduler per node. It decides which actor's next message is
// delivered: HRT by earliest deadline, then SRT by priority (with burst
// credits), then DT round-robin; DT keeps a guaranteed minimum share of
// deliveries so it never starves. Work runs in slices and yields to the event
// loop between them. Time comes only from the injected Clock.

import type { ActorCell } from '../actors/cell.js';
import type { Envelope } from '../actors/envelope.js';
import type { Clock } from '../base/clock.js';
import { BinaryHeap, LatencyHistogram, PriorityLevels, RingBuffer } from '../mailboxes/index.js';
import type { LatencyClass } from '../mailboxes/types.js';

export interface SchedulerOptions {
  clock: Clock;
  /** Run `fn` on a later turn of the event loop (setImmediate in production). */
  defer: (fn: () => void) => void;
  /** Fraction of deliveries DT is guaranteed while HRT/SRT work is waiting (default 0.05). */
  dtMinShare?: number;
  /** Max deliveries per slice before yielding to the event loop (default 512). */
  batchSize?: number;
  /** Max ms per slice before yielding (default 1: outside input waits at most about this long). */
  sliceMs?: number;
  /** SRT priority levels and burst (see PriorityMailbox). */
  srtLevels?: number;
  srtBurst?: number;
  /** Called after each delivery. */
  onDelivered?: (cell: ActorCell, env: Envelope) => void;
  /** Called when an HRT message completes after its deadline. */
  onDeadlineMiss?: (cell: ActorCell, env: Envelope, latenessMs: number) => void;
}

interface ReadyEntry {
  cell: ActorCell;
  version: number;
  deadline: number;
  priority: number;
  seq: number;
}

export interface ClassStats {
  delivered: number;
  waitMs: { count: number; mean: number; p50: number; p99: number; max: number };
}

export interface SchedulerStats {
  slices: number;
  deadlineMisses: number;
  HRT: ClassStats;
  SRT: ClassStats;
  DT: ClassStats;
}

const CHECK_CLOCK_EVERY = 16;

export class Scheduler {
  private readonly clock: Clock;
  private readonly defer: (fn: () => void) => void;
  private readonly dtShare: number;
  private readonly batchSize: number;
  private readonly sliceMs: number;
  private readonly onDelivered: SchedulerOptions['onDelivered'];
  private readonly onDeadlineMiss: SchedulerOptions['onDeadlineMiss'];

  private readonly hrt = new BinaryHeap<ReadyEntry>((a, b) => a.deadline - b.deadline || a.seq - b.seq);
  private readonly srt: PriorityLevels<ReadyEntry>;
  private readonly srtLevels: number;
  private readonly dt = new RingBuffer<ReadyEntry>();
  private seq = 0;
  private dtCredit = 0;
  private pending = false;
  private running = false;
  private stopped = false;

  private readonly delivered: Record<LatencyClass, number> = { HRT: 0, SRT: 0, DT: 0 };
  private readonly wait: Record<LatencyClass, LatencyHistogram> = {
    HRT: new LatencyHistogram(),
    SRT: new LatencyHistogram(),
    DT: new LatencyHistogram(),
  };
  private slices = 0;
  private misses = 0;

  constructor(options: SchedulerOptions) {
    this.clock = options.clock;
    this.defer = options.defer;
    this.dtShare = Math.min(1, Math.max(0, options.dtMinShare ?? 0.05));
    this.batchSize = Math.max(1, options.batchSize ?? 512);
    this.sliceMs = options.sliceMs ?? 1;
    this.srtLevels = options.srtLevels ?? 10;
    this.srt = new PriorityLevels<ReadyEntry>({ levels: this.srtLevels, burst: options.srtBurst ?? 8 });
    this.onDelivered = options.onDelivered;
    this.onDeadlineMiss = options.onDeadlineMiss;
  }

  /** A cell has (new) messages; queue it by the key of its next message. */
  schedule(cell: ActorCell): void {
    if (this.stopped || !cell.runnable) return;
    const head = cell.mailbox.peek();
    if (!head) return;
    if (cell.ready) {
      // DT is round-robin: its place in line does not change. HRT/SRT re-key
      // lazily when the head became more urgent: a newer entry supersedes.
      if (cell.latency === 'DT') return;
      if (cell.latency === 'HRT' && (head.deadline ?? Infinity) >= cell.readyKey) return;
      if (cell.latency === 'SRT' && (head.priority ?? 0) <= cell.readyKey) return;
    }
    const entry: ReadyEntry = {
      cell,
      version: ++cell.readyVersion,
      deadline: head.deadline ?? Infinity,
      priority: head.priority ?? 0,
      seq: this.seq++,
    };
    cell.ready = true;
    if (cell.latency === 'HRT') {
      cell.readyKey = entry.deadline;
      this.hrt.push(entry);
    } else if (cell.latency === 'SRT') {
      cell.readyKey = entry.priority;
      this.srt.push(entry, Math.min(this.srtLevels - 1, Math.max(0, Math.trunc(entry.priority))));
    } else {
      this.dt.push(entry);
    }
    this.kick();
  }

  /** Ask for a slice to run on a later event-loop turn. */
  kick(): void {
    if (this.pending || this.running || this.stopped) return;
    this.pending = true;
    this.defer(() => {
      this.pending = false;
      const more = this.runSlice();
      if (more) this.kick();
    });
  }

  /** Run one slice. Returns true if runnable work remains. */
  runSlice(): boolean {
    if (this.running) return false;
    this.running = true;
    this.slices++;
    const start = this.clock.now();
    try {
      for (let n = 1; n <= this.batchSize; n++) {
        if (!this.step()) return false;
        if (n % CHECK_CLOCK_EVERY === 0 && this.clock.now() - start >= this.sliceMs) break;
      }
      return this.hasWork();
    } finally {
      this.running = false;
    }
  }

  /** Deliver until nothing is runnable (tests on a virtual clock). Returns deliveries made. */
  drain(limit = 1_000_000): number {
    let n = 0;
    while (n < limit && this.step()) n++;
    return n;
  }

  /** Deliver one message. Returns false if nothing was runnable. */
  step(): boolean {
    const entry = this.pick();
    if (!entry) return false;
    const cell = entry.cell;
    cell.ready = false;
    const env = cell.deliverNext();
    if (env) {
      const cls = cell.latency;
      this.delivered[cls]++;
      const now = this.clock.now();
      if (env.enqueuedAt !== undefined) this.wait[cls].record(Math.max(0, now - env.enqueuedAt));
      if (cls === 'HRT' && env.deadline !== undefined && now > env.deadline) {
        this.misses++;
        cell.deadlineMisses++;
        const late = now - env.deadline;
        if (late > cell.maxLatenessMs) cell.maxLatenessMs = late;
        this.onDeadlineMiss?.(cell, env, late);
      }
      this.onDelivered?.(cell, env);
    }
    if (cell.runnable) this.schedule(cell);
    return true;
  }

  hasWork(): boolean {
    return this.hrt.size + this.srt.size + this.dt.size > 0;
  }

  stop(): void {
    this.stopped = true;
  }

  stats(): SchedulerStats {
    const cls = (c: LatencyClass): ClassStats => ({ delivered: this.delivered[c], waitMs: this.wait[c].snapshot() });
    return { slices: this.slices, deadlineMisses: this.misses, HRT: cls('HRT'), SRT: cls('SRT'), DT: cls('DT') };
  }

  /** Next live entry: HRT, then SRT, then DT — except when DT has earned its share. */
  private pick(): ReadyEntry | undefined {
    for (;;) {
      const urgent = this.hrt.size + this.srt.size > 0;
      let entry: ReadyEntry | undefined;
      if (this.dt.size > 0 && urgent) {
        this.dtCredit += this.dtShare;
        if (this.dtCredit >= 1) {
          this.dtCredit -= 1;
          entry = this.dt.shift();
        }
      }
      if (!entry) {
        if (this.hrt.size > 0) entry = this.hrt.pop();
        else if (this.srt.size > 0) entry = this.srt.shift();
        else if (this.dt.size > 0) entry = this.dt.shift();
        else return undefined;
        if (!urgent) this.dtCredit = 0;
      }
      if (!entry) return undefined;
      const cell = entry.cell;
      if (entry.version !== cell.readyVersion || !cell.ready) continue; // superseded
      if (!cell.runnable) {
        cell.ready = false; // paused or stopped: resume() schedules it again
        continue;
      }
      return entry;
    }
  }
}
