// What crosses between the main thread and an HRT lane. The hot path — messages
// to lane actors and the events they emit — goes through SPSC rings on
// SharedArrayBuffers (no postMessage); admission-time control (add, remove,
// stop) and the lane's periodic reports use the worker's message port.

import type { OverrunPolicy } from './types.js';
import type { HrtEvent, HrtTaskStats } from './types.js';

/** A message for a lane actor (main → lane ring). `a` is the actor's slot on the lane. */
export interface LaneInbound {
  a: number;
  e: { type: string; [key: string]: unknown };
}

/** An event a lane actor emitted (lane → main ring, and the actor's direct ring), with the lane clock's time. */
export interface LaneOutbound {
  a: number;
  e: { type: string; [key: string]: unknown };
  t: number;
}

/** Both rings carry [slot, event(, time)] records; declared so each message is a 1-byte record id. */
export const LANE_STRUCTURES: readonly (readonly string[])[] = [
  ['a', 'e'],
  ['a', 'e', 't'],
];

export interface LaneTaskSpec {
  periodMs: number;
  deadlineMs: number;
  wcetMs: number;
  overrun: OverrunPolicy;
  /** Messages delivered per job at most (the rest wait for the next release). */
  maxMessages: number;
}

export type LaneControl =
  | {
      op: 'add';
      slot: number;
      id: string;
      module: string;
      export: string;
      input?: unknown;
      task: LaneTaskSpec;
      safeDefault?: { type: string };
      /** The actor's own ring (lane → an actuator thread): every event it emits is written there too, before the outbound ring. */
      direct?: SharedArrayBuffer;
    }
  | { op: 'remove'; slot: number }
  | { op: 'stop' };

export interface LaneActorReport {
  slot: number;
  id: string;
  /** The machine's state value. */
  state: unknown;
  stats: HrtTaskStats | undefined;
  /** Messages waiting for the actor's next release. */
  queued: number;
}

export type LaneReport =
  /**
   * `clockOffsetMs`: the lane clock's reading minus `performance.timeOrigin + performance.now()` in the
   * lane thread. Subtract it from a lane time (releases, `t` of an outbound record) to compare it with
   * `performance.timeOrigin + performance.now()` read on any thread of the process.
   */
  | { kind: 'ready'; priority: LanePriority; clockOffsetMs: number }
  | { kind: 'added'; slot: number }
  | { kind: 'add-failed'; slot: number; code: string; message: string }
  | { kind: 'event'; slot: number; event: HrtEvent }
  /** A garbage-collection pause of the lane thread's own heap of at least LONG_GC_MS, at lane time `at`. */
  | { kind: 'gc'; at: number; durationMs: number; gc: LaneGcKind }
  | { kind: 'stats'; actors: LaneActorReport[]; inboundDropped: number; gc: LaneGcStats }
  | { kind: 'stopped' };

/** Garbage collection of the lane thread's heap (the lane's own isolate): every pause since the lane started. */
export interface LaneGcStats {
  pauses: number;
  totalMs: number;
  maxMs: number;
  /** The lane heap's size as of the report (what a full collection has to walk). */
  heapUsedBytes: number;
}

/** Which collection paused the lane: young generation (scavenge), full mark-compact, an incremental marking step, weak callbacks. */
export type LaneGcKind = 'minor' | 'major' | 'incremental' | 'weakcb' | 'other';

/** GC pauses of a lane at least this long are reported one by one (kind 'gc'). */
export const LONG_GC_MS = 1;

/** What scheduling the lane thread got from the OS. */
export interface LanePriority {
  /** `fifo`: SCHED_FIFO real-time; `nice`: a raised nice value; `none`: the default. */
  policy: 'fifo' | 'nice' | 'none';
  detail: string;
}
